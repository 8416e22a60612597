package runner

import (
	"context"
	"errors"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sseload/sseload/compose"
	"github.com/sseload/sseload/docker"
	"github.com/sseload/sseload/internal/testenv"
	"github.com/sseload/sseload/loadgen"
	"github.com/sseload/sseload/reports"
	"github.com/sseload/sseload/scenarios"
	"github.com/sseload/sseload/targets"
	"github.com/sseload/sseload/topology"
)

// projectLog catches the compose project's name from Run's messages, so a
// test can check that nothing of it is left, and keeps every line.
type projectLog struct {
	mu      sync.Mutex
	project string
	lines   []string
	onLine  func(string)
}

var projectRe = regexp.MustCompile(`compose project (sseload-[0-9a-f]+) `)

func (l *projectLog) warn(s string) {
	l.mu.Lock()
	if m := projectRe.FindStringSubmatch(s); m != nil {
		l.project = m[1]
	}
	l.lines = append(l.lines, s)
	l.mu.Unlock()
	if l.onLine != nil {
		l.onLine(s)
	}
}

func (l *projectLog) name(t *testing.T) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.project == "" {
		t.Fatal("Run never said which compose project it started")
	}
	return l.project
}

// line returns the first line containing s, or "".
func (l *projectLog) line(s string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.lines {
		if strings.Contains(line, s) {
			return line
		}
	}
	return ""
}

func preset(t *testing.T, name string) targets.Spec {
	t.Helper()
	s, ok := targets.Preset(name)
	if !ok {
		t.Fatalf("no preset %s", name)
	}
	return s
}

// userNginx is the user's own nginx config: a copy of nginx-stock.conf.
func userNginx(t *testing.T, name string) targets.Spec {
	t.Helper()
	b, err := docker.Configs.ReadFile("nginx/nginx-stock.conf")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "nginx.conf")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := targets.Custom(name, targets.Nginx, path, "")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestComposeRefusesWhatItCannotDo: each of these fails before anything
// starts (no Docker engine is asked), as a setup error naming the flag or
// key and the compose topology.
func TestComposeRefusesWhatItCannotDo(t *testing.T) {
	base, err := scenarios.Load("steady")
	if err != nil {
		t.Fatal(err)
	}
	base.Targets = []targets.Spec{preset(t, targets.Direct), preset(t, "nginx-sse")}
	broken := filepath.Join(t.TempDir(), "broken.conf")
	if err := os.WriteFile(broken, []byte("events {}\nhttp {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		edit func(*Options)
		want []string
	}{
		{"external", func(o *Options) { o.External = []loadgen.Target{{Name: "x", URL: "http://127.0.0.1:1/"}} }, []string{"--target", "--topology none"}},
		{"source addrs", func(o *Options) { o.SourceAddrs = []netip.Addr{netip.MustParseAddr("127.0.0.2")} }, []string{"--source-addrs", "compose topology"}},
		{"local binary", func(o *Options) { o.Programs = map[string]string{targets.Nginx: "/usr/sbin/nginx"} }, []string{"/usr/sbin/nginx", "local topology", "NGINX_IMAGE"}},
		{"external faults", func(o *Options) { o.ExternalFaults = true }, []string{"--external-faults", "compose topology"}},
		{"early fault", func(o *Options) { o.Scenario.Faults = []string{"origin-restart@500ms"} }, []string{"faults", "origin-restart@500ms", "compose topology"}},
		{"reload without proxies", func(o *Options) {
			o.Scenario.Targets = o.Scenario.Targets[:1]
			o.Scenario.Faults = []string{"proxy-reload@5s"}
		}, []string{"faults", "proxy-reload", "no proxied target"}},
		{"broken config", func(o *Options) {
			o.Scenario.Targets = append(o.Scenario.Targets, targets.Spec{Name: "mine", Kind: targets.Nginx, Config: broken})
		}, []string{"mine", broken, "sseload-listen.conf"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := Options{Scenario: base, Topology: TopologyCompose, OutDir: t.TempDir(), Version: "test"}
			opts.Scenario.Targets = slices.Clone(base.Targets)
			tc.edit(&opts)
			_, err := Run(context.Background(), opts)
			if !errors.Is(err, ErrSetup) {
				t.Fatalf("Run error = %v, want a setup error", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Run error %q does not say %q", err, w)
				}
			}
		})
	}
}

// TestComposeLoadgenArgsCarryTheScenarioFile: the generator gets the
// scenario as a file and one --target per service; no scenario key is
// hand-picked into a flag.
func TestComposeLoadgenArgsCarryTheScenarioFile(t *testing.T) {
	sc, err := scenarios.Load("origin-restart")
	if err != nil {
		t.Fatal(err)
	}
	sc.Targets = []targets.Spec{preset(t, targets.Direct), preset(t, "haproxy-sse"), userNginx(t, "mine")}
	args := composeLoadgenArgs(sc, Options{Procs: 2, Engine: loadgen.EnginePortable})
	want := []string{"run", compose.ScenarioMount, "--topology=none", "--no-progress", "--out=" + compose.ResultsMount}
	if !slices.Equal(args[:len(want)], want) {
		t.Errorf("args start %q, want %q", args, want)
	}
	for _, w := range []string{
		"--target=direct=http://origin:8080/events",
		"--target=haproxy-sse=http://haproxy-sse/events",
		"--target=mine=http://mine/events",
		"--sequence-field=seq", "--sent-field=sent", "--procs=2", "--external-faults", "--engine=portable",
	} {
		if !slices.Contains(args, w) {
			t.Errorf("args %q lack %s", args, w)
		}
	}
	for _, a := range args {
		for _, key := range []string{"--connections", "--duration", "--ramp", "--mode", "--interval", "--events", "--reconnect", "--heartbeat", "--slow", "--max-event-bytes"} {
			if strings.HasPrefix(a, key) {
				t.Errorf("args carry the scenario key %s as a flag: %s", key, a)
			}
		}
	}
	sc.Faults = nil
	t.Setenv(loadgen.EngineEnv, "") // the container's own default, epoll
	if args := composeLoadgenArgs(sc, Options{}); slices.Contains(args, "--external-faults") || slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--procs") || strings.HasPrefix(a, "--engine") }) {
		t.Errorf("without faults, --procs or --engine: args %q", args)
	}
	t.Setenv(loadgen.EngineEnv, "portable")
	if args := composeLoadgenArgs(sc, Options{}); !slices.Contains(args, "--engine=portable") {
		t.Errorf("with $%s=portable: args %q lack --engine=portable", loadgen.EngineEnv, args)
	}
	// Latency read from another field than the origin's "sched" does not
	// pair with its write time: no split.
	if args := composeLoadgenArgs(sc, Options{TimestampField: "ts"}); slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--sent-field") }) {
		t.Errorf("with --timestamp-field ts: args %q carry a sent field", args)
	}
}

// TestGeneratorScenarioIsTheWholeScenario: the file the generator reads is
// the run's scenario, flags applied, all but its targets (it measures the
// --target URLs).
func TestGeneratorScenarioIsTheWholeScenario(t *testing.T) {
	sc, err := scenarios.Load("slow-consumer")
	if err != nil {
		t.Fatal(err)
	}
	sc.Connections, sc.Heartbeat, sc.Ramp, sc.ReconnectDelay = 77, 2*time.Second, 33.5, 250*time.Millisecond
	sc.Thresholds = []string{"mine:latency.p99 < 50ms"}
	sc.Targets = []targets.Spec{preset(t, targets.Direct), userNginx(t, "mine")}
	b, err := generatorScenario(sc)
	if err != nil {
		t.Fatal(err)
	}
	got, err := scenarios.Parse("/etc/sseload/scenario.yaml", b)
	if err != nil {
		t.Fatalf("the generator cannot read its scenario: %v\n%s", err, b)
	}
	if strings.Join(targets.Names(got.Targets), ",") != strings.Join(targets.DefaultNames(), ",") {
		t.Errorf("targets read back %v, want the reader's defaults", targets.Names(got.Targets))
	}
	got.Targets, got.Source = sc.Targets, sc.Source
	if !reflect.DeepEqual(got, sc) {
		t.Errorf("the generator's scenario differs:\n got %+v\nwant %+v", got, sc)
	}
}

// TestRunComposeAllKinds builds the images (or finds them up to date) and
// runs the seed scenario, shortened, on the compose topology with a target
// of every kind: the origin directly, SSE-tuned nginx, the user's own nginx
// config (a copy of nginx-stock.conf), SSE-tuned HAProxy and stock Caddy.
// The user's stock nginx must hold the response head until the stream ends,
// as it does locally; the summary must say compose and, per proxy, its
// kind, version, config file and the hash of the config as run; nothing of
// the project may be left afterwards.
func TestRunComposeAllKinds(t *testing.T) {
	testenv.RequireDocker(t)
	testenv.RequireDebootstrap(t, targets.Kinds()...)
	sc, err := scenarios.Load("seed")
	if err != nil {
		t.Fatal(err)
	}
	const conns, events = 5, 3
	const interval = 200 * time.Millisecond
	sc.Interval, sc.Events, sc.Connections = interval, events, conns
	sc.Targets = []targets.Spec{preset(t, targets.Direct), preset(t, "nginx-sse"), userNginx(t, "mine"), preset(t, "haproxy-sse"), preset(t, "caddy-stock")}
	dir := t.TempDir()
	log := &projectLog{onLine: func(s string) { t.Log(s) }}
	var logsMu sync.Mutex
	proxyLogs := map[string]bool{}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	out, err := Run(ctx, Options{Scenario: sc, Topology: TopologyCompose, OutDir: dir, Version: "test", Warn: log.warn,
		ProxyLogs: func(target, _ string) { logsMu.Lock(); proxyLogs[target] = true; logsMu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	if left := testenv.ComposeLeftovers(t, log.name(t)); left != "" {
		t.Errorf("project %s left after the run: %s", log.name(t), left)
	}
	s, err := reports.ReadSummary(filepath.Join(dir, reports.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	if s.Topology != TopologyCompose || s.Scenario != "seed" || s.Config.Events != events || len(s.Targets) != len(sc.Targets) {
		t.Errorf("summary.json: topology %q scenario %q config %+v, %d targets", s.Topology, s.Scenario, s.Config, len(s.Targets))
	}
	got := map[string]reports.Target{}
	for _, tg := range out.Summary.Targets {
		got[tg.Name] = tg
		if tg.Connections.Established != conns || tg.Events.Received != conns*events {
			t.Errorf("%s: established %d, events %d; want %d and %d (errors %v)",
				tg.Name, tg.Connections.Established, tg.Events.Received, conns, conns*events, tg.Errors)
		}
		// The generator in its container is told the origin's "sent".
		if tg.OriginDelayUS == nil || tg.PathLatencyUS == nil || tg.OriginDelayUS.Count != tg.Events.Timed || tg.PathLatencyUS.Count != tg.Events.Timed {
			t.Errorf("%s: origin delay %+v, path latency %+v; want the %d timed events split", tg.Name, tg.OriginDelayUS, tg.PathLatencyUS, tg.Events.Timed)
		}
	}
	if len(s.Harness.LatencySplit) != len(sc.Targets) {
		t.Errorf("harness latency split %+v, want a verdict per target", s.Harness.LatencySplit)
	}
	mine := got["mine"]
	if mine.TimeToHeadersUS == nil {
		t.Fatalf("mine: no time to headers: %+v", mine)
	}
	// Held until the origin ends the close-delimited stream: the bug, in
	// containers as on the host.
	if end := (events * interval).Microseconds(); mine.TimeToHeadersUS.P50 < end {
		t.Errorf("mine (nginx-stock.conf) time to headers p50 %d µs, want >= %d µs (held until the stream ends)", mine.TimeToHeadersUS.P50, end)
	}
	versionPrefix := map[string]string{targets.Nginx: "nginx/", targets.HAProxy: "HAProxy/", targets.Caddy: "Caddy/"}
	for _, spec := range sc.Targets {
		tg := got[spec.Name]
		if !spec.Proxied() {
			if tg.Proxy != "" || tg.ProxyKind != "" || tg.ConfigSHA256 != "" {
				t.Errorf("direct: proxy %q kind %q sha256 %q, want none", tg.Proxy, tg.ProxyKind, tg.ConfigSHA256)
			}
			continue
		}
		pr, err := topology.PrepareConfig(spec, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(tg.Proxy, versionPrefix[spec.Kind]) || tg.ProxyKind != spec.Kind || tg.ConfigSHA256 != pr.SHA256 || tg.ConfigFile != spec.ConfigName() {
			t.Errorf("%s: proxy %q kind %q config %q sha256 %q; want %s<version>, %s, %s, %s",
				spec.Name, tg.Proxy, tg.ProxyKind, tg.ConfigFile, tg.ConfigSHA256, versionPrefix[spec.Kind], spec.Kind, spec.ConfigName(), pr.SHA256)
		}
		if !proxyLogs[spec.Name] {
			t.Errorf("%s: its log was not handed to ProxyLogs", spec.Name)
		}
	}
}

// TestRunComposeFaults kills and restarts the origin's container, then
// reloads every proxy's container the way its kind says (nginx SIGHUP,
// HAProxy SIGUSR2, `caddy reload`), under load with persistent clients.
// Each fault must be marked in the generator at its planned time and
// carried out; the restarted origin replays what the streams missed, so no
// event is lost, and every stream recovers.
func TestRunComposeFaults(t *testing.T) {
	testenv.RequireDocker(t)
	testenv.RequireDebootstrap(t, targets.Kinds()...)
	sc, err := scenarios.Load("origin-restart")
	if err != nil {
		t.Fatal(err)
	}
	// Clients back off with jitter while the origin is down: the reload
	// comes late enough for every stream to be back (recovery is measured
	// up to the next fault).
	sc.Connections, sc.Ramp, sc.Duration, sc.Interval, sc.RetryMS = 10, 100, 13*time.Second, 200*time.Millisecond, 100
	sc.ReconnectDelay, sc.FaultDown = 100*time.Millisecond, 500*time.Millisecond
	sc.Faults = []string{"origin-restart@2s", "proxy-reload@10s"}
	sc.Targets = []targets.Spec{preset(t, targets.Direct), preset(t, "nginx-sse"), preset(t, "haproxy-sse"), preset(t, "caddy-stock")}
	dir := t.TempDir()
	log := &projectLog{onLine: func(s string) { t.Log(s) }}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	out, err := Run(ctx, Options{Scenario: sc, Topology: TopologyCompose, OutDir: dir, Version: "test", Warn: log.warn})
	if err != nil {
		t.Fatal(err)
	}
	if left := testenv.ComposeLeftovers(t, log.name(t)); left != "" {
		t.Errorf("project %s left after the run: %s", log.name(t), left)
	}
	for _, want := range []string{
		"fault origin-restart at 2s: origin killed (SIGKILL), started again 500ms later",
		"nginx-sse reloaded (SIGHUP",
		"haproxy-sse reloaded (SIGUSR2",
		"caddy-stock reloaded (`caddy reload",
		"loadgen: fault origin-restart at 2s: marked",
		"loadgen: fault proxy-reload at 10s: marked",
	} {
		if log.line(want) == "" {
			t.Errorf("no line saying %q", want)
		}
	}
	fs := out.Summary.Faults
	if len(fs) != 2 || fs[0].Name != scenarios.FaultOriginRestart || fs[1].Name != scenarios.FaultProxyReload {
		t.Fatalf("faults %+v, want origin-restart then proxy-reload", fs)
	}
	for i, at := range []float64{2, 10} {
		// Marked at the planned time after the container's start; the
		// generator's own start follows it by milliseconds.
		if math.Abs(fs[i].AtS-at) > 0.5 {
			t.Errorf("%s at %.3f s, want about %v s", fs[i].Name, fs[i].AtS, at)
		}
		for _, ft := range fs[i].Targets {
			if ft.Lost != 0 || ft.RecoveryS == nil || ft.Recovered != ft.Streams {
				t.Errorf("%s: %s lost %d, recovered %d of %d streams (recovery %v)", fs[i].Name, ft.Name, ft.Lost, ft.Recovered, ft.Streams, ft.RecoveryS)
			}
		}
	}
	for _, tg := range out.Summary.Targets {
		if tg.Connections.Reconnects == 0 {
			t.Errorf("%s: no reconnects, yet the origin was killed", tg.Name)
		}
	}
}

// TestRunComposeInterrupted cancels a compose run once the generator has
// reported progress, as a Ctrl-C does: the generator must be interrupted,
// not killed, so its partial results are written, and the project must be
// gone.
func TestRunComposeInterrupted(t *testing.T) {
	testenv.RequireDocker(t)
	sc, err := scenarios.Load("steady")
	if err != nil {
		t.Fatal(err)
	}
	sc.Targets = []targets.Spec{preset(t, targets.Direct)}
	sc.Connections, sc.Duration, sc.Interval = 5, 10*time.Minute, 100*time.Millisecond
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := &projectLog{onLine: func(s string) {
		t.Log(s)
		// The generator's first progress line: streams are open.
		if strings.HasPrefix(s, "loadgen: open ") {
			cancel()
		}
	}}
	out, err := Run(ctx, Options{Scenario: sc, Topology: TopologyCompose, OutDir: dir, Version: "test", Warn: log.warn})
	if err != nil {
		t.Fatal(err)
	}
	if left := testenv.ComposeLeftovers(t, log.name(t)); left != "" {
		t.Errorf("project %s left after the interrupted run: %s", log.name(t), left)
	}
	s, err := reports.ReadSummary(filepath.Join(dir, reports.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	if !s.Interrupted || !out.Summary.Interrupted {
		t.Errorf("summary interrupted = %v, want true", s.Interrupted)
	}
	if len(s.Targets) != 1 || s.Targets[0].Connections.Established != 5 || s.Targets[0].Events.Received == 0 {
		t.Errorf("partial results: %+v, want 5 streams established and events received", s.Targets)
	}
}

// TestRunComposeRefusedConfig: a config its proxy refuses in its
// container ends the run before any load as topology.ErrConfig (exit 2),
// naming the user's file and quoting the proxy's own line, and leaves
// nothing behind.
func TestRunComposeRefusedConfig(t *testing.T) {
	testenv.RequireDocker(t)
	testenv.RequireDebootstrap(t, targets.Nginx)
	sc, err := scenarios.Load("seed")
	if err != nil {
		t.Fatal(err)
	}
	bad := userNginx(t, "mine")
	b, err := os.ReadFile(bad.Config)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad.Config, []byte(strings.Replace(string(b), "proxy_pass http://sseload_origin;", "proxy_pas http://sseload_origin;", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	sc.Targets = []targets.Spec{preset(t, targets.Direct), bad}
	log := &projectLog{}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	_, err = Run(ctx, Options{Scenario: sc, Topology: TopologyCompose, OutDir: t.TempDir(), Version: "test", Warn: log.warn})
	if !errors.Is(err, topology.ErrConfig) || !strings.Contains(err.Error(), bad.Config) || !strings.Contains(err.Error(), `unknown directive "proxy_pas"`) {
		t.Fatalf("err = %v; want ErrConfig naming %s and quoting nginx", err, bad.Config)
	}
	if left := testenv.ComposeLeftovers(t, log.name(t)); left != "" {
		t.Errorf("project %s left after the failed start: %s", log.name(t), left)
	}
}

// TestRunComposeUnusableTarget: a target that answers 404 makes the
// generator in its container exit 3 after writing its results; this side
// still completes them, and the summary says why the target is unusable.
func TestRunComposeUnusableTarget(t *testing.T) {
	testenv.RequireDocker(t)
	testenv.RequireDebootstrap(t, targets.Nginx)
	sc, err := scenarios.Load("seed")
	if err != nil {
		t.Fatal(err)
	}
	sc.Interval, sc.Events, sc.Connections = 100*time.Millisecond, 2, 3
	gone := userNginx(t, "gone")
	b, err := os.ReadFile(gone.Config)
	if err != nil {
		t.Fatal(err)
	}
	conf := strings.Replace(string(b), "location / {", "location /events {\n\t\t\treturn 404;\n\t\t}\n\n\t\tlocation / {", 1)
	if conf == string(b) {
		t.Fatal("the edit changed nothing")
	}
	if err := os.WriteFile(gone.Config, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	sc.Targets = []targets.Spec{preset(t, targets.Direct), gone}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	out, err := Run(ctx, Options{Scenario: sc, Topology: TopologyCompose, OutDir: dir, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	for i, tg := range out.Summary.Targets {
		why := reports.Unusable(out.Summary, &out.Summary.Targets[i])
		switch tg.Name {
		case "gone":
			if !strings.Contains(why, "http_status 404") || tg.ProxyKind != targets.Nginx {
				t.Errorf("gone: unusable %q, kind %q; want http_status 404 named, the proxy's facts filled in", why, tg.ProxyKind)
			}
		default:
			if why != "" || tg.Connections.Established != 3 {
				t.Errorf("%s: unusable %q, established %d; want a usable target", tg.Name, why, tg.Connections.Established)
			}
		}
	}
}
