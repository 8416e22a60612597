package metrics

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/sseload/sseload/internal/testenv"
)

// dashboardFile is the Grafana dashboard shipped in docs/.
var dashboardFile = filepath.Join("..", "docs", "grafana-sseload.json")

// metricRef finds metric names in PromQL and Grafana template queries.
var metricRef = regexp.MustCompile(`\bsseload_[a-z0-9_]+`)

// TestDashboardQueriesExportedMetrics: the dashboard is valid JSON, its
// panels all have queries, and every metric it queries is one the
// exporter serves (a histogram's _bucket series included), so the two
// cannot drift apart. The dashboard's PromQL itself is run against a real
// Prometheus by cmd/sseload's TestMetricsWithPrometheus.
func TestDashboardQueriesExportedMetrics(t *testing.T) {
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		UID    string `json:"uid"`
		Title  string `json:"title"`
		Panels []struct {
			Type    string            `json:"type"`
			Title   string            `json:"title"`
			Targets []json.RawMessage `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	if d.UID == "" || d.Title == "" || len(d.Panels) == 0 {
		t.Fatalf("%s: uid %q title %q, %d panels: not a dashboard", dashboardFile, d.UID, d.Title, len(d.Panels))
	}
	for _, p := range d.Panels {
		if p.Type != "row" && len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
	}
	names := Names()
	used := map[string]bool{}
	for _, q := range testenv.GrafanaQueries(t, dashboardFile) {
		for _, ref := range metricRef.FindAllString(q, -1) {
			base := ref
			if b, ok := strings.CutSuffix(ref, "_bucket"); ok && slices.Contains(names, b) && strings.HasSuffix(b, "_seconds") {
				base = b // a histogram's classic buckets
			}
			if !slices.Contains(names, base) {
				t.Errorf("the dashboard queries %s, which the exporter does not serve (query: %s)", ref, q)
			}
			used[base] = true
		}
	}
	// The dashboard shows what the issue asked for: latency quantiles,
	// connections, events, errors by kind, harness lag.
	for _, want := range []string{"sseload_latency_seconds", "sseload_streams_open", "sseload_events_received_total", "sseload_errors_total", "sseload_harness_lag_seconds"} {
		if !used[want] {
			t.Errorf("the dashboard does not query %s", want)
		}
	}
}
