// Package metrics serves a run's figures to Prometheus while the run goes
// on (`sseload run --metrics-addr ADDR`). An Exporter is a
// loadgen.IntervalSink: it is fed the same merged intervals that the .hlog
// files and timeline.csv are written from, turns each interval's
// HdrHistograms into cumulative Prometheus histograms (native buckets, with
// classic ones as a fallback) and the targets' running totals into
// counters and gauges, and serves them at /metrics. docs/metrics.md lists
// every metric; docs/grafana-sseload.json is a dashboard over them.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sseload/sseload/loadgen"
)

// maxLinger bounds how long Close waits for a last scrape: Prometheus'
// default scrape interval is a minute.
const maxLinger = time.Minute

// Exporter serves the figures of the intervals it is fed at
// http://ADDR/metrics. Create it with Listen before the run, feed it as a
// loadgen.IntervalSink, and Close it after the run: Close waits until a
// scrape has read the final figures, so the end of a run is never lost
// between two scrapes.
type Exporter struct {
	ln      net.Listener
	srv     *http.Server
	handler http.Handler
	served  chan struct{} // a scrape completed; capacity 1
	closed  sync.Once

	mu        sync.Mutex
	targets   []*targetState // in the order they first appeared
	byName    map[string]*targetState
	lag       hist
	gen       loadgen.GeneratorInterval // the latest interval's (Lag not kept)
	intervals uint64                    // intervals added
	scratch   *hdrhistogram.PackedHistogram
	created   time.Time

	scrapes    int
	lastScrape time.Time
	period     time.Duration // between the last two scrapes; 0 before two
	scrapedAll uint64        // the most intervals a completed scrape has seen
}

// targetState is one target's figures.
type targetState struct {
	name  string
	hists [len(loadgen.Metrics)]hist
	// last is the target's counters at the latest interval of the current
	// run; base sums those of earlier runs (NextRun), so that counters
	// never go back when one exporter serves several runs.
	last, base loadgen.Interval
}

var (
	_ loadgen.IntervalSink = (*Exporter)(nil)
	_ prometheus.Collector = (*collector)(nil)
)

// Listen starts serving on addr (host:port; port 0 picks a free one).
func Listen(addr string) (*Exporter, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	e := &Exporter{
		ln:      ln,
		served:  make(chan struct{}, 1),
		byName:  map[string]*targetState{},
		scratch: hdrhistogram.NewPacked(loadgen.HistMinUS, loadgen.HistMaxUS, loadgen.HistDigits),
		created: time.Now(),
	}
	reg := prometheus.NewRegistry()
	if err := reg.Register(&collector{e}); err != nil {
		ln.Close()
		return nil, err
	}
	e.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	mux := http.NewServeMux()
	mux.Handle("/metrics", http.HandlerFunc(e.scrape))
	e.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = e.srv.Serve(ln) }()
	return e, nil
}

// Addr is the address the exporter listens on.
func (e *Exporter) Addr() string { return e.ln.Addr().String() }

// URL is the address Prometheus scrapes.
func (e *Exporter) URL() string { return "http://" + e.Addr() + "/metrics" }

// Add takes one merged interval: each target's histograms are added to its
// cumulative ones and its running totals replace the previous interval's.
func (e *Exporter) Add(r loadgen.IntervalReport) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := range r.Targets {
		t := &r.Targets[i]
		ts := e.byName[t.Name]
		if ts == nil {
			ts = &targetState{name: t.Name}
			e.byName[t.Name] = ts
			e.targets = append(e.targets, ts)
		}
		for m, h := range t.Hist {
			ts.hists[m].add(h, e.scratch)
		}
		// The report's maps are the engine's: AddTotals copies them.
		ts.last = loadgen.Interval{}
		ts.last.AddTotals(&t.Interval)
	}
	e.lag.add(r.Generator.Lag, e.scratch)
	e.gen = loadgen.GeneratorInterval{BusyMax: r.Generator.BusyMax, MachineCPU: r.Generator.MachineCPU}
	e.intervals++
}

// NextRun says the intervals that follow belong to a new run (a capacity
// search's next step): its running totals count on from what the earlier
// runs reached, and its histograms add to theirs, so every counter keeps
// rising and rate() sees no reset.
func (e *Exporter) NextRun() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ts := range e.targets {
		ts.base.AddTotals(&ts.last)
		ts.base.Open = 0 // a gauge: the new run's alone
		ts.last = loadgen.Interval{}
	}
}

// scrape serves one scrape and notes which intervals it carried.
func (e *Exporter) scrape(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	seen := e.intervals
	now := time.Now()
	if e.scrapes > 0 {
		e.period = now.Sub(e.lastScrape)
	}
	e.scrapes++
	e.lastScrape = now
	e.mu.Unlock()

	e.handler.ServeHTTP(w, r)

	e.mu.Lock()
	e.scrapedAll = max(e.scrapedAll, seen)
	e.mu.Unlock()
	select {
	case e.served <- struct{}{}:
	default:
	}
}

// ErrNotScraped is returned by Close when nothing scraped the final
// figures before it stopped serving.
var ErrNotScraped = errors.New("not scraped")

// Close stops serving once a scrape has read every interval added, and
// returns nil then. It waits at most twice the time between the last two
// scrapes (at least a second), or a minute when there were fewer than two,
// and not at all when nothing scraped during the run or ctx is done; it
// then returns an error wrapping ErrNotScraped that says so. Close is
// idempotent; after the first call it returns nil at once.
func (e *Exporter) Close(ctx context.Context) error {
	err := e.awaitFinalScrape(ctx)
	e.closed.Do(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if serr := e.srv.Shutdown(sctx); serr != nil && err == nil {
			err = fmt.Errorf("metrics: stop serving %s: %w", e.Addr(), serr)
		}
	})
	return err
}

// Linger is how long Close would wait now for a last scrape: twice the
// time between the last two scrapes (at least a second, at most a minute),
// a minute after a single scrape, and nothing before any scrape or once
// every interval has been scraped.
func (e *Exporter) Linger() time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.lingerLocked()
}

func (e *Exporter) lingerLocked() time.Duration {
	switch {
	case e.scrapes == 0 || e.scrapedAll >= e.intervals:
		return 0
	case e.period == 0:
		return maxLinger
	}
	return min(max(2*e.period, time.Second), maxLinger)
}

func (e *Exporter) awaitFinalScrape(ctx context.Context) error {
	e.mu.Lock()
	final, scrapes, wait := e.intervals, e.scrapes, e.lingerLocked()
	e.mu.Unlock()
	switch {
	case final == 0:
		return nil
	case scrapes == 0:
		return fmt.Errorf("metrics: nothing scraped %s during the run: %w", e.URL(), ErrNotScraped)
	}
	if wait == 0 {
		return nil
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		e.mu.Lock()
		done := e.scrapedAll >= final
		e.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-e.served:
		case <-timer.C:
			return fmt.Errorf("metrics: the run's last figures were %w within %s of its end (%s)", ErrNotScraped, wait, e.URL())
		case <-ctx.Done():
			return nil // interrupted: no one wants to wait
		}
	}
}

// collector is the Exporter as a prometheus.Collector: every scrape builds
// constant metrics from the current figures, under the exporter's lock.
type collector struct{ e *Exporter }

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range descHist {
		ch <- d
	}
	for _, d := range []*prometheus.Desc{descOpen, descEstablished, descFailed, descReconnects, descEvents, descErrors, descLag, descBusy, descMachineCPU} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	e := c.e
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.intervals == 0 {
		return
	}
	for _, ts := range e.targets {
		for _, m := range loadgen.Metrics {
			if hm, err := ts.hists[m].metric(descHist[m], e.created, ts.name); err != nil {
				ch <- prometheus.NewInvalidMetric(descHist[m], err)
			} else {
				ch <- hm
			}
		}
		var tot loadgen.Interval
		tot.AddTotals(&ts.base)
		tot.AddTotals(&ts.last)
		ch <- prometheus.MustNewConstMetric(descOpen, prometheus.GaugeValue, float64(ts.last.Open), ts.name)
		ch <- prometheus.MustNewConstMetric(descEstablished, prometheus.CounterValue, float64(tot.Established), ts.name)
		ch <- prometheus.MustNewConstMetric(descFailed, prometheus.CounterValue, float64(tot.Failed), ts.name)
		ch <- prometheus.MustNewConstMetric(descReconnects, prometheus.CounterValue, float64(tot.Reconnects), ts.name)
		ch <- prometheus.MustNewConstMetric(descEvents, prometheus.CounterValue, float64(tot.EventsReceived), ts.name)
		for _, kind := range slices.Sorted(maps.Keys(tot.Errors)) {
			n := tot.Errors[kind]
			values := tot.ErrorValues[kind]
			for _, v := range slices.Sorted(maps.Keys(values)) {
				ch <- prometheus.MustNewConstMetric(descErrors, prometheus.CounterValue, float64(values[v]), ts.name, kind, v)
				n -= values[v]
			}
			// A kind without values, or the errors of a kind that carried
			// none: value "".
			if n > 0 || len(values) == 0 {
				ch <- prometheus.MustNewConstMetric(descErrors, prometheus.CounterValue, float64(n), ts.name, kind, "")
			}
		}
	}
	if lm, err := e.lag.metric(descLag, e.created); err != nil {
		ch <- prometheus.NewInvalidMetric(descLag, err)
	} else {
		ch <- lm
	}
	ch <- prometheus.MustNewConstMetric(descBusy, prometheus.GaugeValue, e.gen.BusyMax)
	ch <- prometheus.MustNewConstMetric(descMachineCPU, prometheus.GaugeValue, e.gen.MachineCPU)
}
