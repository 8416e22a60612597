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

// version is set at build time with -ldflags "-X main.version=..."; else
// `sseload version` reports the module version Go stamped (version.go).
var version = "dev"

// Exit codes; what each means, per command, is exitCodes (exitcodes.go),
// which README's table and every --help are made from.
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

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		writeMainUsage(stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "-h", "--help":
		name = "help"
	case "--version":
		name = "version"
	}
	var err error
	code := exitOK
	if c, ok := lookupCommand(name); ok {
		code, err = c.run(args[1:], stdout, stderr)
		err = suggestFlag(err, c)
	} else {
		err = unknownCommand(name)
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
