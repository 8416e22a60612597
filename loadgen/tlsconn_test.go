package loadgen

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// newTLSServer starts an httptest TLS server with h, at most TLS version
// max (0: the default, TLS 1.3, which sends session tickets after the
// handshake), and returns it with a client configuration trusting it.
func newTLSServer(t *testing.T, h http.Handler, max uint16) (*httptest.Server, *tls.Config) {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshake failures are the test's own
	srv.TLS = &tls.Config{MaxVersion: max}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, srv.Client().Transport.(*http.Transport).TLSClientConfig
}

// newTLSServerWith starts an httptest TLS server with h offering HTTP/2
// by ALPN when h2 is set, calling state (if not nil) on its connections'
// state changes.
func newTLSServerWith(t *testing.T, h http.Handler, h2 bool, state func(net.Conn, http.ConnState)) (*httptest.Server, *tls.Config) {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Config.ConnState = state
	srv.EnableHTTP2 = h2
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, srv.Client().Transport.(*http.Transport).TLSClientConfig
}

// TestTLSStreams: https targets run in the epoll workers over crypto/tls,
// TLS 1.3 (post-handshake session tickets arrive inside the stream's
// reads) and 1.2 alike. Every event arrives and is timed, an event larger
// than one TLS record (16 KiB) included, and the target reports h1 with
// the version negotiated.
func TestTLSStreams(t *testing.T) {
	const conns, events = 8, 5
	big := strings.Repeat("x", 40<<10)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := 1; i <= events; i++ {
			pad := ""
			if i == 3 {
				pad = `,"pad":"` + big + `"`
			}
			fmt.Fprintf(w, "id: %d\ndata: {\"seq\":%d,\"sched\":%d%s}\n\n", i, i, time.Now().UnixNano(), pad)
			w.(http.Flusher).Flush()
		}
	})
	for _, tc := range []struct {
		max  uint16
		want string
	}{{0, "TLS 1.3"}, {tls.VersionTLS12, "TLS 1.2"}} {
		t.Run(tc.want, func(t *testing.T) {
			srv, cfg := newTLSServer(t, h, tc.max)
			res := runEngine(t, context.Background(), Config{
				Targets:     []Target{{Name: "tls", URL: srv.URL + "/events"}},
				Connections: conns, Workers: 2, TLSConfig: cfg,
			})
			tr := res.Targets[0]
			if tr.Established != conns || tr.EventsTimed != conns*events || len(tr.Errors) != 0 {
				t.Errorf("established %d, timed %d, errors %v; want %d, %d, none", tr.Established, tr.EventsTimed, tr.Errors, conns, conns*events)
			}
			if tr.Protocol != ProtoH1 || tr.TLSVersion != tc.want {
				t.Errorf("protocol %q %q, want %q %q", tr.Protocol, tr.TLSVersion, ProtoH1, tc.want)
			}
		})
	}
}

// TestTLSRedirects: an https stream follows a redirect to https, with the
// server name of where it leads, and refuses one to plain http by name.
func TestTLSRedirects(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("/events", sseHandler(2))
	mux.Handle("/old", http.RedirectHandler("/events", http.StatusFound))
	mux.HandleFunc("/plain", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://"+r.Host+"/events", http.StatusFound)
	})
	srv, cfg := newTLSServer(t, mux, 0)
	res := runEngine(t, context.Background(), Config{
		Targets: []Target{
			{Name: "https", URL: srv.URL + "/old"},
			{Name: "downgrade", URL: srv.URL + "/plain"},
		},
		Connections: 3, TLSConfig: cfg,
	})
	if tr := res.Targets[0]; tr.Established != 3 || tr.EventsReceived != 6 {
		t.Errorf("https→https: established %d, events %d (errors %v); want 3, 6", tr.Established, tr.EventsReceived, tr.Errors)
	}
	if tr := res.Targets[1]; tr.Failed != 3 || tr.Errors[ErrRedirect] != 3 {
		t.Errorf("https→http: failed %d, errors %v; want 3 %s", tr.Failed, tr.Errors, ErrRedirect)
	}
}

// TestTLSRunEndsDuringHandshake: streams still in their handshake when
// the run stops (a server that accepts and never answers) fail as
// no_response_headers, as plain streams without a head do, and the run
// returns.
func TestTLSRunEndsDuringHandshake(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // hold it open, say nothing
		}
	}()
	res := runEngine(t, context.Background(), Config{
		Targets:     []Target{{Name: "mute", URL: "https://" + ln.Addr().String() + "/events"}},
		Connections: 4, Hold: 200 * time.Millisecond,
	})
	if tr := res.Targets[0]; tr.Failed != 4 || tr.Errors[ErrNoResponseHeaders] != 4 {
		t.Errorf("failed %d, errors %v; want 4 %s", tr.Failed, tr.Errors, ErrNoResponseHeaders)
	}
}
