// Command sseload measures Server-Sent Events delivery through reverse
// proxies: many concurrent EventSource streams, publish-to-receipt latency in
// HDR histograms, nginx and direct paths side by side.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// Exit codes, documented in README.md and in --help.
const (
	exitOK          = 0
	exitThreshold   = 1 // a threshold failed, or compare found a regression
	exitUsage       = 2 // bad flags, arguments or input files
	exitNotComplete = 3 // the run could not be completed (topology, targets)
	exitInterrupted = 130
)

// usageError is a mistake in how sseload was called; it exits 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

const mainUsage = `sseload: load and latency harness for Server-Sent Events behind reverse proxies

Usage:
  sseload run [SCENARIO] [flags]   measure EventSource streams (default topology: local)
  sseload capacity [SCENARIO] --target NAME [flags]
                                   find the most streams a target carries within SLOs
  sseload origin [flags]           run the measurement SSE origin on its own
  sseload images                   build the compose topology's images, offline
  sseload compare BASE CUR [flags] compare two results directories; exit 1 on a regression
  sseload report DIR               regenerate report.md, report.html, junit.xml in DIR
  sseload version                  print the version

Run 'sseload COMMAND --help' for a command's flags and examples.

Exit codes:
  0    run completed and every threshold held (compare: no regression)
  1    a threshold failed (compare: a metric regressed beyond --max-regression)
  2    usage or input error (the message names the flag, threshold or file)
  3    the run could not be completed (topology failed to start, target unusable,
       or the harness was unreliable and --require-reliable is set)
  130  interrupted (results measured so far are written)
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, mainUsage)
		return exitUsage
	}
	var err error
	code := exitOK
	switch args[0] {
	case "run":
		code, err = runCmd(args[1:], stdout, stderr)
	case "capacity":
		code, err = capacityCmd(args[1:], stdout, stderr)
	case "origin":
		err = originCmd(args[1:], stdout, stderr)
	case "worker": // hidden: one process of `run --procs` (docs/worker-protocol.md)
		err = workerCmd(args[1:], os.Stdin, stdout)
	case "images":
		err = imagesCmd(args[1:], stdout, stderr)
	case "probe":
		err = probeCmd(args[1:], stderr)
	case "compare":
		code, err = compareCmd(args[1:], stdout, stderr)
	case "report":
		code, err = reportCmd(args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintf(stdout, "sseload %s\n", version)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, mainUsage)
	default:
		err = usagef("unknown command %q (valid: run, capacity, origin, images, compare, report, version)", args[0])
	}
	if err == nil {
		return code
	}
	fmt.Fprintf(stderr, "sseload: %v\n", err)
	var ue usageError
	if errors.As(err, &ue) {
		return exitUsage
	}
	if code != exitOK {
		return code
	}
	return exitNotComplete
}
