package topology_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sseload/sseload/docker"
	"github.com/sseload/sseload/internal/testenv"
	"github.com/sseload/sseload/targets"
	"github.com/sseload/sseload/topology"
)

// The tests that run real proxies are in package topology_test: they find
// the programs with internal/testenv, which imports topology.

// Preset target names used below.
const (
	direct       = targets.Direct
	nginxStock   = "nginx-stock"
	nginxSSE     = "nginx-sse"
	haproxyStock = "haproxy-stock"
	haproxySSE   = "haproxy-sse"
	caddyStock   = "caddy-stock"
)

// nginxInstallHint is the part of a missing nginx's error a user acts on.
const nginxInstallHint = "apt-get install nginx-light"

// requireNginx returns the nginx binary: testenv.RequireProxy fails the
// test under CI=true (CI must run these tests, not silently skip them) and
// skips it elsewhere, with the install hint.
func requireNginx(t *testing.T) string {
	t.Helper()
	return testenv.RequireProxy(t, targets.Nginx)
}

// kindOf returns the Kind named name.
func kindOf(t testing.TB, name string) topology.Kind {
	t.Helper()
	k, err := topology.KindOf(name)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// presets returns the built-in targets named, in that order.
func presets(t testing.TB, names ...string) []targets.Spec {
	t.Helper()
	specs := make([]targets.Spec, len(names))
	for i, n := range names {
		s, ok := targets.Preset(n)
		if !ok {
			t.Fatalf("no preset target %q", n)
		}
		specs[i] = s
	}
	return specs
}

// embeddedSHA256 is the sha256 (hex) of a preset's embedded config.
func embeddedSHA256(t testing.TB, file string) string {
	t.Helper()
	conf, err := docker.Configs.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(conf)
	return hex.EncodeToString(sum[:])
}

// startLocal starts cfg and stops it when the test ends.
func startLocal(t *testing.T, cfg topology.LocalConfig) *topology.Local {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*safety)
	defer cancel()
	l, err := topology.StartLocal(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Stop() })
	return l
}

// byName indexes l's targets.
func byName(l *topology.Local) map[string]topology.Target {
	m := map[string]topology.Target{}
	for _, tg := range l.Targets() {
		m[tg.Name] = tg
	}
	return m
}

// baseURL is a target's URL without /events.
func baseURL(tg topology.Target) string { return strings.TrimSuffix(tg.URL, "/events") }

// safety bounds how long a broken test may hang. It is never a measurement.
const safety = 10 * time.Second

// testOrigin is a tiny SSE origin. GET /events writes and flushes one event,
// reports that on flushed, then blocks until the test sends on release (or
// the client goes away) and writes a last event before returning.
type testOrigin struct {
	*httptest.Server
	flushed chan struct{}
	release chan struct{}
}

func newTestOrigin(t *testing.T) *testOrigin {
	t.Helper()
	o := &testOrigin{flushed: make(chan struct{}, 1), release: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("/events", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
		io.WriteString(w, "data: first\n\n")
		w.(http.Flusher).Flush()
		o.flushed <- struct{}{}
		select {
		case <-o.release:
		case <-r.Context().Done():
			return
		}
		io.WriteString(w, "data: last\n\n")
	})
	// /hangup closes the connection without a response: nginx answers 502
	// and logs why.
	mux.HandleFunc("/hangup", func(w http.ResponseWriter, r *http.Request) {
		c, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			c.Close()
		}
	})
	o.Server = httptest.NewServer(mux)
	t.Cleanup(func() {
		o.CloseClientConnections()
		o.Close()
	})
	return o
}

func (o *testOrigin) addr() string { return o.Listener.Addr().String() }

// recv waits for a signal on ch, failing the test after the safety bound.
func recv(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(safety):
		t.Fatalf("no signal after %v: %s", safety, what)
	}
}

// readEvent reads lines up to the blank line ending an event and returns
// them joined by "\n".
func readEvent(br *bufio.Reader) (string, error) {
	var lines []string
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return strings.Join(lines, "\n"), err
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			return strings.Join(lines, "\n"), nil
		}
		lines = append(lines, line)
	}
}

// groupMembers lists the live processes in process group pgid.
func groupMembers(t *testing.T, pgid int) []int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatalf("list processes: %v", err)
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		state, pg, ok := procStat(pid)
		if ok && pg == pgid && state != 'Z' {
			pids = append(pids, pid)
		}
	}
	return pids
}

// procStat reads a process's state and process group from /proc/PID/stat.
func procStat(pid int) (state byte, pgid int, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	// "pid (comm) state ppid pgrp ..."; comm may hold spaces and parens.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 3 {
		return 0, 0, false
	}
	pg, err := strconv.Atoi(f[2])
	return f[0][0], pg, err == nil
}

// gone reports whether pid has exited: kill(pid, 0) fails with ESRCH, or
// the process is a zombie (exited; nothing reaps orphans when PID 1 does not
// wait for them, as in some containers and VMs).
func gone(pid int) bool {
	if err := killZero(pid); errors.Is(err, syscall.ESRCH) {
		return true
	}
	state, _, ok := procStat(pid)
	return !ok || state == 'Z'
}

// waitGone polls until every pid has exited, failing after the safety
// bound. The kernel's signals need the processes to be scheduled to die;
// there is nothing to wait on but their state.
func waitGone(t *testing.T, pids []int, what string) {
	t.Helper()
	deadline := time.Now().Add(safety)
	for _, pid := range pids {
		for !gone(pid) {
			if time.Now().After(deadline) {
				state, pg, _ := procStat(pid)
				t.Fatalf("%s process %d (group %d, state %c) still running", what, pid, pg, state)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

func TestStartLocalAllTargets(t *testing.T) {
	bin := requireNginx(t)
	version, err := topology.Version(kindOf(t, targets.Nginx), bin)
	if err != nil {
		t.Fatal(err)
	}
	o := newTestOrigin(t)
	l := startLocal(t, topology.LocalConfig{
		OriginAddr: o.addr(),
		Targets:    presets(t, nginxSSE, direct, nginxStock),
	})
	tgs := byName(l)
	client := &http.Client{Transport: &http.Transport{Proxy: nil}}
	defer client.CloseIdleConnections()

	t.Run("targets", func(t *testing.T) {
		var names []string
		for _, tg := range l.Targets() {
			names = append(names, tg.Name)
		}
		if got, want := strings.Join(names, ","), "nginx-sse,direct,nginx-stock"; got != want {
			t.Errorf("target order %s, want %s (the order of Targets)", got, want)
		}
		d := tgs[direct]
		if want := "http://" + o.addr() + "/events"; d.URL != want || d.Proxy != "" || d.ConfigSHA256 != "" || d.Kind != "" || d.ConfigName != "" {
			t.Errorf("direct = %+v, want URL %s and no proxy", d, want)
		}
		for name, file := range map[string]string{nginxSSE: "nginx/nginx-sse.conf", nginxStock: "nginx/nginx-stock.conf"} {
			tg := tgs[name]
			if tg.ConfigSHA256 != embeddedSHA256(t, file) {
				t.Errorf("%s: ConfigSHA256 %s, want sha256 of %s", name, tg.ConfigSHA256, file)
			}
			if tg.Proxy != version {
				t.Errorf("%s: Proxy %q, want %q", name, tg.Proxy, version)
			}
			if tg.Kind != targets.Nginx || tg.ConfigName != "docker/"+file {
				t.Errorf("%s: Kind %q, ConfigName %q; want nginx, docker/%s", name, tg.Kind, tg.ConfigName, file)
			}
			if !regexp.MustCompile(`^http://127\.0\.0\.1:\d+/events$`).MatchString(tg.URL) || tg.URL == d.URL {
				t.Errorf("%s: URL %s, want its own loopback port", name, tg.URL)
			}
			loopbackOnly(t, tg)
		}
	})

	t.Run("nginx-sse passes an event on before the origin finishes", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), safety)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, tgs[nginxSSE].URL, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" ||
			!strings.HasPrefix(resp.Header.Get("Server"), "nginx/") {
			t.Fatalf("status %s, headers %v: want 200 text/event-stream from nginx", resp.Status, resp.Header)
		}
		br := bufio.NewReader(resp.Body)
		ev, err := readEvent(br)
		if err != nil || ev != "data: first" {
			t.Fatalf("first event %q, %v", ev, err)
		}
		// The origin's handler is still blocked on release here, so the
		// event went through nginx while the stream was open.
		recv(t, o.flushed, "origin flushed the first event")
		o.release <- struct{}{}
		if ev, err := readEvent(br); err != nil || ev != "data: last" {
			t.Fatalf("last event %q, %v", ev, err)
		}
	})

	t.Run("nginx-stock holds the head until the origin finishes", func(t *testing.T) {
		host := strings.TrimPrefix(baseURL(tgs[nginxStock]), "http://")
		conn, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "GET /events HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", host)
		recv(t, o.flushed, "origin flushed the first event")
		// An absence check: nothing signals "nginx is holding bytes", so
		// wait briefly for any. Unbuffered, nginx passes bytes on within
		// microseconds (the nginx-sse case above); 300 ms of silence after
		// the origin flushed means the head is held. The handler is
		// released only after this check.
		conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		var one [1]byte
		n, err := conn.Read(one[:])
		if ne, ok := err.(net.Error); n != 0 || !ok || !ne.Timeout() {
			t.Fatalf("read %d bytes (%v) before the origin finished: want nothing, the stock config buffers", n, err)
		}
		o.release <- struct{}{}
		conn.SetReadDeadline(time.Now().Add(safety))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != 200 || string(body) != "data: first\n\ndata: last\n\n" {
			t.Fatalf("status %s, body %q, %v: want 200 and both events", resp.Status, body, err)
		}
	})

	t.Run("error log", func(t *testing.T) {
		url := baseURL(tgs[nginxStock]) + "/hangup"
		resp, err := client.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadGateway {
			t.Fatalf("GET %s: %s, want 502", url, resp.Status)
		}
		log, err := l.ErrorLog(nginxStock)
		if err != nil || !strings.Contains(log, "upstream prematurely closed connection") {
			t.Fatalf("ErrorLog(nginx-stock) = %q, %v: want the upstream failure", log, err)
		}
		if _, err := l.ErrorLog(direct); err == nil {
			t.Error("ErrorLog(direct) succeeded; direct has no proxy")
		}
		if _, err := l.ErrorLog("haproxy"); err == nil {
			t.Error("ErrorLog(haproxy) succeeded; no such target")
		}
	})

	t.Run("stop", func(t *testing.T) {
		var pids []int
		for name, pg := range l.ProcessGroups() {
			m := groupMembers(t, pg)
			if len(m) < 2 {
				t.Fatalf("%s: process group %d has %v, want a master and workers", name, pg, m)
			}
			pids = append(pids, m...)
		}
		if err := l.Stop(); err != nil {
			t.Fatal(err)
		}
		for _, pid := range pids {
			if !gone(pid) {
				t.Errorf("nginx process %d still running after Stop", pid)
			}
		}
		if _, err := os.Stat(l.WorkDir()); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("work dir %s after Stop: %v, want removed", l.WorkDir(), err)
		}
		if err := l.Stop(); err != nil {
			t.Errorf("second Stop: %v", err)
		}
		if log, err := l.ErrorLog(nginxStock); err != nil || !strings.Contains(log, "upstream prematurely closed") {
			t.Errorf("ErrorLog after Stop = %q, %v: want the log as it was", log, err)
		}
	})
}

func TestStartLocalMissingProgram(t *testing.T) {
	for _, tc := range []struct{ target, kind, hint string }{
		{nginxSSE, targets.Nginx, nginxInstallHint},
		{haproxySSE, targets.HAProxy, "apt-get install haproxy"},
		{caddyStock, targets.Caddy, "apt-get install caddy"},
	} {
		missing := "/nonexistent/sbin/" + tc.kind
		_, err := topology.StartLocal(context.Background(), topology.LocalConfig{
			OriginAddr: "127.0.0.1:1", Targets: presets(t, direct, tc.target), Programs: map[string]string{tc.kind: missing},
		})
		if !errors.Is(err, topology.ErrMissing) || !strings.Contains(err.Error(), tc.hint) || !strings.Contains(err.Error(), missing) || !strings.Contains(err.Error(), tc.target) {
			t.Errorf("err = %v, want ErrMissing naming %s and %s with the install hint %q", err, tc.target, missing, tc.hint)
		}
		if _, err := topology.Version(kindOf(t, tc.kind), missing); !errors.Is(err, topology.ErrMissing) {
			t.Errorf("Version(%s, %s) err = %v, want ErrMissing", tc.kind, missing, err)
		}
	}
	// Direct alone needs no proxy.
	l, err := topology.StartLocal(context.Background(), topology.LocalConfig{
		OriginAddr: "127.0.0.1:8080", Targets: presets(t, direct), Programs: map[string]string{targets.Nginx: "/nonexistent/sbin/nginx"},
	})
	if err != nil {
		t.Fatalf("direct only: %v", err)
	}
	if tg := l.Targets(); len(tg) != 1 || tg[0].URL != "http://127.0.0.1:8080/events" {
		t.Errorf("direct only: targets %+v", tg)
	}
	if err := l.Stop(); err != nil {
		t.Error(err)
	}
}

func TestStartLocalBadInput(t *testing.T) {
	squid := targets.Spec{Name: "mine", Kind: "squid", Config: "/etc/squid/squid.conf"}
	for _, tc := range []struct {
		cfg  topology.LocalConfig
		want string
	}{
		{topology.LocalConfig{OriginAddr: "127.0.0.1:8080"}, "no targets"},
		{topology.LocalConfig{OriginAddr: "127.0.0.1:8080", Targets: []targets.Spec{squid}}, `unknown proxy kind "squid"`},
		{topology.LocalConfig{OriginAddr: "127.0.0.1:8080", Targets: presets(t, direct, direct)}, `"direct" named twice`},
		{topology.LocalConfig{OriginAddr: "127.0.0.1:8080", Targets: presets(t, nginxSSE, direct, nginxSSE)}, `"nginx-sse" named twice`},
		{topology.LocalConfig{OriginAddr: "127.0.0.1:8080", Targets: []targets.Spec{{Kind: targets.Nginx, PresetFile: "nginx/nginx-sse.conf"}}}, "no name"},
		{topology.LocalConfig{OriginAddr: "localhost", Targets: presets(t, direct)}, `origin address "localhost"`},
		{topology.LocalConfig{OriginAddr: "127.0.0.1:http", Targets: presets(t, direct)}, `port "http"`},
	} {
		_, err := topology.StartLocal(context.Background(), tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("StartLocal(%+v) err = %v, want %q", tc.cfg, err, tc.want)
		}
	}
	// A wildcard origin address is reached over loopback.
	l, err := topology.StartLocal(context.Background(), topology.LocalConfig{OriginAddr: ":8080", Targets: presets(t, direct)})
	if err != nil || l.Targets()[0].URL != "http://127.0.0.1:8080/events" {
		t.Errorf("wildcard origin: %v, %+v", err, l)
	}
}

func TestStartLocalOriginDown(t *testing.T) {
	requireNginx(t)
	// A port nothing listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := ln.Addr().String()
	ln.Close()

	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err = topology.StartLocal(ctx, topology.LocalConfig{OriginAddr: down, Targets: presets(t, nginxSSE), WorkDir: dir})
	if err == nil {
		t.Fatal("StartLocal succeeded with the origin down")
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "nginx-sse: ") || !strings.Contains(msg, "502") || !strings.Contains(msg, "Connection refused") {
		t.Errorf("err = %v\nwant it to name nginx-sse, the 502 and the error log's connect() failure", err)
	}
	if !strings.Contains(msg, "docker/nginx/nginx-sse.conf") {
		t.Errorf("err = %v\nwant it to name the config", err)
	}
	// Nothing started for it is left running: the master's title holds the
	// prefix, and a gracefully stopped master takes its workers with it.
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		pid, _ := strconv.Atoi(e.Name())
		if err == nil && strings.Contains(string(cmdline), dir) && !gone(pid) {
			t.Errorf("process %s still running: %q", e.Name(), cmdline)
		}
	}
}

// TestVersion runs each kind's program and reads its version.
func TestVersion(t *testing.T) {
	for kind, want := range map[string]string{
		targets.Nginx:   `^nginx/\d+\.\d+\.\d+$`,
		targets.HAProxy: `^HAProxy/\d+\.\d+\.\d+\S*$`,
		targets.Caddy:   `^Caddy/\d+\.\d+\.\d+\S*$`,
	} {
		t.Run(kind, func(t *testing.T) {
			bin := testenv.RequireProxy(t, kind)
			v, err := topology.Version(kindOf(t, kind), bin)
			if err != nil {
				t.Fatal(err)
			}
			if !regexp.MustCompile(want).MatchString(v) {
				t.Errorf("Version = %q, want it to match %s", v, want)
			}
		})
	}
}

// harnessEnv makes the test binary act as a harness that starts the
// targets named in harnessTargetsEnv (comma-separated presets) and waits
// to be killed (see dieWithHarness). With harnessReloadEnv set it reloads
// each proxy first and waits for its log to show the reload done.
const (
	harnessEnv        = "SSELOAD_TOPOLOGY_HARNESS_DIR"
	harnessTargetsEnv = "SSELOAD_TOPOLOGY_HARNESS_TARGETS"
	harnessReloadEnv  = "SSELOAD_TOPOLOGY_HARNESS_RELOAD"
)

// TestHarnessChild is the child side of the *DiesWithHarness tests; it
// does nothing in a normal run.
func TestHarnessChild(t *testing.T) {
	dir := os.Getenv(harnessEnv)
	if dir == "" {
		t.Skip("helper for the *DiesWithHarness tests")
	}
	o := newTestOrigin(t)
	l, err := topology.StartLocal(context.Background(), topology.LocalConfig{
		OriginAddr: o.addr(), Targets: presets(t, strings.Split(os.Getenv(harnessTargetsEnv), ",")...), WorkDir: dir,
	})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	if done := os.Getenv(harnessReloadEnv); done != "" {
		for name := range l.ProcessGroups() {
			if err := l.Reload(name); err != nil {
				fmt.Println("error", err)
				os.Exit(1)
			}
			if err := waitLog(l, name, done, 2); err != nil {
				fmt.Println("error", err)
				os.Exit(1)
			}
		}
	}
	for _, pg := range l.ProcessGroups() {
		fmt.Println("pgid", pg)
	}
	fmt.Println("ready")
	// Wait to be SIGKILLed; the bound only keeps an orphaned child from
	// living forever.
	time.Sleep(time.Minute)
	os.Exit(1)
}

// waitLog polls target name's log until it holds line n times (the
// proxy's own report that something happened), up to the safety bound.
func waitLog(l *topology.Local, name, line string, n int) error {
	deadline := time.Now().Add(safety)
	for {
		log, err := l.ErrorLog(name)
		if err != nil {
			return err
		}
		if strings.Count(log, line) >= n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: %q not %d times in the log after %v:\n%s", name, line, n, safety, log)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// dieWithHarness kills a harness process running presets with SIGKILL —
// no chance to run Stop — and checks that every process of every proxy
// (at least minProcs in each group) dies too. reloaded, when set, makes
// the harness reload each proxy first and wait for that line in its log.
func dieWithHarness(t *testing.T, presets []string, minProcs int, reloaded string) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHarnessChild$")
	cmd.Env = append(os.Environ(), harnessEnv+"="+t.TempDir(), harnessTargetsEnv+"="+strings.Join(presets, ","), harnessReloadEnv+"="+reloaded)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var groups []int
	sc := bufio.NewScanner(out)
	for sc.Scan() && sc.Text() != "ready" {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == "pgid" {
			pg, _ := strconv.Atoi(f[1])
			groups = append(groups, pg)
		} else {
			t.Log(sc.Text())
		}
	}
	if len(groups) != len(presets) {
		t.Fatalf("child reported process groups %v, want %d", groups, len(presets))
	}
	var pids []int
	for _, pg := range groups {
		m := groupMembers(t, pg)
		if len(m) < minProcs {
			t.Fatalf("process group %d has %v, want at least %d processes", pg, m, minProcs)
		}
		pids = append(pids, m...)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	// The kernel sends SIGKILL while the child's files close, before Wait
	// returns; the processes then need to be scheduled to die. Poll for
	// that condition (bounded by safety).
	waitGone(t, pids, "proxy process that outlived the harness:")
}

// TestNginxDiesWithHarness: nginx masters and workers die with a harness
// killed by SIGKILL.
func TestNginxDiesWithHarness(t *testing.T) {
	requireNginx(t)
	t.Parallel()
	dieWithHarness(t, []string{nginxStock, nginxSSE}, 2, "")
}

// TestReloadKeepsServing: a reload (SIGHUP) leaves nginx serving, with its
// processes counted from /proc.
func TestReloadKeepsServing(t *testing.T) {
	requireNginx(t)
	o := newTestOrigin(t)
	l := startLocal(t, topology.LocalConfig{OriginAddr: o.addr(), Targets: presets(t, nginxSSE), IdleTimeout: 7 * time.Second})
	if n := l.Processes(nginxSSE); n < 2 {
		t.Errorf("nginx-sse has %d processes, want a master and at least one worker", n)
	}
	if err := l.Reload(nginxSSE); err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{Proxy: nil}}
	defer client.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), safety)
	defer cancel()
	if err := topology.Get200(ctx, client, baseURL(l.Targets()[0])+"/healthz"); err != nil {
		t.Errorf("after reload: %v", err)
	}
	if err := l.Reload(direct); err == nil {
		t.Error("Reload(direct) succeeded; want an error: direct has no proxy")
	}
}

// writeConfig writes conf to a file named name in a new temp dir and
// returns its path.
func writeConfig(t *testing.T, name string, conf []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, conf, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
