package childproc

import (
	"os/exec"
	"syscall"
)

const tethered = true

// setup: with die, the child gets SIGKILL when the thread that started it
// exits (Pdeathsig; the topology package's tether covers the rest).
func setup(cmd *exec.Cmd, group, die bool) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	if die {
		cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	}
	cmd.SysProcAttr.Setpgid = group
}
