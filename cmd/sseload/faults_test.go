package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sseload/sseload/internal/testenv"
	"github.com/sseload/sseload/reports"
)

// runScenarioFile writes scenario to a file, runs `sseload run` on it as a
// child process with extra flags, and returns its summary and stderr.
func runScenarioFile(t *testing.T, scenario string, extra ...string) (reports.Summary, string) {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "faults.yaml")
	if err := os.WriteFile(file, []byte(scenario), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := append([]string{"run", file, "--no-progress", "--out", out}, extra...)
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), "SSELOAD_TEST_MAIN=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("sseload %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	s, err := reports.ReadSummary(filepath.Join(out, reports.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	return s, stdout.String() + stderr.String()
}

// TestFaultsEndToEnd kills the origin process and reloads nginx during a
// run: every stream reconnects and, the origin replaying by Last-Event-ID,
// none loses an event; each fault is reported.
func TestFaultsEndToEnd(t *testing.T) {
	testenv.RequireNginx(t)
	const conns = 5
	s, out := runScenarioFile(t, `
mode: broadcast
interval: 200ms
retry_ms: 100
connections: 5
ramp: 100
duration: 4s
targets: [direct, nginx-sse]
reconnect: persistent
reconnect_delay: 100ms
faults: [origin-restart@1500ms, proxy-reload@3s]
fault_down: 300ms
`)
	if len(s.Faults) != 2 || s.Faults[0].Name != "origin-restart" || s.Faults[1].Name != "proxy-reload" {
		t.Fatalf("faults %+v, want origin-restart then proxy-reload", s.Faults)
	}
	for _, ft := range s.Faults[0].Targets {
		if ft.Streams != conns || ft.Recovered != conns || ft.RecoveryS == nil || ft.Reconnects < conns || ft.Lost != 0 {
			t.Errorf("origin-restart, %s: %+v; want all %d streams back, ≥ %d reconnects, none lost", ft.Name, ft, conns, conns)
		}
	}
	for _, tg := range s.Targets {
		if tg.Events.Lost != 0 || tg.Events.Received < tg.Events.Expected || tg.Connections.Reconnects < conns || tg.DisconnectedUS == nil {
			t.Errorf("%s: events %+v, reconnects %d, disconnected %+v: want none lost, every stream reconnected and back",
				tg.Name, tg.Events, tg.Connections.Reconnects, tg.DisconnectedUS)
		}
	}
	for _, want := range []string{"fault origin-restart at 1.5 s", "fault proxy-reload at 3s: nginx-sse reloaded"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestIdleTimeoutAndHeartbeat: nginx with a 1 s proxy_read_timeout cuts a
// quiet stream; heartbeat comments every 200 ms keep it.
func TestIdleTimeoutAndHeartbeat(t *testing.T) {
	testenv.RequireNginx(t)
	const scenario = `
mode: broadcast
interval: 1h
retry_ms: 100
connections: 3
ramp: 100
duration: 3s
targets: [nginx-sse]
reconnect: persistent
proxy_read_timeout: 1s
`
	s, out := runScenarioFile(t, scenario)
	tg := s.Targets[0]
	if tg.QuietBeforeDropUS == nil || tg.QuietBeforeDropUS.Count < 3 || tg.Connections.Reconnects < 3 {
		t.Errorf("no heartbeat: quiet before drop %+v, reconnects %d; want every stream cut and back", tg.QuietBeforeDropUS, tg.Connections.Reconnects)
	}
	if !strings.Contains(out, "idle timeout on the path") {
		t.Errorf("no idle-timeout diagnosis in:\n%s", out)
	}
	s, _ = runScenarioFile(t, scenario, "--heartbeat", "200ms")
	if tg := s.Targets[0]; tg.QuietBeforeDropUS != nil || tg.Connections.Reconnects != 0 {
		t.Errorf("heartbeat 200ms: quiet before drop %+v, reconnects %d; want no stream cut", tg.QuietBeforeDropUS, tg.Connections.Reconnects)
	}
}

// TestSlowConsumersAreATargetOfTheirOwn: --slow-share splits each
// target's slow streams off as "<target>~slow".
func TestSlowConsumersAreATargetOfTheirOwn(t *testing.T) {
	s, _ := runScenarioFile(t, `
mode: broadcast
interval: 100ms
payload: 2000
connections: 10
ramp: 1000
duration: 2s
targets: [direct]
`, "--slow-share", "0.2", "--slow-read-rate", "500")
	var names []string
	for _, tg := range s.Targets {
		names = append(names, tg.Name)
	}
	if strings.Join(names, ",") != "direct,direct~slow" {
		t.Fatalf("targets %v, want direct and direct~slow", names)
	}
	fast, slow := s.Targets[0], s.Targets[1]
	if fast.Connections.Established != 8 || slow.Connections.Established != 2 {
		t.Errorf("established %d and %d, want 8 and 2", fast.Connections.Established, slow.Connections.Established)
	}
	// 2 KB events at 10 a second against 500 B/s: the slow streams fall
	// behind and receive fewer events than the others.
	if slow.Events.Received*4 >= fast.Events.Received {
		t.Errorf("slow streams received %d events, the 4× more fast ones %d: want the slow ones behind", slow.Events.Received, fast.Events.Received)
	}
}
