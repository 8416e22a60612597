package reports

import (
	"math"
	"strings"
	"testing"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/sseload/sseload/loadgen"
	"github.com/sseload/sseload/reports/internal/testrun"
)

// runWith is a one-target run named app whose latency samples are vals
// (with their histogram, as if read from .hlog files, when withHists).
func runWith(t *testing.T, withHists bool, failed int64, vals ...int64) *RunData {
	t.Helper()
	h := testrun.Hist(t, vals...)
	d := &RunData{Summary: Summary{Harness: Harness{Reliable: true}, Targets: []Target{{
		Name: "app", Connections: Connections{Requested: 10, Established: 10, Failed: failed},
		LatencyUS: summarizeHist(h), TimeToHeadersUS: &Hist{Count: 10, P50: 1000},
	}}}}
	if withHists {
		var hs [len(loadgen.Metrics)]*hdrhistogram.Histogram
		hs[loadgen.Latency] = h
		d.Hists = map[string][len(loadgen.Metrics)]*hdrhistogram.Histogram{"app": hs}
	}
	return d
}

func scaled(vals []int64, f int64) []int64 {
	out := make([]int64, len(vals))
	for i, v := range vals {
		out[i] = v * f
	}
	return out
}

func TestCompare(t *testing.T) {
	many := testrun.Seq(1, 100_000)
	base := runWith(t, true, 0, many...)

	same, err := Compare(base, base, CompareOptions{MaxRegression: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	if same.Regressions() != 0 || len(same.Rows) != len(DefaultCompareMetrics) {
		t.Errorf("same run: %d regressions, %d rows", same.Regressions(), len(same.Rows))
	}

	slower := runWith(t, true, 2, scaled(many, 2)...)
	c, err := Compare(base, slower, CompareOptions{MaxRegression: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]CompareRow{}
	for _, r := range c.Rows {
		got[r.Metric] = r
	}
	if r := got["latency.p99"]; !r.Regressed || math.Abs(r.Change-1) > 0.01 || r.Noise != "" {
		t.Errorf("latency.p99 doubled on 100,000 samples: %+v, want a regression of +100%% and no noise note", r)
	}
	if r := got["connections.failed"]; !r.Regressed || !math.IsInf(r.Change, 1) {
		t.Errorf("failed 0 → 2: %+v, want a regression", r)
	}
	if r := got["time_to_headers.p50"]; r.Regressed || r.Change != 0 {
		t.Errorf("unchanged time_to_headers: %+v", r)
	}
	// Allowance: doubling is within +150 %; faster is never a regression.
	if c, _ := Compare(base, runWith(t, true, 0, scaled(many, 2)...), CompareOptions{MaxRegression: 1.5}); c.Regressions() != 0 {
		t.Errorf("within a 150%% allowance: %d regressions", c.Regressions())
	}
	if c, _ := Compare(slower, base, CompareOptions{MaxRegression: 0}); c.Regressions() != 0 {
		t.Errorf("faster run: %d regressions", c.Regressions())
	}
	// Fewer connections established is worse, more is not.
	if c, _ := Compare(base, runWith(t, true, 0, many...), CompareOptions{Metrics: []string{"connections.established"}}); c.Regressions() != 0 {
		t.Errorf("same established: %d regressions", c.Regressions())
	}

}

// TestCompareNoise: p99 of 40 samples is their maximum, so one outlier
// moves it by 30 %: within the spread the histograms record (p99 of
// 100,000 doubling is not, TestCompare). Without histograms the
// sample-count rule speaks.
func TestCompareNoise(t *testing.T) {
	few := testrun.Seq(1000, 1039)
	fewer := append(testrun.Seq(1000, 1038), 1350) // one outlier
	c, err := Compare(runWith(t, true, 0, few...), runWith(t, true, 0, fewer...), CompareOptions{MaxRegression: 0.1, Metrics: []string{"latency.p99"}})
	if err != nil {
		t.Fatal(err)
	}
	r := c.Rows[0]
	if !r.Regressed || !strings.Contains(r.Noise, "within run-to-run spread") {
		t.Errorf("few samples: %+v, want a regression marked within the spread", r)
	}
	c, _ = Compare(runWith(t, false, 0, few...), runWith(t, false, 0, fewer...), CompareOptions{MaxRegression: 0.1, Metrics: []string{"latency.p99"}})
	if r := c.Rows[0]; !strings.Contains(r.Noise, "p99 of 40 samples rests on 0.4 of them") || !strings.Contains(r.Noise, "1000 or more") {
		t.Errorf("without histograms: %q", r.Noise)
	}
}

func TestCompareInputs(t *testing.T) {
	a := runWith(t, true, 0, 1, 2, 3)
	b := runWith(t, true, 0, 1, 2, 3)
	b.Summary.Targets[0].Name = "other"
	if _, err := Compare(a, b, CompareOptions{}); err == nil || !strings.Contains(err.Error(), "no target name in common (base: app; current: other)") {
		t.Errorf("err = %v", err)
	}
	// Measured before, not now: a regression.
	none := runWith(t, true, 0)
	none.Summary.Targets[0].LatencyUS = nil
	if c, _ := Compare(a, none, CompareOptions{Metrics: []string{"latency.p50"}}); !c.Rows[0].Regressed {
		t.Errorf("latency gone: %+v", c.Rows[0])
	}
	for in, want := range map[string]float64{"10%": 0.1, "10": 0.1, "0": 0, "2.5%": 0.025} {
		if got, err := ParseRegression(in); err != nil || math.Abs(got-want) > 1e-12 {
			t.Errorf("ParseRegression(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "-5%", "ten", "5%%"} {
		if _, err := ParseRegression(in); err == nil {
			t.Errorf("ParseRegression(%q): no error", in)
		}
	}
	if m, err := ParseCompareMetric("latency.p99.9"); err != nil || m != "latency.p999" {
		t.Errorf("ParseCompareMetric: %q, %v", m, err)
	}
	if _, err := ParseCompareMetric("latency.p95"); err == nil || !strings.Contains(err.Error(), "valid:") {
		t.Errorf("unknown metric: %v", err)
	}
}
