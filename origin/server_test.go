package origin

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// event is one parsed SSE event as a test sees it.
type event struct {
	ID    string
	Seq   int64 `json:"seq"`
	Sched int64 `json:"sched"`
	Sent  int64 `json:"sent"`
	Pad   string
}

// sseReader is a minimal reference parser for the origin's own output (LF
// line ends, one data line per event, comment lines only between events).
type sseReader struct {
	br       *bufio.Reader
	retry    string
	comments int // comment lines (heartbeats) read so far
}

func newSSEReader(r io.Reader) *sseReader { return &sseReader{br: bufio.NewReaderSize(r, 1<<16)} }

// rest reads every event up to the body's clean end; any other error fails
// the test.
func (s *sseReader) rest(t testing.TB) []event {
	t.Helper()
	var evs []event
	for {
		ev, err := s.next()
		if err == io.EOF {
			return evs
		}
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
}

// seqsOf returns the events' sequence numbers.
func seqsOf(evs []event) []int64 {
	seqs := make([]int64, len(evs))
	for i, ev := range evs {
		seqs[i] = ev.Seq
	}
	return seqs
}

// next returns the next event, or io.EOF at a clean end of the body.
func (s *sseReader) next() (event, error) {
	var ev event
	var data []byte
	for {
		line, err := s.br.ReadString('\n')
		if err != nil {
			if err == io.EOF && line == "" && data == nil {
				return ev, io.EOF
			}
			return ev, fmt.Errorf("read event: %w (partial line %.40q)", err, line)
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if data == nil {
				continue // e.g. the blank line after retry:
			}
			if err := json.Unmarshal(data, &ev); err != nil {
				return ev, fmt.Errorf("data %.60q: %w", data, err)
			}
			return ev, nil
		case strings.HasPrefix(line, "id: "):
			ev.ID = line[len("id: "):]
		case strings.HasPrefix(line, "data: "):
			data = []byte(line[len("data: "):])
		case strings.HasPrefix(line, "retry: "):
			s.retry = line[len("retry: "):]
		case strings.HasPrefix(line, ":"):
			if ev.ID != "" || data != nil {
				return ev, fmt.Errorf("comment %.40q inside an event", line)
			}
			s.comments++
		default:
			return ev, fmt.Errorf("unexpected line %.60q", line)
		}
	}
}

func mustNew(t testing.TB, cfg Config) *Server {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%+v): %v", cfg, err)
	}
	return s
}

func newTestServer(t testing.TB, cfg Config) (*Server, *httptest.Server) {
	t.Helper()
	s := mustNew(t, cfg)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts
}

// subscribe opens GET /events and checks the response head.
func subscribe(t testing.TB, ctx context.Context, url string) (*http.Response, *sseReader) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET /events: %v", err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /events: status %s", resp.Status)
	}
	return resp, newSSEReader(resp.Body)
}

func mustNext(t testing.TB, r *sseReader) event {
	t.Helper()
	ev, err := r.next()
	if err != nil {
		t.Fatalf("next event: %v", err)
	}
	if ev.ID != strconv.FormatInt(ev.Seq, 10) {
		t.Fatalf("event id %q, seq %d: want id == seq", ev.ID, ev.Seq)
	}
	return ev
}

// waitFor polls cond: for states the API exposes only as a number
// (Subscribers), there is no signal to wait on.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestHeaders(t *testing.T) {
	for _, xaccel := range []bool{false, true} {
		for _, mode := range []Mode{Broadcast, PerConnection} {
			t.Run(fmt.Sprintf("%s/xaccel=%v", mode, xaccel), func(t *testing.T) {
				cfg := Config{Mode: mode, Interval: 5 * time.Millisecond, XAccel: xaccel}
				if mode == PerConnection {
					cfg.Events = 1
				}
				_, ts := newTestServer(t, cfg)
				resp, r := subscribe(t, t.Context(), ts.URL)
				if got := resp.Header.Get("Content-Type"); got != "text/event-stream" {
					t.Errorf("Content-Type %q, want text/event-stream", got)
				}
				if got := resp.Header.Get("Cache-Control"); got != "no-cache" {
					t.Errorf("Cache-Control %q, want no-cache", got)
				}
				got, ok := resp.Header["X-Accel-Buffering"]
				if xaccel && (len(got) != 1 || got[0] != "no") {
					t.Errorf("X-Accel-Buffering %q, want [no]", got)
				}
				if !xaccel && ok {
					t.Errorf("X-Accel-Buffering %q sent without XAccel", got)
				}
				if ev := mustNext(t, r); mode == PerConnection && ev.Seq != 1 {
					t.Errorf("first event seq %d, want 1", ev.Seq)
				}
			})
		}
	}
}

// TestHeadAtOnce: by default the response head is sent as soon as the
// stream is accepted, on every path a stream can take (hijacked HTTP/1.1,
// HTTP/1.0 as nginx asks upstream, HTTP/2 from the handler), long before
// the first event: with an interval of an hour, a head that waited for its
// first event would never come within the test's deadline.
func TestHeadAtOnce(t *testing.T) {
	for _, mode := range []Mode{Broadcast, PerConnection} {
		cfg := Config{Mode: mode, Interval: time.Hour, Events: 1, XAccel: true}
		t.Run(string(mode)+"/http1.1", func(t *testing.T) {
			_, ts := newTestServer(t, cfg)
			conn, br := rawGet(t, ts.Listener.Addr().String(), "GET /events HTTP/1.1\r\nHost: origin\r\n\r\n")
			conn.SetReadDeadline(time.Now().Add(testDeadline))
			head := strings.Join(readHead(t, br), "\n")
			if !strings.HasPrefix(head, "HTTP/1.1 200 OK\n") || !strings.Contains(head, "\nContent-Type: text/event-stream") ||
				!strings.Contains(head, "\nX-Accel-Buffering: no") || !strings.Contains(head, "\nTransfer-Encoding: chunked") {
				t.Errorf("head %q: want a chunked 200 text/event-stream with X-Accel-Buffering", head)
			}
		})
		t.Run(string(mode)+"/http1.0", func(t *testing.T) {
			_, ts := newTestServer(t, cfg)
			conn, br := rawGet(t, ts.Listener.Addr().String(), "GET /events HTTP/1.0\r\nHost: origin\r\n\r\n")
			conn.SetReadDeadline(time.Now().Add(testDeadline))
			head := strings.Join(readHead(t, br), "\n")
			if !strings.HasPrefix(head, "HTTP/1.0 200 OK\n") || !strings.Contains(head, "\nContent-Type: text/event-stream") ||
				strings.Contains(head, "Transfer-Encoding") {
				t.Errorf("head %q: want a close-delimited 200 text/event-stream", head)
			}
		})
		t.Run(string(mode)+"/http2", func(t *testing.T) {
			_, ts := newH2Server(t, cfg)
			ctx, cancel := context.WithTimeout(t.Context(), testDeadline)
			defer cancel()
			resp := resumeGet(t, ctx, ts, "") // returns once the head has come
			if resp.ProtoMajor != 2 || resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
				t.Errorf("HTTP/%d %s %q: want an HTTP/2 200 text/event-stream", resp.ProtoMajor, resp.Status, resp.Header.Get("Content-Type"))
			}
		})
	}
}

// TestHeadWithFirstEvent checks that with HeadWithFirstEvent the response
// head is not flushed on its own: it reaches the socket in the same write
// as the first event, as a buffering proxy must see it. One write() of a
// few hundred bytes arrives in one read on loopback.
func TestHeadWithFirstEvent(t *testing.T) {
	for _, mode := range []Mode{Broadcast, PerConnection} {
		t.Run(string(mode), func(t *testing.T) {
			_, ts := newTestServer(t, Config{Mode: mode, Interval: 20 * time.Millisecond, Events: 2, HeadWithFirstEvent: true})
			conn, _ := rawGet(t, ts.Listener.Addr().String(), "GET /events HTTP/1.1\r\nHost: origin\r\n\r\n")
			conn.SetReadDeadline(time.Now().Add(testDeadline))
			buf := make([]byte, 1<<16)
			n, err := conn.Read(buf)
			if err != nil {
				t.Fatal(err)
			}
			first := string(buf[:n])
			head, body, ok := strings.Cut(first, "\r\n\r\n")
			if !ok || !strings.HasPrefix(head, "HTTP/1.1 200 ") {
				t.Fatalf("first read is not a complete 200 head: %q", first)
			}
			if !regexp.MustCompile(`^[0-9a-f]+\r\nid: [0-9]+\ndata: \{"seq":`).MatchString(body) {
				t.Errorf("head was sent without the first event; first read: %q", first)
			}
		})
	}
}

func TestRetry(t *testing.T) {
	for _, mode := range []Mode{Broadcast, PerConnection} {
		t.Run(string(mode), func(t *testing.T) {
			// An interval of an hour: the retry line must arrive (with the
			// head) long before any event.
			_, ts := newTestServer(t, Config{Mode: mode, Interval: time.Hour, Events: 1, RetryMS: 2500})
			resp, _ := subscribe(t, t.Context(), ts.URL)
			buf := make([]byte, len("retry: 2500\n\n"))
			if _, err := io.ReadFull(resp.Body, buf); err != nil {
				t.Fatalf("read retry line: %v", err)
			}
			if string(buf) != "retry: 2500\n\n" {
				t.Errorf("stream starts %q, want %q", buf, "retry: 2500\n\n")
			}
		})
	}
}

func TestNoRetryByDefault(t *testing.T) {
	_, ts := newTestServer(t, Config{Mode: PerConnection, Interval: 5 * time.Millisecond, Events: 1})
	resp, _ := subscribe(t, t.Context(), ts.URL)
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(body, []byte("id: 1\n")) {
		t.Errorf("body starts %.40q, want the first event", body)
	}
}

func TestPerConnection(t *testing.T) {
	const n, iv, pad = 4, 7 * time.Millisecond, 33
	_, ts := newTestServer(t, Config{Mode: PerConnection, Interval: iv, Events: n, Payload: pad})
	// Two concurrent streams: each has its own schedule and its own seqs.
	for range 2 {
		t.Run("", func(t *testing.T) {
			t.Parallel()
			before := time.Now().UnixNano()
			_, r := subscribe(t, t.Context(), ts.URL)
			evs := r.rest(t)
			if len(evs) != n {
				t.Fatalf("got %d events, want %d", len(evs), n)
			}
			for i, ev := range evs {
				if ev.Seq != int64(i+1) || ev.ID != strconv.Itoa(i+1) {
					t.Errorf("event %d: id %q seq %d", i, ev.ID, ev.Seq)
				}
				if len(ev.Pad) != pad {
					t.Errorf("event %d: pad %d bytes, want %d", i, len(ev.Pad), pad)
				}
				if ev.Sent < ev.Sched {
					t.Errorf("event %d: sent %d before its schedule %d", i, ev.Sent, ev.Sched)
				}
				if i > 0 && ev.Sched-evs[i-1].Sched != int64(iv) {
					t.Errorf("event %d: sched step %d ns, want exactly %d", i, ev.Sched-evs[i-1].Sched, int64(iv))
				}
			}
			if t0 := evs[0].Sched - int64(iv); t0 < before {
				t.Errorf("schedule origin %d precedes the request (%d)", t0, before)
			}
		})
	}
}

func TestBroadcastIdenticalEvents(t *testing.T) {
	const iv = 5 * time.Millisecond
	epoch := time.Now()
	s, ts := newTestServer(t, Config{Mode: Broadcast, Interval: iv, Payload: 10, Epoch: epoch})
	_, r1 := subscribe(t, t.Context(), ts.URL)
	_, r2 := subscribe(t, t.Context(), ts.URL)
	if got := s.Subscribers(); got != 2 {
		t.Errorf("Subscribers() = %d with two streams open, want 2", got)
	}
	read := func(r *sseReader) map[int64]event {
		m := map[int64]event{}
		var prev int64
		for range 8 {
			ev := mustNext(t, r)
			if prev != 0 && ev.Seq != prev+1 {
				t.Errorf("seq %d after %d: a publish was skipped", ev.Seq, prev)
			}
			if want := epoch.UnixNano() + ev.Seq*int64(iv); ev.Sched != want {
				t.Errorf("seq %d: sched %d, want epoch + seq*interval = %d", ev.Seq, ev.Sched, want)
			}
			prev = ev.Seq
			m[ev.Seq] = ev
		}
		return m
	}
	a, b := read(r1), read(r2)
	common := 0
	for seq, ea := range a {
		if eb, ok := b[seq]; ok {
			common++
			if ea.Sched != eb.Sched || ea.Pad != eb.Pad {
				t.Errorf("seq %d differs between subscribers: %+v vs %+v", seq, ea, eb)
			}
		}
	}
	if common == 0 {
		t.Errorf("two concurrent subscribers share no seq: %v / %v", a, b)
	}
}

func TestBroadcastLateJoin(t *testing.T) {
	const iv = 5 * time.Millisecond
	_, ts := newTestServer(t, Config{Mode: Broadcast, Interval: iv})
	_, ra := subscribe(t, t.Context(), ts.URL)
	var last event
	for range 3 {
		last = mustNext(t, ra)
	}
	joined := time.Now().UnixNano()
	_, rb := subscribe(t, t.Context(), ts.URL)
	first := mustNext(t, rb)
	if first.Seq <= last.Seq {
		t.Errorf("late subscriber's first seq %d, but seq %d was published before it joined", first.Seq, last.Seq)
	}
	if first.Sched <= joined {
		t.Errorf("late subscriber got seq %d scheduled at %d, before it joined at %d", first.Seq, first.Sched, joined)
	}
	prev := first.Seq
	for range 3 {
		ev := mustNext(t, rb)
		if ev.Seq != prev+1 {
			t.Errorf("seq %d after %d", ev.Seq, prev)
		}
		prev = ev.Seq
	}
}

// TestBroadcastBounded: with Events N, every stream ends after publish N,
// and a stream opened after that gets 204 (EventSource: stop reconnecting).
func TestBroadcastBounded(t *testing.T) {
	const n, iv = 3, 5 * time.Millisecond
	// Publish 1 is due a little after the subscribers join; checked below.
	epoch := time.Now().Add(500 * time.Millisecond)
	s, ts := newTestServer(t, Config{Mode: Broadcast, Interval: iv, Events: n, Epoch: epoch})
	// The head comes with event 1, so the requests are sent concurrently and
	// the responses collected once both streams are open.
	resps := make(chan *http.Response, 2)
	for range 2 {
		go func() {
			resp, err := http.Get(ts.URL + "/events")
			if err != nil {
				t.Errorf("GET /events: %v", err)
			}
			resps <- resp
		}()
	}
	waitFor(t, "two subscribers", func() bool { return s.Subscribers() == 2 })
	if time.Now().After(epoch) {
		t.Fatalf("test setup: subscribers joined after the epoch; the machine is too slow for this test")
	}
	var readers []*sseReader
	for range 2 {
		resp := <-resps
		if resp == nil {
			t.FailNow()
		}
		defer resp.Body.Close()
		readers = append(readers, newSSEReader(resp.Body))
	}
	for i, r := range readers {
		seqs := seqsOf(r.rest(t))
		if fmt.Sprint(seqs) != "[1 2 3]" {
			t.Errorf("subscriber %d got seqs %v, want [1 2 3] then the end", i, seqs)
		}
	}
	resp, err := http.Get(ts.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("GET /events after the last publish: %s, want 204", resp.Status)
	}
}

// readInOrder reads n+1 events from r, each the successor of the one
// before, and returns the last one's seq.
func readInOrder(t *testing.T, r *sseReader, n int) int64 {
	t.Helper()
	prev := mustNext(t, r).Seq
	for range n {
		ev := mustNext(t, r)
		if ev.Seq != prev+1 {
			t.Fatalf("reading subscriber: seq %d after %d", ev.Seq, prev)
		}
		prev = ev.Seq
	}
	return prev
}

// dialStalled opens /events on a socket with a tiny receive buffer, reads
// the first bytes (so the stream is known to be running) and then never
// reads again.
func dialStalled(t *testing.T, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = setRcvBuf(fd, 1024)
		})
		return errors.Join(err, serr)
	}}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := io.WriteString(conn, "GET /events HTTP/1.1\r\nHost: origin\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	if _, err := io.ReadFull(conn, buf); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(buf, []byte("HTTP/1.1 200 ")) {
		t.Fatalf("stalled stream starts %q", buf)
	}
	return conn
}

// socketBytes bounds what a stalled stream can absorb before the origin's
// write blocks: the largest loopback send buffer plus the receive side.
func socketBytes() int {
	n := 4 << 20
	if b, err := os.ReadFile("/proc/sys/net/ipv4/tcp_wmem"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 3 {
			if v, err := strconv.Atoi(f[2]); err == nil {
				n = v
			}
		}
	}
	return n + 1<<20
}

// TestBroadcastStalledSubscriber: a subscriber that stops reading does not
// hold up another one. The stalled stream's socket fills up and its writer
// blocks (the stream stays open: Subscribers counts it), while the reading
// subscriber keeps receiving every publish, far more bytes than the
// stalled socket can absorb.
func TestBroadcastStalledSubscriber(t *testing.T) {
	const pad = 128 << 10
	s, ts := newTestServer(t, Config{Mode: Broadcast, Interval: 5 * time.Millisecond, Payload: pad})
	dialStalled(t, ts.Listener.Addr().String())
	_, r := subscribe(t, t.Context(), ts.URL)
	// Read enough for the stalled socket to fill: its writer is blocked.
	readInOrder(t, r, socketBytes()/pad+10)
	if got := s.Subscribers(); got != 2 {
		t.Errorf("Subscribers() = %d, want 2 (the stalled stream is blocked, not gone)", got)
	}
}

// TestStalledSubscriberDropped: the write deadline ends a stream whose
// client has stopped reading.
func TestStalledSubscriberDropped(t *testing.T) {
	const pad = 128 << 10
	s, ts := newTestServer(t, Config{Mode: Broadcast, Interval: 5 * time.Millisecond, Payload: pad})
	s.writeTimeout = 100 * time.Millisecond
	dialStalled(t, ts.Listener.Addr().String())
	_, r := subscribe(t, t.Context(), ts.URL)
	// The other subscriber keeps reading, or it would stall and be dropped
	// too.
	seqs := make(chan int64, 1)
	go func() {
		defer close(seqs)
		for {
			ev, err := r.next()
			if err != nil {
				return
			}
			select { // keep only the latest; this is the only sender
			case <-seqs:
			default:
			}
			seqs <- ev.Seq
		}
	}()
	waitFor(t, "the stalled stream to be dropped", func() bool { return s.Subscribers() == 1 })
	<-seqs
	if _, ok := <-seqs; !ok {
		t.Errorf("the reading subscriber's stream ended with the stalled one")
	}
}

// TestServeShutdown: cancelling Serve's context ends every stream cleanly
// (the chunked terminator for HTTP/1.1, the close for HTTP/1.0) and Serve
// returns nil with no stream left.
func TestServeShutdown(t *testing.T) {
	for _, mode := range []Mode{Broadcast, PerConnection} {
		t.Run(string(mode), func(t *testing.T) {
			s := mustNew(t, Config{Mode: mode, Interval: 5 * time.Millisecond, Events: 1000})
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			served := make(chan error, 1)
			go func() { served <- s.Serve(ctx, ln) }()
			url := "http://" + ln.Addr().String()

			var bodies []io.Reader
			for range 3 {
				_, r := subscribe(t, t.Context(), url)
				mustNext(t, r)
				bodies = append(bodies, r.br)
			}
			conn, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := io.WriteString(conn, "GET /events HTTP/1.0\r\n\r\n"); err != nil {
				t.Fatal(err)
			}
			r10 := newSSEReader(conn)
			if _, err := r10.br.ReadString('\n'); err != nil { // status line
				t.Fatal(err)
			}
			bodies = append(bodies, r10.br)
			if got := s.Subscribers(); got != 4 {
				t.Errorf("Subscribers() = %d, want 4", got)
			}

			cancel()
			if err := <-served; err != nil {
				t.Errorf("Serve after cancel: %v, want nil", err)
			}
			if got := s.Subscribers(); got != 0 {
				t.Errorf("Subscribers() = %d after Serve returned, want 0", got)
			}
			for i, b := range bodies {
				if _, err := io.Copy(io.Discard, b); err != nil {
					t.Errorf("stream %d did not end cleanly: %v", i, err)
				}
			}
			if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
				t.Errorf("listener still accepts after Serve returned")
			}
		})
	}
}

func TestServeListenerError(t *testing.T) {
	s := mustNew(t, Config{Mode: Broadcast, Interval: time.Second})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	err = s.Serve(t.Context(), ln)
	if err == nil || !strings.Contains(err.Error(), "origin serve on 127.0.0.1:") || !errors.Is(err, net.ErrClosed) {
		t.Errorf("Serve on a closed listener: %v, want a wrapped net.ErrClosed", err)
	}
}

// TestHTTP10 is nginx's default upstream request: HTTP/1.0, so the response
// cannot be chunked; the body is delimited by the close.
func TestHTTP10(t *testing.T) {
	for _, mode := range []Mode{Broadcast, PerConnection} {
		t.Run(string(mode), func(t *testing.T) {
			const n = 3
			cfg := Config{Mode: mode, Interval: 5 * time.Millisecond, Events: n}
			if mode == Broadcast {
				cfg.Epoch = time.Now().Add(500 * time.Millisecond) // publish 1 after the join
			}
			_, ts := newTestServer(t, cfg)
			conn, err := net.Dial("tcp", ts.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			req := "GET /events HTTP/1.0\r\nHost: origin\r\nConnection: close\r\n\r\n"
			if _, err := io.WriteString(conn, req); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(conn)
			resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodGet, ProtoMajor: 1, ProtoMinor: 0})
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusOK || len(resp.TransferEncoding) != 0 || resp.ContentLength != -1 || !resp.Close {
				t.Fatalf("status %s, transfer-encoding %v, content-length %d, close %v: want 200, close-delimited",
					resp.Status, resp.TransferEncoding, resp.ContentLength, resp.Close)
			}
			r := newSSEReader(resp.Body)
			seqs := seqsOf(r.rest(t))
			if fmt.Sprint(seqs) != "[1 2 3]" {
				t.Errorf("seqs %v, want [1 2 3] then the close", seqs)
			}
		})
	}
}

func TestRoutes(t *testing.T) {
	_, ts := newTestServer(t, Config{Mode: Broadcast, Interval: time.Hour})
	for _, tc := range []struct {
		method, path string
		status       int
		body, allow  string
	}{
		{"GET", "/healthz", 200, "ok", ""},
		{"HEAD", "/healthz", 200, "", ""},
		{"POST", "/healthz", 405, "", "GET, HEAD"},
		{"GET", "/", 404, "", ""},
		{"GET", "/events/x", 404, "", ""},
		{"POST", "/events", 405, "", "GET"},
		{"HEAD", "/events", 405, "", "GET"},
		{"PUT", "/events", 405, "", "GET"},
	} {
		req, _ := http.NewRequest(tc.method, ts.URL+tc.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s %s: %s, want %d", tc.method, tc.path, resp.Status, tc.status)
		}
		if tc.body != "" && string(body) != tc.body {
			t.Errorf("%s %s: body %q, want %q", tc.method, tc.path, body, tc.body)
		}
		if got := resp.Header.Get("Allow"); got != tc.allow {
			t.Errorf("%s %s: Allow %q, want %q", tc.method, tc.path, got, tc.allow)
		}
	}
}

func TestValidate(t *testing.T) {
	good := Config{Mode: Broadcast, Interval: time.Second}
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string // "" = valid
	}{
		{"broadcast forever", func(c *Config) {}, ""},
		{"per-connection", func(c *Config) { c.Mode, c.Events, c.Payload, c.RetryMS = PerConnection, 6, 100, 3000 }, ""},
		{"max payload", func(c *Config) { c.Payload = MaxPayload }, ""},
		{"no mode", func(c *Config) { c.Mode = "" }, `origin mode "": must be "broadcast" or "per-connection"`},
		{"bad mode", func(c *Config) { c.Mode = "fanout" }, `origin mode "fanout"`},
		{"zero interval", func(c *Config) { c.Interval = 0 }, "origin interval 0s: must be > 0 (e.g. 1s)"},
		{"negative interval", func(c *Config) { c.Interval = -time.Second }, "origin interval -1s: must be > 0"},
		{"per-connection no events", func(c *Config) { c.Mode = PerConnection }, "origin events 0: must be >= 1 in per-connection mode"},
		{"broadcast negative events", func(c *Config) { c.Events = -1 }, "origin events -1: must be >= 0 in broadcast mode"},
		{"negative payload", func(c *Config) { c.Payload = -1 }, "origin payload -1: must be between 0 and 16777216 bytes"},
		{"huge payload", func(c *Config) { c.Payload = MaxPayload + 1 }, "origin payload 16777217"},
		{"negative retry", func(c *Config) { c.RetryMS = -5 }, "origin retry -5 ms: must be >= 0"},
		{"heartbeat", func(c *Config) { c.Heartbeat = 15 * time.Second }, ""},
		{"negative heartbeat", func(c *Config) { c.Heartbeat = -time.Second }, "origin heartbeat -1s: must be >= 0 (0 = no heartbeats"},
	} {
		cfg := good
		tc.edit(&cfg)
		err := cfg.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: unexpected error %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
		if _, nerr := New(cfg); (nerr == nil) != (err == nil) {
			t.Errorf("%s: New error %v disagrees with Validate %v", tc.name, nerr, err)
		}
	}
	// Several bad fields are all reported.
	err := Config{Interval: -1, Payload: -1}.Validate()
	for _, want := range []string{"origin mode", "origin interval", "origin payload"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate of three bad fields: %v, want it to name %q", err, want)
		}
	}
}

// TestHubStops: the hub goroutine runs only while someone subscribes, and
// starts again, caught up with the schedule, for the next subscriber.
func TestHubStops(t *testing.T) {
	s, ts := newTestServer(t, Config{Mode: Broadcast, Interval: 5 * time.Millisecond})
	running := func() bool {
		s.hub.mu.Lock()
		defer s.hub.mu.Unlock()
		return s.hub.running
	}
	for range 2 {
		ctx, cancel := context.WithCancel(t.Context())
		_, r := subscribe(t, ctx, ts.URL)
		ev := mustNext(t, r)
		if want := s.cfg.Epoch.UnixNano() + ev.Seq*int64(5*time.Millisecond); ev.Sched != want {
			t.Errorf("seq %d sched %d, want %d", ev.Seq, ev.Sched, want)
		}
		cancel()
		waitFor(t, "the stream to end", func() bool { return s.Subscribers() == 0 })
		waitFor(t, "the hub to stop", func() bool { return !running() })
	}
}
