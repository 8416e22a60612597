package reports_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/sseload/sseload/reports"
	"github.com/sseload/sseload/reports/internal/testsummary"
)

func TestDeliveryThresholds(t *testing.T) {
	s := testsummary.Text()
	s.Targets[0].Events = reports.Events{Received: 120, Accounted: true, Sequenced: 120, Expected: 121, Lost: 1, Duplicated: 2, OutOfOrder: 3}
	ths, err := reports.ParseThresholds([]string{
		"direct:events.lost == 0",
		"direct:events.expected == 121",
		"direct:events.duplicated == 2",
		"direct:events.out_of_order == 3",
		"nginx-sse:events.lost == 0",
	})
	if err != nil {
		t.Fatal(err)
	}
	rs := reports.EvaluateThresholds(s, ths)
	want := []bool{false, true, true, true, false}
	if len(rs) != len(want) {
		t.Fatalf("%d results, want %d: %+v", len(rs), len(want), rs)
	}
	for i, r := range rs {
		if r.OK != want[i] {
			t.Errorf("%s on %s: ok %v (%s), want %v", r.Expression, r.Target, r.OK, r.Reason, want[i])
		}
	}
	if r := rs[4]; r.Measured != nil || !strings.Contains(r.Reason, "sequence") {
		t.Errorf("unaccounted target: measured %v reason %q, want not measured, naming the sequence field", r.Measured, r.Reason)
	}
}

func TestEvaluateThresholds(t *testing.T) {
	s := testsummary.Text() // direct healthy, nginx-stock buffering, nginx-sse without latency
	ths, err := reports.ParseThresholds([]string{
		"latency.p99 < 50ms",
		"nginx-stock:connections.failed == 0",
		"direct:time_to_headers.p50 <= 1.2ms",
		"nginx-sse:latency.count == 0",
		"gone:latency.p50 < 1s",
	})
	if err != nil {
		t.Fatal(err)
	}
	rs := reports.EvaluateThresholds(s, ths)
	type want struct {
		target   string
		ok       bool
		measured string
		reason   string
	}
	wants := []want{
		{"direct", true, "1.53ms", ""},
		{"nginx-stock", false, "29.9s", "measured 29.9s, not < 50ms"},
		{"nginx-sse", false, "not measured", "not measured: no latency samples"},
		{"nginx-stock", false, "4", "measured 4, not == 0"},
		{"direct", true, "1.20ms", ""},
		{"nginx-sse", true, "0", ""}, // a null histogram has no samples: count 0
		{"gone", false, "not measured", `no target "gone" in this run`},
	}
	if len(rs) != len(wants) {
		t.Fatalf("%d results, want %d: %+v", len(rs), len(wants), rs)
	}
	measuredText := func(r reports.ThresholdResult) string {
		if r.Measured == nil {
			return "not measured"
		}
		return reports.FormatFigure(r.Metric, *r.Measured)
	}
	for i, w := range wants {
		r := rs[i]
		if r.Target != w.target || r.OK != w.ok || measuredText(r) != w.measured || !strings.Contains(r.Reason, w.reason) || (w.ok && r.Reason != "") {
			t.Errorf("result %d = %+v (measured %s), want %+v", i, r, measuredText(r), w)
		}
	}
	if n := reports.ThresholdsFailed(rs); n != 4 {
		t.Errorf("ThresholdsFailed = %d, want 4", n)
	}
	if rs := reports.EvaluateThresholds(s, nil); rs == nil || len(rs) != 0 {
		t.Errorf("no thresholds: %#v, want an empty, non-nil slice", rs)
	}

}

func TestThresholdsAndCompareOnTheSplit(t *testing.T) {
	s := testsummary.Split()
	var ths []reports.Threshold
	for _, e := range []string{"path_latency.p99 < 20ms", "origin_delay_us.p50 <= 18ms"} {
		th, err := reports.ParseThreshold(e)
		if err != nil {
			t.Fatal(err)
		}
		ths = append(ths, th)
	}
	got := map[string]reports.ThresholdResult{}
	for _, r := range reports.EvaluateThresholds(s, ths) {
		got[r.Target+" "+r.Metric] = r
	}
	for key, ok := range map[string]bool{
		"direct path_latency.p99":      true,
		"nginx-stock path_latency.p99": false,
		"direct origin_delay.p50":      true,
		"nginx-stock origin_delay.p50": true,
		"app path_latency.p99":         false,
	} {
		if r, found := got[key]; !found || r.OK != ok {
			t.Errorf("%s: %+v, want ok %v", key, r, ok)
		}
	}
	if r := got["app path_latency.p99"]; r.Measured != nil || !strings.Contains(r.Reason, "no latency split") {
		t.Errorf("unsplit target: measured %v, reason %q; want not measured, saying why", r.Measured, r.Reason)
	}

	// compare checks path_latency.p99 by default when both runs split.
	run := func(path int64) *reports.RunData {
		return &reports.RunData{Summary: reports.Summary{Harness: reports.Harness{Reliable: true}, Targets: []reports.Target{{
			Name: "app", LatencyUS: &reports.Hist{Count: 1000, P50: 100, P99: 200}, TimeToHeadersUS: &reports.Hist{Count: 10, P50: 1000},
			OriginDelayUS: &reports.Hist{Count: 1000, P99: 50}, PathLatencyUS: &reports.Hist{Count: 1000, P99: path},
		}}}}
	}
	c, err := reports.Compare(run(150), run(300), reports.CompareOptions{MaxRegression: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(c.Rows, func(r reports.CompareRow) bool { return r.Metric == "path_latency.p99" })
	if i < 0 || !c.Rows[i].Regressed {
		t.Errorf("rows %+v: want path_latency.p99 regressed", c.Rows)
	}
	unsplit := run(150)
	unsplit.Summary.Targets[0].OriginDelayUS, unsplit.Summary.Targets[0].PathLatencyUS = nil, nil
	c, err = reports.Compare(unsplit, run(300), reports.CompareOptions{MaxRegression: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(c.Rows, func(r reports.CompareRow) bool { return r.Metric == "path_latency.p99" }) {
		t.Errorf("base without a split: rows %+v compare path latency", c.Rows)
	}
	if m, err := reports.ParseCompareMetric("origin_delay.p99"); err != nil || m != "origin_delay.p99" {
		t.Errorf("ParseCompareMetric(origin_delay.p99) = %q, %v", m, err)
	}
}
