package main

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/sseload/sseload/reports/render"
)

const reportUsage = `Usage: sseload report DIR

Regenerates report.md, report.html and junit.xml in a results directory
from its summary.json, .hlog files and timeline.csv (for example after
upgrading sseload, or for results copied from CI), and prints the summary.
The thresholds are those recorded in summary.json.

Example:
  sseload report results/seed-20261125T012554Z
`

func reportCmd(args []string, stdout, stderr io.Writer) (int, error) {
	fs := pflag.NewFlagSet("report", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { showHelp(stdout, fs, reportUsage) }
	if err := fs.Parse(args); err != nil {
		if err == pflag.ErrHelp {
			return exitOK, nil
		}
		return exitUsage, usageError{err}
	}
	if fs.NArg() != 1 {
		return exitUsage, usagef("report takes one results directory; got %d argument(s)", fs.NArg())
	}
	dir := fs.Arg(0)
	s, err := render.RegenerateReports(dir)
	if err != nil {
		return exitUsage, usageError{err}
	}
	if err := render.WriteText(stdout, s); err != nil {
		return exitNotComplete, err
	}
	if len(s.Thresholds) > 0 {
		fmt.Fprintln(stdout)
		if err := render.WriteThresholdsText(stdout, s.Thresholds); err != nil {
			return exitNotComplete, err
		}
	}
	fmt.Fprintf(stdout, "\nwrote %s, %s, %s\n", filepath.Join(dir, render.MarkdownFile), filepath.Join(dir, render.HTMLFile), filepath.Join(dir, render.JUnitFile))
	return exitOK, nil
}
