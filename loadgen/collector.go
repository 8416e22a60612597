package loadgen

import (
	"context"
	"fmt"
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// collector feeds the workers' interval histograms and counters to the
// run's IntervalMerger (merger.go), the one interval merge that the procs
// parent also uses, and keeps the cumulative histograms of the result.
type collector struct {
	e       *Engine
	cum     histSet // cumulative, per target
	merge   *IntervalMerger
	busyMax float64
	cpu     cpuSampler
	cpuMax  float64 // the machine's busiest interval, 0..1
	lag     *lagMonitor
	lagIv   *hdrhistogram.Histogram // the interval's lag samples, reused
	// errs and errValues are each worker's latest error counts per
	// target (tickMsg), summed into every interval's running totals.
	errs      [][]map[string]int64
	errValues [][]ErrorValues
}

func newCollector(e *Engine, lag *lagMonitor) *collector {
	names := make([]string, len(e.targets))
	for t, tg := range e.targets {
		names[t] = tg.Name
	}
	var sink IntervalSink
	if e.cfg.OnInterval != nil {
		sink = IntervalSinkFunc(e.cfg.OnInterval)
	}
	c := &collector{e: e, cum: newHistSet(len(e.targets)), merge: NewIntervalMerger(names, sink), lag: lag, lagIv: NewHistogram()}
	c.errs = make([][]map[string]int64, len(e.workers))
	c.errValues = make([][]ErrorValues, len(e.workers))
	return c
}

// run merges interval k of every worker, for k = 0, 1, … Each worker sends
// its intervals in order without gaps and ends with one marked final. A
// worker that learned of the stop late may have sent one interval more than
// another, so a round takes a message only from workers not yet finished,
// and the run's merging ends when every worker has sent its final one.
func (c *collector) run() {
	c.cpu.sample()
	workers := c.e.workers
	finished := make([]bool, len(workers))
	left := len(workers)
	for left > 0 {
		c.merge.Begin()
		busy := 0.0
		for i, w := range workers {
			if finished[i] {
				continue
			}
			msg := <-w.ticks
			c.merge.AddSpan(msg.start, msg.end)
			if msg.final {
				finished[i] = true
				left--
			}
			busy = max(busy, msg.busy)
			if msg.errors != nil {
				c.errs[i], c.errValues[i] = msg.errors, msg.errValues
			}
			for t := range msg.hists {
				for m := range msg.hists[t] {
					// Recorded values are clamped into range: nothing drops.
					_ = c.merge.AddHist(t, Metric(m), Dense(msg.hists[t][m]))
				}
			}
			// Hand the set back for reuse; when the worker already has
			// spares (it allocated while the collector lagged, or it has
			// sent its final interval and exited), let the GC have it.
			// Blocking here would deadlock against a finished worker.
			msg.hists.reset()
			select {
			case w.spare <- msg.hists:
			default:
			}
		}
		final := left == 0
		c.busyMax = max(c.busyMax, busy)
		start, end := c.merge.Span()
		share, cpuOK := c.cpu.sample()
		// A final interval shorter than a tenth of a second says little
		// about how busy the machine was.
		if cpuOK && (!final || end.Sub(start) >= c.e.cfg.Interval/10) && share > c.cpuMax {
			c.cpuMax = share
		}
		if !cpuOK {
			share = 0 // unknown
		}
		c.addTotals()
		c.lagIv.Reset()
		c.lag.take(c.lagIv)
		_ = c.merge.AddGenerator(busy, share, Dense(c.lagIv))
		r, p99 := c.merge.Emit()
		for t := range r.Targets {
			for m, h := range r.Targets[t].Hist {
				c.cum[t][m].Merge(h)
			}
		}
		if p99 > 0 {
			c.e.liveP99.Store(p99)
		}
		if final {
			return
		}
	}
}

// addTotals adds every worker's counters for every target, as they are
// now, to the interval being merged.
func (c *collector) addTotals() {
	for t := range c.e.targets {
		for i, w := range c.e.workers {
			st := &w.stats[t]
			part := Interval{
				Established:    st.established.Load(),
				Open:           st.open.Load(),
				Failed:         st.failed.Load(),
				Reconnects:     st.reconnects.Load(),
				EventsReceived: st.events.Load(),
			}
			if c.errs[i] != nil {
				part.Errors, part.ErrorValues = c.errs[i][t], c.errValues[i][t]
			}
			c.merge.AddTotals(t, &part)
		}
	}
}

func (c *collector) result(t int) *TargetResult {
	return &TargetResult{Hist: c.cum[t], Errors: map[string]int64{}, ErrorValues: ErrorValues{}}
}

// lagMonitor measures the generator's own scheduling lag: how late a 10 ms
// timer fires. Go timers fire late when every P is busy, so a high lag means
// the engine's goroutines (and its receipt timestamps) waited for CPU.
type lagMonitor struct {
	hist *hdrhistogram.Histogram // the whole run; read once run has returned
	mu   sync.Mutex
	iv   *hdrhistogram.Histogram // since the last take
}

const lagPeriod = 10 * time.Millisecond

func newLagMonitor() *lagMonitor { return &lagMonitor{hist: NewHistogram(), iv: NewHistogram()} }

// take moves the samples since the last take into dst (an interval's).
func (l *lagMonitor) take(dst *hdrhistogram.Histogram) {
	l.mu.Lock()
	dst.Merge(l.iv)
	l.iv.Reset()
	l.mu.Unlock()
}

func (l *lagMonitor) run(ctx context.Context) {
	t := time.NewTimer(lagPeriod)
	defer t.Stop()
	want := time.Now().Add(lagPeriod)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			// Measured when this goroutine runs, not when the timer fired:
			// the wait for a P is exactly the lag of interest.
			lag := time.Since(want).Microseconds()
			if lag < HistMinUS {
				lag = HistMinUS
			}
			if lag > HistMaxUS {
				lag = HistMaxUS
			}
			_ = l.hist.RecordValue(lag)
			l.mu.Lock()
			_ = l.iv.RecordValue(lag)
			l.mu.Unlock()
			want = time.Now().Add(lagPeriod)
			t.Reset(lagPeriod)
		}
	}
}

// Limits beyond which the generator's own numbers are not to be trusted.
const (
	maxLagP99US = 10_000 // 10 ms of scheduling lag at p99
	maxBusy     = 0.90   // a worker busy 90 % of an interval cannot keep up
	// maxMachineCPU: a machine with less than 5 % idle CPU in a second
	// queues every process on it, the generator included.
	maxMachineCPU = 0.95
)

// verdict decides whether the run's numbers can be trusted, and says why not.
func verdict(lag *hdrhistogram.Histogram, busyMax, cpuMax float64, targets []*TargetResult) Harness {
	h := Harness{
		LagP99US:      lag.ValueAtQuantile(99),
		LagMaxUS:      lag.Max(),
		BusyMax:       busyMax,
		MachineCPUMax: cpuMax,
		Reliable:      true,
	}
	if h.LagP99US > maxLagP99US {
		h.AddNote(HarnessNote{Kind: NoteLag, Value: float64(h.LagP99US), Text: fmt.Sprintf(
			"the generator's scheduling lag p99 was %.1f ms (limit %d ms): it was short of CPU, and its receipt times include that wait",
			float64(h.LagP99US)/1000, maxLagP99US/1000)})
	}
	if busyMax > maxBusy {
		h.AddNote(HarnessNote{Kind: NoteBusy, Value: busyMax, Text: fmt.Sprintf(
			"an engine worker was busy %.0f%% of an interval (limit %.0f%%): the generator was saturated, add --procs or cores",
			busyMax*100, maxBusy*100)})
	}
	if cpuMax > maxMachineCPU {
		h.AddNote(HarnessNote{Kind: NoteMachineCPU, Value: cpuMax, Text: fmt.Sprintf(
			"the machine was %.0f%% busy in its busiest second (limit %.0f%%): the origin, the proxies and the generator queued for CPU, so latencies include that wait and describe the machine more than the proxy",
			cpuMax*100, maxMachineCPU*100)})
	}
	for _, t := range targets {
		if t.ClockSkewed > 0 {
			h.AddNote(HarnessNote{Kind: NoteClockSkew, Target: t.Name, Value: float64(t.ClockSkewed), Text: fmt.Sprintf(
				"%s: %d events arrived before their publish time (or the origin's write time): the origin's clock and this machine's are not synchronised, so latencies are off by the difference",
				t.Name, t.ClockSkewed)})
		}
	}
	return h
}
