package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/signal"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/sseload/sseload/check"
)

// exitSymptom is check's exit code when it found something wrong: the
// same number as a failed threshold, "the endpoint fails the test".
const exitSymptom = exitThreshold

const checkExamples = `
Examples:
  sseload check http://127.0.0.1:8080/events
  sseload check https://app.example/stream -H "Authorization: Bearer $TOKEN" --duration 30s
  sseload check https://api.example/v1/chat --method POST -H 'Content-Type: application/json' \
      --body '{"stream":true}'
  sseload check -k https://staging.example/events --streams 1

Request flags:
%s
It prints, in words: status, content type, protocol and TLS version, the proxy
it sees (Server, Via), time to headers and to the first event, the gaps between
bytes, bursts, whether the head came with the first event, compression
(Accept-Encoding: gzip is sent, as browsers do), cuts after a quiet time, and
the probable setting at fault with its fix, from the same rules as run.
`

// checkCmd is `sseload check URL`: parse, call check.Run, print.
func checkCmd(args []string, stdout, stderr io.Writer) (int, error) {
	fs := pflag.NewFlagSet("check", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.SortFlags = false
	streams := fs.Int("streams", check.DefaultStreams, "streams opened at once")
	duration := fs.DurationP("duration", "d", check.DefaultDuration, "how long the streams are watched, e.g. --duration 30s")
	var req requestFlags
	req.add(fs)
	fs.Usage = func() {
		showHelp(stdout, fs, fmt.Sprintf("Usage: sseload check URL [flags]\n\nDiagnoses one SSE endpoint: a few streams for a short time, then what is wrong and the fix.\n\nFlags:\n%s", fs.FlagUsages())+fmt.Sprintf(checkExamples, requestExamples))
	}
	if err := fs.Parse(args); err != nil {
		if err == pflag.ErrHelp {
			return exitOK, nil
		}
		return exitUsage, usageError{err}
	}
	if fs.NArg() != 1 {
		return exitUsage, usagef("check takes one URL, e.g. sseload check http://127.0.0.1:8080/events (got %d arguments)", fs.NArg())
	}
	if *streams < 1 || *duration <= 0 {
		return exitUsage, usagef("--streams %d, --duration %s: want at least 1 stream and a duration above 0", *streams, *duration)
	}
	shape, err := req.shape(fs)
	if err != nil {
		return exitUsage, err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	r, err := check.Run(ctx, check.Options{URL: fs.Arg(0), Streams: *streams, Duration: *duration, Request: shape, Insecure: req.insecure})
	if r != nil {
		if werr := r.Write(stdout); werr != nil {
			return exitNotComplete, werr
		}
	}
	switch {
	case errors.Is(err, check.ErrUnreachable):
		return exitNotComplete, err
	case errors.Is(err, context.Canceled):
		return exitInterrupted, err
	case err != nil:
		return exitUsage, usageError{err}
	case !r.Healthy():
		return exitSymptom, nil
	}
	return exitOK, nil
}
