package topology_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sseload/sseload/docker"
	"github.com/sseload/sseload/internal/testenv"
	"github.com/sseload/sseload/origin"
	"github.com/sseload/sseload/targets"
	"github.com/sseload/sseload/topology"
)

// Tests of every proxy kind with real processes in front of sseload's own
// origin, served in-process.

// fastOrigin serves a broadcast origin publishing every 20 ms (a stream
// gets an event soon after it opens).
func fastOrigin(t *testing.T) string {
	return testenv.ServeOrigin(t, origin.Config{Mode: origin.Broadcast, Interval: 20 * time.Millisecond})
}

// stream is an open GET /events through a target.
type stream struct {
	resp *http.Response
	br   *bufio.Reader
}

// openStream opens url's stream and wants 200 text/event-stream. The
// request ends with the test (or after twice the safety bound).
func openStream(t *testing.T, url string) *stream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*safety)
	client := &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := client.Do(req)
	if err != nil {
		cancel()
		t.Fatalf("GET %s: %v", url, err)
	}
	t.Cleanup(func() { resp.Body.Close(); cancel() })
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("GET %s: %s, headers %v: want 200 text/event-stream", url, resp.Status, resp.Header)
	}
	return &stream{resp: resp, br: bufio.NewReader(resp.Body)}
}

// nextID reads events up to the next one with an id (the origin's
// sequence number) and returns that id.
func (s *stream) nextID(t *testing.T) int64 {
	t.Helper()
	for {
		ev, err := readEvent(s.br)
		if err != nil {
			t.Fatalf("read event: %q, %v", ev, err)
		}
		for _, line := range strings.Split(ev, "\n") {
			if v, ok := strings.CutPrefix(line, "id: "); ok {
				id, err := strconv.ParseInt(v, 10, 64)
				if err != nil || !strings.Contains(ev, `data: {"seq":`+v+`,`) {
					t.Fatalf("event %q: want an id and its data", ev)
				}
				return id
			}
		}
	}
}

// checkServes wants tg to answer /healthz with the origin's "ok" and to
// deliver events through /events.
func checkServes(t *testing.T, tg topology.Target) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), safety)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{Proxy: nil}}
	defer client.CloseIdleConnections()
	if err := topology.Get200(ctx, client, baseURL(tg)+"/healthz"); err != nil {
		t.Errorf("%s: %v", tg.Name, err)
	}
	s := openStream(t, tg.URL)
	defer s.resp.Body.Close() // a proxy's graceful stop waits for open streams
	a := s.nextID(t)
	if b := s.nextID(t); b <= a {
		t.Errorf("%s: event ids %d then %d, want them increasing", tg.Name, a, b)
	}
}

// loopbackOnly wants tg's proxy to listen on 127.0.0.1 only: the same
// port on another loopback address (127.0.0.2, also routed to lo) refuses
// the connection, which a socket bound to all interfaces would accept.
func loopbackOnly(t *testing.T, tg topology.Target) {
	t.Helper()
	_, port, err := net.SplitHostPort(regexp.MustCompile(`^https?://`).ReplaceAllString(baseURL(tg), ""))
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.2", port), safety)
	if err == nil {
		c.Close()
		t.Errorf("%s accepts connections on 127.0.0.2:%s: it listens beyond 127.0.0.1", tg.Name, port)
	} else if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dial 127.0.0.2:%s: %v, want connection refused", port, err)
	}
}

// proxyVersion is the Version of kind's installed program.
func proxyVersion(t *testing.T, kind string) string {
	t.Helper()
	v, err := topology.Version(kindOf(t, kind), testenv.RequireProxy(t, kind))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestStartLocalPresets starts each HAProxy and Caddy preset in front of
// the origin: it answers, streams, describes itself, and stops without a
// trace.
func TestStartLocalPresets(t *testing.T) {
	for _, tc := range []struct {
		name, kind, version string
		procs               int // at least: HAProxy -W has a master and a worker
	}{
		{haproxyStock, targets.HAProxy, `^HAProxy/2\.6\.`, 2},
		{haproxySSE, targets.HAProxy, `^HAProxy/2\.6\.`, 2},
		{caddyStock, targets.Caddy, `^Caddy/2\.6\.`, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testenv.RequireProxy(t, tc.kind)
			t.Parallel()
			version := proxyVersion(t, tc.kind)
			if !regexp.MustCompile(tc.version).MatchString(version) {
				t.Logf("installed %s is %s, not the version this project measures (%s)", tc.kind, version, tc.version)
			}
			addr := fastOrigin(t)
			spec := presets(t, tc.name)[0]
			l := startLocal(t, topology.LocalConfig{OriginAddr: addr, Targets: presets(t, direct, tc.name)})
			tg := byName(l)[tc.name]
			if tg.Kind != tc.kind || tg.Proxy != version || tg.ConfigName != "docker/"+spec.PresetFile ||
				tg.ConfigSHA256 != embeddedSHA256(t, spec.PresetFile) {
				t.Errorf("target %+v\nwant kind %s, proxy %s, config docker/%s and its embedded sha256", tg, tc.kind, version, spec.PresetFile)
			}
			if !regexp.MustCompile(`^http://127\.0\.0\.1:\d+/events$`).MatchString(tg.URL) || tg.URL == byName(l)[direct].URL {
				t.Errorf("URL %s, want its own loopback port", tg.URL)
			}
			checkServes(t, tg)
			loopbackOnly(t, tg)

			pg := l.ProcessGroups()[tc.name]
			pids := groupMembers(t, pg)
			if len(pids) < tc.procs || l.Processes(tc.name) != len(pids) {
				t.Errorf("process group %d has %v (Processes: %d), want at least %d", pg, pids, l.Processes(tc.name), tc.procs)
			}
			if err := l.Stop(); err != nil {
				t.Fatal(err)
			}
			for _, pid := range pids {
				if !gone(pid) {
					t.Errorf("%s process %d still running after Stop", tc.kind, pid)
				}
			}
			if _, err := os.Stat(l.WorkDir()); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("work dir %s after Stop: %v, want removed", l.WorkDir(), err)
			}
		})
	}
}

// userConfigs are a copy of a preset for each kind, as a user's own file.
var userConfigs = []struct{ kind, preset, file string }{
	{targets.Nginx, "nginx/nginx-sse.conf", "nginx.conf"},
	{targets.HAProxy, "haproxy/haproxy-sse.cfg", "haproxy.cfg"},
	{targets.Caddy, "caddy/caddy-stock.Caddyfile", "Caddyfile"},
}

// userConfig writes a copy of preset, changed by edit (nil: none), as the
// user's own file, and returns its spec (named mine-KIND).
func userConfig(t *testing.T, kind, preset, file string, edit func(string) string) (targets.Spec, []byte) {
	t.Helper()
	conf, err := docker.Configs.ReadFile(preset)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edited := edit(string(conf))
		if edited == string(conf) {
			t.Fatalf("the edit of %s changed nothing", preset)
		}
		conf = []byte(edited)
	}
	spec, err := targets.Custom("mine-"+kind, kind, writeConfig(t, file, conf), "")
	if err != nil {
		t.Fatal(err)
	}
	return spec, conf
}

// userConfigOf is userConfig of kind's entry in userConfigs.
func userConfigOf(t *testing.T, kind string, edit func(string) string) (targets.Spec, []byte) {
	t.Helper()
	for _, uc := range userConfigs {
		if uc.kind == kind {
			return userConfig(t, kind, uc.preset, uc.file, edit)
		}
	}
	t.Fatalf("no user config of kind %s", kind)
	return targets.Spec{}, nil
}

// TestStartLocalUserConfig runs the user's own file of each kind.
func TestStartLocalUserConfig(t *testing.T) {
	for _, uc := range userConfigs {
		t.Run(uc.kind, func(t *testing.T) {
			testenv.RequireProxy(t, uc.kind)
			t.Parallel()
			spec, conf := userConfig(t, uc.kind, uc.preset, uc.file, nil)
			l := startLocal(t, topology.LocalConfig{OriginAddr: fastOrigin(t), Targets: []targets.Spec{spec}})
			tg := l.Targets()[0]
			sum := sha256.Sum256(conf)
			if tg.Name != spec.Name || tg.Kind != uc.kind || tg.ConfigName != spec.Config || tg.ConfigSHA256 != hex.EncodeToString(sum[:]) ||
				tg.Proxy != proxyVersion(t, uc.kind) {
				t.Errorf("target %+v\nwant %s, kind %s, config %s and its sha256", tg, spec.Name, uc.kind, spec.Config)
			}
			checkServes(t, tg)
		})
	}
}

// noProcessUnder wants no live process whose command line holds dir.
func noProcessUnder(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		pid, _ := strconv.Atoi(e.Name())
		if err == nil && bytes.Contains(cmdline, []byte(dir)) && !gone(pid) {
			t.Errorf("process %s still running: %q", e.Name(), bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '}))
		}
	}
}

// TestStartLocalConfigSyntaxError: a user's config the proxy rejects is
// ErrConfig, quoting the proxy's own error line and naming the file.
func TestStartLocalConfigSyntaxError(t *testing.T) {
	for _, tc := range []struct {
		kind string
		edit func(string) string
		want *regexp.Regexp // the proxy's line
	}{
		{
			targets.Nginx,
			func(c string) string { return strings.Replace(c, "\nhttp {\n", "\nhttp {\n\tbogus_directive on;\n", 1) },
			regexp.MustCompile(`\[emerg\] \d+#\d+: unknown directive "bogus_directive" in \S+nginx\.conf:\d+`),
		},
		{
			targets.HAProxy,
			func(c string) string {
				return regexp.MustCompile(`(?m)^defaults\b.*\n`).ReplaceAllString(c, "${0}\tbogus_keyword on\n")
			},
			regexp.MustCompile(`\[ALERT\].*haproxy\.cfg:\d+\].*unknown keyword 'bogus_keyword' in 'defaults' section`),
		},
		{
			targets.Caddy,
			func(c string) string {
				return regexp.MustCompile(`(?m)^([ \t]*)reverse_proxy`).ReplaceAllString(c, "${1}bogus_directive\n${0}")
			},
			regexp.MustCompile(`Caddyfile:\d+: unrecognized directive: bogus_directive`),
		},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			testenv.RequireProxy(t, tc.kind)
			t.Parallel()
			spec, _ := userConfigOf(t, tc.kind, tc.edit)
			dir := t.TempDir()
			ctx, cancel := context.WithTimeout(context.Background(), 2*safety)
			defer cancel()
			_, err := topology.StartLocal(ctx, topology.LocalConfig{OriginAddr: fastOrigin(t), Targets: []targets.Spec{spec}, WorkDir: dir})
			if !errors.Is(err, topology.ErrConfig) {
				t.Fatalf("err = %v, want ErrConfig", err)
			}
			msg := err.Error()
			if !tc.want.MatchString(msg) || !strings.Contains(msg, spec.Config) || !strings.HasPrefix(msg, spec.Name+": ") {
				t.Errorf("err = %v\nwant it to name %s, quote %s's line (%s) and name the file %s", err, spec.Name, tc.kind, tc.want, spec.Config)
			}
			noProcessUnder(t, dir)
		})
	}
}

// TestStartLocalConfigWithoutPlaceholders: a user's config that does not
// learn its addresses from sseload is refused, naming what to write,
// before any proxy starts (here, a valid preset named first).
func TestStartLocalConfigWithoutPlaceholders(t *testing.T) {
	for _, tc := range []struct {
		kind      string
		edit      func(string) string
		want, not string
	}{
		{targets.Nginx, func(c string) string {
			return strings.Replace(c, "include sseload-listen.conf;", "listen 127.0.0.1:8081;", 1)
		}, "include sseload-listen.conf;", "include sseload-upstream.conf;"},
		{targets.HAProxy, func(c string) string { return strings.Replace(c, `"${SSELOAD_ORIGIN}"`, "127.0.0.1:8080", 1) }, `server origin "${SSELOAD_ORIGIN}"`, "SSELOAD_LISTEN"},
		{targets.HAProxy, func(c string) string { return strings.Replace(c, `"${SSELOAD_LISTEN}"`, "${SSELOAD_LISTEN}", 1) }, `bind "${SSELOAD_LISTEN}"`, "SSELOAD_ORIGIN"},
		{targets.Caddy, func(c string) string { return strings.Replace(c, "{$SSELOAD_LISTEN}", "127.0.0.1:8081", 1) }, "http://{$SSELOAD_LISTEN}", "SSELOAD_ORIGIN"},
	} {
		spec, _ := userConfigOf(t, tc.kind, tc.edit)
		work := filepath.Join(t.TempDir(), "work")
		_, err := topology.StartLocal(context.Background(), topology.LocalConfig{
			OriginAddr: "127.0.0.1:1", Targets: append(presets(t, nginxSSE), spec), WorkDir: work,
		})
		if !errors.Is(err, topology.ErrConfig) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), tc.not) ||
			!strings.Contains(err.Error(), spec.Config) || !strings.Contains(err.Error(), spec.Name) {
			t.Errorf("%s: err = %v\nwant ErrConfig naming %s, the file %s and %q (and not %q)", tc.kind, err, spec.Name, spec.Config, tc.want, tc.not)
		}
		if _, err := os.Stat(work); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: work dir %s: %v, want none: nothing starts", tc.kind, work, err)
		}
		if _, err := topology.PrepareConfig(spec, 0); !errors.Is(err, topology.ErrConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: PrepareConfig err = %v, want ErrConfig naming %q", tc.kind, err, tc.want)
		}
	}
}

// TestReloadKeepsStreams: after a reload (nginx: SIGHUP; HAProxy: SIGUSR2
// to the master; Caddy: `caddy reload` through the admin socket) a stream
// opened before it still receives events, and new requests are served.
func TestReloadKeepsStreams(t *testing.T) {
	for _, tc := range []struct {
		name, kind string
		// newProcs: the reload starts new processes beside the old
		// ones, which keep the open stream (nginx's and HAProxy's
		// workers); Caddy reloads inside its one process.
		newProcs bool
	}{
		{nginxSSE, targets.Nginx, true},
		{haproxySSE, targets.HAProxy, true},
		{caddyStock, targets.Caddy, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testenv.RequireProxy(t, tc.kind)
			t.Parallel()
			l := startLocal(t, topology.LocalConfig{OriginAddr: fastOrigin(t), Targets: presets(t, tc.name)})
			tg := l.Targets()[0]
			s := openStream(t, tg.URL)
			before := s.nextID(t)
			procs := l.Processes(tc.name)
			if err := l.Reload(tc.name); err != nil {
				t.Fatal(err)
			}
			// The signal is asynchronous: wait until the new processes
			// are there (the old ones stay while they hold the stream).
			// `caddy reload` returns when the new config runs.
			if tc.newProcs {
				deadline := time.Now().Add(safety)
				for l.Processes(tc.name) <= procs {
					if time.Now().After(deadline) {
						t.Fatalf("%d processes %v after the reload, want more than %d", l.Processes(tc.name), safety, procs)
					}
					time.Sleep(5 * time.Millisecond)
				}
			} else if log, _ := l.ErrorLog(tc.name); !strings.Contains(log, `"load complete"`) {
				t.Errorf("caddy's log does not show the reload:\n%s", log)
			}
			// Three events published after the reload took effect.
			last := s.nextID(t)
			for range 3 {
				id := s.nextID(t)
				if id <= last {
					t.Fatalf("event ids %d then %d after the reload, want them increasing", last, id)
				}
				last = id
			}
			if last < before+3 {
				t.Errorf("ids %d before, %d after the reload", before, last)
			}
			checkServes(t, tg)
		})
	}
}

// TestIdleTimeoutCutsQuietStream: with IdleTimeout 1s, each kind's proxy
// ends a stream on which nothing arrives for longer. The presets alone
// would keep it (nginx-sse and haproxy-sse: 1 h; Caddy: no limit), and the
// origin publishes nothing for an hour, so only the override can end it.
func TestIdleTimeoutCutsQuietStream(t *testing.T) {
	const idle = time.Second
	for _, tc := range []struct {
		name, kind string
		log        string // the proxy's own account of the cut, where it logs one
	}{
		{nginxSSE, targets.Nginx, "upstream timed out"},
		{haproxySSE, targets.HAProxy, ""}, // HAProxy logs to syslog only
		{caddyStock, targets.Caddy, "i/o timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testenv.RequireProxy(t, tc.kind)
			t.Parallel()
			// The retry line carries the response head at once; then the
			// stream is quiet.
			addr := testenv.ServeOrigin(t, origin.Config{Mode: origin.Broadcast, Interval: time.Hour, RetryMS: 1000})
			spec := presets(t, tc.name)[0]
			l := startLocal(t, topology.LocalConfig{OriginAddr: addr, Targets: []targets.Spec{spec}, IdleTimeout: idle})
			prep, err := topology.PrepareConfig(spec, idle)
			if err != nil {
				t.Fatal(err)
			}
			if tg := l.Targets()[0]; tg.ConfigSHA256 != prep.SHA256 || tg.ConfigSHA256 == embeddedSHA256(t, spec.PresetFile) {
				t.Errorf("ConfigSHA256 %s, want that of the config as run, %s", tg.ConfigSHA256, prep.SHA256)
			}

			s := openStream(t, l.Targets()[0].URL)
			if ev, err := readEvent(s.br); err != nil || ev != "retry: 1000" {
				t.Fatalf("first block %q, %v; want the retry line", ev, err)
			}
			// Block until the proxy ends the stream. The request's
			// context (2 × safety) only bounds a broken test.
			start := time.Now()
			n, err := s.br.Discard(1 << 20)
			if err == nil || errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("read %d bytes, then %v after %v: want the proxy to end the quiet stream", n, err, time.Since(start))
			}
			if n != 0 {
				t.Errorf("read %d more bytes on a quiet stream", n)
			}
			t.Logf("%s ended the quiet stream after %v: %v", tc.name, time.Since(start).Round(time.Millisecond), err)
			if tc.log != "" {
				if log, _ := l.ErrorLog(tc.name); !strings.Contains(log, tc.log) {
					t.Errorf("log does not say %q:\n%s", tc.log, log)
				}
			}
		})
	}
}

// TestHAProxyDiesWithHarness: HAProxy's master and workers die with a
// harness killed by SIGKILL, also after a reload (SIGUSR2 makes the master
// re-execute itself).
func TestHAProxyDiesWithHarness(t *testing.T) {
	testenv.RequireProxy(t, targets.HAProxy)
	t.Parallel()
	dieWithHarness(t, []string{haproxyStock, haproxySSE}, 2, "Loading success.")
}

// TestCaddyDiesWithHarness: Caddy dies with a harness killed by SIGKILL.
func TestCaddyDiesWithHarness(t *testing.T) {
	testenv.RequireProxy(t, targets.Caddy)
	t.Parallel()
	dieWithHarness(t, []string{caddyStock}, 1, "")
}

// TestHAProxyReloadRightAfterStart: reloads sent as soon as HAProxy
// answers, and back to back, each start a new worker. (The master loses a
// SIGUSR2 that arrives while it loads a config; Reload waits until it can
// take one.)
func TestHAProxyReloadRightAfterStart(t *testing.T) {
	testenv.RequireProxy(t, targets.HAProxy)
	t.Parallel()
	l := startLocal(t, topology.LocalConfig{OriginAddr: fastOrigin(t), Targets: presets(t, haproxySSE)})
	for range 3 {
		if err := l.Reload(haproxySSE); err != nil {
			t.Fatal(err)
		}
	}
	if log, _ := l.ErrorLog(haproxySSE); strings.Count(log, "Loading success.") != 4 {
		t.Errorf("log after three reloads:\n%s\nwant four loads", log)
	}
	checkServes(t, l.Targets()[0])
}
