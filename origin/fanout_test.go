package origin

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rawGet sends req on a new loopback connection and returns it with a
// reader over the response.
func rawGet(t *testing.T, addr, req string) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	return conn, bufio.NewReader(conn)
}

// readHead reads a response head up to the blank line and returns its
// lines (without CRLF).
func readHead(t *testing.T, br *bufio.Reader) []string {
	t.Helper()
	var lines []string
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("read head: %v (so far %q)", err, lines)
		}
		if !strings.HasSuffix(line, "\r\n") {
			t.Fatalf("head line %q does not end in CRLF", line)
		}
		line = strings.TrimSuffix(line, "\r\n")
		if line == "" {
			return lines
		}
		lines = append(lines, line)
	}
}

// readChunk reads one chunk of a chunked body and returns its data; a
// zero-size chunk (the terminator, whose trailing CRLF it also reads)
// returns "".
func readChunk(t *testing.T, br *bufio.Reader) string {
	t.Helper()
	line, err := br.ReadString('\n')
	if err != nil {
		t.Fatalf("read chunk size: %v", err)
	}
	size, err := strconv.ParseInt(strings.TrimSuffix(line, "\r\n"), 16, 64)
	if err != nil || !strings.HasSuffix(line, "\r\n") {
		t.Fatalf("chunk size line %q: %v", line, err)
	}
	buf := make([]byte, size+2)
	if _, err := io.ReadFull(br, buf); err != nil {
		t.Fatalf("read chunk of %d bytes: %v", size, err)
	}
	if string(buf[size:]) != "\r\n" {
		t.Fatalf("chunk of %d bytes ends %q, want CRLF", size, buf[size:])
	}
	return string(buf[:size])
}

var eventRE = regexp.MustCompile(`^id: (\d+)\ndata: \{"seq":(\d+),"sched":(\d+),"sent":(\d+)\}\n\n$`)

// checkEvent checks that data is exactly event seq of a broadcast with the
// given schedule.
func checkEvent(t *testing.T, data string, seq int64, epoch time.Time, iv time.Duration) {
	t.Helper()
	m := eventRE.FindStringSubmatch(data)
	if m == nil {
		t.Fatalf("event %q is not one well-formed event", data)
	}
	sched := epoch.UnixNano() + seq*int64(iv)
	if m[1] != strconv.FormatInt(seq, 10) || m[2] != m[1] || m[3] != strconv.FormatInt(sched, 10) {
		t.Errorf("event %q: want id and seq %d, sched %d", data, seq, sched)
	}
	if sent, _ := strconv.ParseInt(m[4], 10, 64); sent < sched {
		t.Errorf("event %q: sent before its schedule", data)
	}
}

// TestBroadcastWireHTTP11 reads a hijacked HTTP/1.1 stream byte by byte:
// net/http's head and chunk framing, one event per chunk, the head in the
// same write as the first event (HeadWithFirstEvent; TestHeadAtOnce has
// the default), and the terminator and close after the final publish of a
// bounded broadcast.
func TestBroadcastWireHTTP11(t *testing.T) {
	const n, iv = 3, 5 * time.Millisecond
	epoch := time.Now().Add(300 * time.Millisecond)
	_, ts := newTestServer(t, Config{Mode: Broadcast, Interval: iv, Events: n, XAccel: true, Epoch: epoch, HeadWithFirstEvent: true})
	conn, _ := rawGet(t, ts.Listener.Addr().String(), "GET /events HTTP/1.1\r\nHost: origin\r\n\r\n")

	// The first read holds the head and event 1: one write on loopback.
	buf := make([]byte, 1<<16)
	m, err := conn.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	first := string(buf[:m])
	if !strings.Contains(first, "\r\n\r\n") || !strings.Contains(first, "id: 1\ndata: {\"seq\":1,") {
		t.Fatalf("first read is not the head with event 1: %q", first)
	}
	br := bufio.NewReader(io.MultiReader(strings.NewReader(first), conn))
	head := readHead(t, br)
	want := []string{"HTTP/1.1 200 OK", "Cache-Control: no-cache", "Content-Type: text/event-stream",
		"X-Accel-Buffering: no", "Date: *", "Transfer-Encoding: chunked", "Connection: close"}
	if len(head) != len(want) {
		t.Fatalf("head %q, want %q", head, want)
	}
	for i, w := range want {
		if date, ok := strings.CutPrefix(head[i], "Date: "); ok && w == "Date: *" {
			if _, err := http.ParseTime(date); err != nil {
				t.Errorf("Date %q: %v", date, err)
			}
			continue
		}
		if head[i] != w {
			t.Errorf("head line %d %q, want %q", i, head[i], w)
		}
	}
	for seq := int64(1); seq <= n; seq++ {
		checkEvent(t, readChunk(t, br), seq, epoch, iv)
	}
	if last := readChunk(t, br); last != "" {
		t.Fatalf("after the final publish, chunk %q, want the terminator", last)
	}
	if rest, err := io.ReadAll(br); err != nil || len(rest) != 0 {
		t.Errorf("after the terminator: %q, %v; want the close", rest, err)
	}
}

// TestBroadcastWireHTTP10: no chunking, "Connection: close", the events
// back to back, then the close.
func TestBroadcastWireHTTP10(t *testing.T) {
	const n, iv = 3, 5 * time.Millisecond
	epoch := time.Now().Add(300 * time.Millisecond)
	_, ts := newTestServer(t, Config{Mode: Broadcast, Interval: iv, Events: n, Epoch: epoch})
	_, br := rawGet(t, ts.Listener.Addr().String(), "GET /events HTTP/1.0\r\n\r\n")
	head := strings.Join(readHead(t, br), "\n")
	if !strings.HasPrefix(head, "HTTP/1.0 200 OK\n") || !strings.Contains(head, "\nConnection: close") ||
		strings.Contains(head, "Transfer-Encoding") || !strings.Contains(head, "\nContent-Type: text/event-stream") {
		t.Fatalf("head %q: want a 200 with Connection: close and no Transfer-Encoding", head)
	}
	body, err := io.ReadAll(br)
	if err != nil {
		t.Fatalf("body: %v", err)
	}
	evs := strings.SplitAfter(string(body), "\n\n")
	if len(evs) != n+1 || evs[n] != "" {
		t.Fatalf("body %q: want %d events then the close", body, n)
	}
	for i := range n {
		checkEvent(t, evs[i], int64(i+1), epoch, iv)
	}
}

// TestBroadcastWireRetry: with RetryMS the head goes out at once with the
// retry line as its first chunk.
func TestBroadcastWireRetry(t *testing.T) {
	_, ts := newTestServer(t, Config{Mode: Broadcast, Interval: time.Hour, RetryMS: 100})
	_, br := rawGet(t, ts.Listener.Addr().String(), "GET /events HTTP/1.1\r\nHost: origin\r\n\r\n")
	head := readHead(t, br)
	if head[0] != "HTTP/1.1 200 OK" || head[len(head)-1] != "Transfer-Encoding: chunked" {
		t.Errorf("head %q: want a chunked 200 (and no Connection: close: the broadcast is unbounded)", head)
	}
	if got := readChunk(t, br); got != "retry: 100\n\n" {
		t.Errorf("first chunk %q, want the retry line", got)
	}
}

// TestBroadcastSlowSubscriberCatchesUp: a subscriber that stops reading
// for a while (long enough for its socket to fill, so its writes go
// partial and it leaves its shard) and then reads again receives every
// publish, none skipped or repeated, and keeps receiving after it has
// caught up (it has rejoined a shard). Meanwhile a reading subscriber got
// more events than the stalled socket could hold.
func TestBroadcastSlowSubscriberCatchesUp(t *testing.T) {
	const pad = 64 << 10
	s, ts := newTestServer(t, Config{Mode: Broadcast, Interval: 2 * time.Millisecond, Payload: pad})
	slow := dialStalled(t, ts.Listener.Addr().String())
	_, r := subscribe(t, t.Context(), ts.URL)
	// Read enough for the stalled socket to fill: its writer is blocked.
	prev := readInOrder(t, r, socketBytes()/pad+10)
	if got := s.Subscribers(); got != 2 {
		t.Fatalf("Subscribers() = %d, want 2", got)
	}
	// Now read the stalled stream: the rest of the head, then chunks.
	br := bufio.NewReaderSize(slow, 1<<20)
	if _, err := br.ReadString('\n'); err != nil { // rest of the status line
		t.Fatal(err)
	}
	readHead(t, br)
	var seq int64
	for seq < prev+20 {
		data := readChunk(t, br)
		ev, err := newSSEReader(strings.NewReader(data)).next()
		if err != nil {
			t.Fatalf("chunk %.60q: %v", data, err)
		}
		if seq != 0 && ev.Seq != seq+1 {
			t.Fatalf("slow subscriber: seq %d after %d", ev.Seq, seq)
		}
		seq = ev.Seq
	}
}

// TestServeShutdownHijacked: Serve's shutdown ends hijacked streams with the
// terminator and the close, cuts a stalled one when the (shortened) grace
// expires, and returns only then, with Subscribers at 0.
func TestServeShutdownHijacked(t *testing.T) {
	const pad = 128 << 10
	s := mustNew(t, Config{Mode: Broadcast, Interval: 5 * time.Millisecond, Payload: pad})
	// The grace bounds how long the stalled stream may hold Serve up; the
	// reading stream must end cleanly within it. It is generous because a
	// slow machine (-race, other load) needs time to drain the megabytes
	// already in the reading socket's buffers before the terminator: at
	// 200 ms it was cut on a loaded machine, which is not what this checks.
	s.shutdownGrace = 3 * time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()
	addr := ln.Addr().String()

	dialStalled(t, addr)
	_, br := rawGet(t, addr, "GET /events HTTP/1.1\r\nHost: origin\r\n\r\n")
	readHead(t, br)
	// Read enough for the stalled socket to fill: its writer is blocked.
	for range socketBytes()/pad + 5 {
		if readChunk(t, br) == "" {
			t.Fatal("terminator before shutdown")
		}
	}
	if got := s.Subscribers(); got != 2 {
		t.Fatalf("Subscribers() = %d, want 2", got)
	}
	cancel()
	// The reading stream ends with the terminator then the close.
	for readChunk(t, br) != "" {
	}
	if rest, err := io.ReadAll(br); err != nil || len(rest) != 0 {
		t.Errorf("after the terminator: %d bytes, %v; want the close", len(rest), err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if got := s.Subscribers(); got != 0 {
		t.Errorf("Subscribers() = %d after Serve returned, want 0", got)
	}
}

// TestSubscribersHijacked: Subscribers counts hijacked streams of both
// protocols, and drops a stream whose client has closed once a write to it
// fails.
func TestSubscribersHijacked(t *testing.T) {
	s, ts := newTestServer(t, Config{Mode: Broadcast, Interval: 2 * time.Millisecond})
	addr := ts.Listener.Addr().String()
	var conns []net.Conn
	for i := range 6 {
		req := "GET /events HTTP/1.1\r\nHost: origin\r\n\r\n"
		if i%2 == 1 {
			req = "GET /events HTTP/1.0\r\n\r\n"
		}
		conn, br := rawGet(t, addr, req)
		if head := readHead(t, br); !strings.HasSuffix(head[0], " 200 OK") {
			t.Fatalf("stream %d: %q", i, head)
		}
		conns = append(conns, conn)
	}
	if got := s.Subscribers(); got != 6 {
		t.Fatalf("Subscribers() = %d with 6 streams open, want 6", got)
	}
	for _, c := range conns[:4] {
		c.Close()
	}
	waitFor(t, "4 closed streams to be dropped", func() bool { return s.Subscribers() == 2 })
}

// TestShardsStop: the shard goroutines, like the hub's, run only while
// there are streams.
func TestShardsStop(t *testing.T) {
	s, ts := newTestServer(t, Config{Mode: Broadcast, Interval: 2 * time.Millisecond})
	conn, br := rawGet(t, ts.Listener.Addr().String(), "GET /events HTTP/1.1\r\nHost: origin\r\n\r\n")
	readHead(t, br)
	readChunk(t, br)
	conn.Close()
	waitFor(t, "the shards to stop", func() bool {
		for _, sh := range s.shards {
			sh.mu.Lock()
			running := sh.running
			sh.mu.Unlock()
			if running {
				return false
			}
		}
		return true
	})
	if got := s.Subscribers(); got != 0 {
		t.Errorf("Subscribers() = %d, want 0", got)
	}
}

// TestAppendChunk pins the chunk framing to net/http's.
func TestAppendChunk(t *testing.T) {
	for _, n := range []int{1, 15, 16, 78, 4096} {
		p := strings.Repeat("x", n)
		got := string(appendChunk([]byte("|"), []byte(p)))
		if want := fmt.Sprintf("|%x\r\n%s\r\n", n, p); got != want {
			t.Errorf("%d bytes: %.20q, want %.20q", n, got, want)
		}
	}
}
