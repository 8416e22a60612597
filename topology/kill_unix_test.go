//go:build unix

package topology_test

import "syscall"

// killZero is kill(pid, 0): ESRCH when pid does not exist.
func killZero(pid int) error { return syscall.Kill(pid, 0) }
