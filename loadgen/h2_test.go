package loadgen

import (
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestHTTP2Streams: an HTTP/2 target negotiates h2 by ALPN, with one
// connection per stream by default and StreamsPerConn streams sharing
// one otherwise (the server counts the connections it accepted); a server
// that answers the offer with HTTP/1.1 still gets every stream, one per
// connection, and the target reports h1.
func TestHTTP2Streams(t *testing.T) {
	const conns, events = 6, 3
	for _, tc := range []struct {
		name      string
		h2        bool
		perConn   int
		wantConns int64
		proto     string
	}{
		{"h2 one per stream", true, 0, conns, ProtoH2},
		{"h2 three per conn", true, 3, conns / 3, ProtoH2},
		{"h1 server", false, 3, conns, ProtoH1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var accepted atomic.Int64
			srv, cfg := newTLSServerWith(t, together(conns, sseHandler(events)), tc.h2, func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					accepted.Add(1)
				}
			})
			// A guard, not a wait: streams queued behind one another on a
			// connection never all arrive (together), and the run, which
			// ends when every stream has, would hang instead of failing.
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			res := runEngine(t, ctx, Config{
				Targets:     []Target{{Name: "h2", URL: srv.URL + "/events", HTTP2: true}},
				Connections: conns, StreamsPerConn: tc.perConn, TLSConfig: cfg,
			})
			tr := res.Targets[0]
			if tr.Established != conns || tr.EventsTimed != conns*events || len(tr.Errors) != 0 {
				t.Errorf("established %d, timed %d, errors %v; want %d, %d, none", tr.Established, tr.EventsTimed, tr.Errors, conns, conns*events)
			}
			if tr.Protocol != tc.proto || tr.TLSVersion != "TLS 1.3" {
				t.Errorf("protocol %q %q, want %q TLS 1.3", tr.Protocol, tr.TLSVersion, tc.proto)
			}
			if got := accepted.Load(); got != tc.wantConns {
				t.Errorf("server accepted %d connections, want %d", got, tc.wantConns)
			}
		})
	}
}

// together holds every response until n requests are in flight, so that
// the streams are open at the same time: an HTTP/1.1 connection then
// cannot carry a second stream after its first one ended (keep-alive
// reuse), and the count of connections says how streams share them.
func together(n int, h http.Handler) http.Handler {
	var mu sync.Mutex
	arrived := 0
	all := make(chan struct{})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		arrived++
		if arrived == n {
			close(all)
		}
		mu.Unlock()
		select {
		case <-all:
		case <-r.Context().Done():
			return
		}
		h.ServeHTTP(w, r)
	})
}

// TestHTTP2Errors: an untrusted certificate fails HTTP/2 streams as
// tls_handshake with its reason, and HTTP/2 on a plain or a shared
// HTTP/1.1 target is refused by name.
func TestHTTP2Errors(t *testing.T) {
	srv, _ := newTLSServerWith(t, sseHandler(1), true, nil)
	res := runEngine(t, context.Background(), Config{
		Targets:     []Target{{Name: "h2", URL: srv.URL + "/events", HTTP2: true}},
		Connections: 2, Hold: time.Second,
	})
	const unknown = "x509: certificate signed by unknown authority"
	if tr := res.Targets[0]; tr.Failed != 2 || tr.ErrorValues[ErrTLSHandshake][unknown] != 2 {
		t.Errorf("untrusted: failed %d, errors %v %v; want 2 %s %q", tr.Failed, tr.Errors, tr.ErrorValues, ErrTLSHandshake, unknown)
	}
	for _, cfg := range []Config{
		{Targets: []Target{{Name: "plain", URL: "http://127.0.0.1:1/events", HTTP2: true}}, Connections: 1, Ramp: 1},
		{Targets: []Target{{Name: "h1", URL: "https://127.0.0.1:1/events"}}, Connections: 1, Ramp: 1, StreamsPerConn: 2},
	} {
		if _, err := New(context.Background(), cfg); err == nil {
			t.Errorf("%+v: accepted, want an error", cfg.Targets[0])
		}
	}
}
