package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/sseload/sseload/loadgen/procs"
)

// tokenEnv names the environment variable that holds the remote workers'
// shared token, read by `sseload worker --listen` and `sseload run
// --workers` when --token is not given (a Kubernetes Secret, a Swarm
// secret exported into the environment).
const tokenEnv = procs.TokenEnv

const workerExamples = `
Examples:
  sseload worker --listen 127.0.0.1:7070                      # loopback: no token needed
  SSELOAD_TOKEN=$(cat /run/secrets/sseload) sseload worker --listen 0.0.0.0:7070
  sseload run steady --workers 10.0.0.5:7070,10.0.0.6:7070 --token "$SSELOAD_TOKEN"

Without --listen, the worker speaks the protocol on stdin and stdout: one
generator process of sseload run --procs, started by it.
`

// workerCmd is `sseload worker`: one generator process of a run split over
// several. Without --listen it speaks the worker protocol
// (docs/worker-protocol.md) on stdin and stdout, started by `sseload run
// --procs`; ^C is then the parent's to handle (it sends stop), and SIGTERM
// stops the engine, which still reports. With --listen it serves the
// protocol over TCP to `sseload run --workers`, one coordinator at a
// time, until SIGINT or SIGTERM (docs/distributed.md).
func workerCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("worker", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "", "serve the worker protocol over TCP at ADDR (host:port; :0 picks a port) to sseload run --workers, one run at a time")
	token := fs.String("token", "", "shared token a coordinator must send (default $"+tokenEnv+"); required unless ADDR is loopback")
	fs.Usage = func() {
		showHelp(stdout, fs, fmt.Sprintf("Usage: sseload worker [--listen ADDR [--token T]]\n\nFlags:\n%s%s", fs.FlagUsages(), workerExamples))
	}
	if err := fs.Parse(args); err != nil {
		if err == pflag.ErrHelp {
			return nil
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usagef("worker takes no arguments, got %q: it reads the worker protocol on stdin, or serves it with --listen ADDR", fs.Args())
	}
	if *listen == "" {
		if fs.Changed("token") {
			return usagef("--token is for --listen: on stdin and stdout the worker talks to the sseload that started it")
		}
		signal.Ignore(syscall.SIGINT)
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
		defer stop()
		return procs.Serve(ctx, stdin, stdout)
	}
	tok := *token
	if tok == "" {
		tok = os.Getenv(tokenEnv)
	}
	if err := procs.CheckListen(*listen, tok); err != nil {
		return usageError{err}
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("worker: listen %s: %w", *listen, err)
	}
	// The address as bound (a :0 port resolved), for whoever started it.
	fmt.Fprintf(stderr, "sseload worker: listening on %s (worker protocol version %d)\n", ln.Addr(), procs.Version)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	logf := func(format string, args ...any) { fmt.Fprintf(stderr, "sseload "+format+"\n", args...) }
	return procs.ServeListener(ctx, ln, tok, logf)
}
