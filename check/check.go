// Package check is `sseload check URL`: the quick diagnosis of one
// endpoint for the engineer who asks "why does my stream stall?". It
// opens a few streams for a short time, as a browser would (EventSource's
// fields, Accept-Encoding: gzip, the user's method, headers and body),
// watches every read of every stream, and says in words what it saw: the
// response, the protocol, the proxy, the timings, the gaps between bytes,
// bursts, compression, cuts after quiet. The probable directive at fault
// comes from the same rules as `sseload run`'s diagnoses
// (reports.DiagnoseTarget), fed with these figures.
//
// It measures with net/http, one goroutine per stream: a handful of
// streams, where correctness matters and cost does not.
package check

import (
	"compress/gzip"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/sseload/sseload/loadgen/httpstream"
	"github.com/sseload/sseload/loadgen/sse"
)

// Defaults of Options.
const (
	DefaultStreams  = 3
	DefaultDuration = 15 * time.Second
	// connectTimeout bounds the TCP connect and the TLS handshake; the
	// response head may take the whole duration (a proxy that holds it is
	// what check is for).
	connectTimeout = 10 * time.Second
)

// Options is one check.
type Options struct {
	URL      string
	Streams  int           // streams opened at once (default DefaultStreams)
	Duration time.Duration // how long they are watched (default DefaultDuration)
	Request  httpstream.Shape
	// Insecure skips the certificate check of an https URL.
	Insecure bool
}

// ErrUnreachable marks a check in which no stream got a response: the
// URL could not be reached (refused, unresolved, timed out, TLS failed).
var ErrUnreachable = errors.New("unreachable")

// read is one read of a stream's body.
type read struct {
	at     time.Duration // since the stream's start
	bytes  int           // raw (compressed) bytes
	events int           // events dispatched by the bytes decoded at this read
}

// stream is what one stream saw.
type stream struct {
	err        error // before any response: connect, TLS, request
	wrote      bool  // the request was written: the server has it
	resp       *http.Response
	tls        *tls.ConnectionState
	headAt     time.Duration
	reads      []read
	events     int
	firstEvent time.Duration // -1 until an event
	// ended: the response ended (cleanly, or cut with endErr) before the
	// check's end; endAt is when, since the start.
	ended  bool
	endErr error
	endAt  time.Duration
}

// lastByte is when the stream last read a byte (the head's arrival if no
// body byte came).
func (s *stream) lastByte() time.Duration {
	if n := len(s.reads); n > 0 {
		return s.reads[n-1].at
	}
	return s.headAt
}

// Run opens the streams, watches them for the duration and returns what
// they saw. The error is ErrUnreachable (wrapped with the first stream's
// cause) when no stream got a response, or ctx's when it was cancelled.
func Run(ctx context.Context, opts Options) (*Report, error) {
	if opts.Streams <= 0 {
		opts.Streams = DefaultStreams
	}
	if opts.Duration <= 0 {
		opts.Duration = DefaultDuration
	}
	u, err := url.Parse(opts.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("url %q: want http://host[:port]/path or https://…", opts.URL)
	}
	if err := opts.Request.Check(); err != nil {
		return nil, fmt.Errorf("request: %w", err)
	}
	wctx, cancel := context.WithTimeout(ctx, opts.Duration)
	defer cancel()
	streams := make([]*stream, opts.Streams)
	var wg sync.WaitGroup
	for i := range streams {
		streams[i] = &stream{firstEvent: -1}
		wg.Add(1)
		go func(s *stream) {
			defer wg.Done()
			watch(wctx, opts, s)
		}(streams[i])
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r := newReport(opts, streams)
	if r.Responded == 0 && r.Unanswered == 0 {
		return r, fmt.Errorf("%w: %s: %v", ErrUnreachable, opts.URL, streams[0].err)
	}
	return r, nil
}

// watch runs one stream until ctx ends or the response does.
func watch(ctx context.Context, opts Options, s *stream) {
	tr := &http.Transport{
		Proxy:               nil, // the endpoint itself, not a forward proxy in between
		DialContext:         (&net.Dialer{Timeout: connectTimeout}).DialContext,
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: opts.Insecure},
		TLSHandshakeTimeout: connectTimeout,
		// HTTP/2 where the server offers it by ALPN, as a browser.
		ForceAttemptHTTP2: true,
		// Accept-Encoding is sent as a browser sends it and the body read
		// as it comes, compressed or not, so compression is seen.
		DisableCompression: true,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	req, err := opts.Request.NewHTTPRequest(ctx, opts.URL)
	if err != nil {
		s.err = err
		return
	}
	if _, ok := opts.Request.Get("Accept-Encoding"); !ok {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	start := time.Now()
	req = req.WithContext(httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		TLSHandshakeDone: func(cs tls.ConnectionState, err error) {
			if err == nil {
				s.tls = &cs
			}
		},
		WroteRequest: func(i httptrace.WroteRequestInfo) { s.wrote = i.Err == nil },
	}))
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil && s.wrote {
			// Sent, and no head came back: held somewhere, not unreachable.
			s.err = fmt.Errorf("no response head within the check's %s", opts.Duration)
			s.headAt = -1
			return
		}
		if ctx.Err() != nil {
			err = fmt.Errorf("no connection within the check's %s: %w", opts.Duration, err)
		}
		s.err = err
		return
	}
	defer resp.Body.Close()
	s.resp, s.headAt = resp, time.Since(start)
	if resp.TLS != nil {
		s.tls = resp.TLS
	}
	raw := &timedReader{r: resp.Body, start: start, s: s}
	var body io.Reader = raw
	if strings.EqualFold(resp.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(raw)
		if err != nil {
			s.finish(ctx, start, err)
			return
		}
		body = zr
	}
	var p sse.Parser
	buf := make([]byte, 32<<10)
	for {
		n, err := body.Read(buf)
		if n > 0 {
			events := 0
			perr := p.Feed(buf[:n], sse.HandlerFunc(func(*sse.Event) { events++ }))
			s.countEvents(events, time.Since(start))
			if perr != nil {
				s.finish(ctx, start, perr)
				return
			}
		}
		if err != nil {
			s.finish(ctx, start, err)
			return
		}
	}
}

// countEvents charges events to the stream's latest raw read.
func (s *stream) countEvents(n int, at time.Duration) {
	if n == 0 {
		return
	}
	if s.firstEvent < 0 {
		s.firstEvent = at
	}
	s.events += n
	if k := len(s.reads); k > 0 {
		s.reads[k-1].events += n
	}
}

// finish records how the stream's body ended: the check's end (still
// open), or the response's (clean at EOF, else cut).
func (s *stream) finish(ctx context.Context, start time.Time, err error) {
	if ctx.Err() != nil {
		return // open until the check ended
	}
	s.ended, s.endAt = true, time.Since(start)
	if !errors.Is(err, io.EOF) {
		s.endErr = err
	}
}

// timedReader records every raw read of a body.
type timedReader struct {
	r     io.Reader
	start time.Time
	s     *stream
}

func (t *timedReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n > 0 {
		t.s.reads = append(t.s.reads, read{at: time.Since(t.start), bytes: n})
	}
	return n, err
}
