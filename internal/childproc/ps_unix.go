//go:build unix

package childproc

import (
	"errors"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// alive reports whether pid runs (signal 0: EPERM means it runs as
// another user).
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// kill sends SIGKILL to pid, or with group to its process group.
func kill(pid int, group bool) error {
	if group {
		return syscall.Kill(-pid, syscall.SIGKILL)
	}
	return syscall.Kill(pid, syscall.SIGKILL)
}

func psCommand(pid int) *exec.Cmd {
	return exec.Command("ps", "-o", "comm=", "-p", strconv.Itoa(pid))
}

// parseProgram reads ps's comm column (a path on macOS).
func parseProgram(out string) string { return filepath.Base(strings.TrimSpace(out)) }
