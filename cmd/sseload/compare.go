package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/sseload/sseload/reports"
	"github.com/sseload/sseload/reports/render"
)

const compareUsage = `Usage: sseload compare BASE_DIR CURRENT_DIR [flags]

Compares two results directories (or their summary.json files) target by
target, matched by name: for each metric, base, current and the change. A
metric that got worse by more than --max-regression fails. A percentile resting on few samples (p99 of fewer than 1,000) is
marked noisy: such differences are often run-to-run noise.

Flags:
%s
Metrics: the threshold metrics, e.g. latency.p99, time_to_headers.p50,
connections.failed (default: %s; and path_latency.p99 when both runs split
latency into origin delay and path latency).

Examples:
  sseload compare results/baseline results/seed-20261125T012554Z
  sseload compare base/ cur/ --max-regression 20%% --metric latency.p99 --metric time_to_headers.p50
`

func compareCmd(args []string, stdout, stderr io.Writer) (int, error) {
	fs := pflag.NewFlagSet("compare", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.SortFlags = false
	maxReg := fs.String("max-regression", "10%", "allowed change for the worse, as a percentage")
	metrics := fs.StringSlice("metric", nil, "metric to compare (repeatable or comma-separated)")
	fs.Usage = func() {
		showHelp(stdout, fs, fmt.Sprintf(compareUsage, fs.FlagUsages(), strings.Join(reports.DefaultCompareMetrics, ", ")))
	}
	if err := fs.Parse(args); err != nil {
		if err == pflag.ErrHelp {
			return exitOK, nil
		}
		return exitUsage, usageError{err}
	}
	if fs.NArg() != 2 {
		return exitUsage, usagef("compare takes two results directories, BASE_DIR and CURRENT_DIR; got %d argument(s)", fs.NArg())
	}
	allow, err := reports.ParseRegression(*maxReg)
	if err != nil {
		return exitUsage, usagef("--max-regression %v", err)
	}
	var ms []string
	for _, m := range *metrics {
		c, err := reports.ParseCompareMetric(m)
		if err != nil {
			return exitUsage, usagef("--metric: %v", err)
		}
		ms = append(ms, c)
	}
	base, err := readRunArg(fs.Arg(0))
	if err != nil {
		return exitUsage, usageError{err}
	}
	cur, err := readRunArg(fs.Arg(1))
	if err != nil {
		return exitUsage, usageError{err}
	}
	c, err := reports.Compare(base, cur, reports.CompareOptions{MaxRegression: allow, Metrics: ms})
	if err != nil {
		return exitUsage, usageError{err}
	}
	if err := render.WriteCompare(stdout, c, fs.Arg(0), fs.Arg(1)); err != nil {
		return exitNotComplete, err
	}
	if n := c.Regressions(); n > 0 {
		return exitThreshold, fmt.Errorf("%d regression(s) beyond %s", n, *maxReg)
	}
	return exitOK, nil
}

// readRunArg reads a results directory (its summary.json and the .hlog
// files beside it), or a summary.json file and the directory it is in.
func readRunArg(path string) (*reports.RunData, error) {
	dir, file := path, filepath.Join(path, reports.SummaryFile)
	if fi, err := os.Stat(path); err == nil && !fi.IsDir() {
		dir, file = filepath.Dir(path), path
	}
	s, err := reports.ReadSummary(file)
	if err != nil {
		return nil, err
	}
	return reports.LoadRun(dir, s)
}
