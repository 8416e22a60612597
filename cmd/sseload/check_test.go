package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/sseload/sseload/internal/testenv"
	"github.com/sseload/sseload/origin"
	"github.com/sseload/sseload/targets"
	"github.com/sseload/sseload/topology"
)

// sseloadCheck runs `sseload check` as a process of its own and returns
// its exit code and output.
func sseloadCheck(t *testing.T, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], append([]string{"check"}, args...)...)
	cmd.Env = append(os.Environ(), "SSELOAD_TEST_MAIN=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("sseload check %q: %v", args, err)
	}
	t.Logf("sseload check %s:\n%s", strings.Join(args, " "), out.String())
	return cmd.ProcessState.ExitCode(), out.String()
}

// startProxy runs one built-in proxied target (a real process) in front
// of the origin at originAddr and returns its URL.
func startProxy(t *testing.T, preset, originAddr string, idle time.Duration) string {
	t.Helper()
	testenv.RequireNginx(t)
	spec, ok := targets.Preset(preset)
	if !ok {
		t.Fatalf("no preset %s", preset)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	l, err := topology.StartLocal(ctx, topology.LocalConfig{OriginAddr: originAddr, Targets: []targets.Spec{spec}, IdleTimeout: idle})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Stop() })
	for _, tg := range l.Targets() {
		if tg.Name == preset {
			return tg.URL
		}
	}
	t.Fatalf("no target %s in %+v", preset, l.Targets())
	return ""
}

// TestCheckDirectOrigin: sseload's origin itself has nothing wrong.
func TestCheckDirectOrigin(t *testing.T) {
	addr := testenv.ServeOrigin(t, origin.Config{Mode: origin.Broadcast, Interval: 200 * time.Millisecond})
	code, out := sseloadCheck(t, "http://"+addr+"/events", "--duration", "2s")
	if code != exitOK || !strings.Contains(out, "nothing wrong found") || !strings.Contains(out, "200 OK (3 of 3 streams got an event stream)") {
		t.Errorf("exit %d, want 0 with nothing wrong and 3 streams:\n%s", code, out)
	}
	for _, want := range []string{"text/event-stream", "HTTP/1.1, plain (no TLS)", "bursts:                no", "compression:           none", "cut after quiet:       no"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

// TestCheckNginxStock: stock nginx buffers the stream; check exits 1 and
// names proxy_buffering.
func TestCheckNginxStock(t *testing.T) {
	addr := testenv.ServeOrigin(t, origin.Config{Mode: origin.Broadcast, Interval: 500 * time.Millisecond})
	u := startProxy(t, "nginx-stock", addr, 0)
	code, out := sseloadCheck(t, u, "--duration", "3s")
	if code != exitSymptom || !strings.Contains(out, "proxy_buffering") {
		t.Errorf("exit %d, want %d naming proxy_buffering:\n%s", code, exitSymptom, out)
	}
}

// TestCheckIdleTimeout: a proxy that cuts streams after 5 s without a byte
// (nginx-sse with proxy_read_timeout 5s, before a quiet origin); check
// exits 1 and names the idle timeout.
func TestCheckIdleTimeout(t *testing.T) {
	addr := testenv.ServeOrigin(t, origin.Config{Mode: origin.Broadcast, Interval: time.Hour})
	u := startProxy(t, "nginx-sse", addr, 5*time.Second)
	code, out := sseloadCheck(t, u, "--duration", "7s")
	if code != exitSymptom || !strings.Contains(out, "idle timeout") || !strings.Contains(out, "proxy_read_timeout") || !strings.Contains(out, "3 streams cut after 5") {
		t.Errorf("exit %d, want %d naming the idle timeout (proxy_read_timeout) after 5 s:\n%s", code, exitSymptom, out)
	}
}

// TestCheckRefused: nothing listens; check exits 3 saying so.
func TestCheckRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	code, out := sseloadCheck(t, "http://"+addr+"/events", "--duration", "2s")
	if code != exitNotComplete || !strings.Contains(out, "connection refused") || strings.Contains(out, "nothing wrong") {
		t.Errorf("exit %d, want %d saying the connection was refused:\n%s", code, exitNotComplete, out)
	}
}

// TestCheckUsage: bad input exits 2 naming it, before any connection.
func TestCheckUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{}, "check takes one URL"},
		{[]string{"ftp://x/events"}, `url "ftp://x/events"`},
		{[]string{"http://127.0.0.1:1/", "-H", "NoColon"}, `--header: header "NoColon": no colon`},
		{[]string{"http://127.0.0.1:1/", "--method", "get"}, "methods are case-sensitive"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(append([]string{"check"}, tc.args...), &stdout, &stderr)
		if code != exitUsage || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("check %q: exit %d, stderr %q; want %d and %q", tc.args, code, stderr.String(), exitUsage, tc.want)
		}
	}
}
