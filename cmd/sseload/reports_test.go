package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sseload/sseload/internal/testenv"
	"github.com/sseload/sseload/reports"
	"github.com/sseload/sseload/reports/render"
	"github.com/sseload/sseload/runner"
)

// TestThresholdUsageErrors: a bad threshold is reported before anything
// starts (no results directory, no nginx), exits 2 and names the token.
func TestThresholdUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--threshold", "latency.p95 < 50ms"}, []string{`metric "latency.p95": unknown`, "latency.{count,min,mean,p50,p90,p99,p999,max}"}},
		{[]string{"--threshold", "events.dropped == 0"}, []string{`"events.dropped"`, "events.{received,timed,clock_skewed,"}},
		{[]string{"--threshold", "latency.p99 < 50"}, []string{`value "50"`, "unit"}},
		{[]string{"--only", "direct", "--threshold", "nginx-sse:latency.p99 < 1s"}, []string{`target "nginx-sse" is not in this run (targets: direct)`}},
	} {
		out := filepath.Join(t.TempDir(), "out")
		args := append([]string{"run", "seed", "--out", out}, tc.args...)
		var stdout, stderr bytes.Buffer
		code := run(args, &stdout, &stderr)
		if code != exitUsage {
			t.Errorf("%q: exit %d, want %d; stderr %s", args, code, exitUsage, stderr.String())
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr.String(), w) {
				t.Errorf("%q: stderr %q lacks %q", args, stderr.String(), w)
			}
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("%q: results directory created before the threshold was checked", args)
		}
	}
}

// TestRunThresholdsEndToEnd runs the seed shape through real nginx: a
// threshold direct holds exits 0, the same on every target exits 1 and
// names nginx-stock with its value. The limit, 600 ms, is structural, not a
// timing bet: stock nginx releases the first of 4 events 300 ms apart only
// at the stream's end, so its p99 is at least 900 ms, while direct's would
// need a generator stalled for two publish intervals to reach it. the results directory holds every
// report, report.md lands in $GITHUB_STEP_SUMMARY, and compare and report
// work on it.
func TestRunThresholdsEndToEnd(t *testing.T) {
	testenv.RequireNginx(t)
	// The run starts its origin by re-executing this binary (os.Executable):
	// make that child act as sseload, not as the test binary.
	t.Setenv("SSELOAD_TEST_MAIN", "1")
	stepSummary := filepath.Join(t.TempDir(), "step-summary.md")
	t.Setenv(stepSummaryEnv, stepSummary)
	seed := []string{"run", "seed", "--interval", "300ms", "--events", "4", "--connections", "10", "--only", "direct,nginx-stock", "--no-progress"}

	okDir := filepath.Join(t.TempDir(), "ok")
	var stdout, stderr bytes.Buffer
	code := run(append(seed, "--out", okDir, "--threshold", "direct:latency.p99 < 600ms"), &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("direct threshold: exit %d, want 0\n%s%s", code, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "thresholds: all 1 held") {
		t.Errorf("stdout lacks the threshold verdict:\n%s", stdout.String())
	}

	failDir := filepath.Join(t.TempDir(), "fail")
	stdout.Reset()
	stderr.Reset()
	code = run(append(seed, "--out", failDir, "--threshold", "latency.p99 < 600ms"), &stdout, &stderr)
	if code != exitThreshold {
		t.Fatalf("threshold on every target: exit %d, want 1\n%s%s", code, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "FAIL  nginx-stock: latency.p99 < 600ms — measured ") {
		t.Errorf("stdout does not name the failing target and value:\n%s", stdout.String())
	}
	for _, f := range []string{reports.SummaryFile, render.MarkdownFile, render.HTMLFile, render.JUnitFile, reports.TimelineFile, "nginx-stock.latency.hlog"} {
		if _, err := os.Stat(filepath.Join(failDir, f)); err != nil {
			t.Errorf("results: %v", err)
		}
	}
	s, err := reports.ReadSummary(filepath.Join(failDir, reports.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Thresholds) != 2 || s.Thresholds[1].Target != "nginx-stock" || s.Thresholds[1].OK || s.Thresholds[1].Measured == nil {
		t.Errorf("summary.json thresholds: %+v", s.Thresholds)
	}
	md, err := os.ReadFile(stepSummary)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(string(md), "## sseload: seed") != 2 || !strings.Contains(string(md), "FAIL: ") {
		t.Errorf("$GITHUB_STEP_SUMMARY holds:\n%s", md)
	}

	// compare: a run against itself is no regression.
	stdout.Reset()
	stderr.Reset()
	if code := run([]string{"compare", failDir, failDir}, &stdout, &stderr); code != exitOK {
		t.Errorf("compare DIR DIR: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	// report regenerates the reports.
	os.Remove(filepath.Join(failDir, render.HTMLFile))
	stdout.Reset()
	if code := run([]string{"report", failDir}, &stdout, &stderr); code != exitOK {
		t.Errorf("report: exit %d: %s", code, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(failDir, render.HTMLFile)); err != nil {
		t.Errorf("report did not rewrite report.html: %v", err)
	}
}

// writeRun writes a results directory holding only summary.json with one
// target "app" whose latency p50 and p99 are given (µs).
func writeRun(t *testing.T, p50, p99 int64) string {
	t.Helper()
	dir := t.TempDir()
	s := reports.Summary{SchemaVersion: reports.SchemaVersion, Scenario: "seed", Harness: reports.Harness{Reliable: true},
		Targets: []reports.Target{{Name: "app", Errors: map[string]int64{},
			LatencyUS:       &reports.Hist{Count: 5000, P50: p50, P99: p99},
			TimeToHeadersUS: &reports.Hist{Count: 50, P50: 1000}}}}
	if err := reports.WriteSummary(dir, s); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestCompareCmd(t *testing.T) {
	base := writeRun(t, 1000, 5000)
	slower := writeRun(t, 1050, 9000) // p50 +5 %, p99 +80 %
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{base, base}, exitOK, "no regression beyond 10%"},
		{[]string{base, slower}, exitThreshold, "latency.p99"},
		{[]string{base, slower, "--max-regression", "100%"}, exitOK, "no regression beyond 100%"},
		{[]string{base, slower, "--metric", "latency.p50"}, exitOK, "+5.0%"},
		{[]string{base, slower, "--metric", "latency.p50", "--max-regression", "4"}, exitThreshold, "REGRESSED"},
		{[]string{base, filepath.Join(slower, reports.SummaryFile)}, exitThreshold, "REGRESSION: 1 of 4"},
		{[]string{base}, exitUsage, "two results directories"},
		{[]string{base, t.TempDir()}, exitUsage, "summary.json"},
		{[]string{base, slower, "--metric", "latency.p95"}, exitUsage, `"latency.p95": unknown`},
		{[]string{base, slower, "--max-regression", "lots"}, exitUsage, "--max-regression"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(append([]string{"compare"}, tc.args...), &stdout, &stderr)
		if code != tc.code || !strings.Contains(stdout.String()+stderr.String(), tc.want) {
			t.Errorf("compare %q: exit %d, want %d naming %q\n%s%s", tc.args, code, tc.code, tc.want, stdout.String(), stderr.String())
		}
	}
}

// TestFinishRunExitCodes: interrupted beats --require-reliable beats a
// failed threshold.
func TestFinishRunExitCodes(t *testing.T) {
	failed := []reports.ThresholdResult{{Expression: "latency.p99 < 1ms", Target: "a", Metric: "latency.p99", Op: "<", Value: 1000}}
	for _, tc := range []struct {
		name            string
		s               reports.Summary
		requireReliable bool
		code            int
	}{
		{"clean", reports.Summary{Harness: reports.Harness{Reliable: true}}, true, exitOK},
		{"threshold failed", reports.Summary{Harness: reports.Harness{Reliable: true}, Thresholds: failed}, false, exitThreshold},
		{"unreliable, not required", reports.Summary{}, false, exitOK},
		{"unreliable, required", reports.Summary{Harness: reports.Harness{Note: "lag"}, Thresholds: failed}, true, exitNotComplete},
		{"interrupted", reports.Summary{Interrupted: true, Thresholds: failed}, true, exitInterrupted},
	} {
		t.Setenv(stepSummaryEnv, "")
		var stdout, stderr bytes.Buffer
		code, _ := finishRun(&runner.Outcome{Dir: t.TempDir(), Summary: tc.s}, tc.requireReliable, &stdout, &stderr)
		if code != tc.code {
			t.Errorf("%s: exit %d, want %d", tc.name, code, tc.code)
		}
	}
}
