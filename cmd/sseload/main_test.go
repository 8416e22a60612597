package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sseload/sseload/internal/testenv"
	"github.com/sseload/sseload/loadgen"
	"github.com/sseload/sseload/reports"
)

// TestMain lets the test binary act as sseload itself when re-executed with
// SSELOAD_TEST_MAIN=1, so process-level behaviour (signals, exit codes,
// child processes) is tested on the real main.
func TestMain(m *testing.M) {
	if os.Getenv("SSELOAD_TEST_MAIN") == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	// `sseload run` starts its origin by re-executing its own binary, which
	// in tests is this test binary: make every such child act as sseload.
	os.Setenv("SSELOAD_TEST_MAIN", "1")
	os.Exit(m.Run())
}

func TestUsageErrorsExit2AndNameTheInput(t *testing.T) {
	t.Setenv("SSELOAD_TOKEN", "") // worker --listen without a token must be refused
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"bogus"}, `unknown command "bogus"`},
		{[]string{"run", "nosuch"}, "seed"},
		{[]string{"run", "seed", "--connections", "-3"}, "connections"},
		{[]string{"run", "seed", "--only", "nginx"}, "valid: direct, nginx-stock, nginx-sse, haproxy-stock, haproxy-sse, caddy-stock, caddy-sse"},
		{[]string{"run", "seed", "--proxy", "mine=nginx"}, "expected NAME=KIND:PATH"},
		{[]string{"run", "seed", "--proxy", "mine=nginx:/no/such.conf"}, "/no/such.conf does not exist"},
		{[]string{"run", "--topology", "none", "--target", "x=http://127.0.0.1:1/", "--proxy", "mine=nginx:/etc/hosts"}, "--proxy runs your proxy config"},
		{[]string{"run", "seed", "--proxy", "e=haproxy:/etc/hosts"}, "bind \"${SSELOAD_LISTEN}\""},
		{[]string{"run", "--topology", "none"}, "--target NAME=URL"},
		{[]string{"run", "seed", "--ca-cert", "/etc/hosts"}, "--ca-cert names the CAs of https --target URLs"},
		{[]string{"run", "--topology", "none", "--target", "x=https://127.0.0.1:1/", "--ca-cert", "/etc/hosts"}, "--ca-cert: CA certificates /etc/hosts: no PEM certificate"},
		{[]string{"probe", "--ca-cert", "/no/such.pem", "https://127.0.0.1:1/"}, "/no/such.pem"},
		{[]string{"run", "--topology", "k8s"}, `--topology "k8s"`},
		{[]string{"run", "--target", "x=http://127.0.0.1:1/"}, "--topology none"},
		{[]string{"run", "--no-such-flag"}, "no-such-flag"},
		{[]string{"run", "--timestamp-unit", "hours"}, "--timestamp-unit"},
		{[]string{"run", "seed", "--engine", "kqueue"}, `--engine: engine "kqueue": unknown (valid: epoll, portable)`},
		{[]string{"capacity", "steady", "--target", "direct", "--engine", "kqueue"}, `--engine: engine "kqueue"`},
		{[]string{"run", "a", "b"}, "one scenario"},
		{[]string{"run", "--source-addrs", "nope"}, "--source-addrs"},
		{[]string{"origin", "--mode", "fanout"}, "mode"},
		{[]string{"origin", "--heartbeat", "-1s"}, "origin heartbeat -1s: must be >= 0"},
		{[]string{"run", "seed", "--heartbeat", "-1s"}, "heartbeat: -1s is negative"},
		// Distributed runs (docs/distributed.md).
		{[]string{"run", "seed", "--workers", "127.0.0.1:7070", "--topology", "compose"}, "--workers with --topology compose"},
		{[]string{"run", "seed", "--workers", "127.0.0.1:7070", "--procs", "2"}, "--workers with --procs 2"},
		{[]string{"run", "seed", "--workers", "127.0.0.1:7070", "--time-url", "http://127.0.0.1:1/time"}, "--time-url with the local topology"},
		{[]string{"run", "seed", "--workers", "nope"}, `"nope" is not host:port`},
		{[]string{"run", "seed", "--workers", "dns:nameonly"}, "dns:NAME:PORT"},
		{[]string{"run", "seed", "--token", "t"}, "--token authenticates to remote workers: it needs --workers"},
		{[]string{"run", "seed", "--no-clock-correction"}, "--no-clock-correction"},
		{[]string{"run", "seed", "--segment", "2/2"}, "--segment"},
		{[]string{"run", "seed", "--segment", "x"}, "JOB_COMPLETION_INDEX"},
		{[]string{"capacity", "--target", "direct", "--workers", "127.0.0.1:7070"}, "--workers"},
		{[]string{"worker", "--listen", "0.0.0.0:0"}, "needs a shared token"},
		{[]string{"worker", "--token", "t"}, "--token is for --listen"},
		{[]string{"merge", "a"}, "at least two results directories"},
		{[]string{"merge", "a", "b"}, "--out"},
	} {
		var out, errOut bytes.Buffer
		code := run(tc.args, &out, &errOut)
		if code != exitUsage || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("sseload %s: exit %d, stderr %q; want exit %d naming %q", strings.Join(tc.args, " "), code, errOut.String(), exitUsage, tc.want)
		}
	}
}

func TestVersionAndHelp(t *testing.T) {
	var out bytes.Buffer
	if code := run([]string{"version"}, &out, &out); code != exitOK || !strings.HasPrefix(out.String(), "sseload ") {
		t.Errorf("version: exit %d, %q", code, out.String())
	}
	out.Reset()
	if code := run([]string{"run", "--help"}, &out, &out); code != exitOK || !strings.Contains(out.String(), "Examples:") {
		t.Errorf("run --help: exit %d, %q", code, out.String())
	}
}

// TestInterruptWritesResults sends SIGINT to a running `sseload run` and
// checks that the results directory is complete and marked interrupted, the
// exit code is 130, and no nginx outlives it.
func TestInterruptWritesResults(t *testing.T) {
	testenv.RequireNginx(t)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd, stderr := startMeasuringRun(t, ctx, dir, "nginx-sse", "run", "steady", "--only", "direct,nginx-sse",
		"--connections", "20", "--duration", "1h", "--no-progress", "--out", dir)
	// Every descendant: the nginx masters and workers and the origin
	// process. None may outlive the run.
	kids := descendants(t, cmd.Process.Pid)
	names := map[string]int{}
	for _, name := range kids {
		names[name]++
	}
	if names["nginx"] == 0 || names[filepath.Base(os.Args[0])] == 0 {
		t.Fatalf("descendants of the run (pid %d): %v, want nginx and the origin process", cmd.Process.Pid, names)
	}
	s := interruptRun(t, cmd, stderr, dir)
	if !s.Interrupted {
		t.Error("summary.json: interrupted is false")
	}
	for _, tg := range s.Targets {
		if tg.Connections.Established != 20 {
			t.Errorf("%s: established %d, want 20", tg.Name, tg.Connections.Established)
		}
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*.hlog")); len(m) != 2*len(loadgen.Metrics) {
		t.Errorf("interval logs %v, want one per target and metric (%d)", m, 2*len(loadgen.Metrics))
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".*tmp-*")); len(m) != 0 {
		t.Errorf("temporary files left: %v", m)
	}
	for pid, name := range kids {
		if alive(pid) {
			t.Errorf("%s pid %d outlived sseload", name, pid)
		}
	}
}

// startMeasuringRun starts sseload with args as a child process and
// returns once it measures: target's interval log appears in dir (as a
// temporary file) when the first interval of measurements is in.
func startMeasuringRun(t *testing.T, ctx context.Context, dir, target string, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), "SSELOAD_TEST_MAIN=1")
	stderr := new(bytes.Buffer)
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for {
		if m, _ := filepath.Glob(filepath.Join(dir, "."+target+".latency.hlog.tmp-*")); len(m) > 0 {
			return cmd, stderr
		}
		if ctx.Err() != nil {
			t.Fatalf("run never started measuring; stderr: %s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// interruptRun sends SIGINT to a running `sseload run`, checks it exits
// with the interrupted code, and returns the summary it wrote in dir.
func interruptRun(t *testing.T, cmd *exec.Cmd, stderr *bytes.Buffer, dir string) reports.Summary {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
		t.Fatalf("exit: %v, want code %d; stderr: %s", err, exitInterrupted, stderr.String())
	}
	s, err := reports.ReadSummary(filepath.Join(dir, reports.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// descendants returns the descendants of pid: pid -> name (comm).
func descendants(t *testing.T, pid int) map[int]string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	parent := map[int]int{}
	name := map[int]string{}
	for _, e := range entries {
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		var p, ppid int
		var comm, state string
		if _, err := fmt.Sscan(string(stat), &p, &comm, &state, &ppid); err != nil {
			continue
		}
		parent[p], name[p] = ppid, strings.Trim(comm, "()")
	}
	kids := map[int]string{}
	for p := range parent {
		for q := parent[p]; q > 1; q = parent[q] {
			if q == pid {
				kids[p] = name[p]
				break
			}
		}
	}
	return kids
}

// alive reports whether pid runs (a zombie counts as gone).
func alive(pid int) bool {
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	var p, ppid int
	var comm, state string
	if _, err := fmt.Sscan(string(stat), &p, &comm, &state, &ppid); err != nil {
		return false
	}
	return state != "Z"
}
