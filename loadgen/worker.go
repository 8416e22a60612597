package loadgen

import (
	"sync"
	"time"
)

// readBufSize is the one read buffer an epoll worker shares among all its
// connections. A read takes whatever one socket has ready, up to this size;
// a slow consumer's read budget is bounded by it on every engine.
const readBufSize = 64 << 10

// worker is one of the engine's workers: a share of the streams, with its
// own histograms, counters and error tables, swapped out to the collector
// once per interval. How it serves its streams depends on the engine
// (Config.Engine):
//
//   - epoll (worker_linux.go): every connection in one epoll set, served by
//     the worker's one goroutine; only that goroutine touches its
//     connections, histograms and read buffer.
//   - portable (portable.go): one goroutine per stream over net.Conn; the
//     streams record under mu.
//   - the https worker (tls.go): one goroutine per stream through net/http;
//     the streams record under mu.
//
// Other goroutines talk to a worker through enqueue, wake and stop, on
// every engine.
type worker struct {
	e  *Engine
	id int
	// epollState is the epoll set and its connections (worker_linux.go):
	// without descriptors (noEpoll) on the workers that run a goroutine
	// per stream, and empty off Linux.
	epollState
	// timers holds streams waiting to reconnect and slow readers waiting
	// for their read budget (reconnect.go, readrate.go).
	timers timerHeap

	hists  histSet
	stats  []counters         // per target
	errors []map[string]int64 // per target, written only by this worker
	// errValues holds, per target, the values of the errors that carry
	// one (ErrorValues); written only by this worker.
	errValues []ErrorValues

	ticks chan tickMsg  // to the collector
	spare chan histSet  // back from the collector
	busy  time.Duration // working time in the current interval
	// busyNext is working time that fell after the current interval's end
	// (a loop pass that straddled it): it belongs to the next interval.
	busyNext time.Duration

	// streams is set on the workers that run one goroutine per stream:
	// the https worker (tls.go) and the portable engine's (portable.go).
	// Their streams record from many goroutines, under mu.
	streams *streamSet
	stopped chan struct{} // closed by stop

	mu      sync.Mutex
	queue   []*target // connections to open
	stopAt  time.Time // set once; zero while running
	srcNext int
}

// newWorkerState is what every worker, epoll, portable or https, starts
// with: its per-target histograms, counters and error tables, and its
// channels to the collector; no epoll set (noEpoll).
func newWorkerState(e *Engine, id int) *worker {
	n := len(e.targets)
	w := &worker{
		e: e, id: id, epollState: noEpoll(),
		hists:     newHistSet(n),
		stats:     make([]counters, n),
		errors:    make([]map[string]int64, n),
		errValues: make([]ErrorValues, n),
		ticks:     make(chan tickMsg, 16), // room for a collector held up by slow disk writes
		spare:     make(chan histSet, 2),
		stopped:   make(chan struct{}),
	}
	for i := range w.errors {
		w.errors[i] = map[string]int64{}
		w.errValues[i] = ErrorValues{}
	}
	return w
}

// enqueue asks the worker to open one connection to t; wake delivers it.
func (w *worker) enqueue(t *target) {
	if w.streams != nil {
		w.mu.Lock()
		stopping := !w.stopAt.IsZero()
		w.mu.Unlock()
		if stopping {
			w.e.notOpened(1)
			return
		}
		if w.streams.tr == nil {
			w.openRaw(t) // the portable engine (portable.go)
			return
		}
		w.openStream(t)
		return
	}
	w.mu.Lock()
	w.queue = append(w.queue, t)
	w.mu.Unlock()
}

// stop asks the worker to close everything as of at and exit.
func (w *worker) stop(at time.Time) {
	w.mu.Lock()
	w.stopAt = at
	w.mu.Unlock()
	close(w.stopped)
	w.wake()
}

// shutdownTicks sends the intervals that ended before stopAt, then the last,
// partial one, marked final. Every worker sends the same sequence.
func (w *worker) shutdownTicks(stopAt, tickStart, tickEnd time.Time) {
	iv := w.e.cfg.Interval
	for !tickEnd.After(stopAt) {
		w.sendTick(tickStart, tickEnd, false)
		tickStart, tickEnd = tickEnd, tickEnd.Add(iv)
	}
	// A worker that learned of the stop late has already sent intervals
	// past stopAt: its final one is then empty and ends where it starts.
	end := stopAt
	if end.Before(tickStart) {
		end = tickStart
	}
	w.sendTick(tickStart, end, true)
}

// creditBusy adds a loop pass's working time, from began to end, to the
// interval ending at tickEnd and, for the part after tickEnd, to the next
// one: a pass that straddles an interval's end must not make that interval
// look more than fully busy.
func (w *worker) creditBusy(began, end, tickEnd time.Time) {
	if !end.After(tickEnd) {
		w.busy += end.Sub(began)
		return
	}
	if began.Before(tickEnd) {
		w.busy += tickEnd.Sub(began)
		began = tickEnd
	}
	w.busyNext += end.Sub(began)
}

func (w *worker) sendTick(start, end time.Time, final bool) {
	busy := 0.0
	if d := end.Sub(start); d > 0 {
		busy = min(1, w.busy.Seconds()/d.Seconds())
	}
	w.busy, w.busyNext = w.busyNext, 0
	var next histSet
	select {
	case next = <-w.spare:
	default:
		next = newHistSet(len(w.e.targets))
	}
	if w.streams != nil {
		w.mu.Lock()
	}
	full := w.hists
	w.hists = next
	errs := make([]map[string]int64, len(w.errors))
	vals := make([]ErrorValues, len(w.errors))
	for t := range w.errors {
		errs[t], vals[t] = cloneErrors(w.errors[t], w.errValues[t])
	}
	if w.streams != nil {
		w.mu.Unlock()
	}
	w.ticks <- tickMsg{start: start, end: end, hists: full, busy: busy, final: final, errors: errs, errValues: vals}
}

// eof handles the server closing the connection.
func (w *worker) eof(c *conn) {
	err := c.dec.Close()
	switch {
	case c.state < stateStreaming:
		w.fail(c, ErrEOFBeforeHeaders, "connection closed before a response head")
	case err != nil:
		w.fail(c, ErrEOFMidResponse, err.Error())
	default:
		w.ended(c)
	}
}

// ended handles a stream whose response ended cleanly (the origin
// finished, or a proxy ended it): over, or reconnecting (reconnect.go).
func (w *worker) ended(c *conn) {
	w.stats[c.t.index].ended.Add(1)
	w.drop(c, dropEnded)
}

// fail counts an error of the given kind for c's target and drops c's
// connection as a network error (reconnect.go decides what follows).
// Machine limits (file descriptors, source ports) are said once, in words.
func (w *worker) fail(c *conn, kind, msg string) { w.failCause(c, kind, "", msg, dropNetwork) }

// failErr fails c with an error of the decoder, the parser or Head,
// counted under its kind and value (classify).
func (w *worker) failErr(c *conn, err error) {
	kind, value, msg, cause := classify(err)
	w.failCause(c, kind, value, msg, cause)
}

func (w *worker) failCause(c *conn, kind, value, msg string, cause dropCause) {
	w.countError(c.t.index, kind, value)
	if hint := limitHint(kind); hint != "" && w.firstLimit(kind) {
		w.e.warnf("%s after %d connections: %s (%s)", kind, w.e.Snapshot().Opened, hint, msg)
	}
	if !w.drop(c, cause) {
		w.stats[c.t.index].failed.Add(1)
	}
}

// record adds one measurement to the worker's current interval. Epoll
// workers own their histograms outright; the https worker's streams run in
// their own goroutines and take the worker's lock.
func (w *worker) record(target int, m Metric, us int64) {
	if w.streams != nil {
		w.mu.Lock()
		w.hists.record(target, m, us)
		w.mu.Unlock()
		return
	}
	w.hists.record(target, m, us)
}

// firstLimit reports whether this is the first time the run hit the
// machine limit kind (any worker).
func (w *worker) firstLimit(kind string) bool {
	_, said := w.e.limitSaid.LoadOrStore(kind, true)
	return !said
}

func (w *worker) countError(target int, kind, value string) {
	if w.streams != nil {
		w.mu.Lock()
		defer w.mu.Unlock()
	}
	w.errors[target][kind]++
	w.errValues[target].Add(kind, value, 1)
}

// closeConn ends stream c for good.
func (w *worker) closeConn(c *conn) {
	w.closeSocket(c)
	w.finish(c)
}

// closeSocket closes c's current connection, if any. Every path out of
// stateStreaming passes here first and leaves it right after (drop: to
// waiting or closed; closeConn: to closed), so this is where an open
// response stops counting as open, once.
func (w *worker) closeSocket(c *conn) {
	if c.state == stateStreaming {
		w.stats[c.t.index].open.Add(-1)
	}
	if c.paused {
		w.unschedule(c)
	}
	w.closeFD(c)
	c.paused = false
}

// finish marks stream c over: it will not reconnect.
func (w *worker) finish(c *conn) {
	if c.state == stateClosed {
		return
	}
	c.state = stateClosed
	w.stats[c.t.index].gone.Add(1)
	w.e.finished()
}

// stopping reports whether the run is stopping.
func (w *worker) stopping() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return !w.stopAt.IsZero()
}
