package render

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/sseload/sseload/reports"
)

// TestWriteCompare: the table, the noise notes and the verdict, from a
// comparison alone (reports.Compare's tests cover how it is reached).
func TestWriteCompare(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	c := reports.Comparison{
		MaxRegression: 0.1,
		Metrics:       []string{"latency.p99", "connections.failed"},
		Rows: []reports.CompareRow{
			{Target: "app", Metric: "latency.p99", Base: f(1000), Current: f(2000), Change: 1, Regressed: true},
			{Target: "app", Metric: "connections.failed", Base: f(0), Current: f(0)},
			{Target: "edge", Metric: "latency.p99", Base: f(1000), Current: f(1300), Change: 0.3, Regressed: true, Noise: "p99 of 40 samples rests on 0.4 of them"},
			{Target: "edge", Metric: "connections.failed", Base: f(0), Current: nil, Change: math.NaN(), Regressed: true},
		},
		OnlyBase: []string{"old"},
		Notes:    []string{"the current run was interrupted: it covers a shorter run"},
	}
	var buf bytes.Buffer
	if err := WriteCompare(&buf, c, "base", "cur"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"compare base (base) → cur (current) · allowance 10% for the worse on latency.p99, connections.failed\n",
		"app     latency.p99", "1.00ms", "2.00ms", "+100.0%  REGRESSED\n",
		"+30.0%  REGRESSED (within noise)\n",
		"not measured", "—",
		"only in base, not compared: old\n",
		"noise:\n  edge latency.p99: p99 of 40 samples rests on 0.4 of them\n",
		"note: the current run was interrupted",
		"REGRESSION: 3 of 4 figures worse by more than the 10% allowance\n",
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, buf.String())
		}
	}
	buf.Reset()
	c.Rows = c.Rows[1:2]
	if err := WriteCompare(&buf, c, "a", "b"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "no regression beyond 10% (1 figures compared)") {
		t.Errorf("output:\n%s", buf.String())
	}
}
