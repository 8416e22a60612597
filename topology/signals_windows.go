package topology

import (
	"errors"
	"syscall"
)

// Windows has no SIGUSR1 or SIGUSR2 and no signals to send to another
// process: nginx, HAProxy and Caddy are stopped and reloaded with signals
// (a graceful stop, a reload fault), so the local topology does not run
// proxies here (checkProxiesRun). These values exist only so that the
// proxy kinds compile; nothing sends them.
const (
	sigUSR1 = syscall.Signal(0x1e)
	sigUSR2 = syscall.Signal(0x1f)
)

// errNoProxies says what runs on Windows instead.
var errNoProxies = errors.New("the local topology's proxies (nginx, HAProxy, Caddy) are stopped and reloaded with Unix signals, which Windows does not have: " +
	"on Windows measure them with --topology compose (Docker Desktop), or a running proxy with --topology none --target NAME=URL")

func signalGroup(int, syscall.Signal) error   { return errNoProxies }
func signalProcess(int, syscall.Signal) error { return errNoProxies }

// checkProxiesRun refuses the local topology's proxies on Windows.
func checkProxiesRun() error { return errNoProxies }
