package loadgen

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// resumingServer serves a stream of `per` events per connection, resuming
// after the Last-Event-ID it is sent, and answers 204 once `total` events
// are out. It records every Last-Event-ID it was sent.
type resumingServer struct {
	per, total int
	mu         sync.Mutex
	ids        []string
}

func (s *resumingServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	last := r.Header.Get("Last-Event-ID")
	s.mu.Lock()
	s.ids = append(s.ids, last)
	s.mu.Unlock()
	from := 1
	if last != "" {
		n, err := strconv.Atoi(last)
		if err != nil {
			http.Error(w, "bad Last-Event-ID", http.StatusBadRequest)
			return
		}
		from = n + 1
	}
	if from > s.total {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	fmt.Fprint(w, "retry: 5\n\n")
	for k := from; k < from+s.per && k <= s.total; k++ {
		fmt.Fprintf(w, "id: %d\ndata: {\"seq\":%d,\"sched\":%d}\n\n", k, k, time.Now().UnixNano())
	}
}

func (s *resumingServer) lastEventIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.ids...)
}

// TestReconnectSpecResumesWithLastEventID: a stream whose response ends
// reconnects after the server's retry with Last-Event-ID, receives every
// event exactly once, and stops for good at the server's 204; over plain
// HTTP (the epoll engine) and https (net/http streams) alike.
func TestReconnectSpecResumesWithLastEventID(t *testing.T) {
	for _, tls := range []bool{false, true} {
		t.Run(map[bool]string{false: "http", true: "https"}[tls], func(t *testing.T) {
			srv := &resumingServer{per: 2, total: 6}
			cfg := Config{Connections: 1, Reconnect: ReconnectSpec, SequenceField: "seq", MaxDuration: 30 * time.Second}
			var ts *httptest.Server
			if tls {
				ts = httptest.NewTLSServer(srv)
				cfg.TLSConfig = ts.Client().Transport.(*http.Transport).TLSClientConfig
			} else {
				ts = httptest.NewServer(srv)
			}
			defer ts.Close()
			cfg.Targets = []Target{{Name: "a", URL: ts.URL + "/events"}}
			tr := runEngine(t, context.Background(), cfg).Targets[0]
			if got, want := strings.Join(srv.lastEventIDs(), ","), ",2,4,6"; got != want {
				t.Errorf("Last-Event-ID per request = %q, want %q (none first, then the last id received)", got, want)
			}
			if tr.Reconnects != 3 || tr.Established != 1 || tr.EventsReceived != 6 {
				t.Errorf("reconnects %d established %d events %d, want 3, 1 and 6", tr.Reconnects, tr.Established, tr.EventsReceived)
			}
			if d := tr.Delivery; d.Lost != 0 || d.Duplicated != 0 || d.Sequenced != 6 {
				t.Errorf("delivery %+v: want 6 sequenced, none lost or duplicated", d)
			}
			if n := tr.Hist[Disconnected].TotalCount(); n != 2 {
				t.Errorf("disconnected histogram holds %d values, want one per stream that came back (2; the third reconnection got 204)", n)
			}
			if n := tr.Hist[QuietBeforeDrop].TotalCount(); n != 0 {
				t.Errorf("quiet before drop holds %d values; responses that ended cleanly were not cut, want none", n)
			}
			if tr.Errors[ErrHTTPStatus] != 1 {
				t.Errorf("errors %v: want the final 204 counted once as http_status", tr.Errors)
			}
		})
	}
}

// TestReconnectNeverIsOneConnection: the default policy never reconnects.
func TestReconnectNeverIsOneConnection(t *testing.T) {
	srv := &resumingServer{per: 2, total: 6}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	res := runEngine(t, context.Background(), Config{
		Targets:     []Target{{Name: "a", URL: ts.URL + "/events"}},
		Connections: 3,
	})
	if tr := res.Targets[0]; tr.Reconnects != 0 || tr.EventsReceived != 6 || len(srv.lastEventIDs()) != 3 {
		t.Errorf("reconnects %d events %d requests %d, want 0, 6 and 3", tr.Reconnects, tr.EventsReceived, len(srv.lastEventIDs()))
	}
}

// failingServer answers `fails` requests with 503, then serves a stream
// of two events and holds it open (ends it, when ends is set).
type failingServer struct {
	fails    int32
	ends     bool
	requests atomic.Int32
}

func (s *failingServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.requests.Add(1) <= s.fails {
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	fmt.Fprint(w, "id: 1\ndata: {\"seq\":1}\n\nid: 2\ndata: {\"seq\":2}\n\n")
	if s.ends {
		return
	}
	w.(http.Flusher).Flush()
	<-r.Context().Done()
}

// waitFor polls the engine's counters (its progress signal) until ok.
func waitFor(ctx context.Context, e *Engine, ok func(Snapshot) bool) {
	for ctx.Err() == nil && !ok(e.Snapshot()) {
		time.Sleep(time.Millisecond)
	}
}

// TestReconnectSpecStopsOnHTTPError: spec gives up at the first non-200,
// which ends the run (nothing is left to measure).
func TestReconnectSpecStopsOnHTTPError(t *testing.T) {
	srv := &failingServer{fails: 3}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	res := runEngine(t, context.Background(), Config{
		Targets:     []Target{{Name: "a", URL: ts.URL + "/events"}},
		Connections: 1, Reconnect: ReconnectSpec, Retry: time.Millisecond, Hold: time.Minute,
	})
	tr := res.Targets[0]
	if tr.Reconnects != 0 || tr.Failed != 1 || srv.requests.Load() != 1 || tr.Errors[ErrHTTPStatus] != 1 {
		t.Errorf("reconnects %d failed %d requests %d errors %v: want the stream failed for good after one 503", tr.Reconnects, tr.Failed, srv.requests.Load(), tr.Errors)
	}
}

// TestReconnectPersistentRetriesHTTPErrors: persistent backs off and
// retries after HTTP errors until the stream works.
func TestReconnectPersistentRetriesHTTPErrors(t *testing.T) {
	srv := &failingServer{fails: 3}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer ts.CloseClientConnections()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e, err := New(ctx, Config{
		Targets:     []Target{{Name: "a", URL: ts.URL + "/events"}},
		Connections: 1, Ramp: 100,
		Reconnect: ReconnectPersistent,
		Retry:     time.Millisecond, // backoff ceilings 1, 2, 4 ms
		Hold:      time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		waitFor(ctx, e, func(s Snapshot) bool { return s.Events >= 2 })
		cancel()
	}()
	res, err := e.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tr := res.Targets[0]
	if tr.Reconnects != 3 || tr.EventsReceived != 2 || tr.Errors[ErrHTTPStatus] != 3 || tr.Established != 1 || tr.Failed != 0 {
		t.Errorf("reconnects %d events %d errors %v established %d failed %d: want 3 reconnects past 3 × 503, then 2 events", tr.Reconnects, tr.EventsReceived, tr.Errors, tr.Established, tr.Failed)
	}
}

// TestReconnectPersistentAfterRefused: a server that is down when the
// stream starts is retried until it listens.
func TestReconnectPersistentAfterRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // down
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e, err := New(ctx, Config{
		Targets:     []Target{{Name: "a", URL: "http://" + addr + "/events"}},
		Connections: 1, Ramp: 100,
		Reconnect: ReconnectPersistent,
		Retry:     time.Millisecond,
		Hold:      time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan *Result, 1)
	go func() {
		res, err := e.Run(ctx)
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	// Bring the server up once the stream has been refused twice.
	waitFor(ctx, e, func(s Snapshot) bool { return s.Reconnects >= 2 })
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen again on %s: %v", addr, err)
	}
	srv := &http.Server{Handler: &failingServer{}}
	go srv.Serve(ln)
	defer srv.Close()
	waitFor(ctx, e, func(s Snapshot) bool { return s.Events >= 2 })
	cancel()
	tr := (<-done).Targets[0]
	if tr.Errors[ErrConnectRefused] < 2 || tr.Established != 1 || tr.Failed != 0 {
		t.Errorf("errors %v established %d failed %d: want ≥2 refused, then established, none failed for good", tr.Errors, tr.Established, tr.Failed)
	}
}

// TestFaultRecovery: a fault marked while every stream is open is
// recovered from when each has received an event again.
func TestFaultRecovery(t *testing.T) {
	const conns = 4
	release := make(chan struct{})
	var served atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		if r.Header.Get("Last-Event-ID") == "" {
			fmt.Fprint(w, "retry: 1\nid: 1\ndata: {\"seq\":1}\n\n")
			w.(http.Flusher).Flush()
			served.Add(1)
			<-release // the fault: every first connection ends here
			return
		}
		// The reconnection skips seq 2: lost across the fault.
		fmt.Fprint(w, "id: 3\ndata: {\"seq\":3}\n\n")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	defer ts.Close()
	defer ts.CloseClientConnections()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e, err := New(ctx, Config{
		Targets:     []Target{{Name: "a", URL: ts.URL + "/events"}},
		Connections: conns, Ramp: 1000,
		Reconnect:     ReconnectSpec,
		SequenceField: "seq",
		Hold:          time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		waitFor(ctx, e, func(s Snapshot) bool { return s.Events >= conns })
		e.MarkFault("release")
		close(release)
		waitFor(ctx, e, func(s Snapshot) bool { return s.Events >= 2*conns })
		cancel()
	}()
	res, err := e.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Faults) != 1 {
		t.Fatalf("faults %+v, want one", res.Faults)
	}
	f := res.Faults[0].Targets[0]
	if f.Streams != conns || f.Recovered != conns || f.RecoveryUS < 0 || f.Reconnects != conns || f.Lost != conns {
		t.Errorf("fault %+v: want %d streams, all recovered with a recovery time, %d reconnects and %d lost (seq 2 each)", f, conns, conns, conns)
	}
}

// TestRedirectsFollowed: 307 to a relative location is followed on a new
// connection; a loop fails as redirect_failed after 10.
func TestRedirectsFollowed(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/old", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/events", http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop", http.StatusFound)
	})
	mux.Handle("/events", &failingServer{ends: true})
	ts := httptest.NewServer(mux)
	defer ts.Close()
	res := runEngine(t, context.Background(), Config{
		Targets:     []Target{{Name: "moved", URL: ts.URL + "/old"}, {Name: "loop", URL: ts.URL + "/loop"}},
		Connections: 2,
	})
	if tr := res.Targets[0]; tr.Established != 2 || tr.EventsReceived != 4 || len(tr.Errors) != 0 {
		t.Errorf("moved: established %d events %d errors %v, want 2, 4, none", tr.Established, tr.EventsReceived, tr.Errors)
	}
	if tr := res.Targets[1]; tr.Errors[ErrRedirect] != 2 || tr.Established != 0 {
		t.Errorf("loop: errors %v established %d, want 2 redirect_failed, none established", tr.Errors, tr.Established)
	}
}

// TestSlowConsumerBackpressure: a stream read at a limited rate makes the
// server's writes back up: the server cannot hand over a burst that an
// unlimited reader takes at once.
func TestSlowConsumerBackpressure(t *testing.T) {
	const burstBytes = 8 << 20
	wrote := make(chan int, 2)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		rc := http.NewResponseController(w)
		_ = rc.SetWriteDeadline(time.Now().Add(2 * time.Second))
		ev := []byte("data: " + strings.Repeat("x", 1000) + "\n\n")
		n := 0
		for n < burstBytes {
			m, err := w.Write(ev)
			n += m
			if err != nil {
				break
			}
		}
		_ = rc.Flush()
		wrote <- n
		<-r.Context().Done()
	}))
	defer ts.Close()
	defer ts.CloseClientConnections()
	for _, tc := range []struct {
		name string
		rate int
		full bool
	}{{"unlimited", 0, true}, {"slow", 2000, false}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			e, err := New(ctx, Config{
				Targets:     []Target{{Name: "a", URL: ts.URL + "/events", ReadBytesPerSec: tc.rate}},
				Connections: 1, Ramp: 100, Hold: time.Minute,
			})
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			go func() { defer close(done); _, _ = e.Run(ctx) }()
			n := <-wrote
			cancel()
			<-done
			if full := n >= burstBytes; full != tc.full {
				t.Errorf("the server wrote %d of %d bytes; a %s reader should take it all: %v", n, burstBytes, tc.name, tc.full)
			}
		})
	}
}

// TestEndlessStreamsCountCleanEnds: when the origin never ends a stream
// (Config.EndlessStreams), a response that ends cleanly was ended on the
// path — Caddy's read_timeout does so — and counts in QuietBeforeDrop like
// a cut; without it, it does not.
func TestEndlessStreamsCountCleanEnds(t *testing.T) {
	for _, endless := range []bool{false, true} {
		t.Run(fmt.Sprintf("endless=%v", endless), func(t *testing.T) {
			srv := &resumingServer{per: 2, total: 6}
			ts := httptest.NewServer(srv)
			defer ts.Close()
			cfg := Config{Connections: 1, Reconnect: ReconnectSpec, SequenceField: "seq", MaxDuration: 30 * time.Second,
				EndlessStreams: endless, Targets: []Target{{Name: "a", URL: ts.URL + "/events"}}}
			tr := runEngine(t, context.Background(), cfg).Targets[0]
			want := int64(0)
			if endless {
				want = 3 // three responses ended cleanly; the fourth request got 204
			}
			if n := tr.Hist[QuietBeforeDrop].TotalCount(); n != want {
				t.Errorf("quiet before drop holds %d values, want %d", n, want)
			}
		})
	}
}
