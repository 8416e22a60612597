// Package loadgen is sseload's EventSource engine: it opens many concurrent
// SSE streams per target at a given ramp, holds them, and records how long
// each event took from its scheduled publish time to its receipt.
//
// Plain-HTTP streams are served by a few epoll workers (one per core). A
// stream costs one socket and a few hundred bytes of decoder state: no
// goroutine and no read buffer of its own. Each worker records into its own
// histograms, swapped out to a collector once per interval and merged there
// by value, so the hot path takes no lock.
package loadgen

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/sseload/sseload/loadgen/jsonfield"
	"github.com/sseload/sseload/loadgen/sse"
)

// Target is one endpoint to measure.
type Target struct {
	Name string
	URL  string
	// Connections, when not zero, replaces Config.Connections for this
	// target (a share of slow consumers beside the normal streams).
	Connections int `json:",omitempty"`
	// ReadBytesPerSec, when not zero, limits how fast each of the target's
	// streams reads: a slow consumer (a device on a poor link). Its socket
	// receive buffer is kept small so the backpressure reaches the server.
	ReadBytesPerSec int `json:",omitempty"`
}

// Config describes one run of the engine.
type Config struct {
	Targets []Target
	// Connections is the number of streams opened to each target.
	Connections int
	// Ramp is the number of connections opened per second, per target. All
	// targets ramp at the same time, so one publish is measured on every path.
	Ramp float64
	// Hold is how long every connection is held after the ramp ends. Zero
	// means until every stream has ended by itself (per-connection origins),
	// bounded by MaxDuration.
	Hold time.Duration
	// MaxDuration bounds the whole run (ramp + hold); zero means no bound.
	MaxDuration time.Duration
	// MaxEventBytes bounds one line or one event's data (default 1 MiB).
	MaxEventBytes int
	// TimestampField is the JSON path of the publish time in an event's data
	// ("sched" for sseload's origin). Events without it are counted but not
	// timed.
	TimestampField string
	TimestampUnit  jsonfield.Unit
	// SequenceField is the JSON path of the event's sequence number ("seq"
	// for sseload's origin). When set, every target gets delivery
	// accounting (TargetResult.Delivery); when empty, events are counted
	// only.
	SequenceField string
	// EventsPerStream is the number of events the origin schedules for each
	// stream (a per-connection origin); it is each stream's expected count.
	// Zero means a broadcast origin or an unknown one: expected is then
	// derived from the sequence numbers seen (accounting.go).
	EventsPerStream int
	// EndlessStreams says the origin never ends a stream (sseload's
	// broadcast origin): a response that ends cleanly was ended by
	// something in between — Caddy's read_timeout ends a quiet response
	// with its terminating chunk — so it counts as a drop for
	// QuietBeforeDrop like a cut one.
	EndlessStreams bool
	// ConnectTimeout bounds TCP connect (default 10 s).
	ConnectTimeout time.Duration
	// Workers is the number of epoll workers (default GOMAXPROCS).
	Workers int
	// Interval is the reporting interval (default 1 s).
	Interval time.Duration
	// SourceAddrs, when set, are the local addresses connections are bound
	// to, in turn (more addresses, more source ports). When empty, streams
	// to a loopback IPv4 target spread over 127.0.0.1, 127.0.0.2, … as
	// needed: one source address reaches only about 28,000 streams to one
	// server address:port (the ephemeral port range).
	SourceAddrs []netip.Addr
	// OnInterval receives each target's merged interval histograms, in time
	// order, from the collector goroutine. It must not retain them.
	OnInterval func(IntervalReport) `json:"-"`
	// TLSConfig configures https targets (nil: the system's roots).
	TLSConfig *tls.Config `json:"-"`
	// Warn receives rare messages about the generator itself (a machine
	// limit was reached), once per kind per worker. Nil discards them.
	Warn func(string) `json:"-"`
	// Reconnect is what a stream does after it ends or drops
	// (ReconnectNever, the default, ReconnectSpec or ReconnectPersistent).
	Reconnect ReconnectPolicy `json:",omitempty"`
	// Retry is the reconnection time until the server sets one with a
	// retry: field (EventSource's default is implementation-defined; 3 s
	// here, as in browsers).
	Retry time.Duration `json:",omitempty"`
}

// ReconnectPolicy says when a stream that ended or dropped is reopened.
type ReconnectPolicy string

const (
	// ReconnectNever: every stream is one connection; its end is final.
	ReconnectNever ReconnectPolicy = "never"
	// ReconnectSpec: as WHATWG EventSource. After a stream ends or its
	// connection fails, reconnect after the reconnection time with
	// Last-Event-ID; a response other than 200 text/event-stream (204
	// included) ends the stream for good.
	ReconnectSpec ReconnectPolicy = "spec"
	// ReconnectPersistent: as production clients that wrap EventSource:
	// also retry after HTTP errors and refused connections, with
	// full-jitter exponential backoff from the reconnection time, capped at
	// 30 s.
	ReconnectPersistent ReconnectPolicy = "persistent"
)

// ParseReconnectPolicy checks a --reconnect value.
func ParseReconnectPolicy(s string) (ReconnectPolicy, error) {
	switch p := ReconnectPolicy(s); p {
	case ReconnectNever, ReconnectSpec, ReconnectPersistent:
		return p, nil
	case "":
		return ReconnectNever, nil
	}
	return "", fmt.Errorf("reconnect policy %q: unknown (valid: never, spec, persistent)", s)
}

func (c *Config) setDefaults() {
	if c.MaxEventBytes <= 0 {
		c.MaxEventBytes = sse.DefaultMaxEventBytes
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = 10 * time.Second
	}
	if c.Workers <= 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	if c.Interval <= 0 {
		c.Interval = time.Second
	}
	if c.Reconnect == "" {
		c.Reconnect = ReconnectNever
	}
	if c.Retry <= 0 {
		c.Retry = defaultRetry
	}
}

// connections returns the number of streams to open to t.
func (c *Config) connections(t Target) int {
	if t.Connections > 0 {
		return t.Connections
	}
	return c.Connections
}

// totalConnections is the number of streams of the whole run.
func (c *Config) totalConnections() int {
	n := 0
	for _, t := range c.Targets {
		n += c.connections(t)
	}
	return n
}

func (c *Config) validate() error {
	if len(c.Targets) == 0 {
		return errors.New("no targets: name at least one")
	}
	if c.Connections < 1 {
		return fmt.Errorf("connections %d: must be at least 1", c.Connections)
	}
	if c.Ramp <= 0 {
		return fmt.Errorf("ramp %g: must be > 0 connections per second", c.Ramp)
	}
	if c.Hold < 0 {
		return fmt.Errorf("duration %s: must not be negative", c.Hold)
	}
	if _, err := ParseReconnectPolicy(string(c.Reconnect)); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, t := range c.Targets {
		if t.Connections < 0 || t.ReadBytesPerSec < 0 {
			return fmt.Errorf("target %q: connections %d, read rate %d B/s: must not be negative", t.Name, t.Connections, t.ReadBytesPerSec)
		}
		if seen[t.Name] {
			return fmt.Errorf("target %q named twice", t.Name)
		}
		seen[t.Name] = true
	}
	return nil
}

// Engine runs one load test. Create it with New, run it once with Run; Snapshot
// may be called from any goroutine while it runs.
type Engine struct {
	cfg     Config
	targets []*target
	workers []*worker
	epoch   time.Time // run start; connection times are monotonic offsets from it

	// remaining counts connections that have not finished yet (not opened,
	// open, or waiting); finishing the last one closes allFinished.
	remaining   atomic.Int64
	allFinished chan struct{}
	finishOnce  sync.Once

	// limitSaid holds the machine-limit error kinds already reported: each
	// is said once per run, in words, not once per failed connection.
	limitSaid sync.Map
	liveP99   atomic.Int64 // latency p99 of the last interval, all targets, µs
	faults    faultLog
	// started is set once Run has its epoch and workers: Snapshot and
	// MarkFault, callable from other goroutines at any time, read them only
	// after that.
	started atomic.Bool
	heads   []atomic.Pointer[map[string]string]
	// cutoff is, per target, the last sequence number of the run once the
	// hold is over (settle.go); 0 while it runs.
	cutoff []atomic.Int64
}

// target is a resolved Target, shared read-only by the workers.
type target struct {
	Target
	index   int
	addr    netip.AddrPort
	u       *url.URL
	host    string       // Host field of the request
	path    string       // request target: path and query
	request []byte       // the GET request, identical for every connection
	sources []netip.Addr // local addresses to bind, in turn; empty = any
	https   bool         // served by net/http on the stream worker
	ts      jsonfield.Path
	timed   bool
	seq     jsonfield.Path // Config.SequenceField
	// sequenced is true when events are accounted by sequence number.
	sequenced bool
}

// New validates cfg and resolves the targets. It does not connect.
func New(ctx context.Context, cfg Config) (*Engine, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	e := &Engine{cfg: cfg, allFinished: make(chan struct{})}
	var ts jsonfield.Path
	if cfg.TimestampField != "" {
		p, err := jsonfield.ParsePath(cfg.TimestampField)
		if err != nil {
			return nil, fmt.Errorf("timestamp field: %w", err)
		}
		ts = p
	}
	var seq jsonfield.Path
	if cfg.SequenceField != "" {
		p, err := jsonfield.ParsePath(cfg.SequenceField)
		if err != nil {
			return nil, fmt.Errorf("sequence field: %w", err)
		}
		seq = p
	}
	for i, t := range cfg.Targets {
		rt, err := resolveTarget(ctx, t)
		if err != nil {
			return nil, err
		}
		rt.index = i
		rt.ts = ts
		rt.sources = sourceAddrs(cfg.SourceAddrs, rt.addr, cfg.connections(t))
		rt.timed = cfg.TimestampField != ""
		rt.seq, rt.sequenced = seq, cfg.SequenceField != ""
		e.targets = append(e.targets, rt)
	}
	e.heads = make([]atomic.Pointer[map[string]string], len(e.targets))
	e.cutoff = make([]atomic.Int64, len(e.targets))
	return e, nil
}

// streamsPerSource is how many streams sseload puts on one source address
// to one server address:port: below the ~28,000 ephemeral ports
// (32768–60999) so that the kernel never runs out mid-ramp.
const streamsPerSource = 25_000

// sourceAddrs picks the local addresses for conns streams to dst: the
// user's list if given, else for a loopback IPv4 destination as many of
// 127.0.0.1, 127.0.0.2, … as the count needs, else none (the kernel picks).
func sourceAddrs(given []netip.Addr, dst netip.AddrPort, conns int) []netip.Addr {
	if len(given) > 0 {
		return given
	}
	a := dst.Addr()
	if !a.IsValid() || !a.Is4() || !a.IsLoopback() || conns <= streamsPerSource {
		return nil
	}
	n := (conns + streamsPerSource - 1) / streamsPerSource
	out := make([]netip.Addr, 0, n)
	src := netip.AddrFrom4([4]byte{127, 0, 0, 1})
	for len(out) < n {
		out = append(out, src)
		src = src.Next()
	}
	return out
}

// resolveTarget parses the URL and resolves its host once, before the run.
func resolveTarget(ctx context.Context, t Target) (*target, error) {
	u, err := url.Parse(t.URL)
	if err != nil {
		return nil, fmt.Errorf("target %s: url %q: %w", t.Name, t.URL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("target %s: url %q: scheme %q is not supported (use http:// or https://)", t.Name, t.URL, u.Scheme)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("target %s: url %q has no host (expected http://host:port/path)", t.Name, t.URL)
	}
	if u.Scheme == "https" {
		return &target{Target: t, https: true}, nil
	}
	addr, err := resolve(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("target %s: %w", t.Name, err)
	}
	req, err := appendRequest(nil, u)
	if err != nil {
		return nil, fmt.Errorf("target %s: %w", t.Name, err)
	}
	return &target{Target: t, addr: addr, request: req, u: u, host: u.Host, path: u.RequestURI()}, nil
}

// Run opens the connections, holds them and returns what was measured. When
// ctx is cancelled it stops opening connections, closes every stream and
// returns the partial result with Interrupted set: results are never lost.
func (e *Engine) Run(ctx context.Context) (*Result, error) {
	cfg := &e.cfg
	e.checkFileLimit()
	e.remaining.Store(int64(cfg.totalConnections()))
	e.epoch = time.Now()

	for i := 0; i < cfg.Workers; i++ {
		w, err := newWorker(e, i)
		if err != nil {
			for _, w := range e.workers {
				w.closeFDs()
			}
			return nil, err
		}
		e.workers = append(e.workers, w)
	}

	var streamWorker *worker
	for _, t := range e.targets {
		if t.https && streamWorker == nil {
			streamWorker = newStreamWorker(e, len(e.workers))
			e.workers = append(e.workers, streamWorker)
		}
	}
	e.started.Store(true)
	epollWorkers := e.workers
	if streamWorker != nil {
		epollWorkers = e.workers[:len(e.workers)-1]
	}

	lagCtx, stopLag := context.WithCancel(context.Background())
	lag := newLagMonitor()
	lagDone := make(chan struct{})
	go func() { defer close(lagDone); lag.run(lagCtx) }()

	col := newCollector(e)
	colDone := make(chan struct{})
	go func() { defer close(colDone); col.run() }()

	var wg sync.WaitGroup
	for _, w := range e.workers {
		wg.Add(1)
		if w.streams != nil {
			go func() { defer wg.Done(); w.runStreams() }()
			continue
		}
		go func() { defer wg.Done(); w.run() }()
	}

	interrupted := e.rampAndHold(ctx, epollWorkers, streamWorker)

	stopAt := time.Now()
	for _, w := range e.workers {
		w.stop(stopAt)
	}
	wg.Wait()
	<-colDone
	stopLag()
	<-lagDone

	res := &Result{Started: e.epoch, Ended: stopAt, Interrupted: interrupted}
	for i, t := range e.targets {
		tr := col.result(i)
		tr.Name, tr.URL = t.Name, t.URL
		tr.Requested = int64(cfg.connections(t.Target))
		var ds deliverySum
		for _, w := range e.workers {
			c := &w.stats[i]
			tr.Established += c.established.Load()
			tr.Failed += c.failed.Load()
			tr.Reconnects += c.reconnects.Load()
			tr.EventsReceived += c.events.Load()
			tr.EventsTimed += c.timed.Load()
			tr.ClockSkewed += c.skewed.Load()
			ds.add(&c.seq)
			for k, n := range w.errors[i] {
				tr.Errors[k] += n
			}
		}
		if t.sequenced {
			tr.Delivery = ds.delivery(int64(cfg.EventsPerStream), tr.Established)
		}
		if h := e.heads[i].Load(); h != nil {
			tr.Head = *h
		}
		res.Targets = append(res.Targets, tr)
	}
	res.Faults = e.faults.results(e.targets)
	res.Harness = verdict(lag.hist, col.busyMax, col.cpuMax, res.Targets)
	return res, nil
}

// rampAndHold opens cfg.Connections per target at cfg.Ramp per second, then
// holds them. Connection i of every target is due at epoch + i/ramp, so the
// ramp keeps its schedule even when opening falls behind. It reports whether
// ctx ended the run early.
func (e *Engine) rampAndHold(ctx context.Context, epoll []*worker, streams *worker) (interrupted bool) {
	cfg := &e.cfg
	var maxTimer <-chan time.Time
	if cfg.MaxDuration > 0 {
		t := time.NewTimer(cfg.MaxDuration)
		defer t.Stop()
		maxTimer = t.C
	}
	n := 0
	for _, t := range e.targets {
		n = max(n, cfg.connections(t.Target))
	}
	step := time.Duration(float64(time.Second) / cfg.Ramp)
	timer := time.NewTimer(0)
	defer timer.Stop()
	next := 0 // index of the next connection to open, the same for every target
	rr := 0
	for next < n {
		select {
		case <-ctx.Done():
			return true
		case <-maxTimer:
			return false
		case <-timer.C:
		}
		due := int(time.Since(e.epoch)/step) + 1
		if due > n {
			due = n
		}
		for ; next < due; next++ {
			for _, t := range e.targets {
				if next >= cfg.connections(t.Target) {
					continue
				}
				if t.https {
					streams.enqueue(t)
					continue
				}
				epoll[rr%len(epoll)].enqueue(t)
				rr++
			}
		}
		for _, w := range e.workers {
			w.wake()
		}
		timer.Reset(time.Until(e.epoch.Add(time.Duration(next) * step)))
	}

	var hold <-chan time.Time
	if cfg.Hold > 0 {
		t := time.NewTimer(cfg.Hold)
		defer t.Stop()
		hold = t.C
	}
	select {
	case <-ctx.Done():
		return true
	case <-maxTimer:
	case <-hold:
		e.settle(ctx) // a publish may be on its way (settle.go)
	case <-e.allFinished:
	}
	return false
}

// finished is called once per connection when it ends for any reason. When
// the last one ends there is nothing left to measure, so the run ends even
// before its hold time is over.
func (e *Engine) finished() {
	if e.remaining.Add(-1) == 0 {
		e.finishOnce.Do(func() { close(e.allFinished) })
	}
}

// notOpened accounts for connections that were never attempted.
func (e *Engine) notOpened(n int64) {
	for i := int64(0); i < n; i++ {
		e.finished()
	}
}

// MarkFault records that a fault named name (an origin restart, a proxy
// reload) happens now. From here on the engine measures, per target, how
// long until every live stream receives again, and the reconnections and
// skipped events until the next fault; Result.Faults reports them. Safe to
// call from any goroutine while Run runs.
func (e *Engine) MarkFault(name string) {
	e.faults.mark(e, name, time.Now())
}

// saveHead keeps the first response head seen per target for diagnosis.
func (e *Engine) saveHead(t int, head map[string]string) {
	e.heads[t].CompareAndSwap(nil, &head)
}

func (e *Engine) warnf(format string, args ...any) {
	if e.cfg.Warn != nil {
		e.cfg.Warn(fmt.Sprintf(format, args...))
	}
}

// Snapshot is a cheap view of a running engine for progress displays.
type Snapshot struct {
	Elapsed      time.Duration
	Requested    int64 // connections the plan asks for, all targets
	Opened       int64
	Established  int64
	Failed       int64
	Ended        int64
	Reconnects   int64
	Events       int64
	LatencyP99US int64 // last interval, all targets; 0 before the first
}

// Snapshot sums the workers' counters. Safe to call while Run runs.
func (e *Engine) Snapshot() Snapshot {
	if !e.started.Load() {
		return Snapshot{Requested: int64(e.cfg.totalConnections())}
	}
	s := Snapshot{
		Elapsed:      time.Since(e.epoch),
		Requested:    int64(e.cfg.totalConnections()),
		LatencyP99US: e.liveP99.Load(),
	}
	for _, w := range e.workers {
		for i := range w.stats {
			c := &w.stats[i]
			s.Opened += c.opened.Load()
			s.Established += c.established.Load()
			s.Failed += c.failed.Load()
			s.Ended += c.ended.Load()
			s.Reconnects += c.reconnects.Load()
			s.Events += c.events.Load()
		}
	}
	return s
}

// collector merges the workers' interval histograms by value.
type collector struct {
	e       *Engine
	cum     histSet // cumulative, per target
	iv      histSet // the interval being merged, reused
	busyMax float64
	cpu     cpuSampler
	cpuMax  float64 // the machine's busiest interval, 0..1
}

func newCollector(e *Engine) *collector {
	return &collector{e: e, cum: newHistSet(len(e.targets)), iv: newHistSet(len(e.targets))}
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
		c.iv.reset()
		var start, end time.Time
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
			if msg.busy > c.busyMax {
				c.busyMax = msg.busy
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
		all := NewHistogram()
		for t, tg := range c.e.targets {
			for m := range c.iv[t] {
				c.cum[t][m].Merge(c.iv[t][m])
			}
			all.Merge(c.iv[t][Latency])
			if c.e.cfg.OnInterval != nil {
				var est int64
				for _, w := range c.e.workers {
					est += w.stats[t].established.Load()
				}
				c.e.cfg.OnInterval(IntervalReport{Target: tg.Name, Interval: Interval{
					Start: start, End: end, Hist: c.iv[t], Established: est,
				}})
			}
		}
		if all.TotalCount() > 0 {
			c.e.liveP99.Store(all.ValueAtQuantile(99))
		}
		// A final interval shorter than a tenth of a second says little
		// about how busy the machine was.
		if share, ok := c.cpu.sample(); ok && (!final || end.Sub(start) >= c.e.cfg.Interval/10) && share > c.cpuMax {
			c.cpuMax = share
		}
		if final {
			return
		}
	}
}

func (c *collector) result(t int) *TargetResult {
	return &TargetResult{Hist: c.cum[t], Errors: map[string]int64{}}
}

// lagMonitor measures the generator's own scheduling lag: how late a 10 ms
// timer fires. Go timers fire late when every P is busy, so a high lag means
// the engine's goroutines (and its receipt timestamps) waited for CPU.
type lagMonitor struct {
	hist *hdrhistogram.Histogram
}

const lagPeriod = 10 * time.Millisecond

func newLagMonitor() *lagMonitor { return &lagMonitor{hist: NewHistogram()} }

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
	var notes []string
	if h.LagP99US > maxLagP99US {
		notes = append(notes, fmt.Sprintf("the generator's scheduling lag p99 was %.1f ms (limit %d ms): it was short of CPU, and its receipt times include that wait",
			float64(h.LagP99US)/1000, maxLagP99US/1000))
	}
	if busyMax > maxBusy {
		notes = append(notes, fmt.Sprintf("an engine worker was busy %.0f%% of an interval (limit %.0f%%): the generator was saturated, add --procs or cores",
			busyMax*100, maxBusy*100))
	}
	if cpuMax > maxMachineCPU {
		notes = append(notes, fmt.Sprintf("the machine was %.0f%% busy in its busiest second (limit %.0f%%): the origin, the proxies and the generator queued for CPU, so latencies include that wait and describe the machine more than the proxy",
			cpuMax*100, maxMachineCPU*100))
	}
	for _, t := range targets {
		if t.ClockSkewed > 0 {
			notes = append(notes, fmt.Sprintf("%s: %d events arrived before their publish time: the origin's clock and this machine's are not synchronised, so latencies are off by the difference",
				t.Name, t.ClockSkewed))
		}
	}
	if len(notes) > 0 {
		h.Reliable = false
		h.Note = strings.Join(notes, "; ")
	}
	return h
}
