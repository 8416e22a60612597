package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"

	"github.com/sseload/sseload/reports"
	resultsmerge "github.com/sseload/sseload/reports/merge"
	"github.com/sseload/sseload/runner"
)

const mergeExamples = `
Examples:
  sseload run steady --segment 0/2 -o results/seg0   # on one machine
  sseload run steady --segment 1/2 -o results/seg1   # on another
  sseload merge results/seg0 results/seg1 --out results/merged

Counters are summed, histograms and .hlog intervals merged by value and by
time, thresholds re-evaluated on the merged figures, every report written.
Runs of different scenarios, settings, targets or schema versions are
refused (exit 2). docs/distributed.md
`

// mergeCmd is `sseload merge DIR... --out DIR` (reports/merge).
func mergeCmd(args []string, stdout, stderr io.Writer) (int, error) {
	fs := pflag.NewFlagSet("merge", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.StringP("out", "o", "", "the merged results directory, new or empty (required)")
	force := fs.Bool("force", false, "empty a non-empty --out directory first")
	requireReliable := fs.Bool("require-reliable", false, "exit 3 when any merged run's harness judged its measurements unreliable")
	fs.Usage = func() {
		showHelp(stdout, fs, fmt.Sprintf("Usage: sseload merge DIR DIR... --out DIR\n\nFlags:\n%s%s", fs.FlagUsages(), mergeExamples))
	}
	if err := fs.Parse(args); err != nil {
		if err == pflag.ErrHelp {
			return exitOK, nil
		}
		return exitUsage, usageError{err}
	}
	if fs.NArg() < 2 {
		return exitUsage, usagef("merge takes at least two results directories, got %d: sseload merge DIR DIR... --out DIR", fs.NArg())
	}
	if *out == "" {
		return exitUsage, usagef("merge needs --out DIR for the merged results")
	}
	if err := runner.PrepareOutDir(*out, *force); err != nil {
		return exitUsage, usagef("--out: %v", err)
	}
	sum, err := resultsmerge.Dirs(resultsmerge.Options{Dirs: fs.Args(), Out: *out, Command: os.Args, Version: runVersion()})
	if err != nil {
		if errors.Is(err, resultsmerge.ErrIncompatible) {
			return exitUsage, usageError{err}
		}
		return exitNotComplete, err
	}
	if err := reports.WriteText(stdout, sum); err != nil {
		return exitNotComplete, fmt.Errorf("print summary: %w", err)
	}
	return finishRun(&runner.Outcome{Dir: *out, Summary: sum}, *requireReliable, stdout, stderr)
}
