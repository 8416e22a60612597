package childproc

import (
	"encoding/csv"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
)

// tethered is false: Windows does not kill a process's children with it;
// Record and ReapOrphans clean up.
const tethered = false

// setup gives a group child a console process group of its own, so that
// a Ctrl-C in the terminal reaches sseload only.
func setup(cmd *exec.Cmd, group, _ bool) {
	if !group {
		return
	}
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.CreationFlags |= syscall.CREATE_NEW_PROCESS_GROUP
}

// alive reports whether pid runs: tasklist lists it.
func alive(pid int) bool { return programOf(pid) != "" }

// kill ends pid (Windows has no process groups to signal: the child
// itself).
func kill(pid int, _ bool) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}

func psCommand(pid int) *exec.Cmd {
	return exec.Command("tasklist", "/FI", "PID eq "+strconv.Itoa(pid), "/NH", "/FO", "CSV")
}

// parseProgram reads tasklist's CSV: the image name is the first field;
// "INFO: No tasks…" when none runs.
func parseProgram(out string) string {
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(recs) == 0 || len(recs[0]) < 2 {
		return ""
	}
	return recs[0][0]
}
