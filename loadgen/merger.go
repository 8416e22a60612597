package loadgen

import (
	"fmt"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// HistogramPart is one part's histogram as the merger takes it: anything
// that can add its counts, by value, to a dense histogram with the shared
// bounds. A dense histogram is one through Dense; loadgen/procs passes the
// sparse hdrhistogram.PackedHistogram it decodes from the wire, so a
// generator process's interval costs what it recorded.
type HistogramPart interface {
	// MergeInto adds the part's counts to dst and returns how many values
	// fell outside dst's range.
	MergeInto(dst *hdrhistogram.Histogram) (dropped int64)
}

// Dense adapts a dense histogram to HistogramPart.
func Dense(h *hdrhistogram.Histogram) HistogramPart { return denseHist{h} }

type denseHist struct{ h *hdrhistogram.Histogram }

func (d denseHist) MergeInto(dst *hdrhistogram.Histogram) int64 { return dst.Merge(d.h) }

var (
	_ HistogramPart = denseHist{}
	_ HistogramPart = (*hdrhistogram.PackedHistogram)(nil)
)

// IntervalMerger is the one interval merge of sseload: it adds the parts
// of one interval (an engine worker's, a generator process's, a remote
// worker's) by value — histograms merged count by count, never percentiles
// averaged; counters summed; the harness's busy share and machine CPU the
// largest any part saw, its lag samples merged — and emits the merged
// IntervalReport to its sink. The engine's collector and the procs parent
// both feed it, so an interval means the same however the load was split.
//
// One interval is Begin, any number of Add* calls, Emit. An IntervalMerger
// is used by one goroutine; its histograms are reused, so the report Emit
// returns holds until the next Begin.
type IntervalMerger struct {
	sink   IntervalSink // nil: nobody listens
	hists  histSet      // [target][metric], the interval being merged
	lag    *hdrhistogram.Histogram
	all    *hdrhistogram.Histogram // latency of every target, for LiveP99
	report IntervalReport          // its Targets alias hists
	begun  bool
}

// NewIntervalMerger returns a merger for a run with these targets (in the
// run's order) that emits to sink (nil: Emit only returns the report).
func NewIntervalMerger(targets []string, sink IntervalSink) *IntervalMerger {
	m := &IntervalMerger{sink: sink, hists: newHistSet(len(targets)), lag: NewHistogram(), all: NewHistogram()}
	m.report.Targets = make([]TargetInterval, len(targets))
	for t, name := range targets {
		m.report.Targets[t].Name = name
	}
	return m
}

// Begin starts a new interval: the histograms are emptied, the counters
// and the span zeroed.
func (m *IntervalMerger) Begin() {
	m.hists.reset()
	m.lag.Reset()
	r := &m.report
	r.Start, r.End = time.Time{}, time.Time{}
	r.Generator = GeneratorInterval{Lag: m.lag}
	for t := range r.Targets {
		r.Targets[t].Interval = Interval{Hist: m.hists[t]}
	}
	m.begun = true
}

// AddSpan widens the interval to cover one part's [start, end): the merged
// interval runs from the earliest part's start to the latest one's end.
func (m *IntervalMerger) AddSpan(start, end time.Time) {
	r := &m.report
	if r.Start.IsZero() || start.Before(r.Start) {
		r.Start = start
	}
	if end.After(r.End) {
		r.End = end
	}
}

// Span is the interval's span so far.
func (m *IntervalMerger) Span() (start, end time.Time) { return m.report.Start, m.report.End }

// AddHist merges one part's histogram of metric for target t by value.
// A nil part adds nothing.
func (m *IntervalMerger) AddHist(t int, metric Metric, h HistogramPart) error {
	if h == nil {
		return nil
	}
	if dropped := h.MergeInto(m.hists[t][metric]); dropped > 0 {
		return fmt.Errorf("%s histogram: %d values outside %d µs to %d µs", metric, dropped, HistMinUS, HistMaxUS)
	}
	return nil
}

// AddTotals adds one part's counters for target t (its running totals at
// the interval's end: Established, Open, Failed, Reconnects,
// EventsReceived, the error counts). A part that finished earlier still
// adds its last totals, so a total never falls when a part stops sending.
func (m *IntervalMerger) AddTotals(t int, part *Interval) {
	m.report.Targets[t].AddTotals(part)
}

// AddGenerator adds one part's view of itself: the largest busy share and
// machine CPU win; lag samples (nil: none) are merged by value.
func (m *IntervalMerger) AddGenerator(busy, machineCPU float64, lag HistogramPart) error {
	g := &m.report.Generator
	g.BusyMax = max(g.BusyMax, busy)
	g.MachineCPU = max(g.MachineCPU, machineCPU)
	if lag == nil {
		return nil
	}
	if dropped := lag.MergeInto(m.lag); dropped > 0 {
		return fmt.Errorf("lag histogram: %d values outside %d µs to %d µs", dropped, HistMinUS, HistMaxUS)
	}
	return nil
}

// Emit finishes the interval: it passes the merged report to the sink and
// returns it, with the latency p99 over every target (0 when the interval
// timed no event) for progress displays. The report's histograms and maps
// are the merger's until the next Begin.
func (m *IntervalMerger) Emit() (r IntervalReport, latencyP99US int64) {
	if !m.begun {
		m.Begin()
	}
	m.begun = false
	m.all.Reset()
	for t := range m.report.Targets {
		iv := &m.report.Targets[t].Interval
		iv.Start, iv.End = m.report.Start, m.report.End
		m.all.Merge(iv.Hist[Latency])
	}
	if m.all.TotalCount() > 0 {
		latencyP99US = m.all.ValueAtQuantile(99)
	}
	if m.sink != nil {
		m.sink.Add(m.report)
	}
	return m.report, latencyP99US
}
