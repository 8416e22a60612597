package loadgen

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/sseload/sseload/loadgen/httpstream"
)

// streamSet runs the https streams of one engine: one goroutine per stream
// through net/http, feeding the same SSE parser and conn logic as the epoll
// workers. It is correct, not cheap (tens of KiB per stream): TLS targets
// are for checking a real deployment, not for 50,000 streams.
type streamSet struct {
	client *http.Client
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// newStreamWorker returns the worker that serves https targets. It has no
// epoll set; its run loop only keeps the interval ticks.
func newStreamWorker(e *Engine, id int) *worker {
	tr := &http.Transport{
		Proxy:               nil, // measure the target, not a forward proxy in between
		DialContext:         (&net.Dialer{Timeout: e.cfg.ConnectTimeout}).DialContext,
		TLSClientConfig:     e.cfg.TLSConfig,
		TLSHandshakeTimeout: e.cfg.ConnectTimeout,
		DisableCompression:  true,
		// One TCP+TLS connection per stream, over HTTP/1.1, as one device
		// per connection: an empty TLSNextProto map turns HTTP/2 off.
		TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{},
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := newWorkerState(e, id)
	w.streams = &streamSet{
		// Redirects are followed as browsers follow them, at most 10:
		// net/http's default policy.
		client: &http.Client{Transport: tr},
		ctx:    ctx, cancel: cancel,
	}
	return w
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

// streamOnce runs one connection of stream c, until its response ends or
// fails; fail and ended leave c waiting to reconnect or over.
func (w *worker) streamOnce(ctx context.Context, c *conn) {
	t := c.t
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.URL, nil)
	if err != nil {
		w.fail(c, ErrRequest, err.Error())
		return
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Cache-Control", "no-cache")
	req.Header.Set("User-Agent", "sseload")
	for _, f := range c.lastEventID() {
		req.Header.Set(f[0], f[1])
	}
	resp, err := w.streams.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			if c.opened {
				w.closeConn(c) // a reconnection the run's end cut short
				return
			}
			w.fail(c, ErrNoResponseHeaders, "no response head before the run ended")
			return
		}
		w.fail(c, errnoKind(err, ErrConnect), err.Error())
		return
	}
	defer resp.Body.Close()
	if resp.TLS != nil {
		w.e.saveProtocol(t.index, resp.Proto, func() tls.ConnectionState { return *resp.TLS })
	}
	if err := c.Head(headOf(resp)); err != nil {
		w.failErr(c, err)
		return
	}
	buf := make([]byte, 4096)
	for {
		n, rerr := resp.Body.Read(buf)
		if n > 0 {
			if err := c.parser.Feed(buf[:n], c); err != nil {
				w.failErr(c, err)
				return
			}
		}
		switch {
		case rerr == nil:
		case errors.Is(rerr, io.EOF):
			w.ended(c)
			return
		case ctx.Err() != nil:
			w.closeConn(c)
			return
		default:
			kind := errnoKind(rerr, ErrEOFMidResponse)
			if kind == ErrEOFMidResponse && !errors.Is(rerr, io.ErrUnexpectedEOF) {
				kind = ErrRead
			}
			w.fail(c, kind, rerr.Error())
			return
		}
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
