package loadgen

import (
	"maps"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// IntervalReport is one reporting interval of a run (Config.Interval, 1 s
// by default), merged by value over every engine worker, and by
// loadgen/procs over every generator process or remote worker. Both merges
// are one IntervalMerger (merger.go), fed by the engine's collector and by
// the procs parent; it produces this value. Config.OnInterval receives
// it, and every IntervalSink is fed from it: the .hlog files,
// timeline.csv, the live Prometheus metrics. No sink reads another's
// output.
//
// The histograms and maps belong to the engine and are reused after the
// call returns: a sink copies what it keeps.
type IntervalReport struct {
	Start, End time.Time
	// Targets holds every target's interval, in the run's target order.
	Targets []TargetInterval
	// Generator is the self-check's view of the interval.
	Generator GeneratorInterval
}

// TargetInterval is one target's part of an interval.
type TargetInterval struct {
	Name string
	Interval
}

// GeneratorInterval is what the generator measured of itself during one
// interval; Harness holds the same over the whole run.
type GeneratorInterval struct {
	// Lag holds the scheduling lag samples of the interval, µs: how late
	// the self-check's 10 ms timer fired (lagMonitor). Several generator
	// processes' samples are merged by value. Never nil in a report.
	Lag *hdrhistogram.Histogram
	// BusyMax is the largest share (0..1) of the interval that any engine
	// worker spent working rather than waiting for sockets.
	BusyMax float64
	// MachineCPU is the whole machine's busy share (0..1) over the
	// interval, from /proc/stat (all processes); 0 when unknown. With
	// several generator processes, the largest any of them saw.
	MachineCPU float64
}

// IntervalSink consumes a run's intervals as they are merged: one method,
// like vegeta's Reporter or the AddMetricSamples of k6's output.Output.
// The .hlog writer (hlog.Set), the timeline (reports.Timeline) and
// the Prometheus exporter (metrics.Exporter) implement it. What a sink does
// before the first interval and after the last (create files and rename
// them into place, listen and serve a last scrape) is its own constructor's
// and its own methods', called by whoever made it.
type IntervalSink interface {
	// Add receives one interval. Intervals arrive in time order, one call
	// at a time, from the goroutine that merges them: a sink that blocks
	// holds up the merge. It must not keep the report's histograms or maps.
	Add(IntervalReport)
}

// IntervalSinkFunc adapts a function to IntervalSink.
type IntervalSinkFunc func(IntervalReport)

// Add calls f(r).
func (f IntervalSinkFunc) Add(r IntervalReport) { f(r) }

// IntervalSinks feeds every interval to each of its sinks, in order: the
// one merge, every sink. Its Add method is what Config.OnInterval is set to.
type IntervalSinks []IntervalSink

// Add passes r to every sink in turn.
func (s IntervalSinks) Add(r IntervalReport) {
	for _, k := range s {
		k.Add(r)
	}
}

var (
	_ IntervalSink = IntervalSinkFunc(nil)
	_ IntervalSink = IntervalSinks(nil)
)

// addErrors adds one worker's (or one process's) error counts to the
// interval's, allocating the maps on first use: an interval without errors
// carries nil maps.
func (iv *Interval) addErrors(errs map[string]int64, values ErrorValues) {
	if len(errs) > 0 {
		if iv.Errors == nil {
			iv.Errors = make(map[string]int64, len(errs))
		}
		for k, n := range errs {
			iv.Errors[k] += n
		}
	}
	if len(values) > 0 {
		if iv.ErrorValues == nil {
			iv.ErrorValues = ErrorValues{}
		}
		iv.ErrorValues.Merge(values)
	}
}

// AddTotals adds another part's running totals (a worker's, a generator
// process's) to iv: Established, Open, Failed, Reconnects, EventsReceived
// and the error counts. The histograms are merged separately.
func (iv *Interval) AddTotals(p *Interval) {
	iv.Established += p.Established
	iv.Open += p.Open
	iv.Failed += p.Failed
	iv.Reconnects += p.Reconnects
	iv.EventsReceived += p.EventsReceived
	iv.addErrors(p.Errors, p.ErrorValues)
}

// cloneErrors copies one worker's error counts for a tick message; nil when
// there are none, so a run without errors allocates nothing per tick.
func cloneErrors(errs map[string]int64, values ErrorValues) (map[string]int64, ErrorValues) {
	if len(errs) == 0 {
		return nil, nil
	}
	var vs ErrorValues
	if len(values) > 0 {
		vs = make(ErrorValues, len(values))
		for k, m := range values {
			vs[k] = maps.Clone(m)
		}
	}
	return maps.Clone(errs), vs
}
