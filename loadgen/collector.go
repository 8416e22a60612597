package loadgen

import (
	"context"
	"fmt"
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// collector merges the workers' interval histograms by value, and their
// counters, into one IntervalReport per interval: the engine's one
// interval merge, which feeds Config.OnInterval and the cumulative
// histograms of the result.
type collector struct {
	e       *Engine
	cum     histSet // cumulative, per target
	iv      histSet // the interval being merged, reused
	busyMax float64
	cpu     cpuSampler
	cpuMax  float64 // the machine's busiest interval, 0..1
	lag     *lagMonitor
	lagIv   *hdrhistogram.Histogram // the interval's lag samples, reused
	// errs and errValues are each worker's latest error counts per
	// target (tickMsg), summed into every interval's running totals.
	errs      [][]map[string]int64
	errValues [][]ErrorValues
	report    IntervalReport // reused; its Targets alias iv
}

func newCollector(e *Engine, lag *lagMonitor) *collector {
	c := &collector{e: e, cum: newHistSet(len(e.targets)), iv: newHistSet(len(e.targets)), lag: lag, lagIv: NewHistogram()}
	c.errs = make([][]map[string]int64, len(e.workers))
	c.errValues = make([][]ErrorValues, len(e.workers))
	c.report.Targets = make([]TargetInterval, len(e.targets))
	for t, tg := range e.targets {
		c.report.Targets[t].Name = tg.Name
	}
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
	all := NewHistogram() // latency of all targets, for the progress display
	finished := make([]bool, len(workers))
	left := len(workers)
	for left > 0 {
		c.iv.reset()
		var start, end time.Time
		busy := 0.0
		for i, w := range workers {
			if finished[i] {
				continue
			}
			msg := <-w.ticks
			if start.IsZero() || msg.start.Before(start) {
				start = msg.start
			}
			if msg.end.After(end) {
				end = msg.end
			}
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
					c.iv[t][m].Merge(msg.hists[t][m])
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
		all.Reset()
		for t := range c.e.targets {
			for m := range c.iv[t] {
				c.cum[t][m].Merge(c.iv[t][m])
			}
			all.Merge(c.iv[t][Latency])
		}
		if all.TotalCount() > 0 {
			c.e.liveP99.Store(all.ValueAtQuantile(99))
		}
		share, cpuOK := c.cpu.sample()
		// A final interval shorter than a tenth of a second says little
		// about how busy the machine was.
		if cpuOK && (!final || end.Sub(start) >= c.e.cfg.Interval/10) && share > c.cpuMax {
			c.cpuMax = share
		}
		if !cpuOK {
			share = 0 // unknown
		}
		if c.e.cfg.OnInterval != nil {
			c.e.cfg.OnInterval(c.interval(start, end, busy, share))
		}
		if final {
			return
		}
	}
}

// interval builds the report of the interval just merged: each target's
// histograms with its counters now, and the generator's own figures.
func (c *collector) interval(start, end time.Time, busy, cpu float64) IntervalReport {
	r := &c.report
	r.Start, r.End = start, end
	for t := range r.Targets {
		iv := Interval{Start: start, End: end, Hist: c.iv[t]}
		for i, w := range c.e.workers {
			st := &w.stats[t]
			iv.Established += st.established.Load()
			iv.Open += st.open.Load()
			iv.Failed += st.failed.Load()
			iv.Reconnects += st.reconnects.Load()
			iv.EventsReceived += st.events.Load()
			if c.errs[i] != nil {
				iv.addErrors(c.errs[i][t], c.errValues[i][t])
			}
		}
		r.Targets[t].Interval = iv
	}
	c.lagIv.Reset()
	c.lag.take(c.lagIv)
	r.Generator = GeneratorInterval{Lag: c.lagIv, BusyMax: busy, MachineCPU: cpu}
	return *r
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
