package topology_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sseload/sseload/internal/testenv"
	"github.com/sseload/sseload/origin"
	"github.com/sseload/sseload/targets"
	"github.com/sseload/sseload/topology"
)

// BenchmarkSSEOverH2 measures what each proxy preset does to an SSE stream
// over TLS, with HTTP/2 against HTTP/1.1 by ALPN on the same listener, and
// prints the figures docs/proxies.md quotes ("SSE over TLS and HTTP/2"):
//
//	go test -run '^$' -bench SSEOverH2 -benchtime 1x ./topology
//
// For each target: the time to the response head and the arrival of each
// of six events published 500 ms apart (per-connection streams, sseload's
// seed at a tenth of its interval), over h2 and over TLS HTTP/1.1; and the
// delivery latency p50/p99 of 50 streams sharing one HTTP/2 connection
// (a browser's tabs) against 50 connections of one stream each.
func BenchmarkSSEOverH2(b *testing.B) {
	for range b.N {
		for _, name := range []string{"nginx-stock-h2", "nginx-sse-h2", "haproxy-stock-h2", "haproxy-sse-h2", "caddy-stock-h2", "caddy-sse-h2"} {
			spec, _ := targets.Preset(name)
			testenv.RequireProxy(b, spec.Kind)
			timeline(b, spec)
			shared(b, spec)
		}
	}
}

// h2Client is a client over TLS trusting roots, speaking h2 only (h2) or
// HTTP/1.1 only, with a per-stream receive window of window bytes (0: Go's
// default, 4 MiB).
func h2Client(roots *x509.CertPool, h2 bool, window int) *http.Transport {
	tr := &http.Transport{Proxy: nil, TLSClientConfig: &tls.Config{RootCAs: roots}, Protocols: new(http.Protocols)}
	if h2 {
		tr.Protocols.SetHTTP2(true)
		tr.HTTP2 = &http.HTTP2Config{MaxReceiveBufferPerStream: window}
	} else {
		tr.Protocols.SetHTTP1(true)
	}
	return tr
}

// timeline prints when the head and each event of one stream arrive.
func timeline(b *testing.B, spec targets.Spec) {
	addr := testenv.ServeOrigin(b, origin.Config{Mode: origin.PerConnection, Interval: 500 * time.Millisecond, Events: 6})
	l, err := topology.StartLocal(context.Background(), topology.LocalConfig{OriginAddr: addr, Targets: []targets.Spec{spec}})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Stop()
	url := l.Targets()[0].URL
	for _, h2 := range []bool{true, false} {
		tr := h2Client(l.Certs().Pool(), h2, 0)
		start := time.Now()
		resp, err := tr.RoundTrip(must(http.NewRequest(http.MethodGet, url, nil)))
		if err != nil {
			b.Fatalf("%s: %v", spec.Name, err)
		}
		head := time.Since(start)
		var at []string
		br := bufio.NewReader(resp.Body)
		for {
			ev, err := readEvent(br)
			if strings.Contains(ev, "data:") {
				at = append(at, fmt.Sprintf("%.2f", time.Since(start).Seconds()))
			}
			if err != nil {
				break
			}
		}
		resp.Body.Close()
		tr.CloseIdleConnections()
		fmt.Printf("%-17s %-8s head %7.3fs  events at %s s\n", spec.Name, resp.Proto, head.Seconds(), strings.Join(at, " "))
	}
}

// shared prints the delivery latency of 50 streams over one h2 connection
// and over 50 connections, 2 s of a broadcast every 50 ms.
func shared(b *testing.B, spec targets.Spec) {
	addr := testenv.ServeOrigin(b, origin.Config{Mode: origin.Broadcast, Interval: 50 * time.Millisecond})
	l, err := topology.StartLocal(context.Background(), topology.LocalConfig{OriginAddr: addr, Targets: []targets.Spec{spec}})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Stop()
	url := l.Targets()[0].URL
	for _, one := range []bool{true, false} {
		const streams = 50
		var mu sync.Mutex
		var lat []time.Duration
		var errs []error
		var wg sync.WaitGroup
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		sharedTr := h2Client(l.Certs().Pool(), true, 0)
		for range streams {
			tr := sharedTr
			if !one {
				tr = h2Client(l.Certs().Pool(), true, 0)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				got, err := latencies(ctx, tr, url, time.Now().Add(time.Second))
				mu.Lock()
				lat = append(lat, got...)
				if err != nil {
					errs = append(errs, err)
				}
				mu.Unlock()
			}()
		}
		wg.Wait()
		cancel()
		slices.Sort(lat)
		how := "50 conns"
		if one {
			how = "1 conn"
		}
		if len(lat) == 0 {
			fmt.Printf("%-17s h2 50 streams on %-8s: no events (%v)\n", spec.Name, how, errors.Join(errs...))
			continue
		}
		fmt.Printf("%-17s h2 50 streams on %-8s: %5d events, latency p50 %v p99 %v max %v\n", spec.Name, how, len(lat),
			lat[len(lat)/2].Round(10*time.Microsecond), lat[len(lat)*99/100].Round(10*time.Microsecond), lat[len(lat)-1].Round(10*time.Microsecond))
	}
}

// latencies reads url's stream until ctx ends and returns each event's
// delivery latency (receipt minus the origin's "sched") from after on.
func latencies(ctx context.Context, tr *http.Transport, url string, after time.Time) ([]time.Duration, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	var out []time.Duration
	for {
		ev, err := readEvent(br)
		now := time.Now()
		for _, line := range strings.Split(ev, "\n") {
			if d, ok := strings.CutPrefix(line, "data: "); ok && now.After(after) {
				var v struct{ Sched int64 }
				if json.Unmarshal([]byte(d), &v) == nil {
					out = append(out, now.Sub(time.Unix(0, v.Sched)))
				}
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) || ctx.Err() != nil {
				return out, nil
			}
			return out, err
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
