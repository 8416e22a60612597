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
)

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

// ServeHTTP serves GET /events, GET or HEAD /healthz ("ok"), 405 for other
// methods on those paths, and 404 for everything else.
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

// stream is one /events response in progress.
type stream struct {
	s  *Server
	w  http.ResponseWriter
	rc *http.ResponseController
}

func (s *Server) serveEvents(w http.ResponseWriter, r *http.Request) {
	s.subs.Add(1)
	st := stream{s: s, w: w, rc: http.NewResponseController(w)}
	if s.hub == nil {
		defer s.subs.Add(-1)
		st.perConnection(r.Context())
		return
	}
	h := s.hub
	next := h.join()
	if h.last > 0 && next > h.last {
		// The bounded broadcast is over: 204 is the one response that tells
		// an EventSource to stop reconnecting (WHATWG HTML §9.2).
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

// start sets the response head. Nothing is written here: net/http sends the
// head with the first flushed bytes, which are the first event (or the
// retry line).
func (st stream) start() error {
	h := st.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	if st.s.cfg.XAccel {
		h.Set("X-Accel-Buffering", "no")
	}
	if st.s.retry == nil {
		return nil
	}
	return st.write(st.s.retry)
}

// write writes p under a fresh deadline and flushes it to the connection.
func (st stream) write(p []byte) error {
	_ = st.rc.SetWriteDeadline(time.Now().Add(st.s.writeTimeout))
	if _, err := st.w.Write(p); err != nil {
		return err
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
		*buf = AppendEvent((*buf)[:0], k, sched(k), now, st.s.cfg.Payload)
		_ = st.rc.SetWriteDeadline(now.Add(st.s.writeTimeout))
		if _, err := st.w.Write(*buf); err != nil {
			return err
		}
	}
	return st.rc.Flush()
}

// perConnection writes event k at t0 + k×Interval for k = 1..Events, t0
// being this request's start, then returns, which ends the response.
func (st stream) perConnection(ctx context.Context) {
	t0 := time.Now()
	if st.start() != nil {
		return
	}
	iv := st.s.cfg.Interval
	sched := func(k int64) time.Time { return t0.Add(time.Duration(k) * iv) }
	timer := time.NewTimer(iv)
	defer timer.Stop()
	for k := int64(1); k <= int64(st.s.cfg.Events); k++ {
		if k > 1 {
			timer.Reset(time.Until(sched(k)))
		}
		select {
		case <-timer.C:
		case <-ctx.Done():
			return
		}
		if st.events(k, k, sched) != nil {
			return
		}
	}
}

// broadcast serves a broadcast stream whose connection cannot be hijacked
// (HTTP/2, a ResponseRecorder) from its handler goroutine: it writes every
// publish from next on, as the hub publishes it, until ctx ends, a write
// fails or, for a bounded broadcast, the final publish has been written.
// Streams over HTTP/1.x go to the fan-out instead (fanout.go).
func (st stream) broadcast(ctx context.Context, next int64) {
	h := st.s.hub
	if st.start() != nil {
		return
	}
	for {
		t := h.cur.Load()
		if next <= t.seq {
			if st.events(next, t.seq, h.sched) != nil {
				return
			}
			next = t.seq + 1
		}
		if h.last > 0 && next > h.last {
			return
		}
		select {
		case <-t.done:
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
