package merge

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sseload/sseload/loadgen"
	"github.com/sseload/sseload/reports"
	"github.com/sseload/sseload/reports/hlog"
)

// writeRun writes a results directory as a run of segment seg would: one
// target "direct", interval histograms fed from vals (one slice per 1 s
// interval), the summary from the same values.
func writeRun(t *testing.T, dir, scenario, seg string, started time.Time, vals [][]int64, all *[]int64) {
	t.Helper()
	hl, err := hlog.NewSet(dir, []string{"direct"})
	if err != nil {
		t.Fatal(err)
	}
	cum := loadgen.NewHistogram()
	var events int64
	for k, vs := range vals {
		var iv loadgen.Interval
		for m := range iv.Hist {
			iv.Hist[m] = loadgen.NewHistogram()
		}
		for _, v := range vs {
			_ = iv.Hist[loadgen.Latency].RecordValue(v)
			_ = cum.RecordValue(v)
			*all = append(*all, v)
			events++
		}
		iv.Start = started.Add(time.Duration(k) * time.Second)
		iv.End = iv.Start.Add(time.Second)
		hl.Add(loadgen.IntervalReport{Start: iv.Start, End: iv.End, Targets: []loadgen.TargetInterval{{Name: "direct", Interval: iv}}})
	}
	if err := hl.Commit(); err != nil {
		t.Fatal(err)
	}
	tr := &loadgen.TargetResult{Name: "direct", URL: "http://127.0.0.1:1/events", Requested: 50, Established: 50, EventsReceived: events, EventsTimed: events, Errors: map[string]int64{}, ErrorValues: loadgen.ErrorValues{}}
	tr.Hist[loadgen.Latency] = cum
	res := &loadgen.Result{Started: started, Ended: started.Add(time.Duration(len(vals)) * time.Second), Targets: []*loadgen.TargetResult{tr}, Harness: loadgen.Harness{Reliable: true}}
	s := reports.Summarize(res, reports.Meta{Scenario: scenario, Segment: seg, Topology: "local", Config: reports.RunConfig{Mode: "broadcast", Connections: 100}})
	ths, err := reports.ParseThresholds([]string{"latency.p99 < 1s"})
	if err != nil {
		t.Fatal(err)
	}
	s.Thresholds = reports.EvaluateThresholds(s, ths)
	if err := reports.WriteSummary(dir, s); err != nil {
		t.Fatal(err)
	}
}

// TestMergeSegments: two segments' results merge into one whose counts are
// the sums and whose percentiles, overall and per interval, are exactly
// those of one histogram fed every value; thresholds are evaluated again.
func TestMergeSegments(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tmp := t.TempDir()
	var all []int64
	gen := func(scale float64) [][]int64 {
		out := make([][]int64, 3)
		for k := range out {
			for range 500 {
				out[k] = append(out[k], int64(rng.ExpFloat64()*scale)+1)
			}
		}
		return out
	}
	a, b := filepath.Join(tmp, "a"), filepath.Join(tmp, "b")
	writeRun(t, a, "steady", "0/2", base, gen(1000), &all)
	// The other segment started 20 ms later, with another distribution.
	writeRun(t, b, "steady", "1/2", base.Add(20*time.Millisecond), gen(9000), &all)
	out := filepath.Join(tmp, "merged")
	sum, err := Dirs(Options{Dirs: []string{a, b}, Out: out})
	if err != nil {
		t.Fatal(err)
	}
	whole := loadgen.NewHistogram()
	for _, v := range all {
		_ = whole.RecordValue(v)
	}
	tg := sum.Targets[0]
	if tg.Connections.Requested != 100 || tg.Connections.Established != 100 || tg.Events.Received != int64(len(all)) {
		t.Errorf("connections %+v, events %d: want 100 requested and established, %d events", tg.Connections, tg.Events.Received, len(all))
	}
	if tg.LatencyUS == nil || tg.LatencyUS.Count != whole.TotalCount() || tg.LatencyUS.P50 != whole.ValueAtQuantile(50) || tg.LatencyUS.P99 != whole.ValueAtQuantile(99) {
		t.Errorf("merged latency %+v; one histogram: count %d p50 %d p99 %d", tg.LatencyUS, whole.TotalCount(), whole.ValueAtQuantile(50), whole.ValueAtQuantile(99))
	}
	if len(sum.Segments) != 2 || len(sum.Thresholds) != 1 {
		t.Errorf("segments %v, thresholds %+v", sum.Segments, sum.Thresholds)
	}
	// The merged .hlog holds three intervals, each both segments' values.
	hs, err := hlog.ReadHistograms(filepath.Join(out, hlog.Name("direct", loadgen.Latency)))
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) != 3 {
		t.Fatalf("merged .hlog has %d intervals, want 3", len(hs))
	}
	for k, h := range hs {
		if h.TotalCount() != 1000 {
			t.Errorf("interval %d: %d values, want 1000 (500 of each segment)", k, h.TotalCount())
		}
	}
	if _, err := os.Stat(filepath.Join(out, "report.md")); err != nil {
		t.Errorf("report.md not written: %v", err)
	}
}

// TestMergeRefuses: another scenario, or one segment twice, is refused
// with ErrIncompatible naming the reason.
func TestMergeRefuses(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tmp := t.TempDir()
	var all []int64
	one := [][]int64{{100, 200}}
	a, b, c := filepath.Join(tmp, "a"), filepath.Join(tmp, "b"), filepath.Join(tmp, "c")
	writeRun(t, a, "steady", "0/2", base, one, &all)
	writeRun(t, b, "seed", "1/2", base, one, &all)
	writeRun(t, c, "steady", "0/2", base, one, &all)
	for _, tc := range []struct {
		dirs []string
		want string
	}{
		{[]string{a, b}, "scenario"},
		{[]string{a, c}, "segment 0/2"},
	} {
		_, err := Dirs(Options{Dirs: tc.dirs, Out: filepath.Join(tmp, "out")})
		if !errors.Is(err, ErrIncompatible) || !contains(err.Error(), tc.want) {
			t.Errorf("merge %v: %v; want ErrIncompatible naming %q", tc.dirs, err, tc.want)
		}
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
