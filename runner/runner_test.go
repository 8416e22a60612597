package runner

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sseload/sseload/internal/testenv"
	"github.com/sseload/sseload/loadgen"
	"github.com/sseload/sseload/origin"
	"github.com/sseload/sseload/reports"
	"github.com/sseload/sseload/reports/hlog"
	"github.com/sseload/sseload/scenarios"
	"github.com/sseload/sseload/targets"
)

// TestRunSeedReproducesTheBug runs the seed scenario, shortened, through the
// real local topology: the embedded origin, stock nginx and SSE-tuned nginx.
func TestRunSeedReproducesTheBug(t *testing.T) {
	testenv.RequireNginx(t)
	sc, err := scenarios.Load("seed")
	if err != nil {
		t.Fatal(err)
	}
	const conns, events = 5, 4
	const interval = 100 * time.Millisecond
	sc.Interval, sc.Events, sc.Connections = interval, events, conns
	dir := t.TempDir()
	out, err := Run(context.Background(), Options{Scenario: sc, Topology: TopologyLocal, OutDir: dir, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]reports.Target{}
	for _, tg := range out.Summary.Targets {
		got[tg.Name] = tg
		if tg.Connections.Established != conns || tg.Events.Received != conns*events {
			t.Errorf("%s: established %d, events %d; want %d and %d (errors %v)",
				tg.Name, tg.Connections.Established, tg.Events.Received, conns, conns*events, tg.Errors)
		}
		if tg.LatencyUS == nil || tg.LatencyUS.Count != conns*events {
			t.Errorf("%s: latency %+v, want %d timed events", tg.Name, tg.LatencyUS, conns*events)
		}
		// sseload's own origin: every timed event split at its write time.
		if tg.OriginDelayUS == nil || tg.PathLatencyUS == nil || tg.OriginDelayUS.Count != conns*events || tg.PathLatencyUS.Count != conns*events {
			t.Errorf("%s: origin delay %+v, path latency %+v; want %d events each", tg.Name, tg.OriginDelayUS, tg.PathLatencyUS, conns*events)
		}
	}
	if n := len(out.Summary.Harness.LatencySplit); n != 3 {
		t.Errorf("harness latency split %+v, want a verdict per target", out.Summary.Harness.LatencySplit)
	}
	stock, direct, fixed := got["nginx-stock"], got["direct"], got["nginx-sse"]
	if stock.TimeToHeadersUS == nil || direct.TimeToHeadersUS == nil || fixed.TimeToHeadersUS == nil {
		t.Fatalf("time to headers missing: %+v", got)
	}
	// Stock nginx buffers a close-delimited upstream response: its head
	// cannot arrive before the origin wrote the last event, events×interval
	// after the request. That is the bug, not a performance figure.
	streamEnd := (events * interval).Microseconds()
	if stock.TimeToHeadersUS.P50 < streamEnd {
		t.Errorf("nginx-stock time to headers p50 %d µs, want >= %d µs (held until the stream ends)", stock.TimeToHeadersUS.P50, streamEnd)
	}
	// The origin sends its head as soon as it accepts a stream, and
	// nginx-sse passes it on unbuffered: both heads come at once, before
	// the first event (a head sent with the first event would be timed
	// with it), and stock nginx holds even a flushed head.
	for _, tg := range []reports.Target{direct, fixed} {
		if tg.TimeToFirstEventUS == nil || tg.TimeToHeadersUS.P50 >= tg.TimeToFirstEventUS.P50 {
			t.Errorf("%s: time to headers p50 %d µs, to first event %+v: want the head at once, before the first event",
				tg.Name, tg.TimeToHeadersUS.P50, tg.TimeToFirstEventUS)
		}
	}
	if stock.LatencyUS.P90 <= fixed.LatencyUS.P90 {
		t.Errorf("nginx-stock latency p90 %d µs not above nginx-sse's %d µs: events were not held back", stock.LatencyUS.P90, fixed.LatencyUS.P90)
	}
	if stock.Proxy == "" || stock.ConfigSHA256 == "" {
		t.Errorf("nginx-stock proxy %q sha256 %q: want both recorded", stock.Proxy, stock.ConfigSHA256)
	}

	s, err := reports.ReadSummary(filepath.Join(dir, reports.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	if s.Scenario != "seed" || s.Topology != TopologyLocal || len(s.Targets) != 3 {
		t.Errorf("summary.json: scenario %q topology %q targets %d", s.Scenario, s.Topology, len(s.Targets))
	}
	for _, name := range []string{"direct", "nginx-stock", "nginx-sse"} {
		for _, m := range loadgen.Metrics {
			if _, err := os.Stat(filepath.Join(dir, hlog.Name(name, m))); err != nil {
				t.Errorf("missing interval log: %v", err)
			}
		}
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".*tmp-*"))
	if len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

// TestRunExternalTarget measures an endpoint the run did not start.
func TestRunExternalTarget(t *testing.T) {
	addr := testenv.ServeOrigin(t, origin.Config{Mode: origin.PerConnection, Interval: 10 * time.Millisecond, Events: 3})

	sc, err := scenarios.Load("seed")
	if err != nil {
		t.Fatal(err)
	}
	sc.Connections, sc.Events = 4, 3
	tg, err := ParseTarget("app=http://" + addr + "/events")
	if err != nil {
		t.Fatal(err)
	}
	out, err := Run(context.Background(), Options{Scenario: sc, Topology: TopologyNone, External: []loadgen.Target{tg}, OutDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Summary.Targets) != 1 {
		t.Fatalf("targets %+v, want only app", out.Summary.Targets)
	}
	app := out.Summary.Targets[0]
	if app.Name != "app" || app.Events.Received != 12 || app.LatencyUS == nil || app.LatencyUS.Count != 12 {
		t.Errorf("app: %+v, want 12 timed events", app)
	}
	if out.Summary.Config.Mode != "" {
		t.Errorf("config mode %q: an external origin's mode is unknown", out.Summary.Config.Mode)
	}
	// An external origin's events are not split unless told the field.
	if app.OriginDelayUS != nil || app.PathLatencyUS != nil || out.Summary.Harness.LatencySplit != nil {
		t.Errorf("app: origin delay %+v, path latency %+v, verdict %+v without --sent-field; want none",
			app.OriginDelayUS, app.PathLatencyUS, out.Summary.Harness.LatencySplit)
	}
	out, err = Run(context.Background(), Options{Scenario: sc, Topology: TopologyNone, External: []loadgen.Target{tg}, OutDir: t.TempDir(), SentField: "sent"})
	if err != nil {
		t.Fatal(err)
	}
	if app := out.Summary.Targets[0]; app.OriginDelayUS == nil || app.OriginDelayUS.Count != 12 || app.PathLatencyUS == nil || app.PathLatencyUS.Count != 12 {
		t.Errorf("app with SentField sent: origin delay %+v, path latency %+v; want 12 events each", app.OriginDelayUS, app.PathLatencyUS)
	}
}

func TestParseTargetAndOnly(t *testing.T) {
	for _, bad := range []string{"app", "=http://x/", "app=", "app=ftp://x/"} {
		if _, err := ParseTarget(bad); err == nil || !strings.Contains(err.Error(), "--target") {
			t.Errorf("ParseTarget(%q) = %v, want an error naming --target", bad, err)
		}
	}
	own := targets.Spec{Name: "mine", Kind: targets.Nginx, Config: "/etc/mine.conf"}
	have := append(presets(t, "direct", "nginx-sse"), own)
	got, err := OnlyTargets([]string{"mine", "haproxy-stock", "direct"}, have)
	if err != nil || strings.Join(targets.Names(got), ",") != "mine,haproxy-stock,direct" || got[0] != own {
		t.Errorf("OnlyTargets = %v, %v; want mine, haproxy-stock, direct in the order given, the run's own and presets", got, err)
	}
	if _, err := OnlyTargets([]string{"nginx"}, have); err == nil || !strings.Contains(err.Error(), "valid: direct, nginx-stock, nginx-sse, haproxy-stock, haproxy-sse, caddy-stock, caddy-sse, nginx-stock-h2, nginx-sse-h2, haproxy-stock-h2, haproxy-sse-h2, caddy-stock-h2, caddy-sse-h2, mine") {
		t.Errorf("OnlyTargets(nginx) = %v, want the valid names", err)
	}
	if _, err := OnlyTargets([]string{"direct", "direct"}, have); err == nil || !strings.Contains(err.Error(), "named twice") {
		t.Errorf("OnlyTargets(direct, direct) = %v, want named twice", err)
	}
}

// presets returns the built-in targets named.
func presets(t *testing.T, names ...string) []targets.Spec {
	t.Helper()
	var out []targets.Spec
	for _, n := range names {
		s, ok := targets.Preset(n)
		if !ok {
			t.Fatalf("no preset %s", n)
		}
		out = append(out, s)
	}
	return out
}

// TestSentFieldOnlyForSseloadsOrigin: the latency split is read from
// sseload's own origin (local, compose) when latency is read from its
// "sched", from an external origin only when the user names the field.
func TestSentFieldOnlyForSseloadsOrigin(t *testing.T) {
	for _, tc := range []struct {
		given, topology, ts, want string
	}{
		{"", TopologyLocal, "sched", "sent"},
		{"", TopologyCompose, "sched", "sent"},
		{"", TopologyLocal, "ts", ""},
		{"", TopologyNone, "sched", ""},
		{"meta.sent", TopologyNone, "ts", "meta.sent"},
		{"meta.sent", TopologyLocal, "sched", "meta.sent"},
	} {
		if got := sentField(tc.given, tc.topology, tc.ts); got != tc.want {
			t.Errorf("sentField(%q, %s, %q) = %q, want %q", tc.given, tc.topology, tc.ts, got, tc.want)
		}
	}
}
