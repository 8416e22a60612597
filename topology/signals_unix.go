//go:build unix

package topology

import "syscall"

// The signals the proxies take, named here because Windows has no
// SIGUSR1 or SIGUSR2.
const (
	sigUSR1 = syscall.SIGUSR1
	sigUSR2 = syscall.SIGUSR2
)

// signalGroup sends sig to every process of group pgid.
func signalGroup(pgid int, sig syscall.Signal) error { return syscall.Kill(-pgid, sig) }

// signalProcess sends sig to process pid.
func signalProcess(pid int, sig syscall.Signal) error { return syscall.Kill(pid, sig) }

// checkProxiesRun says whether this system can run the local topology's
// proxies: yes, on every Unix.
func checkProxiesRun() error { return nil }
