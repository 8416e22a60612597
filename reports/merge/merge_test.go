package merge

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
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
	writeRunWith(t, dir, scenario, seg, started, vals, all, nil, nil)
}

// writeRunWith is writeRun with the established streams at the end of each
// interval (timeline.csv; nil: 50 each) and the run's faults.
func writeRunWith(t *testing.T, dir, scenario, seg string, started time.Time, vals [][]int64, all *[]int64, established []int64, faults []loadgen.Fault) {
	t.Helper()
	hl, err := hlog.NewSet(dir, []string{"direct"})
	if err != nil {
		t.Fatal(err)
	}
	tl, err := reports.NewTimeline(dir)
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
		iv.Established = 50
		if established != nil {
			iv.Established = established[k]
		}
		r := loadgen.IntervalReport{Start: iv.Start, End: iv.End, Targets: []loadgen.TargetInterval{{Name: "direct", Interval: iv}}}
		hl.Add(r)
		tl.Add(r)
	}
	if err := hl.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := tl.Commit(); err != nil {
		t.Fatal(err)
	}
	tr := &loadgen.TargetResult{Name: "direct", URL: "http://127.0.0.1:1/events", Requested: 50, Established: 50, EventsReceived: events, EventsTimed: events, Errors: map[string]int64{}, ErrorValues: loadgen.ErrorValues{}}
	tr.Hist[loadgen.Latency] = cum
	res := &loadgen.Result{Started: started, Ended: started.Add(time.Duration(len(vals)) * time.Second), Targets: []*loadgen.TargetResult{tr}, Harness: loadgen.Harness{Reliable: true}, Faults: faults}
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

// TestMergeTimelineAndFaults: the merged timeline.csv's established
// streams are the runs' summed by time (a run that ended earlier counting
// nothing after its end), and every run's faults are kept, labelled with
// their segment, at their time in the merged run.
func TestMergeTimelineAndFaults(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tmp := t.TempDir()
	var all []int64
	a, b := filepath.Join(tmp, "a"), filepath.Join(tmp, "b")
	fault := func(at time.Time, recovered int64, recoveryUS int64) []loadgen.Fault {
		return []loadgen.Fault{{Name: "origin-restart", At: at, Targets: []loadgen.FaultTarget{{Name: "direct", Streams: 50, Recovered: recovered, RecoveryUS: recoveryUS, Reconnects: 50}}}}
	}
	writeRunWith(t, a, "steady", "0/2", base, [][]int64{{100}, {200}, {300}}, &all, []int64{20, 50, 50}, fault(base.Add(1500*time.Millisecond), 50, 250_000))
	// b starts 20 ms later and has one interval fewer.
	bStart := base.Add(20 * time.Millisecond)
	writeRunWith(t, b, "steady", "1/2", bStart, [][]int64{{100}, {200}}, &all, []int64{10, 40}, fault(bStart.Add(1200*time.Millisecond), 49, -1))
	out := filepath.Join(tmp, "merged")
	sum, err := Dirs(Options{Dirs: []string{a, b}, Out: out})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(out, reports.TimelineFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pts, err := reports.ReadTimeline(f)
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, p := range pts {
		got = append(got, p.Established)
	}
	if want := []int64{30, 90, 50}; !slices.Equal(got, want) {
		t.Errorf("merged timeline established %v, want %v (b ended before the last interval)", got, want)
	}
	if len(sum.Faults) != 2 {
		t.Fatalf("merged faults %+v, want both runs'", sum.Faults)
	}
	first, second := sum.Faults[0], sum.Faults[1]
	if first.Name != "origin-restart (segment 1/2)" || first.AtS != 1.22 || first.Targets[0].Recovered != 49 || first.Targets[0].RecoveryS != nil {
		t.Errorf("first fault %+v: want segment 1/2's at 1.22 s, 49 recovered, no recovery time", first)
	}
	if second.Name != "origin-restart (segment 0/2)" || second.AtS != 1.5 || second.Targets[0].RecoveryS == nil || *second.Targets[0].RecoveryS != 0.25 {
		t.Errorf("second fault %+v: want segment 0/2's at 1.5 s, recovered in 0.25 s", second)
	}
}
