package check

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sseload/sseload/loadgen/httpstream"
)

// eventServer writes batches of events, each batch in one write and flush,
// gap apart, for as long as the client stays.
func eventServer(batch int, gap time.Duration, compress bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		var out io.Writer = w
		flush := w.(http.Flusher).Flush
		if compress && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			w.Header().Set("Content-Encoding", "gzip")
			zw := gzip.NewWriter(w)
			defer zw.Close()
			out = zw
			flush = func() { zw.Flush(); w.(http.Flusher).Flush() }
		}
		w.WriteHeader(http.StatusOK)
		flush()
		for k := 0; ; k++ {
			var b strings.Builder
			for i := 0; i < batch; i++ {
				fmt.Fprintf(&b, "data: %d\n\n", k*batch+i)
			}
			if _, err := io.WriteString(out, b.String()); err != nil {
				return
			}
			flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(gap):
			}
		}
	}
}

func runCheck(t *testing.T, opts Options) *Report {
	t.Helper()
	r, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := r.Write(&b); err != nil {
		t.Fatal(err)
	}
	t.Log(b.String())
	return r
}

// TestBursts: events written four at a time after quiet gaps are called
// bursts and diagnosed with the batched-events cause; one at a time are not.
func TestBursts(t *testing.T) {
	bursty := httptest.NewServer(eventServer(4, 300*time.Millisecond, false))
	defer bursty.Close()
	r := runCheck(t, Options{URL: bursty.URL, Streams: 1, Duration: 1500 * time.Millisecond})
	if !r.bursty() || len(r.Diagnoses) != 1 || !strings.Contains(r.Diagnoses[0].Directive, "buffer") {
		t.Errorf("batches %d of %d events, diagnoses %+v: want bursts diagnosed", r.Batches, r.Events, r.Diagnoses)
	}
	steady := httptest.NewServer(eventServer(1, 300*time.Millisecond, false))
	defer steady.Close()
	if r := runCheck(t, Options{URL: steady.URL, Streams: 1, Duration: 1500 * time.Millisecond}); r.bursty() || !r.Healthy() {
		t.Errorf("one event a write: batches %d, findings %v, diagnoses %+v: want healthy", r.Batches, r.Findings, r.Diagnoses)
	}
}

// TestCompression: a gzip-encoded stream (Accept-Encoding: gzip is sent)
// is read, its events counted, and the compression rule names it.
func TestCompression(t *testing.T) {
	ts := httptest.NewServer(eventServer(1, 100*time.Millisecond, true))
	defer ts.Close()
	r := runCheck(t, Options{URL: ts.URL, Streams: 1, Duration: time.Second})
	if r.Encoding != "gzip" || r.Events < 3 || len(r.Diagnoses) == 0 || !strings.Contains(r.Diagnoses[len(r.Diagnoses)-1].Symptom, "compresses") {
		t.Errorf("encoding %q, events %d, diagnoses %+v: want gzip seen, events decoded, compression diagnosed", r.Encoding, r.Events, r.Diagnoses)
	}
}

// TestTLSAndHTTP2: over https with HTTP/2 offered, check reports the TLS
// version and ALPN h2; the certificate is refused without Insecure (exit 3
// material) and accepted with it. The request's method, headers and body
// reach the server.
func TestTLSAndHTTP2(t *testing.T) {
	h := eventServer(1, 100*time.Millisecond, false)
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method != "POST" || r.Header.Get("Authorization") != "Bearer t" || string(body) != `{"a":1}` {
			http.Error(w, "want the POST", http.StatusBadRequest)
			return
		}
		h(w, r)
	}))
	ts.EnableHTTP2 = true
	ts.StartTLS()
	defer ts.Close()
	shape := httpstream.Shape{Header: [][2]string{{"Authorization", "Bearer t"}}, Body: []byte(`{"a":1}`)}
	if _, err := Run(context.Background(), Options{URL: ts.URL, Streams: 1, Duration: time.Second, Request: shape}); !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("untrusted certificate: %v, want ErrUnreachable naming the certificate", err)
	}
	r := runCheck(t, Options{URL: ts.URL, Streams: 2, Duration: time.Second, Request: shape, Insecure: true})
	if r.Established != 2 || r.Protocol != "HTTP/2.0" || r.TLS != "TLS 1.3, ALPN h2" || !r.Healthy() {
		t.Errorf("established %d, protocol %q, TLS %q, findings %v: want 2 over HTTP/2.0, TLS 1.3, ALPN h2, healthy", r.Established, r.Protocol, r.TLS, r.Findings)
	}
	if r.Request != "POST, 7-byte body, headers Authorization" {
		t.Errorf("request in words %q", r.Request)
	}
}

// TestStatusRefused: a 401 is a symptom, named with its status.
func TestStatusRefused(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusUnauthorized)
	}))
	defer ts.Close()
	r := runCheck(t, Options{URL: ts.URL, Streams: 1, Duration: time.Second})
	if r.Healthy() || len(r.Findings) != 1 || !strings.Contains(r.Findings[0], "401") {
		t.Errorf("findings %v: want the 401 named", r.Findings)
	}
}
