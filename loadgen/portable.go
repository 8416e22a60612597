package loadgen

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// The portable engine (Config.Engine "portable"): one goroutine per stream
// over a net.Conn (a tls.Conn for https HTTP/1.1), the pattern of the https worker (tls.go) but with
// the epoll worker's wire: the same request bytes (conn.request), the same
// raw HTTP decoder, SSE parser, conn logic, recorders, reconnection and
// redirect handling, and the same error kinds. It runs wherever Go does;
// on Linux it is the check that the epoll engine measures nothing of its
// own (the engine test suites run once with each, .ci/run).
//
// Its cost is a goroutine per stream, a net.Conn, and while a connection is
// open a read buffer taken from a pool (returned when the connection ends,
// so streams waiting to reconnect hold none): docs/benchmarks.md measures it
// beside the epoll engine's.

// rawBufSize is the portable engine's read buffer: one per open connection,
// from rawBufs. Small, because every open stream holds one while it waits
// in Read; an event larger than it is read in several pieces, as the
// parser allows.
const rawBufSize = 4 << 10

// rawBufs pools the portable engine's read buffers across streams and
// connections.
var rawBufs = sync.Pool{New: func() any { b := make([]byte, rawBufSize); return &b }}

// newPortableWorker returns a worker of the portable engine: no epoll set;
// its run loop (runStreams) keeps the interval ticks while each stream runs
// in its own goroutine.
func newPortableWorker(e *Engine, id int) *worker {
	ctx, cancel := context.WithCancel(context.Background())
	w := newWorkerState(e, id)
	w.streams = &streamSet{ctx: ctx, cancel: cancel, dialing: make(chan struct{}, handshakers)}
	return w
}

// openRaw starts one plain-HTTP stream in its own goroutine.
func (w *worker) openRaw(t *target) {
	s := w.streams
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		w.rawStream(s.ctx, t)
	}()
}

// rawStream is one EventSource stream: its connections, one after the
// other (reconnections after drops, as the policy decides), until it is
// over or the run stops.
func (w *worker) rawStream(ctx context.Context, t *target) {
	c := &conn{w: w, t: t, fd: -1, addr: t.addr, born: time.Now()}
	c.parser.MaxEventBytes = w.e.cfg.MaxEventBytes
	w.stats[t.index].opened.Add(1)
	for {
		w.rawConnection(ctx, c)
		for c.state == stateWaiting {
			if !w.sleepUntil(ctx, c.due) {
				w.closeConn(c)
				return
			}
			if err := c.readyReconnect(); err != nil {
				w.fail(c, ErrRequest, "reconnect: "+err.Error())
				continue // the policy decided: waiting again, or over
			}
			break
		}
		if c.state == stateClosed {
			return
		}
	}
}

// sleepUntil waits until due (since the engine's epoch); false when the
// run stopped first.
func (w *worker) sleepUntil(ctx context.Context, due time.Duration) bool {
	timer := time.NewTimer(due - time.Since(w.e.epoch))
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

// rawConnection runs one connection attempt of stream c, following
// redirects on new connections, until its response ends or fails; ended
// and fail leave c waiting to reconnect or over.
func (w *worker) rawConnection(ctx context.Context, c *conn) {
	for {
		c.state = stateConnecting
		c.start = time.Since(w.e.epoch)
		nc, err := w.dialRaw(ctx, c)
		if err != nil {
			switch {
			case ctx.Err() != nil:
				w.cut(c)
			case isTimeout(err):
				w.fail(c, ErrConnectTimeout, fmt.Sprintf("connect %s: no answer within %s", c.addr, w.e.cfg.ConnectTimeout))
			default:
				w.fail(c, errnoKind(err, ErrConnect), fmt.Sprintf("connect %s: %v", c.addr, err))
			}
			return
		}
		if c.t.tls {
			tc, err := w.handshakeRaw(ctx, c, nc)
			if err != nil {
				nc.Close()
				if ctx.Err() != nil {
					w.cut(c)
				} else {
					w.failCause(c, ErrTLSHandshake, handshakeValue(err), fmt.Sprintf("tls handshake with %s: %v", c.addr, err), dropNetwork)
				}
				return
			}
			nc = tc
			c.tls = &tlsState{conn: tc}
		}
		follow := w.serveRaw(ctx, c, nc)
		nc.Close()
		c.tls = nil
		if !follow {
			return
		}
		c.dec.Reset() // a redirect (redirect.go): c.addr and c.req say where
	}
}

// dialRaw connects to c.addr, from the target's next source address when
// it has them, within the connect timeout.
func (w *worker) dialRaw(ctx context.Context, c *conn) (net.Conn, error) {
	d := net.Dialer{Timeout: w.e.cfg.ConnectTimeout}
	if src := c.t.sources; len(src) > 0 && c.addr == c.t.addr {
		w.mu.Lock()
		a := src[w.srcNext%len(src)]
		w.srcNext++
		w.mu.Unlock()
		// The port is chosen at bind time here (no IP_BIND_ADDRESS_NO_PORT
		// outside the epoll engine): one source address serves ~28k
		// streams in all, not per destination.
		d.LocalAddr = &net.TCPAddr{IP: a.AsSlice()}
	}
	nc, err := d.DialContext(ctx, "tcp", c.addr.String())
	if err != nil {
		return nil, err
	}
	if tc, ok := nc.(*net.TCPConn); ok && c.t.ReadBytesPerSec > 0 {
		_ = tc.SetReadBuffer(slowRcvBuf) // Go sets TCP_NODELAY already
	}
	return nc, nil
}

// handshakeRaw runs the TLS handshake of an https HTTP/1.1 stream on nc
// (the target's tls.Config: its server name, ALPN http/1.1), within the
// connect timeout, at most handshakers at once per worker, as the epoll
// workers' handshaker bounds them: thousands of goroutines handshaking
// together on a few cores would all miss their timeout.
func (w *worker) handshakeRaw(ctx context.Context, c *conn, nc net.Conn) (*tls.Conn, error) {
	select {
	case w.streams.dialing <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-w.streams.dialing }()
	hctx, cancel := context.WithTimeout(ctx, w.e.cfg.ConnectTimeout)
	defer cancel()
	tc := tls.Client(nc, c.t.tlsConfig)
	if err := tc.HandshakeContext(hctx); err != nil {
		if hctx.Err() != nil && ctx.Err() == nil {
			return nil, os.ErrDeadlineExceeded // counted as tls_handshake timeout
		}
		return nil, err
	}
	return tc, nil
}

// serveRaw sends c's request on nc and reads the response through the
// decoder until it ends, fails or the run stops. It reports whether the
// response was a redirect to follow.
func (w *worker) serveRaw(ctx context.Context, c *conn, nc net.Conn) (follow bool) {
	// The run's end unblocks the Write and Read below; the goroutine then
	// sees ctx done and ends the stream as the epoll worker's shutdown does.
	stop := context.AfterFunc(ctx, func() { _ = nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	c.state = stateSending
	if _, err := nc.Write(c.request()); err != nil {
		if ctx.Err() != nil {
			w.cut(c)
			return false
		}
		w.fail(c, errnoKind(err, ErrRequest), "send request: "+err.Error())
		return false
	}
	c.state = stateHead
	bufp := rawBufs.Get().(*[]byte)
	defer rawBufs.Put(bufp)
	for {
		buf := *bufp
		if c.t.ReadBytesPerSec > 0 {
			now := time.Since(w.e.epoch)
			lim := c.readLimit(now)
			if lim == 0 {
				// Out of budget: stop reading until a burst has refilled,
				// so unread bytes back up to the server (readrate.go).
				refill := time.Duration(int64(burst(c.t.ReadBytesPerSec)) * int64(time.Second) / int64(c.t.ReadBytesPerSec))
				if !w.sleepUntil(ctx, now+refill) {
					w.cut(c)
					return false
				}
				continue
			}
			buf = buf[:min(lim, len(buf))]
		}
		n, err := nc.Read(buf)
		if n > 0 {
			if c.t.ReadBytesPerSec > 0 {
				c.budget -= n
			}
			if ferr := c.dec.Feed(buf[:n], c); ferr != nil {
				if ferr == errFollow {
					return true
				}
				w.failErr(c, ferr)
				return false
			}
			if c.dec.Done() {
				w.ended(c)
				return false
			}
		}
		switch {
		case err == nil:
		case errors.Is(err, io.EOF):
			w.eof(c)
			return false
		case ctx.Err() != nil:
			w.cut(c)
			return false
		default:
			w.fail(c, errnoKind(err, ErrRead), "read: "+err.Error())
			return false
		}
	}
}

// cut ends stream c at the run's end, as the epoll worker's shutdown does:
// a stream still without its first response head fails as
// no_response_headers; any other is closed.
func (w *worker) cut(c *conn) {
	if c.state < stateStreaming && !c.opened {
		w.fail(c, ErrNoResponseHeaders, "no response head before the run ended")
		return
	}
	w.closeConn(c)
}

// isTimeout reports whether a dial failed on its timeout.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
