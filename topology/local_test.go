package topology

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
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sseload/sseload/docker"
)

// installHint is the part of ErrNginxMissing a user needs to act on.
const installHint = "apt-get install nginx-light"

// requireNginx returns the nginx binary, or skips the test with the install
// hint — except under CI=true, where a missing nginx is a failure: CI must
// run these tests, not silently skip them.
func requireNginx(t *testing.T) string {
	t.Helper()
	bin, err := FindNginx("")
	if err == nil {
		return bin
	}
	msg := fmt.Sprintf("these tests run real nginx: %v (%s)", err, installHint)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

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
	f := strings.Fields(string(b[i+1:]))
	if i < 0 || len(f) < 3 {
		return 0, 0, false
	}
	pg, err := strconv.Atoi(f[2])
	return f[0][0], pg, err == nil
}

// gone reports whether pid has exited: kill(pid, 0) fails with ESRCH, or
// the process is a zombie (exited; nothing reaps orphans when PID 1 does not
// wait for them, as in some containers and VMs).
func gone(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	state, _, ok := procStat(pid)
	return !ok || state == 'Z'
}

func TestStartLocalAllTargets(t *testing.T) {
	bin := requireNginx(t)
	version, err := NginxVersion(bin)
	if err != nil {
		t.Fatal(err)
	}
	o := newTestOrigin(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*safety)
	defer cancel()
	l, err := StartLocal(ctx, LocalConfig{
		OriginAddr: o.addr(),
		Names:      []string{NginxSSE, Direct, NginxStock},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Stop() })
	byName := map[string]Target{}
	for _, tg := range l.Targets() {
		byName[tg.Name] = tg
	}
	client := &http.Client{Transport: &http.Transport{Proxy: nil}}
	defer client.CloseIdleConnections()

	t.Run("targets", func(t *testing.T) {
		var names []string
		for _, tg := range l.Targets() {
			names = append(names, tg.Name)
		}
		if got, want := strings.Join(names, ","), "nginx-sse,direct,nginx-stock"; got != want {
			t.Errorf("target order %s, want %s (the order of Names)", got, want)
		}
		d := byName[Direct]
		if want := "http://" + o.addr() + "/events"; d.URL != want || d.Proxy != "" || d.ConfigSHA256 != "" {
			t.Errorf("direct = %+v, want URL %s and no proxy", d, want)
		}
		for name, file := range map[string]string{NginxSSE: "nginx/nginx-sse.conf", NginxStock: "nginx/nginx-stock.conf"} {
			conf, err := docker.NginxConfigs.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(conf)
			tg := byName[name]
			if tg.ConfigSHA256 != hex.EncodeToString(sum[:]) {
				t.Errorf("%s: ConfigSHA256 %s, want sha256 of %s", name, tg.ConfigSHA256, file)
			}
			if tg.Proxy != version {
				t.Errorf("%s: Proxy %q, want %q", name, tg.Proxy, version)
			}
			if !regexp.MustCompile(`^http://127\.0\.0\.1:\d+/events$`).MatchString(tg.URL) || tg.URL == d.URL {
				t.Errorf("%s: URL %s, want its own loopback port", name, tg.URL)
			}
		}
	})

	t.Run("nginx-sse passes an event on before the origin finishes", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), safety)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, byName[NginxSSE].URL, nil)
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
		host := strings.TrimSuffix(strings.TrimPrefix(byName[NginxStock].URL, "http://"), "/events")
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
		url := strings.TrimSuffix(byName[NginxStock].URL, "/events") + "/hangup"
		resp, err := client.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadGateway {
			t.Fatalf("GET %s: %s, want 502", url, resp.Status)
		}
		log, err := l.ErrorLog(NginxStock)
		if err != nil || !strings.Contains(log, "upstream prematurely closed connection") {
			t.Fatalf("ErrorLog(nginx-stock) = %q, %v: want the upstream failure", log, err)
		}
		if _, err := l.ErrorLog(Direct); err == nil {
			t.Error("ErrorLog(direct) succeeded; direct has no proxy")
		}
		if _, err := l.ErrorLog("haproxy"); err == nil {
			t.Error("ErrorLog(haproxy) succeeded; no such target")
		}
	})

	t.Run("stop", func(t *testing.T) {
		var pids []int
		for name, p := range l.procs {
			m := groupMembers(t, p.cmd.Process.Pid)
			if len(m) < 2 {
				t.Fatalf("%s: process group %d has %v, want a master and workers", name, p.cmd.Process.Pid, m)
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
		if _, err := os.Stat(l.workDir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("work dir %s after Stop: %v, want removed", l.workDir, err)
		}
		if err := l.Stop(); err != nil {
			t.Errorf("second Stop: %v", err)
		}
		if log, err := l.ErrorLog(NginxStock); err != nil || !strings.Contains(log, "upstream prematurely closed") {
			t.Errorf("ErrorLog after Stop = %q, %v: want the log as it was", log, err)
		}
	})
}

func TestStartLocalMissingNginx(t *testing.T) {
	missing := "/nonexistent/sbin/nginx"
	_, err := StartLocal(context.Background(), LocalConfig{
		OriginAddr: "127.0.0.1:1", Names: []string{Direct, NginxSSE}, NginxPath: missing,
	})
	if !errors.Is(err, ErrNginxMissing) || !strings.Contains(err.Error(), installHint) || !strings.Contains(err.Error(), missing) {
		t.Fatalf("err = %v, want ErrNginxMissing naming %s with the install hint", err, missing)
	}
	if _, err := NginxVersion(missing); !errors.Is(err, ErrNginxMissing) {
		t.Errorf("NginxVersion(%s) err = %v, want ErrNginxMissing", missing, err)
	}
	// Direct alone needs no nginx.
	l, err := StartLocal(context.Background(), LocalConfig{
		OriginAddr: "127.0.0.1:8080", Names: []string{Direct}, NginxPath: missing,
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
	for _, tc := range []struct {
		cfg  LocalConfig
		want string
	}{
		{LocalConfig{OriginAddr: "127.0.0.1:8080"}, "no targets"},
		{LocalConfig{OriginAddr: "127.0.0.1:8080", Names: []string{"haproxy"}}, `unknown target "haproxy"`},
		{LocalConfig{OriginAddr: "127.0.0.1:8080", Names: []string{Direct, Direct}}, `"direct" named twice`},
		{LocalConfig{OriginAddr: "localhost", Names: []string{Direct}}, `origin address "localhost"`},
		{LocalConfig{OriginAddr: "127.0.0.1:http", Names: []string{Direct}}, `port "http"`},
	} {
		_, err := StartLocal(context.Background(), tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("StartLocal(%+v) err = %v, want %q", tc.cfg, err, tc.want)
		}
	}
	// A wildcard origin address is reached over loopback.
	l, err := StartLocal(context.Background(), LocalConfig{OriginAddr: ":8080", Names: []string{Direct}})
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
	_, err = StartLocal(ctx, LocalConfig{OriginAddr: down, Names: []string{NginxSSE}, WorkDir: dir})
	if err == nil {
		t.Fatal("StartLocal succeeded with the origin down")
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "nginx-sse: ") || !strings.Contains(msg, "502") || !strings.Contains(msg, "Connection refused") {
		t.Errorf("err = %v\nwant it to name nginx-sse, the 502 and the error log's connect() failure", err)
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

func TestNginxVersion(t *testing.T) {
	bin := requireNginx(t)
	v, err := NginxVersion(bin)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^nginx/\d+\.\d+\.\d+$`).MatchString(v) {
		t.Errorf("NginxVersion = %q, want nginx/X.Y.Z", v)
	}
}

// harnessEnv makes the test binary act as a harness that starts nginx and
// waits to be killed (see TestNginxDiesWithHarness).
const harnessEnv = "SSELOAD_TOPOLOGY_HARNESS_DIR"

// TestHarnessChild is the child side of TestNginxDiesWithHarness; it does
// nothing in a normal run.
func TestHarnessChild(t *testing.T) {
	dir := os.Getenv(harnessEnv)
	if dir == "" {
		t.Skip("helper for TestNginxDiesWithHarness")
	}
	o := newTestOrigin(t)
	l, err := StartLocal(context.Background(), LocalConfig{
		OriginAddr: o.addr(), Names: []string{NginxStock, NginxSSE}, WorkDir: dir,
	})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	for _, p := range l.procs {
		fmt.Println("pgid", p.cmd.Process.Pid)
	}
	fmt.Println("ready")
	// Wait to be SIGKILLed; the bound only keeps an orphaned child from
	// living forever.
	time.Sleep(time.Minute)
	os.Exit(1)
}

// TestNginxDiesWithHarness kills a harness process with SIGKILL — no
// chance to run Stop — and checks that its nginx masters and workers die
// too.
func TestNginxDiesWithHarness(t *testing.T) {
	requireNginx(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHarnessChild$")
	cmd.Env = append(os.Environ(), harnessEnv+"="+t.TempDir())
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
	if len(groups) != 2 {
		t.Fatalf("child reported process groups %v, want two", groups)
	}
	var pids []int
	for _, pg := range groups {
		m := groupMembers(t, pg)
		if len(m) < 2 {
			t.Fatalf("process group %d has %v, want a master and workers", pg, m)
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
	deadline := time.Now().Add(safety)
	for _, pid := range pids {
		for !gone(pid) {
			if time.Now().After(deadline) {
				state, pg, _ := procStat(pid)
				t.Fatalf("nginx process %d (group %d, state %c) outlived the harness", pid, pg, state)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// TestReloadKeepsServing: a reload (SIGHUP) leaves nginx serving, with its
// processes counted from /proc.
func TestReloadKeepsServing(t *testing.T) {
	requireNginx(t)
	o := newTestOrigin(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*safety)
	defer cancel()
	l, err := StartLocal(ctx, LocalConfig{OriginAddr: o.addr(), Names: []string{NginxSSE}, ProxyReadTimeout: 7 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Stop() })
	if n := l.Processes(NginxSSE); n < 2 {
		t.Errorf("nginx-sse has %d processes, want a master and at least one worker", n)
	}
	if err := l.Reload(NginxSSE); err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{Proxy: nil}}
	defer client.CloseIdleConnections()
	if err := Get200(ctx, client, strings.TrimSuffix(l.Targets()[0].URL, "/events")+"/healthz"); err != nil {
		t.Errorf("after reload: %v", err)
	}
	if err := l.Reload(Direct); err == nil {
		t.Error("Reload(direct) succeeded; want an error: direct has no nginx")
	}
}
