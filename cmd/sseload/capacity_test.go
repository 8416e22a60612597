package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sseload/sseload/internal/testenv"
	"github.com/sseload/sseload/reports"
)

func TestCapacityUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"capacity"}, "exactly one --target"},
		{[]string{"capacity", "--target", "nginx"}, "built-in: direct, nginx-stock, nginx-sse, haproxy-stock"},
		{[]string{"capacity", "--target", "app=http://127.0.0.1:1/"}, "--topology none"},
		{[]string{"capacity", "--topology", "none", "--target", "app"}, "NAME=URL"},
		{[]string{"capacity", "--topology", "compose", "--target", "direct"}, "capacity runs on local or none"},
		{[]string{"capacity", "--target", "direct", "--connections", "5"}, "--start and --max"},
		{[]string{"capacity", "--target", "direct", "--threshold", "latency.p99 < 1s"}, "--slo"},
		{[]string{"capacity", "--target", "direct", "--slo", "latency.p99 < 1"}, "give a unit"},
		{[]string{"capacity", "--target", "direct", "--slo", "nginx-sse:latency.p99 < 1s"}, `target "nginx-sse" is not in this run`},
		{[]string{"capacity", "--target", "direct", "--start", "500", "--max", "100"}, "--max 100 is below --start 500"},
		{[]string{"capacity", "--target", "direct", "--mode", "per-connection", "--events", "3"}, "--mode broadcast"},
		{[]string{"capacity", "--target", "direct", "--duration", "0s"}, "duration"},
		{[]string{"capacity", "seed", "steady", "--target", "direct"}, "one scenario"},
	} {
		var out, errOut bytes.Buffer
		code := run(tc.args, &out, &errOut)
		if code != exitUsage || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("sseload %s: exit %d, stderr %q; want exit %d naming %q", strings.Join(tc.args, " "), code, errOut.String(), exitUsage, tc.want)
		}
	}
	var out bytes.Buffer
	if code := run([]string{"capacity", "--help"}, &out, &out); code != exitOK || !strings.Contains(out.String(), "--slo") || strings.Contains(out.String(), "--connections") {
		t.Errorf("capacity --help: exit %d, %q", code, out.String())
	}
}

// TestCapacityCommand runs `sseload capacity` end to end on a small scale
// (the origin as a child process, as the real command runs it): two steps
// through nginx-stock with X-Accel-Buffering, both carried, so the answer is
// "at least --max".
func TestCapacityCommand(t *testing.T) {
	testenv.RequireNginx(t)
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	code := run([]string{"capacity", "steady", "--target", "nginx-stock", "--x-accel", "--start", "4", "--max", "8",
		"--duration", "1s", "--interval", "250ms", "--out", dir}, &out, &errOut)
	if code != exitOK {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, out.String(), errOut.String())
	}
	if first, _, _ := strings.Cut(out.String(), "\n"); strings.Join(strings.Fields(first), " ") != "step streams result established latency p99 errors" {
		t.Errorf("steps table header %q", first)
	}
	for _, want := range []string{
		"nginx-stock carries at least 8 streams at 4 events/s with latency.p99 < 100ms (every step held; --max 8 reached",
		"results: " + dir,
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, out.String())
		}
	}
	if !strings.Contains(errOut.String(), "step 2: 8 streams: ok") {
		t.Errorf("stderr lacks the step progress:\n%s", errOut.String())
	}
	s, err := reports.ReadSummary(filepath.Join(dir, reports.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	c := s.Capacity
	if c == nil || c.Target != "nginx-stock" || c.MaxOK != 8 || c.FirstFailed != nil || len(c.Steps) != 2 || !s.Config.XAccel {
		t.Errorf("summary.json capacity %+v, config %+v", c, s.Config)
	}
}
