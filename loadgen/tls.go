package loadgen

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/sseload/sseload/loadgen/httpstream"
)

// streamSet runs the HTTP/2 streams of one engine (Target.HTTP2): one
// goroutine per stream through net/http's client connections, feeding the
// same SSE parser and conn logic as the epoll workers. HTTP/1.1 https
// streams do not come here: they run in the epoll workers
// (tlsconn_linux.go).
//
// Connections are explicit (http.Transport.NewClientConn), not the
// Transport's pool, so that the run says how streams share them:
// Config.StreamsPerConn streams of a target take the same connection in
// the order they open (1, the default: one connection per stream, as
// devices; more: browser tabs multiplexed on one connection). A server
// that answers HTTP/1.1 to the ALPN offer gets one stream per connection
// whatever the setting: the protocol is reported (TargetResult.Protocol).
type streamSet struct {
	tr      *http.Transport
	perConn int
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	mu      sync.Mutex
	current map[int]*connGroup // per target: the connection streams join
	// dialing admits at most handshakers connections being set up at once,
	// as the epoll workers' handshaker does: 10,000 goroutines
	// handshaking together on a few cores would all miss their timeout.
	dialing chan struct{}
}

// connGroup is one client connection and the streams assigned to it.
type connGroup struct {
	ready    chan struct{} // closed once dialed: cc or err is set
	cc       *http.ClientConn
	err      error
	assigned int // streams that joined it, ever
	active   int // streams using it now
}

// newStreamWorker returns the worker that serves HTTP/2 targets. It has
// no epoll set; its run loop only keeps the interval ticks.
func newStreamWorker(e *Engine, id int) *worker {
	var protos http.Protocols
	protos.SetHTTP1(true)
	protos.SetHTTP2(true)
	tr := &http.Transport{
		Proxy:               nil, // measure the target, not a forward proxy in between
		DialContext:         (&net.Dialer{Timeout: e.cfg.ConnectTimeout}).DialContext,
		TLSClientConfig:     e.cfg.TLSConfig,
		TLSHandshakeTimeout: e.cfg.ConnectTimeout,
		DisableCompression:  true,
		Protocols:           &protos, // h2 offered first by ALPN, http/1.1 accepted
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := newWorkerState(e, id)
	w.streams = &streamSet{
		tr: tr, perConn: max(1, e.cfg.StreamsPerConn),
		ctx: ctx, cancel: cancel,
		current: map[int]*connGroup{},
		dialing: make(chan struct{}, handshakers),
	}
	return w
}

// acquire returns a connection for one request of a stream of t to u: the
// target's current group while it has room (StreamsPerConn) and works,
// else a new one. alone asks for a connection of its own (a redirect led
// elsewhere).
func (s *streamSet) acquire(ctx context.Context, t *target, u *url.URL, alone bool) (*connGroup, error) {
	s.mu.Lock()
	g := s.current[t.index]
	if !alone && g != nil && g.assigned < s.perConn && g.usable() {
		g.assigned++
		g.active++
		s.mu.Unlock()
		<-g.ready
		// Reserve fails when the connection is at its limit: an HTTP/1.1
		// answer to the ALPN offer, or the server's concurrent-streams
		// setting. The stream then takes a connection of its own.
		if g.err == nil && g.cc.Reserve() == nil {
			return g, nil
		}
		s.release(t, g)
		alone = true
		s.mu.Lock()
	}
	g = &connGroup{ready: make(chan struct{}), assigned: 1, active: 1}
	if !alone {
		s.current[t.index] = g
	}
	s.mu.Unlock()
	port := u.Port()
	if port == "" {
		port = "443"
	}
	select {
	case s.dialing <- struct{}{}:
		g.cc, g.err = s.tr.NewClientConn(ctx, "https", net.JoinHostPort(u.Hostname(), port))
		<-s.dialing
	case <-ctx.Done():
		g.err = ctx.Err()
	}
	if g.err == nil {
		// The dialer takes its slot like every stream that joins: on an
		// HTTP/1.1 answer the connection has one, and a joiner that found
		// it free would queue its request behind this one's endless
		// response.
		if err := g.cc.Reserve(); err != nil {
			g.cc.Close()
			g.err = fmt.Errorf("reserve a request on the new connection: %w", err)
		}
	}
	close(g.ready)
	if g.err != nil {
		err := g.err
		s.release(t, g)
		return nil, err
	}
	return g, nil
}

// usable reports, without waiting, whether g may take another stream.
func (g *connGroup) usable() bool {
	select {
	case <-g.ready:
		return g.err == nil && g.cc.Err() == nil
	default:
		return true // still dialing
	}
}

// release ends one stream's use of g; the last stream of a group that
// takes no more closes its connection.
func (s *streamSet) release(t *target, g *connGroup) {
	s.mu.Lock()
	g.active--
	last := g.active == 0 && (g.assigned >= s.perConn || s.current[t.index] != g || !g.usable())
	if last && s.current[t.index] == g {
		delete(s.current, t.index)
	}
	s.mu.Unlock()
	if last && g.cc != nil {
		g.cc.Close()
	}
}

// runStreams keeps the https worker's interval ticks until it is stopped,
// then ends every stream and sends the remaining intervals.
func (w *worker) runStreams() {
	iv := w.e.cfg.Interval
	tickStart := w.e.epoch
	tickEnd := tickStart.Add(iv)
	t := time.NewTimer(time.Until(tickEnd))
	defer t.Stop()
	for {
		w.mu.Lock()
		stopAt := w.stopAt
		w.mu.Unlock()
		if !stopAt.IsZero() {
			w.streams.cancel()
			w.streams.wg.Wait()
			w.shutdownTicks(stopAt, tickStart, tickEnd)
			return
		}
		select {
		case <-t.C:
		case <-w.stopped:
		}
		now := time.Now()
		for !now.Before(tickEnd) {
			w.sendTick(tickStart, tickEnd, false)
			tickStart, tickEnd = tickEnd, tickEnd.Add(iv)
		}
		t.Reset(time.Until(tickEnd))
	}
}

// openStream starts one https stream in its own goroutine.
func (w *worker) openStream(t *target) {
	s := w.streams
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		w.stream(s.ctx, t)
	}()
}

// stream is one EventSource over net/http: request, head checks, then the
// body through the SSE parser until it ends, fails or the run stops.
func (w *worker) stream(ctx context.Context, t *target) {
	c := &conn{w: w, t: t, fd: -1, born: time.Now()}
	c.parser.MaxEventBytes = w.e.cfg.MaxEventBytes
	w.stats[t.index].opened.Add(1)
	for {
		c.state, c.start = stateConnecting, time.Since(w.e.epoch)
		w.streamOnce(ctx, c)
		if c.state != stateWaiting {
			return // over for good (reconnect.go decided)
		}
		timer := time.NewTimer(c.due - time.Since(w.e.epoch))
		select {
		case <-ctx.Done():
			timer.Stop()
			w.closeConn(c)
			return
		case <-timer.C:
		}
		c.beginReconnect()
	}
}

// streamOnce runs one connection attempt of stream c, redirects
// included, until its response ends or fails; fail and ended leave c
// waiting to reconnect or over.
func (w *worker) streamOnce(ctx context.Context, c *conn) {
	for {
		if !w.streamRequest(ctx, c) {
			return
		}
	}
}

// streamRequest sends one request of stream c on a connection of its
// group and reads the response. It reports whether a redirect asks for
// another request.
func (w *worker) streamRequest(ctx context.Context, c *conn) (follow bool) {
	t := c.t
	u := c.targetURL()
	req, err := c.requestShape().NewHTTPRequest(ctx, u.String(), c.lastEventID()...)
	if err != nil {
		w.fail(c, ErrRequest, err.Error())
		return false
	}
	g, err := w.streams.acquire(ctx, t, u, c.url != nil)
	if err != nil {
		w.failRequest(ctx, c, err, true)
		return false
	}
	defer w.streams.release(t, g)
	resp, err := g.cc.RoundTrip(req)
	if err != nil {
		w.failRequest(ctx, c, err, false)
		return false
	}
	defer resp.Body.Close()
	if resp.TLS != nil {
		w.e.saveProtocol(t.index, resp.Proto, func() tls.ConnectionState { return *resp.TLS })
	}
	if err := c.Head(headOf(resp)); err != nil {
		if err == errFollow {
			return true
		}
		w.failErr(c, err)
		return false
	}
	buf := make([]byte, 4096)
	for {
		n, rerr := resp.Body.Read(buf)
		if n > 0 {
			if err := c.parser.Feed(buf[:n], c); err != nil {
				w.failErr(c, err)
				return false
			}
		}
		switch {
		case rerr == nil:
		case errors.Is(rerr, io.EOF):
			w.ended(c)
			return false
		case ctx.Err() != nil:
			w.closeConn(c)
			return false
		default:
			kind := errnoKind(rerr, ErrEOFMidResponse)
			if kind == ErrEOFMidResponse && !errors.Is(rerr, io.ErrUnexpectedEOF) {
				kind = ErrRead
			}
			w.fail(c, kind, rerr.Error())
			return false
		}
	}
}

// failRequest fails c for err, from dialing a connection (dialing) or
// from a request on one, under its kind: the run's end, a connect error,
// a TLS handshake failure (with its reason as value), or a request error.
func (w *worker) failRequest(ctx context.Context, c *conn, err error, dialing bool) {
	if ctx.Err() != nil {
		if c.opened {
			w.closeConn(c) // a reconnection the run's end cut short
			return
		}
		w.fail(c, ErrNoResponseHeaders, "no response head before the run ended")
		return
	}
	var op *net.OpError
	switch {
	case !dialing:
		w.fail(c, errnoKind(err, ErrRequest), err.Error())
	case errors.As(err, &op) && op.Op == "dial":
		w.fail(c, errnoKind(err, ErrConnect), err.Error())
	default:
		w.failCause(c, ErrTLSHandshake, handshakeValue(err), err.Error(), dropNetwork)
	}
}

// headOf describes a net/http response as the raw decoder would.
func headOf(resp *http.Response) *httpstream.Head {
	h := &httpstream.Head{
		Proto:            resp.Proto,
		Status:           resp.StatusCode,
		Reason:           strings.TrimSpace(strings.TrimPrefix(resp.Status, resp.Status[:3])),
		ContentType:      resp.Header.Get("Content-Type"),
		TransferEncoding: strings.Join(resp.TransferEncoding, ", "),
		ContentEncoding:  resp.Header.Get("Content-Encoding"),
		Connection:       resp.Header.Get("Connection"),
		Location:         resp.Header.Get("Location"),
		ContentLength:    resp.ContentLength,
	}
	for name, vs := range resp.Header {
		for _, v := range vs {
			h.Fields = append(h.Fields, [2]string{strings.ToLower(name), v})
		}
	}
	if h.TransferEncoding != "" {
		h.Fields = append(h.Fields, [2]string{"transfer-encoding", h.TransferEncoding})
	}
	return h
}
