package main

import (
	"context"
	"io"
	"os/signal"
	"syscall"

	"github.com/sseload/sseload/loadgen/procs"
)

// workerCmd is `sseload worker`, not listed in the help: one generator
// process of a run split over several (`sseload run --procs`). It speaks
// the worker protocol (docs/worker-protocol.md) on stdin and stdout; its
// parent starts it, gives it its share and stops it. ^C is the parent's to
// handle (it sends stop); SIGTERM stops the engine, which still reports.
func workerCmd(args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) > 0 {
		return usagef("worker takes no arguments: it reads the worker protocol on stdin (docs/worker-protocol.md)")
	}
	signal.Ignore(syscall.SIGINT)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	return procs.Serve(ctx, stdin, stdout)
}
