package loadgen

import (
	"sync/atomic"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// histSet is one histogram per metric for each target: [target][metric].
type histSet [][numMetrics]*hdrhistogram.Histogram

func newHistSet(targets int) histSet {
	s := make(histSet, targets)
	for t := range s {
		for m := range s[t] {
			s[t][m] = NewHistogram()
		}
	}
	return s
}

func (s histSet) reset() {
	for t := range s {
		for m := range s[t] {
			s[t][m].Reset()
		}
	}
}

// record adds one value in microseconds, clamped into the histogram's range
// so RecordValue can never fail (an out-of-range value would allocate an
// error on the hot path).
func (s histSet) record(target int, m Metric, us int64) {
	if us < HistMinUS {
		us = HistMinUS
	} else if us > HistMaxUS {
		us = HistMaxUS
	}
	_ = s[target][m].RecordValue(us)
}

// counters are one worker's running totals for one target. They are atomics
// only so that the progress display can read them while the worker writes;
// each is written by exactly one worker, so the adds are uncontended.
type counters struct {
	opened      atomic.Int64
	established atomic.Int64
	// open counts the streams whose response is open now: +1 at each 200
	// text/event-stream head (a reconnection's too), -1 when that
	// connection closes (conn.closed).
	open       atomic.Int64
	failed     atomic.Int64
	ended      atomic.Int64 // responses that ended cleanly (per-connection streams)
	reconnects atomic.Int64 // connections opened again for a stream that dropped
	gone       atomic.Int64 // streams that ended for good (no reconnect follows)
	events     atomic.Int64
	timed      atomic.Int64
	skewed     atomic.Int64
	seq        seqCounters // delivery accounting (accounting.go)
}

// tickMsg carries one worker's histograms for one interval to the collector.
// The collector merges them and hands the set back through the worker's
// spare channel, so steady state allocates no histograms.
type tickMsg struct {
	start, end time.Time
	hists      histSet
	busy       float64 // share of the interval the worker spent working
	final      bool
	// errors and errValues are copies of the worker's running error
	// counts per target at the tick (nil entries when none).
	errors    []map[string]int64
	errValues []ErrorValues
}
