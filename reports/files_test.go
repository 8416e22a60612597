package reports

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sseload/sseload/reports/hlog"
	"github.com/sseload/sseload/reports/internal/testrun"
)

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	return names
}

// TestResultsDirectory: a run's files (HlogSet, then WriteSummary) are
// one log per target and metric and summary.json, nothing temporary.
func TestResultsDirectory(t *testing.T) {
	res := testrun.Result(t)
	dir := filepath.Join(t.TempDir(), "runs", "seed") // not there yet
	if err := writeResults(t, dir, res, Summarize(res, testMeta())); err != nil {
		t.Fatal(err)
	}
	// One log per metric for every target that had an interval (the
	// engine reports every target in every interval; testReports has only
	// direct's), and summary.json.
	want := []string{
		"direct.disconnected.hlog", "direct.latency.hlog", "direct.origin_delay.hlog", "direct.path_latency.hlog",
		"direct.quiet_before_drop.hlog", "direct.time_to_first_event.hlog", "direct.time_to_headers.hlog",
		"summary.json",
	}
	if got := dirNames(t, dir); !slices.Equal(got, want) {
		t.Errorf("files = %v, want %v (no temporary files)", got, want)
	}
	fi, err := os.Stat(filepath.Join(dir, SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("summary.json mode %v, want 0644", fi.Mode().Perm())
	}
	// The latency log holds the direct target's three intervals.
	_, ivs, err := hlog.ReadFile(filepath.Join(dir, "direct.latency.hlog"), testrun.Start)
	if err != nil {
		t.Fatal(err)
	}
	if len(ivs) != 3 || ivs[0].Count != 50 {
		t.Errorf("direct.latency.hlog: %d intervals (%+v), want 3 of 50 values", len(ivs), ivs)
	}

	// Writing again replaces the files in place.
	if err := writeResults(t, dir, res, Summarize(res, testMeta())); err != nil {
		t.Fatalf("second write: %v", err)
	}
	if got := dirNames(t, dir); !slices.Equal(got, want) {
		t.Errorf("after rewrite files = %v, want %v", got, want)
	}
}

func TestHlogSetBadNames(t *testing.T) {
	for _, names := range [][]string{{"a/b"}, {""}, {".."}, {"x", "x"}} {
		dir := filepath.Join(t.TempDir(), "out")
		_, err := hlog.NewSet(dir, names)
		if err == nil {
			t.Errorf("names %q: no error", names)
			continue
		}
		if _, statErr := os.Stat(dir); !os.IsNotExist(statErr) {
			t.Errorf("names %q: directory created before the names were checked", names)
		}
	}
}

// TestWriteSummaryEncodeErrorKeepsOld: a summary JSON cannot carry (NaN)
// fails the call and leaves the previous run's files as they were.
func TestWriteSummaryEncodeErrorKeepsOld(t *testing.T) {
	res := testrun.Result(t)
	dir := t.TempDir()
	if err := writeResults(t, dir, res, Summarize(res, testMeta())); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(filepath.Join(dir, SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	names := dirNames(t, dir)

	bad := Summarize(res, testMeta())
	bad.Harness.BusyMax = math.NaN()
	if err := WriteSummary(dir, bad); err == nil || !strings.Contains(err.Error(), "summary.json") {
		t.Fatalf("err = %v, want an error naming summary.json", err)
	}
	after, err := os.ReadFile(filepath.Join(dir, SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	if string(after) != string(before) {
		t.Error("summary.json changed by a failed write")
	}
	if got := dirNames(t, dir); !slices.Equal(got, names) {
		t.Errorf("files = %v, want %v", got, names)
	}
}
