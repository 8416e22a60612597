package loadgen

import (
	"bufio"
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/sseload/sseload/origin"
)

// BenchmarkEngineReceive measures the whole receive path over loopback:
// epoll wait, read, chunk de-framing, SSE parsing, timestamp lookup and HDR
// recording. A raw server writes b.N events in total over 100 streams, 64
// events per chunk, as fast as the sockets take them. One op is one event;
// events/s is reported. Setup (histograms, sockets) is outside the timer,
// so allocs/op shows what the hot path allocates per event: 0.
func BenchmarkEngineReceive(b *testing.B) {
	ev := []byte("id: 1\ndata: {\"seq\":1,\"sched\":" + strconv.FormatInt(time.Now().UnixNano(), 10) + "}\n\n")
	benchReceive(b, ev, Config{TimestampField: "sched"})
}

// BenchmarkEngineReceiveOrigin is BenchmarkEngineReceive with the events
// sseload's origin writes (origin.AppendEvent: seq, sched, sent, no
// padding), read as the runner reads them from its own origin: the
// sequence number, the scheduled publish time and, for the latency split,
// the write time. Each sub-benchmark adds one field; allocs/op stays 0.
func BenchmarkEngineReceiveOrigin(b *testing.B) {
	now := time.Now()
	ev := origin.AppendEvent(nil, 1, now, now.Add(50*time.Microsecond), 0)
	for _, bc := range []struct {
		name string
		cfg  Config
	}{
		{"sched", Config{TimestampField: "sched"}},
		{"seq+sched", Config{TimestampField: "sched", SequenceField: "seq"}},
		{"seq+sched+sent", Config{TimestampField: "sched", SequenceField: "seq", SentField: "sent"}},
	} {
		b.Run(bc.name, func(b *testing.B) { benchReceive(b, ev, bc.cfg) })
	}
}

// BenchmarkEngineReceiveTLS is BenchmarkEngineReceive over TLS 1.3: the
// same events, decrypted by crypto/tls in the epoll workers
// (tlsconn_linux.go). Handshakes happen before the streams' first reads,
// inside the timer, amortised over b.N events: run it with
// -benchtime 1000000x, since b.N grows slowly from ops that include 100
// handshakes. allocs/op shows what the read path allocates per event.
func BenchmarkEngineReceiveTLS(b *testing.B) {
	ev := []byte("id: 1\ndata: {\"seq\":1,\"sched\":" + strconv.FormatInt(time.Now().UnixNano(), 10) + "}\n\n")
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.StartTLS() // for its certificate and a client configuration trusting it
	defer srv.Close()
	benchReceiveOver(b, ev, Config{TimestampField: "sched", TLSConfig: srv.Client().Transport.(*http.Transport).TLSClientConfig}, srv.TLS)
}

// benchReceive serves b.N copies of ev over 100 streams and runs the engine
// with cfg (its targets, connections and ramp set here) until it has read
// them all.
func benchReceive(b *testing.B, ev []byte, cfg Config) { benchReceiveOver(b, ev, cfg, nil) }

// benchReceiveOver is benchReceive over TLS with server configuration
// srvTLS (nil: plain HTTP).
func benchReceiveOver(b *testing.B, ev []byte, cfg Config, srvTLS *tls.Config) {
	const streams = 100
	perStream := b.N/streams + 1
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	scheme := "http"
	if srvTLS != nil {
		ln, scheme = tls.NewListener(ln, srvTLS), "https"
	}
	var chunk []byte
	for i := 0; i < 64; i++ {
		chunk = append(chunk, ev...)
	}
	framed := append([]byte(strconv.FormatInt(int64(len(chunk)), 16)+"\r\n"), chunk...)
	framed = append(framed, "\r\n"...)
	go serveRaw(ln, func(c net.Conn) {
		w := bufio.NewWriterSize(c, 64<<10)
		w.WriteString("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
		for sent := 0; sent < perStream; sent += 64 {
			w.Write(framed)
		}
		w.WriteString("0\r\n\r\n")
		w.Flush()
	})
	cfg.Targets = []Target{{Name: "bench", URL: scheme + "://" + ln.Addr().String() + "/events"}}
	cfg.Connections, cfg.Ramp = streams, 1e6
	e, err := New(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	res, err := e.Run(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	got := res.Targets[0].EventsReceived
	if got < int64(b.N) {
		b.Fatalf("received %d events, want >= %d (errors %v)", got, b.N, res.Targets[0].Errors)
	}
	b.ReportMetric(float64(got)/elapsed.Seconds(), "events/s")
}
