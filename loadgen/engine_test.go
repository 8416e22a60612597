package loadgen

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// sseHandler writes n events, each carrying its publish time in "sched",
// flushing after each, then ends the response.
func sseHandler(n int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fl := w.(http.Flusher)
		for i := 1; i <= n; i++ {
			fmt.Fprintf(w, "id: %d\ndata: {\"seq\":%d,\"sched\":%d}\n\n", i, i, time.Now().UnixNano())
			fl.Flush()
		}
	}
}

// serveRaw accepts connections on ln until it closes; for each it reads
// the request head and calls respond, then closes the connection.
func serveRaw(ln net.Listener, respond func(c net.Conn)) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			br := bufio.NewReader(c)
			for {
				line, err := br.ReadString('\n')
				if err != nil || line == "\r\n" {
					break
				}
			}
			respond(c)
		}()
	}
}

func runEngine(t *testing.T, ctx context.Context, cfg Config) *Result {
	t.Helper()
	if cfg.Ramp == 0 {
		cfg.Ramp = 10000
	}
	if cfg.TimestampField == "" {
		cfg.TimestampField = "sched"
	}
	e, err := New(ctx, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	res, err := e.Run(ctx)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return res
}

func TestEngineCountsAndTimesEveryEvent(t *testing.T) {
	for _, tc := range []struct {
		name  string
		serve func(ln net.Listener, events int)
	}{
		{"chunked", func(ln net.Listener, events int) {
			go http.Serve(ln, sseHandler(events))
		}},
		{"close-delimited", func(ln net.Listener, events int) {
			// An HTTP/1.0-style response, as nginx's stock upstream gets it:
			// no length, no chunking, the body ends when the connection does.
			go serveRaw(ln, func(c net.Conn) {
				fmt.Fprint(c, "HTTP/1.0 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n\r\n")
				for i := 1; i <= events; i++ {
					fmt.Fprintf(c, "data: {\"sched\":%d}\n\n", time.Now().UnixNano())
				}
			})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const conns, events = 25, 4
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			tc.serve(ln, events)
			var intervals atomic.Int64
			var ivLatency atomic.Int64
			res := runEngine(t, context.Background(), Config{
				Targets:     []Target{{Name: "a", URL: "http://" + ln.Addr().String() + "/events"}},
				Connections: conns,
				Workers:     2,
				OnInterval: func(r IntervalReport) {
					intervals.Add(1)
					ivLatency.Add(r.Targets[0].Hist[Latency].TotalCount())
				},
			})
			tr := res.Targets[0]
			if tr.Established != conns || tr.Failed != 0 {
				t.Fatalf("established %d failed %d errors %v, want %d and 0", tr.Established, tr.Failed, tr.Errors, conns)
			}
			if tr.Protocol != ProtoH1 || tr.TLSVersion != "" {
				t.Errorf("protocol %q %q, want %q without TLS", tr.Protocol, tr.TLSVersion, ProtoH1)
			}
			if tr.EventsReceived != conns*events || tr.EventsTimed != conns*events {
				t.Errorf("events received %d timed %d, want %d", tr.EventsReceived, tr.EventsTimed, conns*events)
			}
			if got := tr.Hist[Latency].TotalCount(); got != conns*events {
				t.Errorf("latency count %d, want %d", got, conns*events)
			}
			if got := tr.Hist[TimeToHeaders].TotalCount(); got != conns {
				t.Errorf("time_to_headers count %d, want %d", got, conns)
			}
			if got := tr.Hist[TimeToFirstEvent].TotalCount(); got != conns {
				t.Errorf("time_to_first_event count %d, want %d", got, conns)
			}
			if intervals.Load() < 1 || ivLatency.Load() != conns*events {
				t.Errorf("intervals %d carrying %d latencies, want >= 1 carrying %d", intervals.Load(), ivLatency.Load(), conns*events)
			}
			if res.Interrupted {
				t.Error("run marked interrupted")
			}
			if tr.Head["status"] != "200" {
				t.Errorf("head %v, want status 200", tr.Head)
			}
		})
	}
}

func TestEngineFailsBadResponsesByKind(t *testing.T) {
	refused, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refusedURL := "http://" + refused.Addr().String() + "/events"
	refused.Close()

	// resetMidChunk answers with a chunked head and half a chunk, then
	// closes with SO_LINGER 0: the kernel sends RST instead of FIN.
	resetMidChunk, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer resetMidChunk.Close()
	go serveRaw(resetMidChunk, func(c net.Conn) {
		fmt.Fprint(c, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
		fmt.Fprint(c, "100\r\ndata: {\"seq\":1}\n\ndata: half")
		c.(*net.TCPConn).SetLinger(0)
	})
	// neverHead accepts and reads the request, then says nothing until the
	// test ends: the run must end on time and count it.
	release := make(chan struct{})
	defer close(release)
	neverHead := func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}

	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		url     string
		kind    string
		// alt is another kind the case may end as (a reset races the data
		// before it: reset_by_peer, or eof_mid_response when the FIN-less
		// close is seen as the end of input).
		alt string
		// hold keeps streams open for this long after the ramp; zero ends
		// the run when every stream has ended.
		hold time.Duration
		// afterHead: the stream fails after a 200 text/event-stream head,
		// so it also counts as established.
		afterHead bool
		// value is what every error of the kind carries (ErrorValues);
		// "" for a kind without values.
		value string
	}{
		{name: "wrong content type", kind: ErrContentType, value: "text/html", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, "<html>login</html>")
		}},
		{name: "not found", kind: ErrHTTPStatus, value: "404", handler: func(w http.ResponseWriter, r *http.Request) {
			http.NotFound(w, r)
		}},
		{name: "event too large", kind: ErrEventTooLarge, afterHead: true, handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprint(w, "data: "+strings.Repeat("x", 4096)+"\n\n")
		}},
		{name: "closed before head", kind: ErrEOFBeforeHeaders, handler: func(w http.ResponseWriter, r *http.Request) {
			c, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				c.Close()
			}
		}},
		{name: "connection refused", kind: ErrConnectRefused, url: refusedURL},
		{name: "never sends headers", kind: ErrNoResponseHeaders, handler: neverHead, hold: 100 * time.Millisecond},
		{name: "endless line", kind: ErrEventTooLarge, afterHead: true, handler: func(w http.ResponseWriter, r *http.Request) {
			// One line that never ends: the parser must give up at
			// MaxEventBytes rather than buffer it.
			w.Header().Set("Content-Type", "text/event-stream")
			junk := []byte(strings.Repeat("x", 4096))
			w.Write([]byte("data: "))
			for {
				if _, err := w.Write(junk); err != nil {
					return
				}
				w.(http.Flusher).Flush()
			}
		}},
		{name: "reset mid-chunk", kind: ErrReset, alt: ErrEOFMidResponse, afterHead: true, url: "http://" + resetMidChunk.Addr().String() + "/events"},
		{name: "no content", kind: ErrHTTPStatus, value: "204", handler: func(w http.ResponseWriter, r *http.Request) {
			// 204 tells an EventSource to stop: it fails the connection.
			w.WriteHeader(http.StatusNoContent)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := tc.url
			if tc.handler != nil {
				srv := httptest.NewServer(tc.handler)
				defer srv.Close()
				url = srv.URL + "/events"
			}
			const conns = 6
			res := runEngine(t, context.Background(), Config{
				Targets:       []Target{{Name: "a", URL: url}},
				Connections:   conns,
				MaxEventBytes: 1024,
				Hold:          tc.hold,
			})
			tr := res.Targets[0]
			kinds := tr.Errors[tc.kind]
			if tc.alt != "" {
				kinds += tr.Errors[tc.alt]
			}
			if tr.Failed != conns || kinds != conns {
				t.Fatalf("failed %d, errors %v; want %d of kind %s", tr.Failed, tr.Errors, conns, tc.kind)
			}
			if want := map[bool]int64{true: conns}[tc.afterHead]; tr.Established != want {
				t.Errorf("established %d, want %d", tr.Established, want)
			}
			want := ErrorValues{}
			if tc.value != "" {
				want = ErrorValues{tc.kind: {tc.value: conns}}
			}
			if !reflect.DeepEqual(tr.ErrorValues, want) {
				t.Errorf("error values %v, want %v", tr.ErrorValues, want)
			}
		})
	}
}

func TestEngineInterruptKeepsWhatItMeasured(t *testing.T) {
	// A stream that sends one event and then stays open until the test ends.
	release := make(chan struct{})
	var served sync.WaitGroup
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		defer served.Done()
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprintf(w, "data: {\"sched\":%d}\n\n", time.Now().UnixNano())
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)

	const conns = 8
	ctx, cancel := context.WithCancel(context.Background())
	var once sync.Once
	res := runEngine(t, ctx, Config{
		Targets:     []Target{{Name: "a", URL: srv.URL + "/events"}},
		Connections: conns,
		Hold:        time.Hour,
		// Cancel as soon as an interval shows every first event: a signal
		// from the engine itself, not a timer.
		Interval: 20 * time.Millisecond,
		OnInterval: func(r IntervalReport) {
			if r.Targets[0].Established == conns {
				once.Do(cancel)
			}
		},
	})
	tr := res.Targets[0]
	if !res.Interrupted {
		t.Error("Interrupted is false after cancellation")
	}
	if tr.Established != conns || tr.EventsReceived < conns {
		t.Errorf("established %d, events %d; want %d and >= %d", tr.Established, tr.EventsReceived, conns, conns)
	}
	if tr.Failed != 0 {
		t.Errorf("failed %d (%v): open streams closed at the end are not failures", tr.Failed, tr.Errors)
	}
}

func TestConfigErrorsNameTheInput(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Connections: 1, Ramp: 1}, "no targets"},
		{Config{Targets: []Target{{Name: "a", URL: "http://127.0.0.1:1/"}}, Ramp: 1}, "connections 0"},
		{Config{Targets: []Target{{Name: "a", URL: "http://127.0.0.1:1/"}}, Connections: 1}, "ramp 0"},
		{Config{Targets: []Target{{Name: "a", URL: "ftp://x/"}}, Connections: 1, Ramp: 1}, `scheme "ftp"`},
		{Config{Targets: []Target{{Name: "a", URL: "http://127.0.0.1:1/"}, {Name: "a", URL: "http://127.0.0.1:2/"}}, Connections: 1, Ramp: 1}, `"a" named twice`},
		{Config{Targets: []Target{{Name: "a", URL: "http://127.0.0.1:1/"}}, Connections: 1, Ramp: 1, TimestampField: "a..b"}, "timestamp field"},
	} {
		_, err := New(context.Background(), tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v) = %v, want error containing %q", tc.cfg, err, tc.want)
		}
	}
}

func TestEngineHTTPSTargets(t *testing.T) {
	const conns, events = 6, 3
	tlsSrv := httptest.NewTLSServer(sseHandler(events))
	defer tlsSrv.Close()
	plain := httptest.NewServer(sseHandler(events))
	defer plain.Close()
	res := runEngine(t, context.Background(), Config{
		Targets: []Target{
			{Name: "tls", URL: tlsSrv.URL + "/events"},
			{Name: "plain", URL: plain.URL + "/events"},
		},
		Connections: conns,
		TLSConfig:   tlsSrv.Client().Transport.(*http.Transport).TLSClientConfig,
	})
	for _, tr := range res.Targets {
		if tr.Established != conns || tr.EventsTimed != conns*events || tr.Hist[Latency].TotalCount() != conns*events {
			t.Errorf("%s: established %d, timed %d, latency count %d (errors %v); want %d, %d",
				tr.Name, tr.Established, tr.EventsTimed, tr.Hist[Latency].TotalCount(), tr.Errors, conns, conns*events)
		}
	}
	if h := res.Targets[0].Head; h["status"] != "200" || !strings.HasPrefix(h["content-type"], "text/event-stream") {
		t.Errorf("tls head %v", h)
	}

	// An untrusted certificate is a handshake error, named, not a hang.
	res = runEngine(t, context.Background(), Config{
		Targets:     []Target{{Name: "tls", URL: tlsSrv.URL + "/events"}},
		Connections: 2,
	})
	const unknown = "x509: certificate signed by unknown authority"
	if tr := res.Targets[0]; tr.Failed != 2 || tr.Errors[ErrTLSHandshake] != 2 || tr.ErrorValues[ErrTLSHandshake][unknown] != 2 {
		t.Errorf("untrusted certificate: failed %d errors %v %v, want 2 %s %q", tr.Failed, tr.Errors, tr.ErrorValues, ErrTLSHandshake, unknown)
	}
}

func TestEngineBindsSourceAddresses(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		mu.Lock()
		seen[host]++
		mu.Unlock()
		sseHandler(1)(w, r)
	}))
	defer srv.Close()
	res := runEngine(t, context.Background(), Config{
		Targets:     []Target{{Name: "a", URL: srv.URL + "/events"}},
		Connections: 10,
		SourceAddrs: []netip.Addr{netip.MustParseAddr("127.0.0.2"), netip.MustParseAddr("127.0.0.3")},
	})
	if tr := res.Targets[0]; tr.Established != 10 {
		t.Fatalf("established %d (errors %v), want 10", tr.Established, tr.Errors)
	}
	mu.Lock()
	defer mu.Unlock()
	if seen["127.0.0.2"] == 0 || seen["127.0.0.3"] == 0 || seen["127.0.0.2"]+seen["127.0.0.3"] != 10 {
		t.Errorf("connections by source %v, want all 10 from 127.0.0.2 and 127.0.0.3", seen)
	}
}

// TestEngineShortIntervalsNeverDeadlock runs many short intervals, so
// workers at times outrun the collector (and allocate extra histogram sets)
// and learn of the stop at different moments (and send different numbers of
// intervals); neither may leave the collector waiting for ever.
func TestEngineShortIntervalsNeverDeadlock(t *testing.T) {
	srv := httptest.NewServer(sseHandler(1))
	defer srv.Close()
	done := make(chan *Result, 1)
	go func() {
		done <- runEngine(t, context.Background(), Config{
			Targets:     []Target{{Name: "a", URL: srv.URL + "/events"}, {Name: "b", URL: srv.URL + "/events"}},
			Connections: 4,
			Hold:        300 * time.Millisecond,
			Interval:    10 * time.Millisecond,
			Workers:     2,
		})
	}()
	select {
	case res := <-done:
		if res.Targets[0].EventsReceived != 4 {
			t.Errorf("events %d, want 4 (established %d, errors %v)", res.Targets[0].EventsReceived, res.Targets[0].Established, res.Targets[0].Errors)
		}
	case <-time.After(time.Minute):
		t.Fatal("run did not end: the collector and a worker deadlocked")
	}
}
