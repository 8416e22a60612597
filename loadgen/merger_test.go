package loadgen

import (
	"math/rand/v2"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// TestIntervalMergerByValue: parts merged by the merger have exactly the
// percentiles of one histogram fed every value, whether a part comes as a
// dense histogram (engine workers) or a packed one decoded from the wire
// (generator processes, remote workers); counters sum; busy and CPU are the
// largest; the span covers every part.
func TestIntervalMergerByValue(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var got IntervalReport
	m := NewIntervalMerger([]string{"a", "b"}, IntervalSinkFunc(func(r IntervalReport) { got = r }))
	whole := NewHistogram()
	base := time.Unix(1000, 0)
	m.Begin()
	for part := range 5 {
		h := NewHistogram()
		// Parts with different shapes: a percentile average would be off.
		for range 2000 + 1000*part {
			v := int64(rng.ExpFloat64()*float64(1000*(part+1))) + 1
			_ = h.RecordValue(v)
			_ = whole.RecordValue(v)
		}
		var p HistogramPart = Dense(h)
		if part%2 == 1 {
			enc, err := h.EncodeV2()
			if err != nil {
				t.Fatal(err)
			}
			if p, err = hdrhistogram.DecodePacked(enc); err != nil {
				t.Fatal(err)
			}
		}
		if err := m.AddHist(1, Latency, p); err != nil {
			t.Fatal(err)
		}
		m.AddSpan(base.Add(time.Duration(part)*time.Millisecond), base.Add(time.Second+time.Duration(part)*time.Millisecond))
		m.AddTotals(1, &Interval{Established: 10, EventsReceived: int64(part), Errors: map[string]int64{ErrRead: 1}})
		if err := m.AddGenerator(float64(part)/10, 0.5-float64(part)/20, nil); err != nil {
			t.Fatal(err)
		}
	}
	r, p99 := m.Emit()
	if got.End != r.End || got.Targets == nil {
		t.Fatal("the sink did not receive the emitted report")
	}
	merged := r.Targets[1].Hist[Latency]
	for _, q := range []float64{50, 90, 99, 99.9, 100} {
		if a, b := merged.ValueAtQuantile(q), whole.ValueAtQuantile(q); a != b {
			t.Errorf("p%v: merged %d, one histogram %d", q, a, b)
		}
	}
	if merged.TotalCount() != whole.TotalCount() || p99 != whole.ValueAtQuantile(99) {
		t.Errorf("count %d p99 %d, want %d and %d", merged.TotalCount(), p99, whole.TotalCount(), whole.ValueAtQuantile(99))
	}
	tb := r.Targets[1]
	if tb.Established != 50 || tb.EventsReceived != 10 || tb.Errors[ErrRead] != 5 || tb.Name != "b" {
		t.Errorf("totals %+v, want 50 established, 10 events, 5 read errors", tb.Interval)
	}
	if r.Targets[0].Hist[Latency].TotalCount() != 0 || r.Targets[0].Established != 0 {
		t.Error("target a got another target's part")
	}
	if r.Generator.BusyMax != 0.4 || r.Generator.MachineCPU != 0.5 {
		t.Errorf("generator %+v, want busy 0.4 (largest), cpu 0.5 (largest)", r.Generator)
	}
	if !r.Start.Equal(base) || !r.End.Equal(base.Add(time.Second+4*time.Millisecond)) || !tb.Start.Equal(r.Start) {
		t.Errorf("span %v–%v", r.Start, r.End)
	}
	// The next interval starts empty.
	m.Begin()
	if r2, _ := m.Emit(); r2.Targets[1].Hist[Latency].TotalCount() != 0 || r2.Targets[1].Established != 0 {
		t.Error("Begin did not empty the merger")
	}
}
