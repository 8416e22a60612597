package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sseload/sseload/docker"
	"github.com/sseload/sseload/internal/testenv"
	"github.com/sseload/sseload/reports"
	"github.com/sseload/sseload/targets"
)

// requireAllProxies fails under CI=true (skips elsewhere) unless nginx,
// HAProxy and Caddy are all installed.
func requireAllProxies(t *testing.T) {
	t.Helper()
	for _, k := range targets.Kinds() {
		testenv.RequireProxy(t, k)
	}
}

// diagnosisFor returns the diagnoses of target name.
func diagnosisFor(s reports.Summary, name string) []reports.Diagnosis {
	var out []reports.Diagnosis
	for _, d := range s.Diagnoses {
		if d.Target == name {
			out = append(out, d)
		}
	}
	return out
}

// wantDiagnosis checks that target has exactly one diagnosis and that its
// directive names want.
func wantDiagnosis(t *testing.T, s reports.Summary, target, want string) {
	t.Helper()
	ds := diagnosisFor(s, target)
	if len(ds) != 1 || !strings.Contains(ds[0].Directive+" "+ds[0].Fix, want) {
		t.Errorf("%s: diagnoses %+v, want one naming %q", target, ds, want)
	}
}

// TestStockProxiesDiagnosed reproduces each stock proxy's measured symptom
// with the real program, side by side with direct, and checks that the
// diagnosis names the directive at fault: nginx-stock holds the head and
// the events until the stream ends (proxy_buffering); haproxy-stock adds
// about 200 ms to every event (option http-no-delay); the SSE configs and
// Caddy deliver on time and get no diagnosis.
func TestStockProxiesDiagnosed(t *testing.T) {
	requireAllProxies(t)
	s, _ := runScenarioFile(t, `
mode: per-connection
interval: 300ms
events: 4
connections: 5
targets: [direct, nginx-stock, nginx-sse, haproxy-stock, haproxy-sse, caddy-stock]
`)
	byName := map[string]reports.Target{}
	for _, tg := range s.Targets {
		byName[tg.Name] = tg
		if tg.Connections.Established != 5 || tg.Events.Received != 20 || tg.Events.Lost != 0 {
			t.Errorf("%s: established %d, events %+v; want 5 streams, 20 events, none lost", tg.Name, tg.Connections.Established, tg.Events)
		}
		kind := map[string]string{"direct": "", "nginx-stock": "nginx", "nginx-sse": "nginx", "haproxy-stock": "haproxy", "haproxy-sse": "haproxy", "caddy-stock": "caddy"}[tg.Name]
		if tg.ProxyKind != kind || (kind != "" && (tg.Proxy == "" || tg.ConfigSHA256 == "" || !strings.HasPrefix(tg.ConfigFile, "docker/"+kind+"/"))) {
			t.Errorf("%s: kind %q proxy %q sha256 %q config %q; want kind %q and all recorded", tg.Name, tg.ProxyKind, tg.Proxy, tg.ConfigSHA256, tg.ConfigFile, kind)
		}
	}
	wantDiagnosis(t, s, "nginx-stock", "proxy_buffering")
	wantDiagnosis(t, s, "haproxy-stock", "http-no-delay")
	for _, fine := range []string{"direct", "nginx-sse", "haproxy-sse", "caddy-stock"} {
		if ds := diagnosisFor(s, fine); len(ds) != 0 {
			t.Errorf("%s: diagnoses %+v, want none", fine, ds)
		}
	}
	// The figures behind the HAProxy rule: its typical event is late by
	// the same amount, far beyond haproxy-sse's.
	if hs, ok := byName["haproxy-stock"]; ok && byName["haproxy-sse"].LatencyUS != nil && hs.LatencyUS != nil {
		if hs.LatencyUS.P50 <= 10*byName["haproxy-sse"].LatencyUS.P50 {
			t.Errorf("haproxy-stock latency p50 %d µs, haproxy-sse %d µs: want the stock config's delay to stand out", hs.LatencyUS.P50, byName["haproxy-sse"].LatencyUS.P50)
		}
	}
}

// TestIdleTimeoutEveryKind: each kind's idle timeout, set by
// proxy_read_timeout, cuts quiet streams, and the diagnosis names that
// kind's setting; heartbeats keep every stream.
func TestIdleTimeoutEveryKind(t *testing.T) {
	requireAllProxies(t)
	const scenario = `
mode: broadcast
interval: 1h
retry_ms: 100
connections: 3
ramp: 100
duration: 3s
targets: [direct, nginx-sse, haproxy-sse, caddy-stock]
reconnect: persistent
proxy_read_timeout: 1s
`
	s, _ := runScenarioFile(t, scenario)
	for name, setting := range map[string]string{"nginx-sse": "proxy_read_timeout", "haproxy-sse": "timeout server", "caddy-stock": "read_timeout"} {
		for _, tg := range s.Targets {
			if tg.Name == name && (tg.QuietBeforeDropUS == nil || tg.QuietBeforeDropUS.Count < 3 || tg.Connections.Reconnects < 3) {
				t.Errorf("%s: quiet before drop %+v, reconnects %d; want every stream cut and back", name, tg.QuietBeforeDropUS, tg.Connections.Reconnects)
			}
		}
		wantDiagnosis(t, s, name, setting)
	}
	if ds := diagnosisFor(s, "direct"); len(ds) != 0 {
		t.Errorf("direct: %+v, want no diagnosis", ds)
	}
	s, _ = runScenarioFile(t, scenario, "--heartbeat", "200ms")
	for _, tg := range s.Targets {
		if tg.QuietBeforeDropUS != nil || tg.Connections.Reconnects != 0 {
			t.Errorf("heartbeat 200ms, %s: quiet before drop %+v, reconnects %d; want no stream cut", tg.Name, tg.QuietBeforeDropUS, tg.Connections.Reconnects)
		}
	}
}

// writeConfig writes a copy of a preset's config with edit applied and
// returns its path.
func writeConfig(t *testing.T, preset, name string, edit func(string) string) string {
	t.Helper()
	spec, ok := targets.Preset(preset)
	if !ok {
		t.Fatalf("no preset %s", preset)
	}
	b, err := docker.Configs.ReadFile(spec.PresetFile)
	if err != nil {
		t.Fatal(err)
	}
	conf := string(b)
	if edit != nil {
		if conf = edit(conf); conf == string(b) {
			t.Fatalf("%s: the edit changed nothing in %s", name, spec.PresetFile)
		}
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestOwnProxyConfigs: --proxy runs the user's own files. A copy of
// nginx-stock.conf shows its bug, the same file with proxy_buffering off
// is fixed; a Caddyfile and an HAProxy config of one's own run too; a
// config with a small worker_connections shows the connection-limit
// diagnosis.
func TestOwnProxyConfigs(t *testing.T) {
	requireAllProxies(t)
	stock := writeConfig(t, "nginx-stock", "nginx.conf", nil)
	fixed := writeConfig(t, "nginx-stock", "fixed.conf", func(s string) string {
		return strings.Replace(s, "proxy_pass http://sseload_origin;", "proxy_pass http://sseload_origin;\n\t\t\tproxy_buffering off;", 1)
	})
	edge := writeConfig(t, "haproxy-sse", "haproxy.cfg", nil)
	caddy := writeConfig(t, "caddy-stock", "Caddyfile", nil)
	const interval, events = 200, 4
	s, _ := runScenarioFile(t, `
mode: per-connection
interval: 200ms
events: 4
connections: 5
targets: [direct]
`, "--proxy", "mine="+"nginx:"+stock, "--proxy", "fixed=nginx:"+fixed, "--proxy", "edge=haproxy:"+edge, "--proxy", "cad=caddy:"+caddy)
	got := map[string]reports.Target{}
	for _, tg := range s.Targets {
		got[tg.Name] = tg
	}
	streamEnd := int64(interval * events * 1000)
	if m := got["mine"]; m.TimeToHeadersUS == nil || m.TimeToHeadersUS.P50 < streamEnd || m.ConfigFile != stock || m.ProxyKind != "nginx" {
		t.Errorf("mine: %+v; want the head held until the stream ends (%d µs) and config %s", m.TimeToHeadersUS, streamEnd, stock)
	}
	// The origin sends its head at once; every config without buffering
	// passes it on at once, before the first event.
	for _, name := range []string{"fixed", "edge", "cad"} {
		tg := got[name]
		if tg.TimeToHeadersUS == nil || tg.TimeToFirstEventUS == nil || tg.TimeToHeadersUS.P50 >= tg.TimeToFirstEventUS.P50 || tg.Events.Received != 20 {
			t.Errorf("%s: time to headers %+v, to first event %+v, events %d; want the head at once, before the first event, and all 20 events",
				name, tg.TimeToHeadersUS, tg.TimeToFirstEventUS, tg.Events.Received)
		}
	}
	wantDiagnosis(t, s, "mine", "proxy_buffering")

	// 2 connections per proxied stream: one worker with 16 slots carries
	// about 7 streams of 20.
	small := writeConfig(t, "nginx-sse", "small.conf", func(s string) string {
		s = strings.Replace(s, "worker_connections 10000;", "worker_connections 16;", 1)
		return strings.Replace(s, "worker_processes auto;", "worker_processes 1;", 1)
	})
	s, _ = runScenarioFile(t, `
mode: broadcast
interval: 200ms
x_accel: true
connections: 20
ramp: 200
duration: 1s
targets: [direct]
`, "--proxy", "small=nginx:"+small)
	wantDiagnosis(t, s, "small", "worker_connections")
}

// TestOwnProxyConfigRefused: a config its proxy refuses ends the run
// before any load with exit 2, the file's name and the proxy's own line.
func TestOwnProxyConfigRefused(t *testing.T) {
	requireAllProxies(t)
	bad := map[string]string{
		"nginx": writeConfig(t, "nginx-sse", "bad.conf", func(s string) string {
			return strings.Replace(s, "\tproxy_buffering off;", "\tproxy_bufering off;", 1)
		}),
		"haproxy": writeConfig(t, "haproxy-sse", "bad.cfg", func(s string) string { return s + "\nbackend x\n\tfrobnicate\n" }),
		"caddy": writeConfig(t, "caddy-stock", "Caddyfile", func(s string) string {
			return strings.Replace(s, "\treverse_proxy {$SSELOAD_ORIGIN}", "\treverse_proxxy {$SSELOAD_ORIGIN}", 1)
		}),
	}
	own := map[string]string{"nginx": `unknown directive "proxy_bufering"`, "haproxy": "frobnicate", "caddy": "reverse_proxxy"}
	for kind, path := range bad {
		var out, errOut bytes.Buffer
		code := run([]string{"run", "seed", "--interval", "100ms", "--only", "bad", "--proxy", "bad=" + kind + ":" + path, "--no-progress", "-o", filepath.Join(t.TempDir(), "out")}, &out, &errOut)
		if code != exitUsage || !strings.Contains(errOut.String(), path) || !strings.Contains(errOut.String(), own[kind]) {
			t.Errorf("%s: exit %d, stderr:\n%s\nwant exit %d naming %s and quoting %q", kind, code, errOut.String(), exitUsage, path, own[kind])
		}
	}
}

// TestBufferingShapesDiagnosed reproduces nginx-stock's two other
// buffering shapes with the real program: from an origin that sends its
// head with the first event (head_with_first_event), events larger than
// nginx's postpone_output let the head through with the first event, and
// the rest come in bursts as its buffers fill, here every third event, so
// events wait up to 800 ms (the batched-events rule asks for 500 ms); from
// the default origin, which flushes its head at once, nginx holds that
// head until its first buffer fills (the second event, ~800 ms, against
// direct's instant head), so the held-headers rule names the buffering,
// with the bursts as its evidence; a broadcast stream of small events
// never gets its head through at all (the dead-stream rule).
func TestBufferingShapesDiagnosed(t *testing.T) {
	testenv.RequireProxy(t, targets.Nginx)
	const large = `
mode: per-connection
interval: 400ms
events: 6
payload: 3000
connections: 3
targets: [direct, nginx-stock]
`
	s, _ := runScenarioFile(t, large+"head_with_first_event: true\n")
	ds := diagnosisFor(s, "nginx-stock")
	if len(ds) != 1 || !strings.Contains(ds[0].Symptom, "released together") || !strings.Contains(ds[0].Directive, "proxy_buffering") {
		t.Errorf("large events, head with the first event: nginx-stock diagnoses %+v, want one batched-events diagnosis naming proxy_buffering", ds)
	}
	s, _ = runScenarioFile(t, large)
	ds = diagnosisFor(s, "nginx-stock")
	if len(ds) != 1 || !strings.Contains(ds[0].Symptom, "response headers held back") || !strings.Contains(ds[0].Directive, "proxy_buffering") ||
		!strings.Contains(ds[0].Evidence, "latency min") {
		t.Errorf("large events, head at once: nginx-stock diagnoses %+v, want one held-headers diagnosis naming proxy_buffering, the bursts in its evidence", ds)
	}
	s, _ = runScenarioFile(t, `
mode: broadcast
interval: 200ms
connections: 3
duration: 2s
targets: [direct, nginx-stock]
`)
	ds = diagnosisFor(s, "nginx-stock")
	if len(ds) != 1 || !strings.Contains(ds[0].Symptom, "no stream got response headers") || !strings.Contains(ds[0].Directive, "proxy_buffering") {
		t.Errorf("broadcast: nginx-stock diagnoses %+v, want one dead-stream diagnosis naming proxy_buffering", ds)
	}
}
