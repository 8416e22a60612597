package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sseload/sseload/internal/testenv"
	"github.com/sseload/sseload/metrics"
)

// TestMetricsWithPrometheus runs `sseload run --metrics-addr` while a real
// Prometheus (Debian's 2.42, native histograms on) scrapes it every
// second, then asks Prometheus what it stored and compares it with
// summary.json.
//
// Synchronisation, by signals only: the run starts once Prometheus has
// begun scraping; sseload serves its final figures until a scrape has
// read them, then exits (metrics.Exporter.Close); the test then queries
// Prometheus, at the moment sseload exited, until its latency sample
// count equals summary.json's (the final scrape is ingested), within a
// deadline.
//
// The comparison: Prometheus' histogram_quantile over the native
// histogram lands in the native bucket that holds the value at that rank,
// so it is within metrics.NativeBucketFactor − 1 (2.19 %) of it, plus
// HdrHistogram's 0.1 % between summary.json's value and the one the
// exporter filed.
func TestMetricsWithPrometheus(t *testing.T) {
	addr := testenv.FreeLoopbackAddr(t)
	prom := testenv.StartPrometheus(t, addr)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := prom.WaitScraping(ctx); err != nil {
		t.Fatalf("%v\n%s", err, prom.Log())
	}
	s, out := runScenarioFile(t, `
mode: broadcast
interval: 50ms
connections: 40
ramp: 400
duration: 4s
targets: [direct]
`, "--metrics-addr", addr)
	if strings.Contains(out, "not scraped") || strings.Contains(out, "nothing scraped") {
		t.Errorf("sseload did not see its final figures scraped:\n%s", out)
	}
	if len(s.Targets) != 1 || s.Targets[0].LatencyUS == nil {
		t.Fatalf("summary has no latency for direct: %+v", s.Targets)
	}
	tg := s.Targets[0]
	lat := tg.LatencyUS

	ctx, cancel = context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// sseload has exited, after a scrape read its final figures. At its
	// next scrape Prometheus finds nothing and marks sseload's series
	// stale, so every query is evaluated at the final scrape.
	var end time.Time
	query := func(expr string) (float64, error) {
		got, err := prom.Query(ctx, expr, end)
		if err != nil {
			return 0, err
		}
		if len(got) != 1 {
			return 0, fmt.Errorf("%s: %d series, want 1", expr, len(got))
		}
		return got[0].Value, nil
	}
	// Until the final scrape is in: Prometheus' count equals summary.json's.
	countExpr := `histogram_count(sseload_latency_seconds{target="direct"})`
	var count float64
	for {
		var c float64
		var err error
		end, err = prom.LastScrape(ctx, "sseload")
		if err == nil {
			c, err = query(countExpr)
		}
		if err == nil && int64(c) == lat.Count {
			count = c
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("Prometheus never had summary.json's %d latency samples at %v (last: %v, %v)\nsseload:\n%s\nits scrapes: %s\nprometheus:\n%s",
				lat.Count, end, c, err, out, prom.Raw(context.Background(), `scrape_samples_scraped[1m]`, end.Add(5*time.Second)), prom.Log())
		case <-time.After(100 * time.Millisecond): // polling Prometheus' state: it has no push
		}
	}
	t.Logf("latency samples: summary.json %d, Prometheus %v", lat.Count, count)

	bound := NativeBound()
	for _, q := range []struct {
		name string
		q    float64
		want int64 // µs
	}{{"p50", 0.5, lat.P50}, {"p90", 0.9, lat.P90}, {"p99", 0.99, lat.P99}} {
		v, err := query(fmt.Sprintf(`histogram_quantile(%g, sseload_latency_seconds{target="direct"})`, q.q))
		if err != nil {
			t.Fatal(err)
		}
		us := v * 1e6
		rel := math.Abs(us-float64(q.want)) / float64(q.want)
		t.Logf("latency %s: summary.json %d µs, Prometheus %.1f µs (%.2f %% apart, bound %.2f %%)", q.name, q.want, us, 100*rel, 100*bound)
		if rel > bound {
			t.Errorf("latency %s: Prometheus %.1f µs, summary.json %d µs: %.2f %% apart, more than the histograms' %.2f %%", q.name, us, q.want, 100*rel, 100*bound)
		}
	}

	for _, c := range []struct {
		expr string
		want float64
	}{
		{`sseload_events_received_total{target="direct"}`, float64(tg.Events.Received)},
		{`sseload_streams_established_total{target="direct"}`, float64(tg.Connections.Established)},
		{`sseload_streams_failed_total{target="direct"}`, float64(tg.Connections.Failed)},
		{`sseload_streams_open{target="direct"}`, 0}, // the final interval: every stream closed
		{`histogram_count(sseload_time_to_headers_seconds{target="direct"})`, float64(tg.Connections.Established)},
	} {
		v, err := query(c.expr)
		if err != nil {
			t.Fatal(err)
		}
		if v != c.want {
			t.Errorf("%s = %v, want summary.json's %v", c.expr, v, c.want)
		}
	}
	if v, err := query(`histogram_count(sseload_harness_lag_seconds)`); err != nil || v < 100 {
		t.Errorf("harness lag samples %v (%v): want the self-check's, one per 10 ms", v, err)
	}

	// Every query of the Grafana dashboard is valid PromQL for this
	// Prometheus, and the latency panel has data.
	for _, expr := range testenv.GrafanaQueries(t, filepath.Join("..", "..", "docs", "grafana-sseload.json")) {
		if strings.HasPrefix(expr, "label_values(") {
			continue // a Grafana template query, not PromQL
		}
		expr = strings.NewReplacer("$__rate_interval", "10s", "$target", ".*").Replace(expr)
		if _, err := prom.Query(ctx, expr, end); err != nil {
			t.Errorf("dashboard query: %v", err)
		}
	}
	got, err := prom.Query(ctx, `histogram_quantile(0.99, sum by (target) (rate(sseload_latency_seconds{target=~".*"}[1m])))`, end)
	if err != nil || len(got) != 1 || math.IsNaN(got[0].Value) {
		t.Errorf("the dashboard's latency p99 over the last minute: %v (%v), want one value for direct", got, err)
	}
}

// NativeBound is the largest relative difference the test accepts between
// a quantile from Prometheus and summary.json's: a native bucket's width
// plus HdrHistogram's 3 significant digits.
func NativeBound() float64 { return metrics.NativeBucketFactor - 1 + 0.001 }

// TestMetricsAddrRefused: --metrics-addr on the compose topology, a
// malformed address and a taken one are usage errors naming the flag,
// before anything runs.
func TestMetricsAddrRefused(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	none := []string{"--topology", "none", "--target", "x=http://127.0.0.1:1/events", "-c", "1", "-d", "1s", "-o", filepath.Join(t.TempDir(), "out")}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "seed", "--topology", "compose", "--metrics-addr", "127.0.0.1:9464"}, "--metrics-addr: on --topology compose the generator runs in its own container"},
		{append([]string{"run", "--metrics-addr", "9464"}, none...), `--metrics-addr "9464": want HOST:PORT`},
		{append([]string{"run", "--metrics-addr", taken.Addr().String()}, none...), "address already in use"},
		{[]string{"capacity", "--metrics-addr", taken.Addr().String(), "--topology", "none", "--target", "x=http://127.0.0.1:1/events", "-o", filepath.Join(t.TempDir(), "cap")}, "--metrics-addr: listen tcp " + taken.Addr().String()},
	} {
		var stdout, stderr bytes.Buffer
		code := run(tc.args, &stdout, &stderr)
		if code != exitUsage || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("sseload %s: exit %d, stderr %q; want exit %d naming %q", strings.Join(tc.args, " "), code, stderr.String(), exitUsage, tc.want)
		}
	}
}
