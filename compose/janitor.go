package compose

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"

	"github.com/sseload/sseload/internal/childproc"
)

// Janitor is a shell script that removes what a run deployed (a compose
// project, a swarm stack) unless sseload tells it the run cleaned up. It
// runs detached from sseload (a process group of its own) with its stdin
// the read end of a pipe only sseload writes to: if sseload dies in any
// way — a second Ctrl-C's os.Exit, SIGKILL — the kernel closes the write
// end, the script's read gets EOF, and it removes everything anyway.
type Janitor struct {
	w    *os.File
	done chan struct{}
}

// StartJanitor starts script (sh -c) with args as $1, $2, …; the script
// must begin with `read -r line` and exit when the line is "done".
func StartJanitor(script string, args ...string) (*Janitor, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("janitor pipe: %w", err)
	}
	defer r.Close() // only the janitor keeps the read end
	cmd := exec.Command("/bin/sh", append([]string{"-c", script, "sseload-janitor"}, args...)...)
	cmd.Stdin = r
	childproc.OwnGroup(cmd)
	if err := cmd.Start(); err != nil {
		w.Close()
		return nil, fmt.Errorf("start janitor: %w", err)
	}
	j := &Janitor{w: w, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(j.done)
	}()
	return j, nil
}

// Stop tells the janitor the run is gone (clean) or lets it remove what
// is left, and waits for it at most timeout. Stop on a nil Janitor, or a
// second Stop, does nothing.
func (j *Janitor) Stop(clean bool, timeout time.Duration) {
	if j == nil || j.w == nil {
		return
	}
	if clean {
		_, _ = io.WriteString(j.w, "done\n")
	}
	j.w.Close()
	j.w = nil
	select {
	case <-j.done:
	case <-time.After(timeout):
	}
}
