// Package loadgen is sseload's EventSource engine: it opens many concurrent
// SSE streams per target at a given ramp, holds them, and records how long
// each event took from its scheduled publish time to its receipt.
//
// Plain-HTTP and https HTTP/1.1 streams are served by a few workers (one
// per core). With the epoll engine (Linux) a stream costs one socket and a
// few hundred bytes of decoder state (plus, over TLS, crypto/tls's
// connection state: tlsconn_linux.go): no goroutine and no read buffer of
// its own. The portable engine (every system) runs a goroutine per stream
// over net.Conn (tls.Conn for https) through the same decoder, parser and
// recorders. HTTP/2 streams (Target.HTTP2) go through net/http, a goroutine
// each (tls.go). Each worker records into its own
// histograms, swapped out to a collector once per interval and merged there
// by value, so the epoll hot path takes no lock.
package loadgen

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/netip"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sseload/sseload/loadgen/httpstream"
	"github.com/sseload/sseload/loadgen/jsonfield"
)

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
	// clockOffset is this machine's clock minus the origin's, ns
	// (SetClockOffset): subtracted from every receipt time.
	clockOffset atomic.Int64
	faults      faultLog
	// started is set once Run has its epoch and workers: Snapshot and
	// MarkFault, callable from other goroutines at any time, read them only
	// after that.
	started atomic.Bool
	heads   []atomic.Pointer[map[string]string]
	protos  []atomic.Pointer[negotiated] // per target, the first head's
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
	host    string           // Host field of the request
	path    string           // request target: path and query
	request []byte           // the request, identical for every connection
	shape   httpstream.Shape // Config.Request with the target's own headers
	sources []netip.Addr     // local addresses to bind, in turn; empty = any
	https   bool             // served by net/http on the stream worker (HTTP/2)
	// tls is set for https targets served by the epoll workers over
	// crypto/tls (tlsconn_linux.go), with tlsConfig: Config.TLSConfig with
	// the target's server name and ALPN http/1.1.
	tls       bool
	tlsConfig *tls.Config
	ts        jsonfield.Path
	timed     bool
	seq       jsonfield.Path // Config.SequenceField
	// sequenced is true when events are accounted by sequence number.
	sequenced bool
	sent      jsonfield.Path // Config.SentField
	// split is true when latency is split at the origin's write time.
	split bool
}

// New validates cfg and resolves the targets. It does not connect.
func New(ctx context.Context, cfg Config) (*Engine, error) {
	if cfg.Engine == "" {
		n, err := EngineFromEnv()
		if err != nil {
			return nil, err
		}
		cfg.Engine = n
	}
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
	var sent jsonfield.Path
	if cfg.SentField != "" {
		p, err := jsonfield.ParsePath(cfg.SentField)
		if err != nil {
			return nil, fmt.Errorf("sent field: %w", err)
		}
		sent = p
	}
	for i, t := range cfg.Targets {
		rt, err := resolveTarget(ctx, t, cfg.Request.With(t.Headers), cfg.TLSConfig)
		if err != nil {
			return nil, err
		}
		rt.index = i
		rt.ts = ts
		rt.sources = sourceAddrs(cfg.SourceAddrs, rt.addr, cfg.connections(t))
		rt.timed = cfg.TimestampField != ""
		rt.seq, rt.sequenced = seq, cfg.SequenceField != ""
		rt.sent, rt.split = sent, cfg.SentField != ""
		e.targets = append(e.targets, rt)
	}
	e.heads = make([]atomic.Pointer[map[string]string], len(e.targets))
	e.protos = make([]atomic.Pointer[negotiated], len(e.targets))
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
func resolveTarget(ctx context.Context, t Target, shape httpstream.Shape, tlsCfg *tls.Config) (*target, error) {
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
	if u.Scheme == "https" && t.HTTP2 {
		return &target{Target: t, https: true, u: u, shape: shape}, nil
	}
	addr, err := resolve(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("target %s: %w", t.Name, err)
	}
	req, err := shape.AppendRequest(nil, u.Host, u.RequestURI())
	if err != nil {
		return nil, fmt.Errorf("target %s: %w", t.Name, err)
	}
	rt := &target{Target: t, addr: addr, request: req, u: u, host: u.Host, path: u.RequestURI(), shape: shape}
	if u.Scheme == "https" {
		rt.tls, rt.tlsConfig = true, h1Config(tlsCfg, u.Hostname())
	}
	return rt, nil
}

// h1Config is base (nil: defaults and the system's roots) for an HTTP/1.1
// stream to host: its server name and ALPN http/1.1, so that the protocol
// is negotiated, not assumed. Session tickets are dropped unless base
// keeps them in a ClientSessionCache: a stream connects once, and a cache
// would hold state for every one.
func h1Config(base *tls.Config, host string) *tls.Config {
	cfg := &tls.Config{}
	if base != nil {
		cfg = base.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	cfg.NextProtos = []string{"http/1.1"}
	return cfg
}

// Run opens the connections, holds them and returns what was measured. When
// ctx is cancelled it stops opening connections, closes every stream and
// returns the partial result with Interrupted set: results are never lost.
func (e *Engine) Run(ctx context.Context) (*Result, error) {
	cfg := &e.cfg
	e.checkFileLimit()
	defer e.lowerGCForTLS()()
	e.remaining.Store(int64(cfg.totalConnections()))
	e.epoch = time.Now()

	for i := 0; i < cfg.Workers; i++ {
		w, err := e.newWorker(i)
		if err != nil {
			for _, w := range e.workers {
				w.closeFDs()
			}
			return nil, err
		}
		e.workers = append(e.workers, w)
	}

	defer e.startHandshaker()()
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

	col := newCollector(e, lag)
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
			tr.ErrorValues.Merge(w.errValues[i])
		}
		if t.sequenced {
			tr.Delivery = ds.delivery(int64(cfg.EventsPerStream), tr.Established)
		}
		if h := e.heads[i].Load(); h != nil {
			tr.Head = *h
		}
		if p := e.protos[i].Load(); p != nil {
			tr.Protocol, tr.TLSVersion = p.proto, p.tlsVersion
		}
		res.Targets = append(res.Targets, tr)
	}
	res.Faults = e.faults.results(e.targets)
	res.Harness = verdict(lag.hist, col.busyMax, col.cpuMax, res.Targets)
	e.unchecked(&res.Harness)
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

// unchecked says in h which of the verdict's checks this run could not
// make: the machine's CPU share where there are no counters to read
// (cpuCounters), the workers' busy share with the portable engine (its
// streams run in goroutines; the scheduling lag still tells a starved
// generator).
func (e *Engine) unchecked(h *Harness) {
	if cpuCounters == "" {
		h.AddUnchecked(HarnessNote{Kind: NoteUnchecked, Target: NoteMachineCPU, Text: fmt.Sprintf(
			"the machine's CPU share was not checked: sseload reads it from /proc/stat, which %s does not have; watch the machine's load yourself", runtime.GOOS)})
	}
	if e.cfg.Engine == EnginePortable {
		h.AddUnchecked(HarnessNote{Kind: NoteUnchecked, Target: NoteBusy, Text: fmt.Sprintf(
			"the generator workers' busy share was not checked: the %s engine runs a goroutine per stream (the scheduling lag is still checked)", EnginePortable)})
	}
}

// newWorker makes plain-HTTP worker id of the configured engine.
func (e *Engine) newWorker(id int) (*worker, error) {
	if e.cfg.Engine == EnginePortable {
		return newPortableWorker(e, id), nil
	}
	return newWorker(e, id)
}

// MarkFault records that a fault named name (an origin restart, a proxy
// reload) happens now. From here on the engine measures, per target, how
// long until every live stream receives again, and the reconnections and
// skipped events until the next fault; Result.Faults reports them. Safe to
// call from any goroutine while Run runs.
func (e *Engine) MarkFault(name string) {
	e.faults.mark(e, name, time.Now())
}

// negotiated is what a connection's handshake and head settled.
type negotiated struct{ proto, tlsVersion string }

// saveProtocol keeps the first protocol seen per target. state is nil for
// plain HTTP; it is called only until the target has one.
func (e *Engine) saveProtocol(t int, httpProto string, state func() tls.ConnectionState) {
	if e.protos[t].Load() != nil {
		return
	}
	n := &negotiated{proto: ProtoH1}
	if strings.HasPrefix(httpProto, "HTTP/2") {
		n.proto = ProtoH2
	}
	if state != nil {
		n.tlsVersion = tls.VersionName(state().Version)
	}
	e.protos[t].CompareAndSwap(nil, n)
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

// SetClockOffset sets this machine's clock minus the origin's, as a
// worker measured it against a time source (loadgen/procs, clock.go):
// receipt times are corrected by it before latencies are recorded, so a
// latency is a difference of two readings of the origin's clock. Safe to
// call while the engine runs; the next event uses the new offset.
func (e *Engine) SetClockOffset(d time.Duration) { e.clockOffset.Store(int64(d)) }

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
