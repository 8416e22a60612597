package loadgen

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sseload/sseload/loadgen/httpstream"
	"github.com/sseload/sseload/loadgen/jsonfield"
	"github.com/sseload/sseload/loadgen/sse"
)

// Connection states, in the order a stream goes through them.
const (
	stateConnecting uint8 = iota
	stateSending
	stateHead      // request sent, waiting for the response head
	stateStreaming // 200 text/event-stream head received: EventSource is open
	stateWaiting   // the connection dropped; waiting to reconnect (reconnect.go)
	stateClosed    // the stream is over for good
)

// conn is one EventSource stream. It is owned by its worker; it holds no
// buffer of its own beyond what the decoder and parser keep for bytes that
// straddle two reads.
type conn struct {
	w        *worker
	t        *target
	fd       int
	tls      *tlsState // an https HTTP/1.1 connection (tlsconn_linux.go, portable.go); nil = plain
	state    uint8
	gotEvent bool
	start    time.Duration // since the engine's epoch, before connect
	deadline time.Duration // connect deadline, since the epoch
	out      []byte        // request bytes still to write (aliases req or t.request)
	req      []byte        // this stream's own request (Last-Event-ID); nil = t.request
	addr     netip.AddrPort
	url      *url.URL          // where a redirect led; nil = the target's URL
	shape    *httpstream.Shape // the request after a redirect changed it; nil = the target's
	dec      httpstream.Decoder
	parser   sse.Parser
	seq      seqTrack  // delivery accounting: O(1), see accounting.go
	born     time.Time // when the stream was first opened (faults.go)
	faultGen uint32    // the latest fault this stream has received after

	// Reconnection (reconnect.go).
	opened      bool          // a 200 text/event-stream head arrived at least once
	waiting     bool          // dropped, and no stream since (a 200 head ends the wait)
	resumed     bool          // reconnected, and no sequence number read yet
	failures    int           // consecutive failed attempts (persistent backoff)
	redirects   int           // redirects followed by this connection attempt
	droppedAt   time.Duration // since the epoch
	droppedUnix int64         // wall clock of the drop, ns
	resumedUnix int64         // wall clock of the reconnected head, ns; 0 = not replaying
	lastByte    time.Duration // since the epoch: when the stream last read a byte of its response (head or body; not framing such as the terminating chunk)
	due         time.Duration // timer heap: when to reconnect or read again
	timer       int           // index in the worker's timer heap + 1; 0 = none

	// Slow consumers (readrate.go).
	budget   int           // bytes the stream may still read now
	refilled time.Duration // when budget was last refilled, since the epoch
	paused   bool          // EPOLLIN is off until the budget refills
}

// request returns the bytes of the stream's next request.
func (c *conn) request() []byte {
	if c.req != nil {
		return c.req
	}
	return c.t.request
}

var (
	_ httpstream.Sink = (*conn)(nil)
	_ sse.Handler     = (*conn)(nil)
)

// streamError is an error with the kind it is counted under and, for
// kinds that have one, its value (ErrorValues).
type streamError struct {
	kind  string
	msg   string
	cause dropCause
	value string
}

func (e *streamError) Error() string { return e.msg }

// Head is called by the decoder once the response head is parsed: the
// moment EventSource would fire onopen (or fail the connection).
func (c *conn) Head(h *httpstream.Head) error {
	c.lastByte = time.Since(c.w.e.epoch)
	c.w.e.saveHead(c.t.index, headFields(h))
	if c.tls != nil {
		c.w.e.saveProtocol(c.t.index, h.Proto, c.tls.conn.ConnectionState)
	} else {
		// Plain HTTP/1.1 on either engine; the HTTP/2 path (tls.go) has
		// saved its protocol and TLS version before its head gets here.
		c.w.e.saveProtocol(c.t.index, h.Proto, nil)
	}
	if isRedirect(h.Status) {
		return c.redirect(h)
	}
	if h.Status == 204 {
		return &streamError{ErrHTTPStatus, "status 204 No Content: the server asks EventSource not to reconnect", dropNoMore, "204"}
	}
	if h.Status != 200 {
		return &streamError{ErrHTTPStatus, fmt.Sprintf("status %d %s (content-type %q): EventSource needs 200", h.Status, h.Reason, h.ContentType), dropHTTP, strconv.Itoa(h.Status)}
	}
	if !isEventStream(h.ContentType) {
		return &streamError{ErrContentType, fmt.Sprintf("content-type %q (status %d): EventSource needs text/event-stream", h.ContentType, h.Status), dropHTTP, mediaType(h.ContentType)}
	}
	c.state = stateStreaming
	c.w.stats[c.t.index].open.Add(1) // until closeSocket
	c.failures = 0
	c.streamBack()
	if c.resumed {
		c.resumedUnix = time.Now().UnixNano()
	}
	if c.opened {
		return nil // a reconnection: the stream was established before
	}
	c.opened = true
	st := &c.w.stats[c.t.index]
	st.established.Add(1)
	c.w.record(c.t.index, TimeToHeaders, (time.Since(c.w.e.epoch) - c.start).Microseconds())
	if c.t.sequenced && c.w.e.cfg.EventsPerStream == 0 {
		c.subscribe(&st.seq)
	}
	return nil
}

// Body passes de-framed body bytes to the SSE parser.
func (c *conn) Body(p []byte) error {
	c.lastByte = time.Since(c.w.e.epoch)
	return c.parser.Feed(p, c)
}

// Event is called by the parser when a blank line dispatches an event; this
// is the receipt time. Latency is receipt minus the event's scheduled
// publish time, read from the event's data. With a sent field the data also
// says when the origin wrote the event, read in the same pass, and latency
// splits there: origin delay (sent − scheduled) plus path latency
// (receipt − sent).
func (c *conn) Event(ev *sse.Event) {
	now := time.Now()
	ti := c.t.index
	st := &c.w.stats[ti]
	seq, sequenced := int64(0), false
	if c.t.sequenced {
		if raw, ok := c.t.seq.Lookup(ev.Data); ok {
			seq, sequenced = jsonfield.Int(raw)
		}
		if cut := c.w.e.cutoff[ti].Load(); sequenced && cut > 0 && seq > cut {
			return // published after the run's end (settle.go): not this run's
		}
	}
	st.events.Add(1)
	if !c.gotEvent {
		c.gotEvent = true
		c.w.record(ti, TimeToFirstEvent, (now.Sub(c.w.e.epoch) - c.start).Microseconds())
	}
	c.faultReceived(now)
	if sequenced {
		if c.resumed {
			c.resumeSeq(seq)
		}
		c.account(&st.seq, seq)
	}
	if !c.t.timed {
		return
	}
	var raw, sentRaw []byte
	var ok, sentOK bool
	if c.t.split {
		raw, ok, sentRaw, sentOK = jsonfield.LookupPair(ev.Data, c.t.ts, c.t.sent)
	} else {
		raw, ok = c.t.ts.Lookup(ev.Data)
	}
	if !ok {
		return
	}
	unit := c.w.e.cfg.TimestampUnit
	pub, ok := jsonfield.UnixNanos(raw, unit)
	if !ok {
		return
	}
	recv := now.UnixNano() - c.w.e.clockOffset.Load() // on the origin's clock (SetClockOffset)
	lat := recv - pub
	var sent int64
	if sentOK {
		sent, sentOK = jsonfield.UnixNanos(sentRaw, unit)
	}
	// An event received before it was published, or before it was
	// written, says the origin's clock is ahead of ours: it is counted as
	// such and not timed at all, so that the three histograms hold the
	// same events. Smaller negative values (within 1 ms) are clamped to
	// the histograms' 1 µs floor.
	if lat < -int64(time.Millisecond) || sentOK && recv-sent < -int64(time.Millisecond) {
		st.skewed.Add(1)
		return
	}
	st.timed.Add(1)
	c.w.record(ti, Latency, lat/int64(time.Microsecond))
	if sentOK {
		c.w.record(ti, OriginDelay, (sent-pub)/int64(time.Microsecond))
		c.w.record(ti, PathLatency, (recv-sent)/int64(time.Microsecond))
	}
	if c.resumedUnix != 0 {
		if pub < c.resumedUnix {
			if pub > c.droppedUnix {
				st.seq.replayed.Add(1)
			}
		} else {
			c.resumedUnix = 0 // live again: nothing older will come
		}
	}
}

// classify maps an error from the decoder, the parser or Head to its kind
// and value ("" when the kind has none).
func classify(err error) (kind, value, msg string, cause dropCause) {
	var se *streamError
	switch {
	case errors.As(err, &se):
		return se.kind, se.value, se.msg, se.cause
	case errors.Is(err, sse.ErrTooLarge):
		return ErrEventTooLarge, "", err.Error(), dropNetwork
	case errors.Is(err, httpstream.ErrMalformed), errors.Is(err, httpstream.ErrHeadTooLarge):
		return ErrMalformed, "", err.Error(), dropNetwork
	}
	return ErrRead, "", err.Error(), dropNetwork
}

// mediaType is the value a wrong_content_type error is counted under: the
// Content-Type's media type in lower case, without parameters ("text/html"
// for "text/html; charset=utf-8"), or "(none)" when the field is absent.
func mediaType(ct string) string {
	mt := strings.ToLower(strings.TrimSpace(strings.SplitN(ct, ";", 2)[0]))
	if mt == "" {
		return "(none)"
	}
	return errorValue(mt)
}

// isEventStream reports whether a Content-Type value is text/event-stream
// (parameters such as charset allowed), as EventSource requires.
func isEventStream(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		mt = strings.TrimSpace(strings.SplitN(ct, ";", 2)[0])
	}
	return strings.EqualFold(mt, "text/event-stream")
}

// headFields keeps the response head's status and the fields that tell
// proxies apart (framing, encoding, buffering) for diagnosis.
func headFields(h *httpstream.Head) map[string]string {
	m := map[string]string{"status": strconv.Itoa(h.Status), "proto": h.Proto}
	for _, f := range h.Fields {
		switch f[0] {
		case "content-type", "transfer-encoding", "content-encoding", "connection",
			"content-length", "cache-control", "server", "x-accel-buffering":
			m[f[0]] = f[1]
		}
	}
	return m
}

// resolve looks up the URL's host once; connections then dial the address.
func resolve(ctx context.Context, u *url.URL) (netip.AddrPort, error) {
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("url %q: bad port %q", u.String(), port)
	}
	host := u.Hostname()
	if a, err := netip.ParseAddr(host); err == nil {
		return netip.AddrPortFrom(a.Unmap(), uint16(p)), nil
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("resolve %s: %w", host, err)
	}
	for _, a := range addrs {
		if a.Unmap().Is4() {
			return netip.AddrPortFrom(a.Unmap(), uint16(p)), nil
		}
	}
	return netip.AddrPortFrom(addrs[0], uint16(p)), nil
}
