package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sseload/sseload/loadgen"
	"github.com/sseload/sseload/reports"
	"github.com/sseload/sseload/reports/hlog"
)

// TestRunWithProcs runs `sseload run --procs 3` as a child: the streams are
// opened by three `sseload worker` processes and the results directory
// reads as a single engine's would.
func TestRunWithProcs(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "run", "steady", "--only", "direct", "--procs", "3",
		"--connections", "40", "--interval", "200ms", "--duration", "1500ms", "--no-progress", "--out", dir)
	cmd.Env = append(os.Environ(), "SSELOAD_TEST_MAIN=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("sseload run --procs 3: %v\nstderr: %s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "the generator runs as 3 processes") {
		t.Errorf("stderr %q: want the split announced", stderr.String())
	}
	s, err := reports.ReadSummary(filepath.Join(dir, reports.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Targets) != 1 {
		t.Fatalf("targets %+v, want direct", s.Targets)
	}
	d := s.Targets[0]
	if d.Connections.Requested != 40 || d.Connections.Established != 40 || d.Connections.Failed != 0 {
		t.Errorf("connections %+v, want 40 established", d.Connections)
	}
	if d.Events.Received == 0 || d.Events.Lost != 0 || d.LatencyUS == nil || d.LatencyUS.Count != d.Events.Timed {
		t.Errorf("events %+v latency %+v: want events, none lost, every one timed", d.Events, d.LatencyUS)
	}
	for _, m := range loadgen.Metrics {
		if _, err := os.Stat(filepath.Join(dir, hlog.Name("direct", m))); err != nil {
			t.Errorf("interval log: %v", err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, reports.TimelineFile)); err != nil {
		t.Errorf("timeline: %v", err)
	}
	if workers := liveWorkers(t); len(workers) != 0 {
		t.Errorf("worker processes %v outlived sseload", workers)
	}
}

// liveWorkers lists the live processes running this test binary as
// `sseload worker`: after the run, none may be left (they die with it).
func liveWorkers(t *testing.T) []int {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	want := exe + "\x00worker\x00"
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if cl, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline")); err == nil && string(cl) == want && alive(p) {
			out = append(out, p)
		}
	}
	return out
}

// TestRunWithProcsInterrupted interrupts `sseload run --procs 2` as ^C
// would: the workers are stopped through the protocol, their partial
// results are written, and none outlives the run.
func TestRunWithProcsInterrupted(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd, stderr := startMeasuringRun(t, ctx, dir, "direct", "run", "steady", "--only", "direct", "--procs", "2",
		"--connections", "30", "--duration", "1h", "--no-progress", "--out", dir)
	if n := len(liveWorkers(t)); n != 2 {
		t.Errorf("%d worker processes during the run, want 2", n)
	}
	s := interruptRun(t, cmd, stderr, dir)
	if !s.Interrupted || s.Targets[0].Connections.Established != 30 {
		t.Errorf("summary: interrupted %v, established %d; want interrupted with all 30", s.Interrupted, s.Targets[0].Connections.Established)
	}
	if workers := liveWorkers(t); len(workers) != 0 {
		t.Errorf("worker processes %v outlived sseload", workers)
	}
}
