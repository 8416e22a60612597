// Package testrun is a hand-built run for the tests of reports and
// reports/render: the engine's result and the interval reports it streamed,
// so that both packages' tests read and draw the same run.
package testrun

import (
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/sseload/sseload/loadgen"
)

// Hist returns a histogram with the shared bounds holding vals.
func Hist(t testing.TB, vals ...int64) *hdrhistogram.Histogram {
	t.Helper()
	h := loadgen.NewHistogram()
	for _, v := range vals {
		if err := h.RecordValue(v); err != nil {
			t.Fatalf("record %d: %v", v, err)
		}
	}
	return h
}

// Seq returns lo, lo+1, ..., hi.
func Seq(lo, hi int64) []int64 {
	out := make([]int64, 0, hi-lo+1)
	for v := lo; v <= hi; v++ {
		out = append(out, v)
	}
	return out
}

// Start is when the hand-built run started.
var Start = time.Date(2025, 1, 2, 3, 4, 5, 123_456_789, time.UTC)

// Result is a hand-built run: a healthy direct target whose latencies are
// 1..1000 µs, and a buffering proxy whose events carry no publish time.
func Result(t testing.TB) *loadgen.Result {
	t.Helper()
	direct := &loadgen.TargetResult{
		Name: "direct", URL: "http://127.0.0.1:8080/sse",
		Requested: 20, Established: 20,
		EventsReceived: 1000, EventsTimed: 1000,
		Errors: map[string]int64{},
		Head:   map[string]string{"status": "200", "content-type": "text/event-stream"},
	}
	direct.Hist[loadgen.Latency] = Hist(t, Seq(1, 1000)...)
	direct.Hist[loadgen.TimeToHeaders] = Hist(t, 1200, 1300, 1400)
	direct.Hist[loadgen.TimeToFirstEvent] = Hist(t, 5_000_000)
	stock := &loadgen.TargetResult{
		Name: "nginx-stock", URL: "http://127.0.0.1:8081/sse",
		Requested: 20, Established: 17, Failed: 3,
		EventsReceived: 120,
		Errors:         map[string]int64{loadgen.ErrReset: 3},
	}
	stock.Hist[loadgen.Latency] = loadgen.NewHistogram() // present but empty: no publish times
	stock.Hist[loadgen.TimeToHeaders] = Hist(t, 30_000_000)
	// TimeToFirstEvent left nil.
	return &loadgen.Result{
		Started: Start,
		Ended:   Start.Add(7200 * time.Millisecond),
		Targets: []*loadgen.TargetResult{direct, stock},
		Harness: loadgen.Harness{LagP99US: 300, LagMaxUS: 2500, BusyMax: 0.42, Reliable: true},
	}
}

// Reports are Result's interval reports, as the engine streams
// them to its sinks: three 1 s intervals, the direct target's with 50
// latency values each.
func Reports(t testing.TB) []loadgen.IntervalReport {
	t.Helper()
	var out []loadgen.IntervalReport
	for i := range 3 {
		iv := loadgen.Interval{
			Start:       Start.Add(time.Duration(i) * time.Second),
			End:         Start.Add(time.Duration(i+1) * time.Second),
			Established: 20,
		}
		iv.Hist[loadgen.Latency] = Hist(t, Seq(int64(i*100+1), int64(i*100+50))...)
		out = append(out, Report("direct", iv))
	}
	return out
}

// Report is one interval of one target as the engine reports it.
func Report(name string, iv loadgen.Interval) loadgen.IntervalReport {
	return loadgen.IntervalReport{Start: iv.Start, End: iv.End, Targets: []loadgen.TargetInterval{{Name: name, Interval: iv}}}
}
