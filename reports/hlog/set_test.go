package hlog

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/sseload/sseload/loadgen"
)

func TestHlogSetStreamsAndCommits(t *testing.T) {
	dir := t.TempDir()
	s, err := NewSet(dir, []string{"direct", "nginx-sse"})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Unix(1_700_000_000, 0)
	want := map[string][]int64{} // file -> counts per interval
	for i := 0; i < 3; i++ {
		for ti, name := range []string{"direct", "nginx-sse"} {
			var iv loadgen.Interval
			iv.Start = start.Add(time.Duration(i) * time.Second)
			iv.End = iv.Start.Add(time.Second)
			for m := range iv.Hist {
				h := loadgen.NewHistogram()
				for v := 0; v < (i+1)*(ti+1)*(m+1); v++ {
					_ = h.RecordValue(int64(100 + v))
				}
				iv.Hist[m] = h
				f := Name(name, loadgen.Metrics[m])
				want[f] = append(want[f], h.TotalCount())
			}
			s.Add(report(name, iv))
		}
	}
	if tmp, _ := filepath.Glob(filepath.Join(dir, "*.hlog")); len(tmp) != 0 {
		t.Fatalf("final files %v exist before Commit", tmp)
	}
	if err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	for file, counts := range want {
		f, err := os.Open(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		r := hdrhistogram.NewHistogramLogReader(f)
		for i, c := range counts {
			h, err := r.NextIntervalHistogram()
			if err != nil || h == nil {
				t.Fatalf("%s interval %d: %v", file, i, err)
			}
			if h.TotalCount() != c {
				t.Errorf("%s interval %d: count %d, want %d", file, i, h.TotalCount(), c)
			}
		}
		f.Close()
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

func TestHlogSetAbortLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	s, err := NewSet(dir, []string{"a"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	s.Add(report("a", loadgen.Interval{Start: now, End: now.Add(time.Second)}))
	s.Abort()
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Errorf("abort left %d files", len(entries))
	}
	if _, err := NewSet(dir, []string{"../x"}); err == nil {
		t.Error("a target name with a path separator was accepted")
	}
}

// report is an interval report of one target, as the engine sends one
// per interval with every target.
func report(name string, iv loadgen.Interval) loadgen.IntervalReport {
	return loadgen.IntervalReport{Start: iv.Start, End: iv.End, Targets: []loadgen.TargetInterval{{Name: name, Interval: iv}}}
}
