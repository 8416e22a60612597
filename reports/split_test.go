package reports

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sseload/sseload/loadgen"
)

// splitSummary is a steady run on a small machine: direct's latency is
// mostly the origin's fan-out, nginx-stock's mostly its path (buffering),
// and an external target was not split.
func splitSummary() Summary {
	s := Summary{
		SchemaVersion: SchemaVersion, Scenario: "steady", Topology: "local", DurationS: 25.3,
		Config: RunConfig{Mode: "broadcast", IntervalMS: 1000, Connections: 1000},
		Targets: []Target{
			{
				Name: "direct", Connections: Connections{Requested: 1000, Established: 1000}, Events: Events{Received: 20_000, Timed: 20_000},
				TimeToHeadersUS:    &Hist{Count: 1000, P50: 1_100},
				TimeToFirstEventUS: &Hist{Count: 1000, P50: 600_000},
				LatencyUS:          &Hist{Count: 20_000, P50: 21_000, P90: 48_000, P99: 67_000, P999: 80_000, Max: 91_000},
				OriginDelayUS:      &Hist{Count: 20_000, P50: 18_000, P99: 52_000},
				PathLatencyUS:      &Hist{Count: 20_000, P50: 2_100, P99: 15_000},
				Errors:             map[string]int64{},
			},
			{
				Name: "nginx-stock", ProxyKind: "nginx", Connections: Connections{Requested: 1000, Established: 1000}, Events: Events{Received: 20_000, Timed: 20_000},
				TimeToHeadersUS:    &Hist{Count: 1000, P50: 1_200},
				TimeToFirstEventUS: &Hist{Count: 1000, P50: 600_000},
				LatencyUS:          &Hist{Count: 20_000, P50: 1_000_000, P90: 2_000_000, P99: 2_500_000, P999: 2_500_000, Max: 2_500_000},
				OriginDelayUS:      &Hist{Count: 20_000, P50: 18_000, P99: 53_000},
				PathLatencyUS:      &Hist{Count: 20_000, P50: 990_000, P99: 2_480_000},
				Errors:             map[string]int64{},
			},
			{
				Name: "app", Connections: Connections{Requested: 1000, Established: 1000}, Events: Events{Received: 20_000, Timed: 20_000},
				TimeToHeadersUS:    &Hist{Count: 1000, P50: 900},
				TimeToFirstEventUS: &Hist{Count: 1000, P50: 500_000},
				LatencyUS:          &Hist{Count: 20_000, P50: 3_000, P90: 5_000, P99: 9_000, P999: 9_500, Max: 9_900},
				Errors:             map[string]int64{},
			},
		},
		Harness: Harness{LagP99US: 800, BusyMax: 0.3, Reliable: true},
	}
	s.Harness.LatencySplit = SplitVerdicts(s.Targets)
	return s
}

func TestSplitVerdictsSayWhichPartDominates(t *testing.T) {
	split := func(lat, origin, path int64) Target {
		return Target{Name: "t", LatencyUS: &Hist{P99: lat}, OriginDelayUS: &Hist{P99: origin}, PathLatencyUS: &Hist{P99: path}}
	}
	for _, tc := range []struct {
		name string
		t    Target
		want string
	}{
		{"equal", split(10_000, 5_000, 5_000), SplitOrigin},
		{"origin is most", split(67_000, 52_000, 15_000), SplitOrigin},
		{"origin just under the path", split(10_000, 4_999, 5_000), SplitPath},
		{"path is most", split(2_500_000, 1_100, 2_480_000), SplitPath},
		// Both tails above half the latency's (percentiles do not add):
		// the larger one dominates.
		{"both large, path larger", split(3_530, 2_450, 3_440), SplitPath},
	} {
		vs := SplitVerdicts([]Target{tc.t})
		if len(vs) != 1 || vs[0].Dominant != tc.want {
			t.Errorf("%s: verdicts %+v, want one saying %s", tc.name, vs, tc.want)
		}
	}
	if vs := SplitVerdicts([]Target{{Name: "t", LatencyUS: &Hist{P99: 1}}}); vs != nil {
		t.Errorf("a target without a split: verdicts %+v, want none", vs)
	}
}

func TestWriteTextSplit(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteText(&buf, splitSummary()); err != nil {
		t.Fatal(err)
	}
	goldenCompare(t, "TestWriteText_split", buf.Bytes())
	out := buf.String()
	for _, want := range []string{
		"origin delay p50",
		"path latency p50",
		"latency split: direct: the origin dominates: of latency p99 67.0ms, 52.0ms is the origin's fan-out on this machine (path latency p99 15.0ms); compare targets by path latency\n",
		"latency split: nginx-stock: the path dominates: latency p99 2.50s, path latency p99 2.48s, origin delay p99 53.0ms\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "latency split: app") {
		t.Errorf("the unsplit target has a split verdict:\n%s", out)
	}
	// Both tables fit 120 columns.
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "latency split:") || strings.HasPrefix(l, "harness:") {
			continue
		}
		if n := utf8.RuneCountInString(l); n > 120 {
			t.Errorf("line is %d columns: %q", n, l)
		}
	}

	// Without a split the table and the line are absent.
	buf.Reset()
	if err := WriteText(&buf, textSummary()); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "origin delay") || strings.Contains(buf.String(), "latency split") {
		t.Errorf("a run without a split shows one:\n%s", buf.String())
	}
}

func TestMarkdownAndHTMLShowTheSplit(t *testing.T) {
	s := splitSummary()
	var md bytes.Buffer
	if err := WriteMarkdown(&md, s); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| target | latency p50 | p99 | origin delay p50 | p99 | path latency p50 | p99 |",
		"| direct | 21.0ms | 67.0ms | 18.0ms | 52.0ms | 2.10ms | 15.0ms |",
		"| app | 3.00ms | 9.00ms | — | — | — | — |",
		"- direct: the origin dominates: of latency p99 67.0ms, 52.0ms is the origin's fan-out on this machine",
	} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("report.md lacks %q:\n%s", want, md.String())
		}
	}
	var h strings.Builder
	if err := WriteHTML(&h, &RunData{Summary: s}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"<th>origin delay p50</th>",
		"<tr><td>direct</td><td>21.0ms</td><td>67.0ms</td><td>18.0ms</td><td>52.0ms</td><td>2.10ms</td><td>15.0ms</td></tr>",
		"<p>direct: the origin dominates: of latency p99 67.0ms, 52.0ms is the origin&#39;s fan-out on this machine",
	} {
		if !strings.Contains(h.String(), want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
}

// TestSummarizeSplit: the split histograms become origin_delay_us and
// path_latency_us, and the harness says which part dominates; a run
// without them has neither key, not even null.
func TestSummarizeSplit(t *testing.T) {
	res := testResult(t)
	direct := res.Targets[0]
	direct.Hist[loadgen.OriginDelay] = histOf(t, seq(1, 600)...)
	direct.Hist[loadgen.PathLatency] = histOf(t, seq(1, 400)...)
	s := Summarize(res, testMeta())
	d := s.Targets[0]
	if d.OriginDelayUS == nil || d.OriginDelayUS.Count != 600 || d.PathLatencyUS == nil || d.PathLatencyUS.P99 != 396 {
		t.Fatalf("origin delay %+v, path latency %+v", d.OriginDelayUS, d.PathLatencyUS)
	}
	if d.Hist(loadgen.OriginDelay) != d.OriginDelayUS || d.Hist(loadgen.PathLatency) != d.PathLatencyUS {
		t.Error("Target.Hist does not return the split")
	}
	want := []LatencySplit{{Target: "direct", LatencyP99US: 990, OriginDelayP99US: 594, PathLatencyP99US: 396, Dominant: SplitOrigin}}
	if !slices.Equal(s.Harness.LatencySplit, want) {
		t.Errorf("latency split %+v, want %+v", s.Harness.LatencySplit, want)
	}
	js, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Targets []map[string]json.RawMessage `json:"targets"`
		Harness map[string]json.RawMessage   `json:"harness"`
	}
	if err := json.Unmarshal(js, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"origin_delay_us", "path_latency_us"} {
		if _, ok := raw.Targets[0][k]; !ok {
			t.Errorf("direct lacks %s", k)
		}
		if _, ok := raw.Targets[1][k]; ok {
			t.Errorf("nginx-stock, not split, has %s: %s", k, raw.Targets[1][k])
		}
	}
	if _, ok := raw.Harness["latency_split"]; !ok {
		t.Error("harness lacks latency_split")
	}

	plain := Summarize(testResult(t), testMeta())
	js, err = json.Marshal(plain)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(js), "origin_delay_us") || strings.Contains(string(js), "latency_split") {
		t.Errorf("a run without a split mentions it: %s", js)
	}
}

func TestThresholdsAndCompareOnTheSplit(t *testing.T) {
	s := splitSummary()
	var ths []Threshold
	for _, e := range []string{"path_latency.p99 < 20ms", "origin_delay_us.p50 <= 18ms"} {
		th, err := ParseThreshold(e)
		if err != nil {
			t.Fatal(err)
		}
		ths = append(ths, th)
	}
	got := map[string]ThresholdResult{}
	for _, r := range EvaluateThresholds(s, ths) {
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
	run := func(path int64) *RunData {
		return &RunData{Summary: Summary{Harness: Harness{Reliable: true}, Targets: []Target{{
			Name: "app", LatencyUS: &Hist{Count: 1000, P50: 100, P99: 200}, TimeToHeadersUS: &Hist{Count: 10, P50: 1000},
			OriginDelayUS: &Hist{Count: 1000, P99: 50}, PathLatencyUS: &Hist{Count: 1000, P99: path},
		}}}}
	}
	c, err := Compare(run(150), run(300), CompareOptions{MaxRegression: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(c.Rows, func(r CompareRow) bool { return r.Metric == "path_latency.p99" })
	if i < 0 || !c.Rows[i].Regressed {
		t.Errorf("rows %+v: want path_latency.p99 regressed", c.Rows)
	}
	unsplit := run(150)
	unsplit.Summary.Targets[0].OriginDelayUS, unsplit.Summary.Targets[0].PathLatencyUS = nil, nil
	c, err = Compare(unsplit, run(300), CompareOptions{MaxRegression: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(c.Rows, func(r CompareRow) bool { return r.Metric == "path_latency.p99" }) {
		t.Errorf("base without a split: rows %+v compare path latency", c.Rows)
	}
	if m, err := ParseCompareMetric("origin_delay.p99"); err != nil || m != "origin_delay.p99" {
		t.Errorf("ParseCompareMetric(origin_delay.p99) = %q, %v", m, err)
	}
}
