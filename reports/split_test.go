package reports

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/sseload/sseload/loadgen"
	"github.com/sseload/sseload/reports/internal/testrun"
)

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

// TestSummarizeSplit: the split histograms become origin_delay_us and
// path_latency_us, and the harness says which part dominates; a run
// without them has neither key, not even null.
func TestSummarizeSplit(t *testing.T) {
	res := testrun.Result(t)
	direct := res.Targets[0]
	direct.Hist[loadgen.OriginDelay] = testrun.Hist(t, testrun.Seq(1, 600)...)
	direct.Hist[loadgen.PathLatency] = testrun.Hist(t, testrun.Seq(1, 400)...)
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

	plain := Summarize(testrun.Result(t), testMeta())
	js, err = json.Marshal(plain)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(js), "origin_delay_us") || strings.Contains(string(js), "latency_split") {
		t.Errorf("a run without a split mentions it: %s", js)
	}
}
