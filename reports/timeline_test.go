package reports

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sseload/sseload/loadgen"
	"github.com/sseload/sseload/reports/hlog"
	"github.com/sseload/sseload/reports/internal/testrun"
)

// writeRunFiles writes a results directory the way a run does, without
// the reports: the intervals streamed through an hlog.Set and a Timeline,
// then summary.json.
func writeRunFiles(t *testing.T, dir string) Summary {
	t.Helper()
	hl, err := hlog.NewSet(dir, []string{"direct", "nginx-stock"})
	if err != nil {
		t.Fatal(err)
	}
	tl, err := NewTimeline(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range testrun.Reports(t) {
		hl.Add(r)
		tl.Add(r)
	}
	if err := hl.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := tl.Commit(); err != nil {
		t.Fatal(err)
	}
	s := Summarize(testrun.Result(t), testMeta())
	if err := WriteSummary(dir, s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestTimelineRoundTrip(t *testing.T) {
	dir := t.TempDir()
	writeRunFiles(t, dir)
	f, err := os.Open(filepath.Join(dir, TimelineFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pts, err := ReadTimeline(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) != 3 {
		t.Fatalf("%d rows, want 3 (direct's intervals)", len(pts))
	}
	// Interval i holds latencies i*100+1 .. i*100+50.
	for i, p := range pts {
		if p.Target != "direct" || p.Start != time.Duration(i)*time.Second || p.Length != time.Second ||
			p.Established != 20 || p.EventsTimed != 50 || p.LatencyP50 != int64(i*100+25) || p.LatencyP99 != int64(i*100+50) {
			t.Errorf("row %d = %+v", i, p)
		}
	}
}

func TestTimelineAbortAndEmpty(t *testing.T) {
	dir := t.TempDir()
	tl, err := NewTimeline(dir)
	if err != nil {
		t.Fatal(err)
	}
	iv := loadgen.Interval{Start: testrun.Start, End: testrun.Start.Add(time.Second)}
	tl.Add(testrun.Report("x", iv))
	tl.Abort()
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("after Abort: %v, want no files", names)
	}
	tl, _ = NewTimeline(dir)
	if err := tl.Commit(); err != nil {
		t.Errorf("commit without intervals: %v", err)
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("no intervals: %v, want no file", names)
	}
	if err := tl.Commit(); err == nil {
		t.Error("second Commit: no error")
	}
}

// TestLoadRunCounts: the .hlog files read back (hdrhistogram-go's log
// reader) hold the counts the run recorded in its intervals.
func TestLoadRunCounts(t *testing.T) {
	dir := t.TempDir()
	s := writeRunFiles(t, dir)
	d, err := LoadRun(dir, s)
	if err != nil {
		t.Fatal(err)
	}
	if h := d.Hists["direct"][loadgen.Latency]; h == nil || h.TotalCount() != 150 || h.Max() != 250 {
		t.Errorf("direct latency from .hlog: %v", h)
	}
	if iv := d.Latency["direct"]; len(iv) != 3 || iv[2].Count != 50 || iv[2].Start != 2*time.Second {
		t.Errorf("direct latency intervals: %+v", iv)
	}
	if h := d.Hists["nginx-stock"][loadgen.Latency]; h != nil {
		t.Errorf("nginx-stock had no intervals, so no .hlog file: %v", h)
	}
}
