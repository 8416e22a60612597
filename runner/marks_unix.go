//go:build unix

package runner

import (
	"os"
	"os/signal"
	"syscall"
)

// notifyMarks catches SIGUSR1 for the marks of faults carried out
// elsewhere (Options.ExternalFaults), from the run's start: a signal
// caught before the generator runs waits in the channel instead of
// killing the process (SIGUSR1's default). stop releases the signal.
func notifyMarks(n int) (marks chan os.Signal, stop func()) {
	marks = make(chan os.Signal, max(n, 1))
	signal.Notify(marks, syscall.SIGUSR1)
	return marks, func() { signal.Stop(marks) }
}
