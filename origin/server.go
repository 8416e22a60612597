package origin

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// TimePath is where the origin answers with its clock (Unix ns, shifted by
// Config.ClockSkew): the time source workers measure their offset against.
const TimePath = "/time"

const (
	// defaultWriteTimeout bounds every write to a stream. A client that
	// stops reading fills its socket buffers, and the write blocking on it
	// fails after this long: the stream is dropped instead of pinning a
	// goroutine forever. nginx's send_timeout (60 s) plays the same role one
	// hop out.
	defaultWriteTimeout = 30 * time.Second

	// shutdownGrace is how long Serve waits, after cancelling every stream,
	// for the responses to finish before it closes the connections. Streams
	// to clients that read end within milliseconds; only a client that has
	// stopped reading (its write blocked) needs the forced close.
	shutdownGrace = 5 * time.Second

	// readHeaderTimeout drops connections that never send a request head.
	readHeaderTimeout = 10 * time.Second

	// maxReplay bounds a broadcast replay (Last-Event-ID): a subscriber
	// resuming further back is sent only the latest maxReplay due
	// publishes, and the older ones are lost to it. At one event a second
	// that is close to three hours of outage; at 100/s, 100 s. It bounds
	// the burst one reconnecting client can ask for (10,000 unpadded events
	// are about 1 MB), not memory: catchUp writes a replay in pieces.
	maxReplay = 10_000
)

// heartbeatLine is the SSE comment written to a quiet stream
// (Config.Heartbeat). A line starting with ':' is ignored by a client
// (WHATWG HTML §9.2.6): it neither dispatches an event nor changes the one
// being built, and it is only ever written between two events. It is not
// followed by a blank line, so even a client that splits the stream on
// blank lines sees no empty event; the next event's lines follow it.
var heartbeatLine = []byte(": heartbeat\n")

// heartbeatFrame is heartbeatLine as a hijacked stream writes it:
// [0] bare (HTTP/1.0), [1] as one chunk (HTTP/1.1).
var heartbeatFrame = [2][]byte{heartbeatLine, appendChunk(nil, heartbeatLine)}

// Server is the origin: an http.Handler serving GET /events (the stream) and
// GET /healthz, plus Serve to run it on a listener.
type Server struct {
	cfg   Config
	hub   *hub   // broadcast mode only
	retry []byte // "retry: N\n\n", or nil

	subs atomic.Int64 // open /events streams, hijacked ones included

	// shards fan broadcast publishes out to the hijacked streams
	// (fanout.go); GOMAXPROCS of them, picked round robin.
	shards    []*shard
	nextShard atomic.Uint64

	writeTimeout  time.Duration // defaultWriteTimeout; shortened by tests
	shutdownGrace time.Duration // shutdownGrace; shortened by tests

	// bufs holds event buffers (*[]byte). A handler takes one only while it
	// writes, so thousands of idle subscribers with a large Payload share a
	// few buffers instead of pinning one each.
	bufs sync.Pool
}

var _ http.Handler = (*Server)(nil)

// New validates cfg and returns a Server. A zero cfg.Epoch becomes now.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Epoch.IsZero() {
		cfg.Epoch = time.Now()
	}
	s := &Server{cfg: cfg, writeTimeout: defaultWriteTimeout, shutdownGrace: shutdownGrace}
	if cfg.Mode == Broadcast {
		s.hub = newHub(cfg.Epoch, cfg.Interval, int64(cfg.Events))
		for range runtime.GOMAXPROCS(0) {
			s.shards = append(s.shards, newShard(s))
		}
	}
	if cfg.RetryMS > 0 {
		s.retry = append(strconv.AppendInt([]byte("retry: "), int64(cfg.RetryMS), 10), "\n\n"...)
	}
	size := eventSize(cfg.Payload)
	s.bufs.New = func() any {
		b := make([]byte, 0, size)
		return &b
	}
	return s, nil
}

// Subscribers returns the number of /events streams open now. A broadcast
// stream whose client has gone is counted until the origin's next write to
// it fails (nothing reads a hijacked connection; see fanout.go), so with a
// long Interval the count lags a disconnect by up to two publishes.
func (s *Server) Subscribers() int { return int(s.subs.Load()) }

// ServeHTTP serves GET /events, GET /time (serveTime), GET or HEAD
// /healthz ("ok"), 405 for other methods on those paths, and 404 for
// everything else.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Every response gets a write deadline, including the small ones: a
	// deadline set by an earlier stream on the same keep-alive connection
	// would otherwise still be in force. Writers that are not net/http's own
	// (a recorder) return ErrNotSupported, which is fine to ignore.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(s.writeTimeout))
	switch r.URL.Path {
	case "/events":
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", http.MethodGet)
			http.Error(w, "method not allowed: /events takes GET", http.StatusMethodNotAllowed)
			return
		}
		s.serveEvents(w, r)
	case TimePath:
		s.serveTime(w, r)
	case "/healthz":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed: /healthz takes GET", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok"))
	default:
		http.NotFound(w, r)
	}
}

// serveTime answers GET /time with the origin's clock (shifted by
// ClockSkew) as Unix nanoseconds in decimal: the time source generator
// workers measure their clock offset against (loadgen/procs, clock.go).
// It is read as late as possible, just before the write.
func (s *Server) serveTime(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, "method not allowed: /time takes GET", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(strconv.AppendInt(nil, time.Now().Add(s.cfg.ClockSkew).UnixNano(), 10))
}

// stream is one /events response in progress.
type stream struct {
	s  *Server
	w  http.ResponseWriter
	rc *http.ResponseController
}

func (s *Server) serveEvents(w http.ResponseWriter, r *http.Request) {
	s.subs.Add(1)
	st := stream{s: s, w: w, rc: http.NewResponseController(w)}
	seen, resume := lastEventID(r) // seen is 0 without one
	if s.hub == nil {
		defer s.subs.Add(-1)
		if seen >= int64(s.cfg.Events) {
			// The client has had every event: 204 is the one response
			// that tells an EventSource to stop reconnecting (WHATWG HTML
			// §9.2).
			w.WriteHeader(http.StatusNoContent)
			return
		}
		st.perConnection(r.Context(), seen)
		return
	}
	h := s.hub
	next := h.join()
	if resume {
		next = h.resume(next, seen)
	}
	if h.last > 0 && next > h.last {
		// The bounded broadcast is over (for this client: it has had, or
		// can no longer be replayed, every publish): 204 is the one
		// response that tells an EventSource to stop reconnecting (WHATWG
		// HTML §9.2).
		h.leave()
		s.subs.Add(-1)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if s.hijack(w, r, next) {
		return // the fan-out owns the stream (and its counts) now
	}
	defer s.subs.Add(-1)
	defer h.leave()
	st.broadcast(r.Context(), next)
}

// lastEventID returns n from a "Last-Event-ID: n" request header, which an
// EventSource sends when it reconnects, and whether there was one (0, false
// if not). Only a non-negative decimal integer that fits an int64, the form
// of the origin's own ids, counts: anything else (an id from another
// server, a sign, spaces inside) is ignored, and the stream starts as a
// fresh one would.
func lastEventID(r *http.Request) (int64, bool) {
	v := r.Header.Get("Last-Event-ID")
	if v == "" {
		return 0, false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil { // overflow
		return 0, false
	}
	return n, true
}

// beat is a stream's heartbeat timer: C fires once Config.Heartbeat has
// passed since the last reset (the stream's last write). The zero value,
// for Heartbeat 0, has a nil C, which a select never picks, so streams
// without heartbeats pay for no timer.
type beat struct {
	t *time.Timer
	d time.Duration
	C <-chan time.Time
}

func newBeat(d time.Duration) beat {
	if d <= 0 {
		return beat{}
	}
	t := time.NewTimer(d)
	return beat{t: t, d: d, C: t.C}
}

// reset restarts the wait from now: the stream has just been written to.
// (Since Go 1.23 a Reset timer delivers no stale tick.)
func (b beat) reset() {
	if b.t != nil {
		b.t.Reset(b.d)
	}
}

func (b beat) stop() {
	if b.t != nil {
		b.t.Stop()
	}
}

// start sets the response head and sends it: flushed on its own, or with
// the retry line when there is one. With HeadWithFirstEvent and no retry
// line nothing is written here: net/http sends the head with the first
// flushed bytes, the first event (or a heartbeat).
func (st stream) start() error {
	h := st.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	if st.s.cfg.XAccel {
		h.Set("X-Accel-Buffering", "no")
	}
	switch {
	case st.s.retry != nil:
		return st.write(st.s.retry)
	case st.s.cfg.HeadWithFirstEvent:
		return nil
	}
	return st.write(nil) // the head alone
}

// write writes p under a fresh deadline and flushes it to the connection,
// with the response head if that has not been sent yet (an empty p sends
// the head alone).
func (st stream) write(p []byte) error {
	_ = st.rc.SetWriteDeadline(time.Now().Add(st.s.writeTimeout))
	if len(p) > 0 {
		if _, err := st.w.Write(p); err != nil {
			return err
		}
	}
	return st.rc.Flush()
}

// events writes events from..to (inclusive), event k scheduled at
// sched(k), each with its own write time as "sent", and flushes once after
// the last. Normally from == to: one event, one flush. A batch means the
// stream is behind (it was blocked, or the hub woke late); its events are
// all due already, so sharing one flush delays none of them and saves a
// write system call per event exactly when the origin is short of time.
func (st stream) events(from, to int64, sched func(int64) time.Time) error {
	buf := st.s.bufs.Get().(*[]byte)
	defer st.s.bufs.Put(buf)
	for k := from; k <= to; k++ {
		now := time.Now()
		skew := st.s.cfg.ClockSkew
		*buf = AppendEvent((*buf)[:0], k, sched(k).Add(skew), now.Add(skew), st.s.cfg.Payload)
		_ = st.rc.SetWriteDeadline(now.Add(st.s.writeTimeout))
		if _, err := st.w.Write(*buf); err != nil {
			return err
		}
	}
	return st.rc.Flush()
}

// perConnection writes events seen+1..Events, event k at t0 +
// (k-seen)×Interval, t0 being this request's start, then returns, which
// ends the response. seen is 0 for a fresh stream, or the Last-Event-ID of
// a reconnecting one (< Events), which so continues where it left off, one
// Interval apart as usual.
func (st stream) perConnection(ctx context.Context, seen int64) {
	t0 := time.Now()
	if st.start() != nil {
		return
	}
	iv := st.s.cfg.Interval
	sched := func(k int64) time.Time { return t0.Add(time.Duration(k-seen) * iv) }
	timer := time.NewTimer(iv)
	defer timer.Stop()
	hb := newBeat(st.s.cfg.Heartbeat)
	defer hb.stop()
	for k := seen + 1; k <= int64(st.s.cfg.Events); k++ {
		if k > seen+1 {
			timer.Reset(time.Until(sched(k)))
		}
		if !st.wait(ctx, timer.C, hb) {
			return
		}
		if st.events(k, k, sched) != nil {
			return
		}
		hb.reset()
	}
}

// wait returns true when due fires, and false when ctx ends first or a
// write fails. Meanwhile it writes a heartbeat each time hb fires.
func (st stream) wait(ctx context.Context, due <-chan time.Time, hb beat) bool {
	for {
		select {
		case <-due:
			return true
		case <-hb.C:
			if st.write(heartbeatLine) != nil {
				return false
			}
			hb.reset()
		case <-ctx.Done():
			return false
		}
	}
}

// broadcast serves a broadcast stream whose connection cannot be hijacked
// (HTTP/2, a ResponseRecorder) from its handler goroutine: it writes every
// publish from next on, as the hub publishes it, until ctx ends, a write
// fails or, for a bounded broadcast, the final publish has been written.
// Streams over HTTP/1.x go to the fan-out instead (fanout.go).
//
// It writes up to the latest *due* seq, not only the latest the hub has
// published: a replay (next from Last-Event-ID) may start before the hub
// has caught up (it has just started, in a restarted origin) or when it no
// longer runs (a bounded broadcast that is over), and due publishes are as
// computable as published ones.
func (st stream) broadcast(ctx context.Context, next int64) {
	h := st.s.hub
	if st.start() != nil {
		return
	}
	hb := newBeat(st.s.cfg.Heartbeat)
	defer hb.stop()
	for {
		t := h.cur.Load()
		if hi := max(t.seq, h.due(time.Now())); next <= hi {
			if st.events(next, hi, h.sched) != nil {
				return
			}
			next = hi + 1
			hb.reset()
		}
		if h.last > 0 && next > h.last {
			return
		}
		select {
		case <-t.done:
		case <-hb.C:
			if st.write(heartbeatLine) != nil {
				return
			}
			hb.reset()
		case <-ctx.Done():
			return
		}
	}
}

// Serve serves on ln until ctx is done, then ends every open stream (their
// responses end cleanly: the chunked terminator, or the close for an
// HTTP/1.0 request), closes ln and returns nil. Streams whose client has
// stopped reading are cut after a grace period. Any other failure (ln
// failing to accept) is returned wrapped, after the same shutdown. Serve
// closes ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	// Every request's context derives from this one, so cancelling it ends
	// every per-connection stream: the handlers return and net/http
	// finishes the responses. Hijacked broadcast streams are ended through
	// set, below.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var g gate
	var set streamSet // the hijacked broadcast streams
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !g.enter() {
				w.Header().Set("Connection", "close")
				http.Error(w, "origin shutting down", http.StatusServiceUnavailable)
				return
			}
			defer g.exit()
			s.ServeHTTP(w, r)
		}),
		BaseContext: func(net.Listener) context.Context {
			return context.WithValue(ctx, streamSetKey{}, &set)
		},
		ReadHeaderTimeout: readHeaderTimeout,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	cancel()
	sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), s.shutdownGrace)
	if srv.Shutdown(sctx) != nil {
		_ = srv.Close() // cut the streams whose writes are blocked
	}
	scancel()
	if err == nil {
		err = <-errc
	}
	// net/http knows nothing of the hijacked streams: end them (a handler
	// still hijacking one finds the set closed and ends it at once), and
	// wait for them. Shutdown does not wait for handlers whose connection it
	// closed either; wait here so that every stream has ended (and
	// Subscribers is 0) on return.
	set.endAll(s.shutdownGrace, s.shards)
	g.closeAndWait()
	set.wait()
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("origin serve on %s: %w", ln.Addr(), err)
	}
	return nil
}

// gate counts running handlers and, once closed, admits no more, so that
// waiting for them cannot race with a late arrival.
type gate struct {
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

func (g *gate) enter() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.wg.Add(1)
	return true
}

func (g *gate) exit() { g.wg.Done() }

func (g *gate) closeAndWait() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	g.wg.Wait()
}
