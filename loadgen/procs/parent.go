package procs

import (
	"context"
	"errors"
	"fmt"
	"github.com/sseload/sseload/internal/childproc"
	"io"
	"os"
	"os/exec"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/sseload/sseload/loadgen"
)

// Options configures a Generator.
type Options struct {
	// Config is the whole run, as one loadgen.Engine would run it. The
	// Generator calls its OnInterval with the children's merged intervals,
	// in time order, and its Warn with the children's warnings.
	Config loadgen.Config
	// Procs is the number of child processes (at least 1). Fewer are
	// started when a target has fewer connections than that.
	Procs int
	// Command returns the command that runs child i: `sseload worker`, or
	// anything else that speaks the worker protocol on its stdin and
	// stdout. Its stderr, when not set, is this process's. The Generator
	// adds Pdeathsig SIGKILL (no child outlives the parent) and a process
	// group of its own (a terminal's ^C reaches only the parent, which
	// stops the children in order).
	Command func(child int) *exec.Cmd
	// TargetURL, when set, returns the URL child i uses for target t ("":
	// t.URL): a sharded origin, one shard per child.
	TargetURL func(child int, t loadgen.Target) string
	// RootCAs are the CAs (PEM) the children trust for https targets
	// instead of the system's, as Config.TLSConfig.RootCAs does here
	// (a pool cannot travel); nil: the system's.
	RootCAs []byte
	// StopGrace bounds the wait for the children after a stop (default
	// 30 s): a child that has not sent its result by then is killed. It
	// also bounds how long the children may run on after the first of them
	// finished by itself, before they are stopped.
	StopGrace time.Duration
	// HelloTimeout bounds how long the children have to start and say
	// hello (default 30 s).
	HelloTimeout time.Duration

	// Workers, when set, are remote workers (`sseload worker --listen`)
	// to run the load on instead of child processes, as host:port: one
	// share each, Procs and Command unused. The worker protocol runs over
	// TCP after an auth message carrying Token (remote.go).
	Workers []string
	Token   string
	// TimeURL, when set, is the time source every worker measures its
	// clock offset against (clock.go): sseload's origin's /time, or a
	// foreign one given with --time-url. The workers correct their
	// receipt times by it unless NoClockCorrection (for testing).
	TimeURL           string
	NoClockCorrection bool
}

// Generator runs a load over several child processes (package comment).
// Create it with New, run it once with Run; Snapshot and MarkFault may be
// called from any goroutine while it runs.
type Generator struct {
	opts      Options
	plan      loadgen.Config
	shares    []loadgen.Config
	requested int64

	mu      sync.Mutex
	kids    []*child // set once every child got its start message
	started time.Time
	snaps   []loadgen.Snapshot
	liveP99 atomic.Int64
	ran     atomic.Bool
}

// startDelay is how far ahead of now the children are told to start, so
// that the start message reaches all of them before the moment comes.
const startDelay = 100 * time.Millisecond

// New checks the plan (as loadgen.New would, for the whole run and for
// every child's share) and splits it. It starts nothing.
func New(ctx context.Context, opts Options) (*Generator, error) {
	if len(opts.Workers) > 0 {
		opts.Procs = len(opts.Workers)
		if n := maxChildren(opts.Config); n < opts.Procs {
			return nil, fmt.Errorf("%d workers for a target of %d streams: every worker needs at least one stream of every target; name fewer workers", opts.Procs, n)
		}
	} else if opts.Command == nil {
		return nil, errors.New("generator processes: no command to start them with")
	}
	if opts.Procs < 1 {
		return nil, fmt.Errorf("generator processes %d: must be at least 1", opts.Procs)
	}
	if opts.StopGrace <= 0 {
		opts.StopGrace = 30 * time.Second
	}
	if opts.HelloTimeout <= 0 {
		opts.HelloTimeout = 30 * time.Second
	}
	plan := opts.Config
	check := plan
	check.Warn = nil // the children say it, once each, when they start
	if _, err := loadgen.New(ctx, check); err != nil {
		return nil, err
	}
	n := min(opts.Procs, maxChildren(plan))
	shares := splitConfig(plan, n, opts.TargetURL)
	for i, c := range shares {
		if _, err := loadgen.New(ctx, c); err != nil {
			return nil, fmt.Errorf("generator process %d: %w", i, err)
		}
	}
	var req int64
	for _, t := range plan.Targets {
		req += planned(plan, t)
	}
	return &Generator{opts: opts, plan: plan, shares: shares, requested: req, snaps: make([]loadgen.Snapshot, n)}, nil
}

// Procs returns the number of child processes Run starts (remote
// workers it connects to).
func (g *Generator) Procs() int { return len(g.shares) }

// Workers returns the remote workers' addresses; nil when the children
// are processes.
func (g *Generator) Workers() []string { return slices.Clone(g.opts.Workers) }

// Snapshot sums the children's latest counters (each child sends them once
// per interval). Safe to call while Run runs.
func (g *Generator) Snapshot() loadgen.Snapshot {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := loadgen.Snapshot{Requested: g.requested, LatencyP99US: g.liveP99.Load()}
	if !g.started.IsZero() {
		s.Elapsed = max(0, time.Since(g.started))
	}
	for _, c := range g.snaps {
		s.Opened += c.Opened
		s.Established += c.Established
		s.Failed += c.Failed
		s.Ended += c.Ended
		s.Reconnects += c.Reconnects
		s.Events += c.Events
	}
	return s
}

// MarkFault forwards a fault mark to every running child
// (loadgen.Engine.MarkFault); each marks it when the message arrives.
// Before the children have started it does nothing.
func (g *Generator) MarkFault(name string) {
	g.mu.Lock()
	kids := g.kids
	g.mu.Unlock()
	for _, c := range kids {
		_ = c.w.send(Message{Type: TypeFault, Name: name})
	}
}

// child is one running worker: a child process on pipes, or a remote
// worker on a TCP connection (remote.go). The loop sees only this.
type child struct {
	index int
	label string  // how messages name it
	w     *writer // its input
	// kill ends it now (kills the process, closes the connection); wait
	// reaps it once its output has ended.
	kill func()
	wait func() error
	// addr is a remote worker's address; "" for a child process.
	addr string
}

func (c *child) name() string { return c.label }

// event is what a child's reader passes to Run's loop: a message (decoded
// interval and result included), a bad one, or the child's exit.
type event struct {
	child  int
	msg    Message
	iv     *queued // interval, decoded
	res    *loadgen.Result
	err    error // the message could not be read or decoded
	exited bool
	wait   error // cmd.Wait's error, when exited
}

// read passes c's messages to events until its output ends, then reaps it.
// Histograms are decoded here, one goroutine per child.
func read(c *child, stdout io.Reader, events chan<- event) {
	r := newReader(stdout)
	for {
		m, err := r.next()
		if err == io.EOF {
			break
		}
		ev := event{child: c.index, msg: m, err: err}
		if err == nil {
			switch {
			case m.Type == TypeInterval && m.Interval != nil:
				ev.iv, ev.err = decodeInterval(m.Interval)
			case m.Type == TypeResult && m.Result != nil:
				ev.res, ev.err = m.Result.Decode()
			}
		}
		events <- ev
		if ev.err != nil {
			// Nothing it says can be trusted now.
			c.kill()
			break
		}
	}
	err := c.wait()
	events <- event{child: c.index, exited: true, wait: err}
}

func decodeInterval(iv *WireInterval) (*queued, error) {
	out := &queued{wire: iv, hists: make([]packedHists, len(iv.Targets))}
	for i, t := range iv.Targets {
		p, err := decodePacked(t.Hist)
		if err != nil {
			return nil, fmt.Errorf("interval %d: target %s: %w", iv.Seq, t.Name, err)
		}
		out.hists[i] = p
	}
	if iv.Lag != "" {
		p, err := hdrhistogram.DecodePacked([]byte(iv.Lag))
		if err != nil {
			return nil, fmt.Errorf("interval %d: decode lag histogram: %w", iv.Seq, err)
		}
		out.lag = p
	}
	return out, nil
}

// kidState is Run's loop's view of one child.
type kidState struct {
	*child
	hello    bool
	capacity *Capacity // from its hello; nil when it reported none
	exited   bool
	done     bool // its intervals are complete: result, failure or exit
	stopSent bool
	killed   bool
	clock    *WireClock // its clock offset estimate, with its result
	nextSeq  int
	queue    []queued           // intervals not merged yet
	last     []loadgen.Interval // per target, its counters at its latest interval
	res      *loadgen.Result
	err      error
}

type queued struct {
	wire  *WireInterval
	hists []packedHists
	lag   *hdrhistogram.PackedHistogram // nil when the child took no sample
}

// Run starts the children, gives each its share, merges their intervals
// (Config.OnInterval) and returns their merged result. When ctx ends, every
// child is sent stop and its partial result is merged, Interrupted set.
//
// A child that fails (exits or is killed before its result, says
// something that is not the protocol, reports an error) makes Run stop
// the others and return both what they measured, with the harness marked
// unreliable and a note naming the failed child, and an error naming it.
func (g *Generator) Run(ctx context.Context) (*loadgen.Result, error) {
	if !g.ran.CompareAndSwap(false, true) {
		return nil, errors.New("generator: Run called twice")
	}
	n := len(g.shares)
	events := make(chan event, 8*n)
	kids := make([]*kidState, 0, n)
	for i := range n {
		c, stdout, err := g.startWorker(ctx, i)
		if err != nil {
			for _, k := range kids {
				k.kill()
			}
			drainExits(events, len(kids))
			return nil, err
		}
		kids = append(kids, &kidState{child: c, last: make([]loadgen.Interval, len(g.plan.Targets))})
		go read(c, stdout, events)
	}
	l := &loop{g: g, kids: kids, events: events, alive: n}
	if err := l.hellos(ctx); err != nil {
		l.killAll()
		l.drain()
		return nil, err
	}
	if err := l.weigh(ctx); err != nil {
		l.killAll()
		l.drain()
		return nil, err
	}
	if err := l.start(); err != nil {
		l.killAll()
		l.drain()
		return nil, err
	}
	l.run(ctx)
	return l.result()
}

// startWorker starts worker i: a remote worker's connection when
// Options.Workers is set, else a child process.
func (g *Generator) startWorker(ctx context.Context, i int) (*child, io.Reader, error) {
	if len(g.opts.Workers) > 0 {
		return g.dial(ctx, i)
	}
	return g.startChild(i)
}

// startChild starts child i with its stdin and stdout as pipes.
func (g *Generator) startChild(i int) (*child, io.Reader, error) {
	cmd := g.opts.Command(i)
	// A child dies with this process where the kernel can do that (no
	// generator outlives its parent, even one killed with -9), and runs in
	// a process group of its own, so that a terminal's ^C reaches the
	// parent only and the parent stops its children with the protocol's
	// stop message, keeping their measurements. Elsewhere the next sseload
	// kills it from its pid file (childproc).
	childproc.Setup(cmd, true)
	if cmd.Stderr == nil {
		cmd.Stderr = os.Stderr
	}
	c := &child{index: i, label: fmt.Sprintf("generator process %d", i)}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", c.name(), err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", c.name(), err)
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("start %s (%s): %w", c.name(), cmd.Path, err)
	}
	c.label = fmt.Sprintf("generator process %d (pid %d)", i, cmd.Process.Pid)
	c.kill = func() { _ = cmd.Process.Kill() }
	// release forgets the child's pid file once it has exited (childproc).
	release := childproc.Record(cmd, true)
	c.wait = func() error {
		err := cmd.Wait()
		release()
		return err
	}
	c.w = newWriter(stdin)
	return c, stdout, nil
}

// drainExits waits for n exit events, dropping everything else.
func drainExits(events <-chan event, n int) {
	for n > 0 {
		if ev := <-events; ev.exited {
			n--
		}
	}
}

// loop is one Run's state; only Run's goroutine touches it.
type loop struct {
	g      *Generator
	kids   []*kidState
	events chan event
	alive  int // children not reaped yet

	stopping bool        // stop was sent (ctx ended or a child failed)
	timer    *time.Timer // grace timer, nil when not armed
	killing  bool        // the armed timer kills (else it stops)

	merger *loadgen.IntervalMerger // set by start
}

// hellos waits until every child said hello with the right version.
func (l *loop) hellos(ctx context.Context) error {
	t := time.NewTimer(l.g.opts.HelloTimeout)
	defer t.Stop()
	waiting := len(l.kids)
	for waiting > 0 {
		select {
		case ev := <-l.events:
			k := l.kids[ev.child]
			switch {
			case ev.exited:
				l.alive--
				k.exited = true
				return fmt.Errorf("%s exited before it said hello: %v", k.name(), exitText(ev.wait))
			case ev.err != nil:
				return fmt.Errorf("%s: %w", k.name(), ev.err)
			case ev.msg.Type == TypeError:
				return fmt.Errorf("%s refused: %s", k.name(), ev.msg.Message)
			case ev.msg.Type != TypeHello || k.hello:
				return fmt.Errorf("%s: sent %q before the start, want one hello", k.name(), ev.msg.Type)
			}
			if err := checkVersion(ev.msg.Version, k.name()); err != nil {
				return err
			}
			k.hello = true
			k.capacity = ev.msg.Capacity
			waiting--
		case <-t.C:
			return fmt.Errorf("%d generator processes did not say hello within %s", waiting, l.g.opts.HelloTimeout)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// weigh splits the plan over remote workers by the capacity each
// reported in its hello (capacity.go: in proportion to CPUs, none over
// the streams it holds; equal when one reported nothing), and refuses,
// before anything starts, a plan that gives a worker more streams than
// it holds. Child processes on this machine keep their equal shares: they
// share one machine's CPUs and limits.
func (l *loop) weigh(ctx context.Context) error {
	g := l.g
	if len(g.opts.Workers) == 0 {
		return nil
	}
	caps := make([]*Capacity, len(l.kids))
	names := make([]string, len(l.kids))
	for i, k := range l.kids {
		caps[i], names[i] = k.capacity, k.name()
	}
	parts, _ := weigh(int(g.requested), caps)
	shares := splitWeighted(g.plan, parts, g.opts.TargetURL)
	totals := make([]int, len(shares))
	for i, c := range shares {
		totals[i] = totalConnections(c)
	}
	if err := checkCapacity(totals, caps, names); err != nil {
		return err
	}
	for i, c := range shares {
		if _, err := loadgen.New(ctx, c); err != nil {
			return fmt.Errorf("%s: %w", names[i], err)
		}
	}
	g.shares = shares
	return nil
}

// start sends every child its start message, all with one start time.
func (l *loop) start() error {
	g := l.g
	at := time.Now().Add(startDelay)
	insecure := g.plan.TLSConfig != nil && g.plan.TLSConfig.InsecureSkipVerify
	kids := make([]*child, len(l.kids))
	for i, k := range l.kids {
		cfg := g.shares[i]
		m := Message{Type: TypeStart, Version: Version, Index: i, Count: len(l.kids), StartAt: &at, InsecureTLS: insecure, RootCAs: g.opts.RootCAs, Config: &cfg,
			TimeURL: g.opts.TimeURL, NoClockCorrection: g.opts.NoClockCorrection}
		if err := k.w.send(m); err != nil {
			return fmt.Errorf("%s: %w", k.name(), err)
		}
		kids[i] = k.child
	}
	g.mu.Lock()
	g.kids, g.started = kids, at
	g.mu.Unlock()
	l.prepare()
	return nil
}

// prepare makes the merger the children's intervals are merged in.
func (l *loop) prepare() {
	names := make([]string, len(l.g.plan.Targets))
	for t, tg := range l.g.plan.Targets {
		names[t] = tg.Name
	}
	var sink loadgen.IntervalSink
	if f := l.g.plan.OnInterval; f != nil {
		sink = loadgen.IntervalSinkFunc(f)
	}
	l.merger = loadgen.NewIntervalMerger(names, sink)
}

// run handles the children's messages until every child has exited.
func (l *loop) run(ctx context.Context) {
	done := ctx.Done()
	for l.alive > 0 {
		var grace <-chan time.Time
		if l.timer != nil {
			grace = l.timer.C
		}
		select {
		case ev := <-l.events:
			l.handle(ev)
		case <-done:
			done = nil
			l.stopAll()
		case <-grace:
			l.timer = nil
			if l.killing {
				l.killAll()
				continue
			}
			l.stopAll()
		}
	}
	if l.timer != nil {
		l.timer.Stop()
	}
	l.merge()
}

func (l *loop) handle(ev event) {
	k := l.kids[ev.child]
	switch {
	case ev.exited:
		l.alive--
		k.exited = true
		if k.res == nil && k.err == nil {
			switch {
			case k.killed:
				k.err = fmt.Errorf("%s sent no result within %s of the stop and was killed", k.name(), l.g.opts.StopGrace)
			case k.addr != "":
				k.err = fmt.Errorf("%s disconnected before sending its result", k.name())
			default:
				k.err = fmt.Errorf("%s exited before sending its result: %s", k.name(), exitText(ev.wait))
			}
		}
		l.finish(k)
		return
	case ev.err != nil:
		k.err = fmt.Errorf("%s: bad message: %w", k.name(), ev.err)
		l.finish(k)
		return
	}
	m := ev.msg
	switch m.Type {
	case TypeInterval:
		if ev.iv == nil || k.done {
			k.err = fmt.Errorf("%s: interval message without an interval, or after its result", k.name())
			break
		}
		if m.Interval.Seq != k.nextSeq || len(m.Interval.Targets) != len(l.g.plan.Targets) {
			k.err = fmt.Errorf("%s: interval %d with %d targets, want interval %d with %d", k.name(), m.Interval.Seq, len(m.Interval.Targets), k.nextSeq, len(l.g.plan.Targets))
			break
		}
		k.nextSeq++
		k.queue = append(k.queue, *ev.iv)
		l.g.mu.Lock()
		l.g.snaps[k.index] = m.Interval.Snapshot
		l.g.mu.Unlock()
		l.merge()
		return
	case TypeWarn:
		if w := l.g.plan.Warn; w != nil {
			w(fmt.Sprintf("generator process %d: %s", k.index, m.Message))
		}
		return
	case TypeResult:
		if ev.res == nil || k.done {
			k.err = fmt.Errorf("%s: result message without a result, or a second one", k.name())
			break
		}
		k.res = ev.res
		k.clock = m.Clock
		l.finish(k)
		if !l.stopping && l.timer == nil {
			// It ended by itself: the others should end about now too.
			l.timer = time.NewTimer(l.g.opts.StopGrace)
		}
		return
	case TypeError:
		k.err = fmt.Errorf("%s: %s", k.name(), m.Message)
	default:
		k.err = fmt.Errorf("%s: unexpected %q message", k.name(), m.Type)
	}
	if k.err != nil {
		l.finish(k)
	}
}

// finish marks k's intervals complete; a failed child stops the others, so
// that what they measured comes back while it still can.
func (l *loop) finish(k *kidState) {
	if k.err != nil && !k.exited {
		k.kill()
	}
	k.done = true
	if k.err != nil {
		l.stopAll()
	}
	l.merge()
}

// stopAll sends stop to every child still running and arms the kill timer.
func (l *loop) stopAll() {
	for _, k := range l.kids {
		if !k.done && !k.stopSent {
			k.stopSent = true
			_ = k.w.send(Message{Type: TypeStop})
		}
	}
	if l.stopping {
		return
	}
	l.stopping = true
	if l.timer != nil {
		l.timer.Stop()
	}
	l.timer = time.NewTimer(l.g.opts.StopGrace)
	l.killing = true
}

// killAll kills every child not reaped yet.
func (l *loop) killAll() {
	for _, k := range l.kids {
		if !k.exited {
			k.killed = true
			k.kill()
		}
	}
}

// drain reaps every child after a failed start.
func (l *loop) drain() {
	for l.alive > 0 {
		if ev := <-l.events; ev.exited {
			l.alive--
		}
	}
}

// merge passes on every interval that all children have sent (or will
// never send): interval k is merged from every child that has it, once
// every child has either sent it or finished. A child that finished
// earlier counts in Established with its last figure.
func (l *loop) merge() {
	for {
		have := false
		for _, k := range l.kids {
			switch {
			case len(k.queue) > 0:
				have = true
			case !k.done:
				return
			}
		}
		if !have {
			return
		}
		l.mergeRound()
	}
}

// mergeRound feeds the next queued interval of every child that has one,
// and every child's latest counters, to the run's loadgen.IntervalMerger:
// the same merge the engine's collector uses for its workers.
func (l *loop) mergeRound() {
	m := l.merger
	m.Begin()
	for _, k := range l.kids {
		if len(k.queue) == 0 {
			continue
		}
		q := k.queue[0]
		k.queue = k.queue[1:]
		m.AddSpan(q.wire.Start, q.wire.End)
		for t := range q.hists {
			k.last[t] = q.wire.Targets[t].totals()
			for metric, h := range q.hists[t] {
				if h == nil {
					continue
				}
				if err := m.AddHist(t, loadgen.Metric(metric), h); err != nil && k.err == nil {
					k.err = fmt.Errorf("%s: interval %d: %w", k.name(), q.wire.Seq, err)
				}
			}
		}
		var lag loadgen.HistogramPart
		if q.lag != nil {
			lag = q.lag
		}
		if err := m.AddGenerator(q.wire.BusyMax, q.wire.MachineCPU, lag); err != nil && k.err == nil {
			k.err = fmt.Errorf("%s: interval %d: %w", k.name(), q.wire.Seq, err)
		}
	}
	for t := range l.g.plan.Targets {
		// A child that finished earlier counts with its last figures.
		for _, k := range l.kids {
			m.AddTotals(t, &k.last[t])
		}
	}
	if _, p99 := m.Emit(); p99 > 0 {
		l.g.liveP99.Store(p99)
	}
}

// result merges the children's results, and names the children that
// failed. With remote workers it also reports each worker (Result.Workers)
// and judges their clock offsets (judgeClocks).
func (l *loop) result() (*loadgen.Result, error) {
	results := make([]*loadgen.Result, len(l.kids))
	var errs []error
	var notes []string
	for i, k := range l.kids {
		results[i] = k.res
		switch {
		case k.err != nil && k.res == nil:
			errs = append(errs, k.err)
			notes = append(notes, fmt.Sprintf("%v: its share of the streams is missing from these results", k.err))
		case k.err != nil:
			errs = append(errs, k.err)
			notes = append(notes, k.err.Error())
		}
	}
	res, err := mergeResults(l.g.plan, results)
	if err != nil {
		return nil, errors.Join(append(errs, err)...)
	}
	for _, n := range notes {
		res.Harness.AddNote(loadgen.HarnessNote{Kind: loadgen.NoteGenerator, Text: n})
	}
	if len(l.g.opts.Workers) > 0 {
		res.Workers = l.workerReports()
		judgeClocks(res, l.g.opts.TimeURL != "")
	}
	return res, errors.Join(errs...)
}

// workerReports is each remote worker's line of summary.json's workers[].
func (l *loop) workerReports() []loadgen.WorkerReport {
	out := make([]loadgen.WorkerReport, len(l.kids))
	for i, k := range l.kids {
		w := loadgen.WorkerReport{Address: k.addr, Streams: int64(totalConnections(l.g.shares[i])), Reliable: k.err == nil}
		if c := k.capacity; c != nil {
			w.CapacityStreams, w.FileLimit, w.CPUs = int64(c.Streams), int64(c.FileLimit), c.CPUs
		}
		if k.err != nil {
			w.Error = k.err.Error()
		}
		if k.res != nil {
			for _, t := range k.res.Targets {
				w.Established += t.Established
			}
			w.Reliable = w.Reliable && k.res.Harness.Reliable
		}
		if c := k.clock; c != nil {
			w.ClockOffsetUS, w.ClockUncertaintyUS, w.ClockError = c.OffsetUS, c.UncertaintyUS, c.Error
		}
		out[i] = w
	}
	return out
}

// totalConnections is the streams cfg opens, all targets counted.
func totalConnections(cfg loadgen.Config) int {
	n := 0
	for _, t := range cfg.Targets {
		if t.Connections > 0 {
			n += t.Connections
		} else {
			n += cfg.Connections
		}
	}
	return n
}

// exitText says how a child ended, from cmd.Wait's error.
func exitText(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}
