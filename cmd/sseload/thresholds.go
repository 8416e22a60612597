package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/sseload/sseload/loadgen"
	"github.com/sseload/sseload/reports"
	"github.com/sseload/sseload/reports/render"
	"github.com/sseload/sseload/runner"
	"github.com/sseload/sseload/scenarios"
	"github.com/sseload/sseload/targets"
)

// stepSummaryEnv names the file GitHub Actions shows as the job summary.
const stepSummaryEnv = "GITHUB_STEP_SUMMARY"

// parseThresholds parses the scenario's thresholds and then the
// --threshold flags, before anything starts: a malformed one is a usage
// error naming the bad token. A threshold naming a target the run will not
// have is one too, when the run's targets are known in advance (local
// topology: the scenario's targets; none: the --target names).
func (f *runFlags) parseThresholds(sc scenarios.Scenario, external []loadgen.Target) ([]reports.Threshold, error) {
	var ths []reports.Threshold
	for i, e := range sc.Thresholds {
		t, err := reports.ParseThreshold(e)
		if err != nil {
			return nil, usagef("%s: thresholds[%d]: %v", sc.Source, i, err)
		}
		ths = append(ths, t)
	}
	for _, e := range f.thresholds {
		t, err := reports.ParseThreshold(e)
		if err != nil {
			return nil, usagef("--threshold: %v", err)
		}
		ths = append(ths, t)
	}
	var names []string
	switch f.topology {
	case runner.TopologyLocal, runner.TopologyCompose, runner.TopologySwarm:
		names = targets.Names(sc.Targets)
	case runner.TopologyNone:
		for _, t := range external {
			names = append(names, t.Name)
		}
	default:
		return ths, nil
	}
	if err := reports.CheckThresholdTargets(ths, names); err != nil {
		return nil, usageError{err}
	}
	return ths, nil
}

// finishRun prints what follows the table (thresholds, the results
// directory), appends report.md to the GitHub job summary when
// $GITHUB_STEP_SUMMARY is set, and picks the exit code: 130 when
// interrupted, then 3 when a target was unusable (reports.Unusable: no
// stream got an event stream; the error names it and its errors), then 3
// when --require-reliable and the harness was not reliable, then 1 when a
// threshold failed, else 0. The results are written before, whatever the
// code.
func finishRun(out *runner.Outcome, requireReliable bool, stdout, stderr io.Writer) (int, error) {
	s := out.Summary
	if len(s.Thresholds) > 0 {
		fmt.Fprintln(stdout)
		if err := render.WriteThresholdsText(stdout, s.Thresholds); err != nil {
			return exitNotComplete, err
		}
	}
	fmt.Fprintf(stdout, "\nresults: %s\n", out.Dir)
	if path := os.Getenv(stepSummaryEnv); path != "" {
		if err := appendFile(path, filepath.Join(out.Dir, render.MarkdownFile)); err != nil {
			fmt.Fprintf(stderr, "sseload: $%s: %v\n", stepSummaryEnv, err)
		}
	}
	var unusable []string
	for i := range s.Targets {
		if why := reports.Unusable(s, &s.Targets[i]); why != "" {
			unusable = append(unusable, fmt.Sprintf("target %s unusable: %s", s.Targets[i].Name, why))
		}
	}
	switch {
	case s.Interrupted:
		return exitInterrupted, nil
	case len(unusable) > 0:
		return exitNotComplete, fmt.Errorf("%s (results in %s)", strings.Join(unusable, "; "), out.Dir)
	case requireReliable && !s.Harness.Reliable:
		return exitNotComplete, fmt.Errorf("the harness judged its measurements unreliable (%s) and --require-reliable is set", s.Harness.Note)
	}
	if n := reports.ThresholdsFailed(s.Thresholds); n > 0 {
		return exitThreshold, fmt.Errorf("%d of %d thresholds failed", n, len(s.Thresholds))
	}
	return exitOK, nil
}

// appendFile appends the content of src to dst (created if missing), as
// GitHub expects of $GITHUB_STEP_SUMMARY: several steps may write to it.
func appendFile(dst, src string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("append to %s: %w", dst, err)
	}
	return f.Close()
}
