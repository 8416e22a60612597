package procs

import (
	"os/exec"
	"syscall"
)

// setProcAttr makes cmd a child that dies with this process (Pdeathsig
// SIGKILL: no generator outlives its parent, even one killed with -9) and
// runs in a process group of its own, so that a terminal's ^C reaches the
// parent only and the parent stops its children with the protocol's stop
// message, keeping their measurements.
func setProcAttr(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	cmd.SysProcAttr.Setpgid = true
}
