package loadgen

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// TLS streams in the epoll workers.
//
// An https stream (HTTP/1.1) is served like a plain one: one socket in a
// worker's epoll set, read into the worker's shared buffer, no goroutine of
// its own. The TLS is the standard library's crypto/tls, driven without
// blocking. crypto/tls was chosen over lesismal/llib's non-blocking TLS
// (the other maintained option): it is maintained and audited with Go
// itself, supports TLS 1.3 with every current cipher suite, and it already
// can be driven this way:
//
//   - tls.Conn reads its transport through net.Conn. When that Read fails
//     with a net.Error whose Temporary() is true, tls.Conn returns the error
//     without poisoning the connection (readRecordOrCCS in crypto/tls
//     conn.go sets the sticky error only for non-temporary ones), and the
//     bytes of a partial record stay in its raw input buffer for the next
//     Read. fdConn, the transport here, is the raw non-blocking socket whose
//     Read returns errWouldBlock, such an error, on EAGAIN.
//   - The connect, the handshake (a few round trips, a certificate to
//     verify: ~1 ms of CPU) and the request write run in a small shared
//     pool of goroutines (handshaker), where fdConn waits with poll(2) up
//     to a deadline. Once the request is written the socket is handed to
//     its worker, which from then on calls tls.Conn.Read on readability
//     until it would block. A stream waiting for a free handshaker has no
//     socket yet: when the generator cannot handshake as fast as the ramp
//     asks, streams queue here (their time to headers, measured from the
//     stream's start, says so) rather than as accepted connections whose
//     server gives up waiting for a ClientHello.
//   - Post-handshake messages (TLS 1.3 session tickets, key updates) arrive
//     inside Read and are handled there. Session tickets are dropped
//     without being kept: the configuration has no ClientSessionCache
//     (unless the user's has one), so nothing is retained per connection.
//     A key update asks for one record back: fdConn writes it, waiting at
//     most writeStall for the socket.
//
// What a connection keeps after its handshake is tls.Conn itself, its
// ciphers, and its raw input buffer, sized by the largest record read
// (SSE events are small records; see docs/benchmarks.md for the bytes per
// stream measured).

// writeStall bounds how long a worker waits for a TLS write after the
// handshake (the answer to a key update): the socket's send buffer is
// almost always free, as the stream only reads.
const writeStall = time.Second

// pollSlice is the longest single poll(2) wait, so an aborted run is
// noticed by waiting handshakes within it.
const pollSlice = 50 * time.Millisecond

// errWouldBlock is what fdConn.Read returns in the worker when the socket
// has nothing more: a temporary net.Error, which tls.Conn passes up
// without failing the connection.
var errWouldBlock error = wouldBlock{}

type wouldBlock struct{}

func (wouldBlock) Error() string   { return "read would block" }
func (wouldBlock) Timeout() bool   { return true }
func (wouldBlock) Temporary() bool { return true }

// fdConn is a net.Conn over a non-blocking socket that it does not own
// (the worker closes the fd). In blocking mode (the handshaker) it waits
// for the socket with poll(2) until its deadline; otherwise (the worker)
// Read returns errWouldBlock.
type fdConn struct {
	fd       int
	blocking bool
	deadline time.Time
	abort    *atomic.Bool // the run is stopping: give up waiting
}

func (f *fdConn) Read(p []byte) (int, error) {
	for {
		n, err := unix.Read(f.fd, p)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			if !f.blocking {
				return 0, errWouldBlock
			}
			if err := f.wait(unix.POLLIN, f.deadline); err != nil {
				return 0, err
			}
			continue
		case err != nil:
			return 0, os.NewSyscallError("read", err)
		case n == 0:
			return 0, io.EOF
		}
		return n, nil
	}
}

func (f *fdConn) Write(p []byte) (int, error) {
	deadline := f.deadline
	if !f.blocking {
		deadline = time.Now().Add(writeStall)
	}
	done := 0
	for done < len(p) {
		n, err := unix.Write(f.fd, p[done:])
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			if err := f.wait(unix.POLLOUT, deadline); err != nil {
				return done, err
			}
			continue
		case err != nil:
			return done, os.NewSyscallError("write", err)
		}
		done += n
	}
	return done, nil
}

// wait polls the socket for events until deadline, in slices so that an
// abort is noticed. The socket is polled at least once, even past the
// deadline: a connection that waited in the handshaker's queue while its
// connect completed is not a timeout.
func (f *fdConn) wait(events int16, deadline time.Time) error {
	for {
		if f.abort != nil && f.abort.Load() {
			return errHandshakeAborted
		}
		left := max(0, time.Until(deadline))
		fds := []unix.PollFd{{Fd: int32(f.fd), Events: events}}
		ms := 0
		if left > 0 {
			ms = int(min(left, pollSlice).Milliseconds()) + 1
		}
		n, err := unix.Poll(fds, ms)
		if err != nil && err != unix.EINTR {
			return os.NewSyscallError("poll", err)
		}
		if n > 0 {
			return nil // ready, or an error the next read or write reports
		}
		if left == 0 {
			return os.ErrDeadlineExceeded
		}
	}
}

func (f *fdConn) Close() error                       { return nil } // the worker closes the fd
func (f *fdConn) LocalAddr() net.Addr                { return fdAddr{} }
func (f *fdConn) RemoteAddr() net.Addr               { return fdAddr{} }
func (f *fdConn) SetDeadline(t time.Time) error      { f.deadline = t; return nil }
func (f *fdConn) SetReadDeadline(t time.Time) error  { f.deadline = t; return nil }
func (f *fdConn) SetWriteDeadline(t time.Time) error { f.deadline = t; return nil }

// fdAddr stands for the socket's addresses, which tls.Conn only prints.
type fdAddr struct{}

func (fdAddr) Network() string { return "tcp" }
func (fdAddr) String() string  { return "socket" }

// tlsState is the TLS side of a stream's current connection.
type tlsState struct {
	src  netip.Addr // the local address to connect from; invalid = any
	fc   fdConn
	conn *tls.Conn
	err  error // the handshake's outcome, read by the worker when it is back
	// errKind is the error kind of err (ErrTLSHandshake, a connect kind,
	// …), errValue its value (handshakeValue) or "".
	errKind, errValue string
}

// handshaker runs TLS handshakes for every worker of an engine.
type handshaker struct {
	abort atomic.Bool
	mu    sync.Mutex
	cond  *sync.Cond
	jobs  []*conn
	done  bool
	wg    sync.WaitGroup
}

func newHandshaker() *handshaker {
	h := &handshaker{}
	h.cond = sync.NewCond(&h.mu)
	for i := 0; i < handshakers; i++ {
		h.wg.Add(1)
		go h.loop()
	}
	return h
}

func (h *handshaker) submit(c *conn) {
	h.mu.Lock()
	h.jobs = append(h.jobs, c)
	h.mu.Unlock()
	h.cond.Signal()
}

// close ends the pool once no worker will submit again.
func (h *handshaker) close() {
	h.abort.Store(true)
	h.mu.Lock()
	h.done = true
	h.mu.Unlock()
	h.cond.Broadcast()
	h.wg.Wait()
}

func (h *handshaker) loop() {
	defer h.wg.Done()
	for {
		h.mu.Lock()
		for len(h.jobs) == 0 && !h.done {
			h.cond.Wait()
		}
		if len(h.jobs) == 0 {
			h.mu.Unlock()
			return
		}
		c := h.jobs[0]
		h.jobs[0] = nil
		h.jobs = h.jobs[1:]
		h.mu.Unlock()
		h.handshake(c)
		c.w.tlsBack(c)
	}
}

// handshake waits for c's connect, then runs the TLS handshake and writes
// the request, each within the connect timeout. The worker does not touch
// c meanwhile.
func (h *handshaker) handshake(c *conn) {
	ts := c.tls
	cfg := c.w.e.cfg
	ts.fc.abort = &h.abort
	if h.abort.Load() {
		ts.err = errHandshakeAborted
		return
	}
	fd, err := dialSocket(c, ts.src)
	if err != nil {
		ts.err, ts.errKind = err, errnoKind(err, ErrConnect)
		return
	}
	ts.fc.fd = fd
	ts.fc.deadline = time.Now().Add(cfg.ConnectTimeout)
	if err := ts.fc.wait(unix.POLLOUT, ts.fc.deadline); err != nil {
		ts.err, ts.errKind = fmt.Errorf("connect %s: %w", c.addr, err), ErrConnect
		if errors.Is(err, os.ErrDeadlineExceeded) {
			ts.err, ts.errKind = fmt.Errorf("connect %s: no answer within %s", c.addr, cfg.ConnectTimeout), ErrConnectTimeout
		}
		return
	}
	soerr, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err == nil && soerr != 0 {
		err = unix.Errno(soerr)
	}
	if err != nil {
		ts.err, ts.errKind = fmt.Errorf("connect %s: %w", c.addr, err), errnoKind(err, ErrConnect)
		return
	}
	ts.fc.deadline = time.Now().Add(cfg.ConnectTimeout)
	ts.conn = tls.Client(&ts.fc, c.tlsConfig())
	if err := ts.conn.Handshake(); err != nil {
		ts.err, ts.errKind = fmt.Errorf("tls handshake with %s: %w", c.addr, err), ErrTLSHandshake
		ts.errValue = handshakeValue(err)
		return
	}
	if _, err := ts.conn.Write(c.request()); err != nil {
		ts.err, ts.errKind = fmt.Errorf("send request: %w", err), errnoKind(err, ErrRequest)
		return
	}
	ts.fc.blocking = false
}

// tlsConfig is the configuration for c's next connection: the target's,
// with the server name of where a redirect led when that is another host.
func (c *conn) tlsConfig() *tls.Config {
	cfg := c.t.tlsConfig
	if c.url != nil && c.url.Hostname() != cfg.ServerName {
		cfg = cfg.Clone()
		cfg.ServerName = c.url.Hostname()
	}
	return cfg
}

// tlsWorker is a worker's side of its TLS streams: those handed to the
// handshaker and those back from it, to be registered.
type tlsWorker struct {
	hs       *handshaker
	inFlight int     // handed to the handshaker, not back yet (worker only)
	back     []*conn // back from the handshaker; under worker.mu
	signal   chan struct{}
}

// connectTLS hands c to the handshaker, to connect from src (invalid:
// any).
func (w *worker) connectTLS(c *conn, src netip.Addr) {
	if w.tls.signal == nil {
		w.tls.signal = make(chan struct{}, 1)
	}
	c.fd = -1 // not in the epoll set until the handshake is done
	c.tls = &tlsState{src: src, fc: fdConn{fd: -1, blocking: true}}
	w.tls.inFlight++
	w.tls.hs.submit(c)
}

// tlsBack is called by the handshaker when c's handshake is over.
func (w *worker) tlsBack(c *conn) {
	w.mu.Lock()
	w.tls.back = append(w.tls.back, c)
	w.mu.Unlock()
	select {
	case w.tls.signal <- struct{}{}:
	default:
	}
	w.wake()
}

// takeTLS registers, or fails, the streams back from the handshaker.
// During shutdown (stopping) none is registered: those whose stream never
// opened fail as no_response_headers, as plain ones still connecting do.
func (w *worker) takeTLS(stopping bool) {
	w.mu.Lock()
	back := w.tls.back
	w.tls.back = nil
	w.mu.Unlock()
	for i, c := range back {
		back[i] = nil
		w.tls.inFlight--
		ts := c.tls
		c.fd = ts.fc.fd // -1 when no socket was made
		for c.fd >= len(w.conns) {
			w.conns = append(w.conns, make([]*conn, len(w.conns)+1024)...)
		}
		switch {
		case stopping || errors.Is(ts.err, errHandshakeAborted):
			if !c.opened {
				w.fail(c, ErrNoResponseHeaders, "no response head before the run ended")
			} else {
				w.closeConn(c)
			}
		case ts.err != nil:
			w.failCause(c, ts.errKind, ts.errValue, ts.err.Error(), dropNetwork)
		default:
			w.registerTLS(c)
		}
	}
}

// registerTLS adds c's socket, handshake done and request written, to the
// epoll set, waiting for the response head.
func (w *worker) registerTLS(c *conn) {
	c.state = stateHead
	w.conns[c.fd] = c
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(c.fd)}
	if err := unix.EpollCtl(w.epfd, unix.EPOLL_CTL_ADD, c.fd, &ev); err != nil {
		w.fail(c, ErrRequest, "epoll_ctl: "+err.Error())
		return
	}
	// The handshake may have read response bytes already (a server that
	// answers at once): they wait in tls.Conn, not in the socket.
	w.read(c)
}

// shutdownTLS waits for this worker's handshakes (the handshaker aborts
// them) and fails those streams as the run's end.
func (w *worker) shutdownTLS() {
	if w.tls.hs == nil {
		return
	}
	w.tls.hs.abort.Store(true)
	for {
		w.takeTLS(true)
		if w.tls.inFlight == 0 {
			return
		}
		<-w.tls.signal
	}
}

// readTLS reads c's TLS stream into buf until the socket would block:
// tls.Conn may hold decrypted bytes, or whole records, that the socket
// will not signal again.
func (w *worker) readTLS(c *conn, buf []byte) {
	for c.fd >= 0 && c.tls != nil {
		if c.t.ReadBytesPerSec > 0 {
			lim := c.readLimit(time.Since(w.e.epoch))
			if lim == 0 {
				if !c.paused {
					w.pauseReading(c, time.Since(w.e.epoch))
				}
				return
			}
			buf = buf[:lim]
		}
		n, err := c.tls.conn.Read(buf)
		if n > 0 {
			if c.t.ReadBytesPerSec > 0 {
				c.budget -= n
			}
			if !w.consume(c, buf[:n]) {
				return
			}
		}
		switch {
		case err == nil:
		case errors.Is(err, errWouldBlock):
			return
		case errors.Is(err, io.EOF):
			w.eof(c)
			return
		default:
			w.fail(c, errnoKind(err, ErrRead), "read: "+err.Error())
			return
		}
	}
}

// startHandshaker gives the epoll workers their handshaker when a target
// is https over HTTP/1.1; the portable engine's streams handshake in their
// own goroutines (portable.go). The returned function stops it.
func (e *Engine) startHandshaker() (stop func()) {
	if e.cfg.Engine == EnginePortable || !slices.ContainsFunc(e.targets, func(t *target) bool { return t.tls }) {
		return func() {}
	}
	hs := newHandshaker()
	for _, w := range e.workers {
		w.tls.hs = hs
	}
	return hs.close
}
