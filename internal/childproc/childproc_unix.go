//go:build unix && !linux

package childproc

import (
	"os/exec"
	"syscall"
)

// tethered is false: no Pdeathsig here; Record and ReapOrphans clean up.
const tethered = false

func setup(cmd *exec.Cmd, group, _ bool) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = group
}
