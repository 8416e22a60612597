package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/sseload/sseload/internal/certs"
	"github.com/sseload/sseload/loadgen"
	"github.com/sseload/sseload/loadgen/httpstream"
	"github.com/sseload/sseload/loadgen/jsonfield"
	"github.com/sseload/sseload/loadgen/procs"
	"github.com/sseload/sseload/reports/render"
	"github.com/sseload/sseload/runner"
	"github.com/sseload/sseload/scenarios"
	"github.com/sseload/sseload/targets"
	"github.com/sseload/sseload/topology"
)

const defaultInterval = time.Second

// The load of a --topology none run when no scenario is named: a few
// streams for half a minute, not the steady scenario's 1,000 for a minute
// against whatever URL was given. -c and -d set it; a scenario named on
// the command line brings its own.
const (
	noneConnections = 10
	noneDuration    = 30 * time.Second
)

// originFlags set what sseload's own origin does: with --topology none
// the origin is the --target's, so they would change nothing (and so would
// --origin-listen).
var originFlags = []string{"mode", "interval", "events", "payload", "x-accel", "retry", "heartbeat", "head-with-first-event"}

// proxyFlags choose the local topology's targets or the proxy programs it
// runs, each with what it does (--proxy has its own message).
var proxyFlags = [][2]string{
	{"only", "picks among the local topology's targets"},
	{"nginx", "names the nginx program the local topology runs"},
	{"haproxy", "names the haproxy program the local topology runs"},
	{"caddy", "names the caddy program the local topology runs"},
}

const runExamples = `
Examples:
  sseload run seed                                   # the classic "nothing for 30 s, then everything at once"
  sseload run seed --interval 500ms --events 6       # the same, faster
  sseload run steady --connections 1000 --duration 60s
  sseload run steady --only direct,nginx-sse         # a subset of the local targets
  sseload run seed --only direct,nginx-stock,haproxy-stock,caddy-stock
  sseload run steady --proxy mine=nginx:./deploy/nginx.conf --proxy edge=haproxy:./deploy/haproxy.cfg
  sseload run seed --only direct,nginx-stock-h2,nginx-sse-h2   # over TLS with HTTP/2 offered
  sseload run seed --proxy mine=nginx:./deploy/nginx.conf,h2  # your config over TLS + HTTP/2
  sseload run --topology none --target app=https://staging.local/events --ca-cert ./staging-ca.pem
  sseload run --topology none --target app=http://127.0.0.1:8080/events --connections 200 --duration 30s
  sseload run --topology none --target edge=https://edge.example:8443/events --http2 --streams-per-conn 6
  sseload run seed --topology compose                # the same targets as containers (sseload images first)
  sseload run steady --topology swarm --swarm-workers 3 --only direct,nginx-sse   # a stack on the current swarm
  sseload run ./my-scenario.yaml --out results/today
  sseload run --topology none --target llm=https://api.example/v1/stream -H 'Authorization: Bearer $TOKEN' \
      -H 'Content-Type: application/json' --body '{"stream":true}'   # a POST stream; -k skips the certificate check
  sseload run steady --workers 10.0.0.5:7070,10.0.0.6:7070   # remote workers (sseload worker --listen; token from $SSELOAD_TOKEN)
  sseload run steady --workers dns:tasks.sseload-worker:7070  # every address of a name
  sseload run steady --segment 0/2 -o results/seg0           # one share; sseload merge combines them

Request flags (run, capacity, check):
%s
Scenarios: %s (embedded), or a path to a .yaml file. Flags override its values.
Local topology: the embedded origin, plus real proxy processes in front of it (nginx,
HAProxy, Caddy: the built-in configs from docker/, or your own with --proxy), all
measured side by side. Built-in targets: %s.
`

// runFlags holds the flags of `sseload run` until they are merged into the
// scenario; only flags the user set override the scenario.
type runFlags struct {
	fs *pflag.FlagSet

	connections   int
	duration      time.Duration
	ramp          float64
	mode          string
	interval      time.Duration
	events        int
	payload       int
	xaccel        bool
	retry         int
	heartbeat     time.Duration
	headFirst     bool
	maxEventBytes int
	reconnect     string
	reconnDelay   time.Duration
	slowShare     float64
	slowRate      int

	only         []string
	topology     string
	targets      []string
	out          string
	noProgress   bool
	tsField      string
	seqField     string
	sentField    string
	tsUnit       string
	nginx        string
	haproxy      string
	caddy        string
	proxies      []string
	extFaults    bool
	req          requestFlags
	caCert       string
	http2        bool
	perConn      int
	sourceAddrs  []string
	originListen string
	procs        int
	swarmWorkers int
	engine       string
	metricsAddr  string

	workers     string
	token       string
	timeURL     string
	noClockCorr bool
	segment     string

	thresholds      []string
	requireReliable bool
	force           bool

	// noneDefaults: --topology none without a scenario named, an ad-hoc
	// run (scenarios.Adhoc) whose load is noneConnections for noneDuration
	// unless -c and -d say otherwise.
	noneDefaults bool
}

func newRunFlags(stderr io.Writer) *runFlags {
	f := &runFlags{fs: pflag.NewFlagSet("run", pflag.ContinueOnError)}
	fs := f.fs
	fs.SetOutput(stderr)
	fs.SortFlags = false
	fs.IntVarP(&f.connections, "connections", "c", 0, fmt.Sprintf("concurrent streams per target (default: the scenario's; %d with --topology none and no scenario named)", noneConnections))
	fs.DurationVarP(&f.duration, "duration", "d", 0, fmt.Sprintf("how long all streams are held after the ramp (0 with per-connection: until streams end; default: the scenario's, %v with --topology none and no scenario named)", noneDuration))
	fs.Float64Var(&f.ramp, "ramp", 0, "connections opened per second, per target")
	fs.StringVar(&f.mode, "mode", "", "origin mode: broadcast or per-connection")
	fs.DurationVar(&f.interval, "interval", 0, "origin: time between publishes")
	fs.IntVar(&f.events, "events", 0, "origin: events per stream (per-connection) or in total (broadcast, 0 = unlimited)")
	fs.IntVar(&f.payload, "payload", 0, "origin: bytes of padding per event")
	fs.BoolVar(&f.xaccel, "x-accel", false, "origin: send X-Accel-Buffering: no (nginx's per-response buffering switch)")
	fs.IntVar(&f.retry, "retry", 0, "origin: send retry: MS at stream start")
	fs.DurationVar(&f.heartbeat, "heartbeat", 0, "origin: send a comment line to a stream quiet for this long (0 = none)")
	fs.BoolVar(&f.headFirst, "head-with-first-event", false, "origin: hold the response head until the first event, as net/http and Express do when nothing flushes (default: at once)")
	fs.StringVar(&f.reconnect, "reconnect", "", "after a stream ends or drops: never (default), spec (as EventSource: after the reconnection time, with Last-Event-ID) or persistent (also after HTTP errors and refusals, with backoff)")
	fs.DurationVar(&f.reconnDelay, "reconnect-delay", 0, "the client's reconnection time until the server sends retry: (default 3s)")
	fs.Float64Var(&f.slowShare, "slow-share", 0, "share (0-1) of each target's streams that read slowly, reported as <target>~slow")
	fs.IntVar(&f.slowRate, "slow-read-rate", 0, "bytes per second a slow stream reads (with --slow-share)")
	fs.IntVar(&f.maxEventBytes, "max-event-bytes", 0, "largest line or event accepted; larger ends the stream with an error (default 1 MiB)")
	fs.StringArrayVar(&f.proxies, "proxy", nil, "your own proxy config as a target NAME=KIND:PATH[,tls|,h2], KIND nginx, haproxy or caddy; ,tls serves it over TLS, ,h2 over TLS with HTTP/2 (repeatable; added to the scenario's targets; README: \"Benchmark your own proxy config\")")
	fs.StringSliceVar(&f.only, "only", nil, "measure only these targets, in this order (built-in: "+strings.Join(targets.PresetNames(), ", ")+"; or a scenario's or --proxy target)")
	fs.StringVar(&f.topology, "topology", runner.TopologyLocal, "local (embedded origin + proxy processes), compose (the same as containers), swarm (the same as a stack on the current Docker swarm, with --swarm-workers generator replicas) or none (external --target only)")
	fs.IntVar(&f.swarmWorkers, "swarm-workers", 0, fmt.Sprintf("--topology swarm: how many generator replicas, each with a share of every target's streams (0 = %d; docs/distributed.md)", runner.DefaultSwarmWorkers))
	fs.StringArrayVar(&f.targets, "target", nil, "external target NAME=URL, or NAME=https-URL,h2 for HTTP/2 (repeatable; with --topology none)")
	fs.StringVarP(&f.out, "out", "o", "", "results directory, new or empty (default results/<scenario>-<UTC time>)")
	fs.BoolVar(&f.force, "force", false, "empty a non-empty --out directory first (without it, a directory holding anything is refused)")
	fs.BoolVar(&f.noProgress, "no-progress", false, "print plain progress lines instead of a live display")
	fs.StringVar(&f.tsField, "timestamp-field", "", "JSON path of the publish time in event data, e.g. ts or meta.sent_ms (default sched, sseload's origin)")
	fs.StringVar(&f.seqField, "sequence-field", "", "JSON path of the event's sequence number, for lost/duplicated/out-of-order counts (default seq with sseload's origin; external targets: counted only unless given)")
	fs.StringVar(&f.sentField, "sent-field", "", "JSON path of the time the origin wrote the event (unit of --timestamp-unit), splitting latency into origin delay and path latency (default sent with sseload's origin; external targets: not split unless given)")
	fs.StringVar(&f.tsUnit, "timestamp-unit", "auto", "unit of --timestamp-field: auto (by magnitude), ns, us, ms or s")
	fs.StringSliceVar(&f.sourceAddrs, "source-addrs", nil, "local addresses to open connections from, in turn (default: 127.0.0.1, .2, … as needed for loopback targets past 25,000 streams)")
	f.req.add(fs)
	fs.StringVar(&f.caCert, "ca-cert", "", "https targets: trust the CAs in this PEM file instead of the system's, e.g. --ca-cert ./staging-ca.pem (with --topology none; local TLS targets trust the run's own CA)")
	fs.BoolVar(&f.http2, "http2", false, "https --target URLs: offer HTTP/2 by ALPN, e.g. --http2 (the server may still answer HTTP/1.1; summary's protocol says which; one target alone: NAME=URL,h2)")
	fs.IntVar(&f.perConn, "streams-per-conn", 1, "HTTP/2 targets (-h2 presets, --http2, URL,h2): streams sharing one connection, as browser tabs, e.g. --streams-per-conn 6 (1 = one connection per stream, as devices)")
	fs.StringVar(&f.nginx, "nginx", "", "nginx binary for the local topology (default: nginx in PATH, then /usr/sbin/nginx)")
	fs.StringVar(&f.haproxy, "haproxy", "", "haproxy binary for the local topology (default: haproxy in PATH, then /usr/sbin/haproxy)")
	fs.StringVar(&f.caddy, "caddy", "", "caddy binary for the local topology (default: caddy in PATH, then /usr/sbin/caddy)")
	fs.BoolVar(&f.extFaults, "external-faults", false, "the scenario's faults are carried out by someone else; SIGUSR1 marks the next one (used by the compose topology)")
	_ = fs.MarkHidden("external-faults")
	fs.StringVar(&f.originListen, "origin-listen", "127.0.0.1:0", "where the embedded origin listens")
	fs.StringVar(&f.engine, "engine", "", fmt.Sprintf("how the generator serves its streams: %s (Linux: one epoll set per core) or %s (every system: a goroutine per stream) (default: $%s, else %s here)", loadgen.EngineEpoll, loadgen.EnginePortable, loadgen.EngineEnv, loadgen.DefaultEngine()))
	fs.IntVar(&f.procs, "procs", 0, "generator processes, each with a share of the streams (0 = one per 18,000 streams; 1 = in this process)")
	fs.StringArrayVar(&f.thresholds, "threshold", nil, "pass/fail rule [TARGET:]METRIC OP VALUE, e.g. 'nginx-sse:latency.p99 < 50ms' (repeatable; added to the scenario's)")
	fs.BoolVar(&f.requireReliable, "require-reliable", false, "exit 3 when the harness judged its own measurements unreliable")
	fs.StringVar(&f.metricsAddr, "metrics-addr", "", "serve live Prometheus metrics at http://ADDR/metrics during the run, e.g. 127.0.0.1:9464 (docs/metrics.md; not with --topology compose)")
	fs.StringVar(&f.workers, "workers", "", "open the streams on remote workers (`sseload worker --listen`): host:port,host:port or dns:NAME:PORT (every A/AAAA record); results merged here (docs/distributed.md)")
	fs.StringVar(&f.token, "token", "", "the remote workers' shared token (default $"+tokenEnv+")")
	fs.StringVar(&f.timeURL, "time-url", "", "with --workers and --topology none: a time source (GET returns Unix ns) the workers measure their clock offset against (default with the local topology: the origin's /time)")
	fs.BoolVar(&f.noClockCorr, "no-clock-correction", false, "for testing: the workers measure and report their clock offset but do not correct receipt times by it")
	fs.StringVar(&f.segment, "segment", "", "run only share I of N of the scenario's streams, e.g. 0/4 or $JOB_COMPLETION_INDEX/4; combine the N results with sseload merge")
	return f
}

// scenario loads the named scenario, or the ad-hoc one when noneDefaults,
// and applies the flags the user set.
func (f *runFlags) scenario(ref string) (scenarios.Scenario, error) {
	var sc scenarios.Scenario
	if f.noneDefaults {
		sc = scenarios.Adhoc()
		sc.Connections, sc.Duration = noneConnections, noneDuration
	} else {
		loaded, err := scenarios.Load(ref)
		if err != nil {
			return sc, usageError{err}
		}
		sc = loaded
	}
	ch := f.fs.Changed
	if ch("mode") {
		sc.Mode = f.mode
	}
	if ch("connections") {
		sc.Connections = f.connections
	}
	if ch("duration") {
		sc.Duration = f.duration
	}
	if ch("ramp") {
		sc.Ramp = f.ramp
	}
	if ch("interval") {
		sc.Interval = f.interval
	}
	if ch("events") {
		sc.Events = f.events
	}
	if ch("payload") {
		sc.Payload = f.payload
	}
	if ch("x-accel") {
		sc.XAccel = f.xaccel
	}
	if ch("reconnect") {
		sc.Reconnect = f.reconnect
	}
	if ch("reconnect-delay") {
		sc.ReconnectDelay = f.reconnDelay
	}
	if ch("slow-share") {
		sc.SlowShare = f.slowShare
	}
	if ch("slow-read-rate") {
		sc.SlowReadRate = f.slowRate
	}
	if ch("retry") {
		sc.RetryMS = f.retry
	}
	if ch("heartbeat") {
		sc.Heartbeat = f.heartbeat
	}
	if ch("head-with-first-event") {
		sc.HeadWithFirstEvent = f.headFirst
	}
	if ch("max-event-bytes") {
		sc.MaxEventBytes = f.maxEventBytes
	}
	shape, err := f.req.shape(f.fs)
	if err != nil {
		return sc, err
	}
	if shape.Method != "" {
		sc.Method = shape.Method
	}
	if shape.Body != nil {
		sc.Body = string(shape.Body)
	}
	// Flags add to the scenario's headers, replacing a field of the same
	// name.
	sc.Headers = httpstream.Shape{Header: sc.Headers}.With(shape.Header).Header
	for _, p := range f.proxies {
		spec, err := targets.ParseProxy(p)
		if err != nil {
			return sc, usageError{err}
		}
		if _, dup := targets.Find(sc.Targets, spec.Name); dup {
			return sc, usagef("--proxy %q: the scenario already has a target named %s", p, spec.Name)
		}
		sc.Targets = append(sc.Targets, spec)
	}
	if ch("only") {
		only, err := runner.OnlyTargets(f.only, sc.Targets)
		if err != nil {
			return sc, usageError{err}
		}
		sc.Targets = only
	}
	if err := sc.Validate(); err != nil {
		return sc, usageError{fmt.Errorf("%s with flags applied: %w", sc.Source, err)}
	}
	return sc, nil
}

// interruptible returns a context cancelled by the first SIGINT or SIGTERM
// (saying what happens now); a second one exits at once. Results are
// written by rename, so quitting then leaves either complete files or none,
// and child processes die with sseload. stop releases the signals.
func interruptible(stderr io.Writer, what string) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		if _, ok := <-sigs; !ok {
			return
		}
		fmt.Fprintf(stderr, "sseload: interrupted: %s (interrupt again to quit at once)\n", what)
		cancel()
		if _, ok := <-sigs; ok {
			os.Exit(exitInterrupted)
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(sigs)
		cancel()
	}
}

// runOptions are the runner options the flags set, shared by run and
// capacity (which adds its own output, progress and SLOs).
func (f *runFlags) runOptions(sc scenarios.Scenario, external []loadgen.Target, unit jsonfield.Unit, sources []netip.Addr) runner.Options {
	return runner.Options{
		Scenario:       sc,
		Topology:       f.topology,
		External:       external,
		OriginListen:   f.originListen,
		Programs:       f.programs(),
		TimestampField: f.tsField,
		SequenceField:  f.seqField,
		SentField:      f.sentField,
		TimestampUnit:  unit,
		InsecureTLS:    f.req.insecure,
		CACert:         f.caCert,
		StreamsPerConn: f.perConn,
		SourceAddrs:    sources,
		OriginExec:     originExec(),
		Procs:          f.procs,
		Engine:         loadgen.EngineName(f.engine),
		WorkerExec:     originExec(),
		Version:        runVersion(),
		Command:        redactedArgs(os.Args),
		ExternalFaults: f.extFaults,
		SwarmWorkers:   f.swarmWorkers,

		Token:             f.tokenValue(),
		TimeURL:           f.timeURL,
		NoClockCorrection: f.noClockCorr,
	}
}

// tokenValue is --token, else $SSELOAD_TOKEN.
func (f *runFlags) tokenValue() string {
	if f.token != "" {
		return f.token
	}
	return os.Getenv(tokenEnv)
}

// distributed resolves --workers and parses --segment into opts, and
// refuses what cannot work with them (runner.CheckDistributed): usage
// errors, before anything starts.
func (f *runFlags) distributed(ctx context.Context, opts *runner.Options) error {
	if f.workers != "" {
		ws, err := procs.ResolveWorkers(ctx, f.workers)
		if err != nil {
			return usageError{err}
		}
		opts.Workers = ws
	}
	if f.segment != "" {
		i, n, err := procs.ParseSegment(f.segment)
		if err != nil {
			return usageError{err}
		}
		opts.SegmentIndex, opts.SegmentCount = i, n
	}
	if err := runner.CheckDistributed(*opts); err != nil {
		return usageError{err}
	}
	return nil
}

// externalTarget parses a --target NAME=URL with what the protocol flags
// ask of it: --http2 applies to https URLs (plain ones stay HTTP/1.1).
func (f *runFlags) externalTarget(raw string) (loadgen.Target, error) {
	tg, err := runner.ParseTarget(raw)
	if err != nil {
		return tg, err
	}
	tg.HTTP2 = tg.HTTP2 || f.http2 && strings.HasPrefix(tg.URL, "https://")
	return tg, nil
}

// programs maps each proxy kind to the binary its flag names.
func (f *runFlags) programs() map[string]string {
	m := map[string]string{}
	for kind, path := range map[string]string{targets.Nginx: f.nginx, targets.HAProxy: f.haproxy, targets.Caddy: f.caddy} {
		if path != "" {
			m[kind] = path
		}
	}
	return m
}

// checkEngine checks --engine, or without it $SSELOAD_ENGINE: a known
// engine this system runs. On the compose topology the generator runs in
// a Linux container, so any known engine will do.
func (f *runFlags) checkEngine() error {
	name, what := f.engine, "--engine"
	if name == "" {
		name, what = os.Getenv(loadgen.EngineEnv), "$"+loadgen.EngineEnv
	}
	if name == "" {
		return nil
	}
	if f.topology == runner.TopologyCompose && slices.Contains(loadgen.Engines, loadgen.EngineName(name)) {
		return nil
	}
	if _, err := loadgen.ParseEngine(name); err != nil {
		return usagef("%s: %v", what, err)
	}
	return nil
}

// measureFlags checks the flags that say how events are read and where
// streams come from, shared by run and capacity.
func (f *runFlags) measureFlags() (jsonfield.Unit, []netip.Addr, error) {
	unit, err := jsonfield.ParseUnit(f.tsUnit)
	if err != nil {
		return unit, nil, usagef("--timestamp-unit: %v", err)
	}
	if err := f.checkEngine(); err != nil {
		return unit, nil, err
	}
	for _, p := range [][2]string{{"--timestamp-field", f.tsField}, {"--sequence-field", f.seqField}, {"--sent-field", f.sentField}} {
		if p[1] == "" {
			continue
		}
		if _, err := jsonfield.ParsePath(p[1]); err != nil {
			return unit, nil, usagef("%s: %v", p[0], err)
		}
	}
	var sources []netip.Addr
	for _, a := range f.sourceAddrs {
		addr, err := netip.ParseAddr(a)
		if err != nil {
			return unit, nil, usagef("--source-addrs %q: not an IP address (e.g. 127.0.0.2)", a)
		}
		sources = append(sources, addr)
	}
	return unit, sources, nil
}

func runCmd(args []string, stdout, stderr io.Writer) (int, error) {
	f := newRunFlags(stderr)
	f.fs.Usage = func() {
		showHelp(stdout, f.fs, fmt.Sprintf("Usage: sseload run [SCENARIO] [flags]\n\nFlags:\n%s", f.fs.FlagUsages())+
			fmt.Sprintf(runExamples, requestExamples, strings.Join(scenarios.Names(), ", "), strings.Join(targets.PresetNames(), ", ")))
	}
	if err := f.fs.Parse(args); err != nil {
		if err == pflag.ErrHelp {
			return exitOK, nil
		}
		return exitUsage, usageError{err}
	}
	if f.fs.NArg() > 1 {
		return exitUsage, usagef("run takes one scenario, got %q", f.fs.Args())
	}
	if err := f.checkTopologyFlags(); err != nil {
		return exitUsage, err
	}
	// Without a scenario named, the local and compose topologies run
	// steady; --topology none measures the --target URLs ad hoc, with its
	// own small load and labelled so (scenarios.AdhocName), never as steady.
	ref := scenarios.DefaultName
	if f.fs.NArg() == 1 {
		ref = f.fs.Arg(0)
	}
	f.noneDefaults = f.topology == runner.TopologyNone && f.fs.NArg() == 0
	sc, err := f.scenario(ref)
	if err != nil {
		return exitUsage, err
	}
	unit, sources, err := f.measureFlags()
	if err != nil {
		return exitUsage, err
	}
	var external []loadgen.Target
	for _, t := range f.targets {
		tg, err := f.externalTarget(t)
		if err != nil {
			return exitUsage, usageError{err}
		}
		external = append(external, tg)
	}
	if f.topology != runner.TopologyLocal && f.topology != runner.TopologyNone && f.topology != runner.TopologyCompose && f.topology != runner.TopologySwarm {
		return exitUsage, usagef("--topology %q: unknown (valid: %s, %s, %s, %s)", f.topology, runner.TopologyLocal, runner.TopologyCompose, runner.TopologySwarm, runner.TopologyNone)
	}
	if f.topology == runner.TopologyNone && len(external) == 0 {
		return exitUsage, usagef("--topology none measures external endpoints: name at least one with --target NAME=URL")
	}
	if f.topology != runner.TopologyNone && len(external) > 0 {
		return exitUsage, usagef("--target measures external endpoints: add --topology none")
	}
	if f.topology == runner.TopologyNone && len(f.proxies) > 0 {
		return exitUsage, usagef("--proxy runs your proxy config in front of sseload's origin on the local or compose topology, not with --topology none (which measures --target URLs as they are)")
	}
	ths, err := f.parseThresholds(sc, external)
	if err != nil {
		return exitUsage, err
	}
	dist := f.runOptions(sc, external, unit, sources)
	if err := f.distributed(context.Background(), &dist); err != nil {
		return exitUsage, err
	}
	if f.topology == runner.TopologyCompose {
		if err := runner.CheckCompose(f.runOptions(sc, external, unit, sources)); err != nil {
			return exitUsage, usageError{err}
		}
	}
	if f.topology == runner.TopologySwarm {
		if err := runner.CheckSwarm(f.runOptions(sc, external, unit, sources)); err != nil {
			return exitUsage, usageError{err}
		}
	}
	live, err := f.startLiveAndOut()
	if err != nil {
		return exitUsage, err
	}

	ctx, stop := interruptible(stderr, "closing streams and writing results")
	defer stop()
	defer live.stop(ctx, stderr)

	prog := newProgress(stderr, f.noProgress)
	opts := dist
	opts.Sinks = live.sinks()
	opts.OutDir = f.out
	opts.SelfBinary = selfBinary()
	opts.Started = prog.start
	opts.Warn = prog.warn
	opts.Thresholds = ths
	out, err := runner.Run(ctx, opts)
	prog.stop()
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return exitInterrupted, err
		}
		if errors.Is(err, topology.ErrConfig) {
			return exitUsage, err
		}
		return exitNotComplete, err
	}
	if err := render.WriteText(stdout, out.Summary); err != nil {
		return exitNotComplete, fmt.Errorf("print summary: %w", err)
	}
	return finishRun(out, f.requireReliable, stdout, stderr)
}

// checkTopologyFlags refuses a flag that would have no effect with the
// chosen topology, naming the flag and the topology: a run must not look
// as if it measured what the flag asks for.
func (f *runFlags) checkTopologyFlags() error {
	set := func(name string) bool { return f.fs.Lookup(name) != nil && f.fs.Changed(name) }
	switch f.topology {
	case runner.TopologyNone:
		if set("origin-listen") {
			return usagef("--origin-listen says where sseload's own origin listens; with --topology none there is none (the --target URLs are measured as they are): leave it out")
		}
		for _, n := range originFlags {
			if set(n) {
				return usagef("--%s sets what sseload's own origin does; with --topology none the origin is the --target's, which --%s cannot change: leave it out, or measure sseload's origin with --topology local", n, n)
			}
		}
		for _, p := range proxyFlags {
			if set(p[0]) {
				return usagef("--%s %s; with --topology none sseload measures the --target URLs as they are: leave it out", p[0], p[1])
			}
		}
	case runner.TopologyCompose, runner.TopologySwarm:
		if set("origin-listen") {
			return usagef("--origin-listen: on --topology %s the origin listens in its own container; leave it out, or use --topology local", f.topology)
		}
		if set("metrics-addr") {
			return usagef("--metrics-addr: on --topology %s the generator runs in its own container, out of this process's reach, and no port of its network is published; leave it out, or use --topology local or none", f.topology)
		}
	}
	if f.topology == runner.TopologySwarm {
		for _, n := range []string{"workers", "token", "time-url", "segment"} {
			if set(n) {
				return usagef("--%s: the swarm topology deploys its own workers, gives them a token of its own and times them against its origin; leave it out (--swarm-workers sets how many), or use --topology local or none", n)
			}
		}
	}
	if f.topology != runner.TopologySwarm && set("swarm-workers") {
		return usagef("--swarm-workers sets the worker replicas of --topology swarm; with --topology %s it would change nothing: leave it out, or add --topology swarm", f.topology)
	}
	if f.topology != runner.TopologyNone && set("http2") {
		return usagef("--http2 asks https --target URLs for HTTP/2, which only --topology none measures; with --topology %s choose HTTP/2 per target: an -h2 preset (nginx-sse-h2), ,h2 after --proxy, or http2: true in the scenario's targets", f.topology)
	}
	if set("streams-per-conn") && f.topology == runner.TopologyNone && !f.http2 && !slices.ContainsFunc(f.targets, func(t string) bool { tg, err := runner.ParseTarget(t); return err == nil && tg.HTTP2 }) {
		return usagef("--streams-per-conn %d: only HTTP/2 streams share a connection (an HTTP/1.1 connection carries one stream): add --http2, or leave it out", f.perConn)
	}
	if f.perConn < 1 {
		return usagef("--streams-per-conn %d: must be at least 1", f.perConn)
	}
	if f.topology != runner.TopologyNone && set("insecure") {
		return usagef("--insecure skips the certificate checks of https --target URLs, which only --topology none measures; with --topology %s the targets are sseload's own, and its TLS targets are checked against the run's own CA: leave it out", f.topology)
	}
	if f.topology != runner.TopologyNone && set("ca-cert") {
		return usagef("--ca-cert names the CAs of https --target URLs, which only --topology none measures; with --topology %s the TLS targets (tls/http2, the -h2 presets) are checked against the run's own CA: leave it out", f.topology)
	}
	if f.caCert != "" {
		if _, err := certs.LoadPool(f.caCert); err != nil {
			return usagef("--ca-cert: %v", err)
		}
	}
	return nil
}

// prepareOut checks --out before anything starts: a directory holding
// anything is refused, or emptied with --force (runner.PrepareOutDir).
func (f *runFlags) prepareOut() error {
	if f.out == "" {
		if f.force {
			return usagef("--force empties the --out directory first; without --out the results go to a new directory of their own: name one with --out, or leave --force out")
		}
		return nil
	}
	if err := runner.PrepareOutDir(f.out, f.force); err != nil {
		return usagef("--out: %v", err)
	}
	return nil
}

// originExec is this binary, which runs the local topology's origin as a
// child process; "" (origin in-process) if it cannot be found.
func originExec() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	return exe
}
