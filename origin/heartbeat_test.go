package origin

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// testDeadline bounds a test that waits for heartbeats: a guard against a
// hung test, not a timing assertion.
const testDeadline = 20 * time.Second

// TestHeartbeatQuietStream: with nothing to publish for an hour, every kind
// of stream gets ": heartbeat" comment lines, and nothing else.
func TestHeartbeatQuietStream(t *testing.T) {
	const hb = 20 * time.Millisecond
	bcast := Config{Mode: Broadcast, Interval: time.Hour, Heartbeat: hb}
	for _, tc := range []struct {
		name  string
		start func(testing.TB, Config) (*Server, *httptest.Server)
		cfg   Config
	}{
		{"broadcast/http1", newTestServer, bcast},
		{"broadcast/http2", newH2Server, bcast},
		{"per-connection", newTestServer, Config{Mode: PerConnection, Interval: time.Hour, Events: 1, Heartbeat: hb}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, ts := tc.start(t, tc.cfg)
			ctx, cancel := context.WithTimeout(t.Context(), testDeadline)
			defer cancel()
			resp := resumeGet(t, ctx, ts, "")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %s", resp.Status)
			}
			br := bufio.NewReader(resp.Body)
			for i := range 3 {
				line, err := br.ReadString('\n')
				if err != nil {
					t.Fatalf("heartbeat %d: %v (read %q)", i+1, err, line)
				}
				if line != ": heartbeat\n" {
					t.Fatalf("line %q, want the heartbeat comment", line)
				}
			}
		})
	}
}

// TestHeartbeatWire: a hijacked stream's heartbeat is one whole chunk
// (HTTP/1.1) or the bare line (HTTP/1.0), and the first carries the head.
func TestHeartbeatWire(t *testing.T) {
	_, ts := newTestServer(t, Config{Mode: Broadcast, Interval: time.Hour, Heartbeat: 20 * time.Millisecond})
	addr := ts.Listener.Addr().String()
	t.Run("http1.1", func(t *testing.T) {
		conn, br := rawGet(t, addr, "GET /events HTTP/1.1\r\nHost: origin\r\n\r\n")
		if err := conn.SetReadDeadline(time.Now().Add(testDeadline)); err != nil {
			t.Fatal(err)
		}
		if head := readHead(t, br); head[0] != "HTTP/1.1 200 OK" {
			t.Fatalf("head %q", head)
		}
		for range 3 {
			if got := readChunk(t, br); got != ": heartbeat\n" {
				t.Fatalf("chunk %q, want one heartbeat", got)
			}
		}
	})
	t.Run("http1.0", func(t *testing.T) {
		conn, br := rawGet(t, addr, "GET /events HTTP/1.0\r\n\r\n")
		if err := conn.SetReadDeadline(time.Now().Add(testDeadline)); err != nil {
			t.Fatal(err)
		}
		if head := readHead(t, br); head[0] != "HTTP/1.0 200 OK" {
			t.Fatalf("head %q", head)
		}
		for range 3 {
			if line, err := br.ReadString('\n'); err != nil || line != ": heartbeat\n" {
				t.Fatalf("line %q, %v; want the heartbeat comment", line, err)
			}
		}
	})
}

// TestHeartbeatBetweenEvents: heartbeats on a stream that also has events
// come only between events (sseReader rejects a comment inside one), and
// the events are all there.
func TestHeartbeatBetweenEvents(t *testing.T) {
	const iv, hb = 30 * time.Millisecond, 10 * time.Millisecond
	bcast := Config{Mode: Broadcast, Interval: iv, Heartbeat: hb, Payload: 8}
	for _, tc := range []struct {
		name  string
		start func(testing.TB, Config) (*Server, *httptest.Server)
		cfg   Config
	}{
		{"broadcast/http1", newTestServer, bcast},
		{"broadcast/http2", newH2Server, bcast},
		{"per-connection", newTestServer, Config{Mode: PerConnection, Interval: iv, Events: 1000, Heartbeat: hb}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, ts := tc.start(t, tc.cfg)
			ctx, cancel := context.WithTimeout(t.Context(), testDeadline)
			defer cancel()
			resp := resumeGet(t, ctx, ts, "")
			r := newSSEReader(resp.Body)
			prev := mustNext(t, r).Seq
			for n := 1; n < 3 || r.comments < 2; n++ {
				ev := mustNext(t, r)
				if ev.Seq != prev+1 {
					t.Fatalf("seq %d after %d", ev.Seq, prev)
				}
				prev = ev.Seq
			}
		})
	}
}

// TestNoHeartbeatByDefault: with Heartbeat 0 a stream's bytes are its
// events and nothing else.
func TestNoHeartbeatByDefault(t *testing.T) {
	const iv = 5 * time.Millisecond
	t.Run("per-connection", func(t *testing.T) {
		_, ts := newTestServer(t, Config{Mode: PerConnection, Interval: iv, Events: 3})
		body, err := io.ReadAll(resumeGet(t, t.Context(), ts, "").Body)
		if err != nil {
			t.Fatal(err)
		}
		evs := strings.SplitAfter(string(body), "\n\n")
		if len(evs) != 4 || evs[3] != "" {
			t.Fatalf("body %q: want exactly 3 events", body)
		}
		for _, ev := range evs[:3] {
			if !eventRE.MatchString(ev) {
				t.Errorf("%q is not exactly one event", ev)
			}
		}
	})
	for _, tr := range transports {
		t.Run("broadcast/"+tr.name, func(t *testing.T) {
			epoch := time.Now()
			_, ts := tr.start(t, Config{Mode: Broadcast, Interval: iv, Epoch: epoch})
			br := bufio.NewReader(resumeGet(t, t.Context(), ts, "").Body)
			var prev int64
			for range 5 {
				var block strings.Builder
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						t.Fatal(err)
					}
					block.WriteString(line)
					if line == "\n" {
						break
					}
				}
				m := eventRE.FindStringSubmatch(block.String())
				if m == nil {
					t.Fatalf("%q is not exactly one event", block.String())
				}
				seq, _ := strconv.ParseInt(m[1], 10, 64)
				if prev != 0 && seq != prev+1 {
					t.Errorf("seq %d after %d", seq, prev)
				}
				prev = seq
			}
		})
	}
}
