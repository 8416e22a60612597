// Package runner wires one `sseload run`: it starts the topology (the
// embedded origin and real proxies, or nothing for external targets), runs
// the engine, streams interval histograms to .hlog files, and writes the
// results directory. It holds the order of things, not their logic.
package runner

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"github.com/sseload/sseload/internal/childproc"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/sseload/sseload/internal/suggest"
	"github.com/sseload/sseload/loadgen"
	"github.com/sseload/sseload/loadgen/jsonfield"
	"github.com/sseload/sseload/loadgen/procs"
	"github.com/sseload/sseload/origin"
	"github.com/sseload/sseload/reports"
	"github.com/sseload/sseload/reports/hlog"
	"github.com/sseload/sseload/reports/render"
	"github.com/sseload/sseload/scenarios"
	"github.com/sseload/sseload/targets"
	"github.com/sseload/sseload/topology"
)

// Topologies `run` knows.
const (
	TopologyLocal = "local" // embedded origin + real proxy processes on loopback
	TopologyNone  = "none"  // external targets only (--target NAME=URL)
)

// defaultTimestampField is the field of sseload's origin that holds each
// event's scheduled publish time in Unix nanoseconds.
const defaultTimestampField = "sched"

// defaultSequenceField is the field of sseload's origin that holds each
// event's sequence number, read for delivery accounting.
const defaultSequenceField = "seq"

// defaultSentField is the field of sseload's origin that holds the time it
// wrote each event in Unix nanoseconds, read to split latency into the
// origin's delay and the path's.
const defaultSentField = "sent"

// Options is one run, after the scenario and the flags were merged.
type Options struct {
	Scenario scenarios.Scenario
	Topology string
	// External targets for TopologyNone.
	External []loadgen.Target
	// OriginListen is where the embedded origin listens (default 127.0.0.1:0).
	OriginListen string
	// OriginExec, when set, is the sseload binary to run the origin with, as
	// a child process (`sseload origin`), instead of inside this process.
	// Apart, the origin's fan-out bursts and the engine's receipt timestamps
	// do not queue for the same Go scheduler's Ps.
	OriginExec string
	// Programs maps a proxy kind (targets.Nginx, …) to its binary for the
	// local topology; absent = looked up in PATH, then /usr/sbin.
	Programs map[string]string
	OutDir   string // "" = results/<scenario>-<UTC timestamp>

	TimestampField string // "" = "sched", the embedded origin's field
	TimestampUnit  jsonfield.Unit
	// SequenceField is the JSON path of each event's sequence number, for
	// delivery accounting. "" = "seq" with sseload's own origin; external
	// targets (TopologyNone) are then counted only.
	SequenceField string
	// SentField is the JSON path of the time the origin wrote each event,
	// which splits latency into origin delay and path latency
	// (loadgen.Config.SentField). "" = "sent" with sseload's own origin
	// when latency is read from its "sched"; external targets
	// (TopologyNone) are then not split.
	SentField string
	// InsecureTLS skips certificate verification for https targets.
	InsecureTLS bool
	// CACert is a PEM file of the CAs https targets' certificates must
	// chain to, instead of the system's (--ca-cert; the compose topology's
	// generator gets the run's CA this way). The local topology's TLS
	// targets are trusted by the run's own CA without it.
	CACert string
	// StreamsPerConn is how many streams of an HTTP/2 target share one
	// connection (loadgen.Config.StreamsPerConn; 0 or 1: one each).
	StreamsPerConn int
	// SourceAddrs are the local addresses streams are opened from (see
	// loadgen.Config.SourceAddrs).
	SourceAddrs []netip.Addr

	Version string
	Command []string

	// Procs is the number of generator processes: 1 runs the engine in
	// this process; more run `sseload worker` children (WorkerExec), each
	// with a share of every target's streams, merged into one result. 0
	// chooses: 1 up to 18,000 streams (all targets counted), else one per
	// 18,000 and at least one per origin shard (generator.go).
	Procs int
	// Engine is the generator's engine (loadgen.Config.Engine): "" for
	// $SSELOAD_ENGINE, else the best this system has. Every generator
	// process uses it; the compose topology's generator is told it.
	Engine loadgen.EngineName
	// WorkerExec is the sseload binary generator processes run as
	// `sseload worker`; needed when the run uses more than one.
	WorkerExec string

	// Started is called once the generator exists and before it runs, with
	// the planned run length (zero when unknown), so the caller can show
	// progress.
	Started func(g Generator, planned time.Duration)
	// Warn receives messages about the topology and the generator.
	Warn func(string)
	// ProxyLogs, when set, receives each local proxy target's log (nginx's
	// error log, what HAProxy and Caddy print) once the topology has
	// stopped, before Run returns (`sseload capacity` quotes the proxy's
	// own line at a limit, such as "worker_connections are not enough").
	ProxyLogs func(target, log string)

	// Thresholds are checked on the summary; the results go into
	// summary.json and the reports.
	Thresholds []reports.Threshold

	// Sinks are fed every merged interval, after the run's own .hlog files
	// and timeline.csv (the live Prometheus metrics: metrics.Exporter).
	// Their start and end are the caller's. The compose topology's
	// generator runs in a container, out of their reach: a compose run
	// with Sinks is refused (ErrSetup).
	Sinks []loadgen.IntervalSink

	// ExternalFaults says the scenario's faults are carried out by someone
	// else (the compose topology's host side, on containers): the run does
	// not inject them, and each SIGUSR1 it receives marks the next planned
	// fault, in plan order, at that moment.
	ExternalFaults bool

	// SwarmWorkers is the number of generator worker replicas of the swarm
	// topology (0 = DefaultSwarmWorkers); other topologies have none.
	SwarmWorkers int
	// Workers, when set, are remote workers (`sseload worker --listen`)
	// that open the streams instead of this process: one share each,
	// merged here (loadgen/procs). Token authenticates to them. TimeURL
	// is the time source they measure their clock offset against; with
	// the local topology it defaults to the origin's GET /time.
	// NoClockCorrection keeps the offset out of their receipt times (for
	// testing the correction).
	Workers           []string
	Token             string
	TimeURL           string
	NoClockCorrection bool
	// SegmentIndex of SegmentCount > 0 runs only that deterministic share
	// of the scenario's streams (`--segment I/N`), for `sseload merge`.
	SegmentIndex, SegmentCount int

	// SelfBinary is this sseload's executable. The compose topology puts
	// it in its image when it is statically linked, and otherwise builds a
	// static one from the source tree.
	SelfBinary string
}

// Outcome is what a run produced.
type Outcome struct {
	Dir     string
	Summary reports.Summary
	Result  *loadgen.Result
}

// ErrSetup marks errors that happened before any measurement: the topology
// could not start or a target is unusable. The CLI maps it to its own code.
var ErrSetup = errors.New("run could not start")

// ErrComposeSinks is why a compose run with Options.Sinks is refused: its
// generator runs inside a container, so its intervals never reach a sink
// in this process (and a metrics endpoint inside the compose network
// would be reachable only through a published port, which the topology
// keeps off every measured path).
var ErrComposeSinks = errors.New("live interval sinks (--metrics-addr) need the generator in this process; the compose topology runs it in a container: use --topology local or none")

// Run executes the run described by opts. When ctx is cancelled mid-run the
// partial results are still written and returned, with Interrupted set.
func Run(ctx context.Context, opts Options) (*Outcome, error) {
	reapOrphans(opts.Warn)
	dir := opts.OutDir
	if dir == "" {
		dir = filepath.Join("results", fmt.Sprintf("%s-%s", opts.Scenario.Name, time.Now().UTC().Format("20060102T150405Z")))
	}
	_, statErr := os.Stat(dir)
	created := errors.Is(statErr, fs.ErrNotExist)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("results directory %s: %w", dir, err)
	}
	out, err := run(ctx, opts, dir)
	if out == nil && err != nil && created {
		// A run that could not start wrote nothing: leave no empty
		// results directory behind (os.Remove removes only an empty one),
		// nor an empty default results/.
		if os.Remove(dir) == nil && opts.OutDir == "" {
			_ = os.Remove(filepath.Dir(dir))
		}
	}
	return out, err
}

// run is Run once the results directory dir exists.
func run(ctx context.Context, opts Options, dir string) (*Outcome, error) {
	sc := opts.Scenario
	if err := CheckDistributed(opts); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSetup, err)
	}
	if opts.Topology == TopologyCompose {
		if len(opts.Sinks) > 0 {
			return nil, fmt.Errorf("%w: %w", ErrSetup, ErrComposeSinks)
		}
		return runCompose(ctx, opts, dir)
	}
	if opts.Topology == TopologySwarm {
		if len(opts.Sinks) > 0 {
			return nil, fmt.Errorf("%w: live interval sinks (--metrics-addr) need the generator in this process; the swarm topology runs it in a container: use --topology local or none", ErrSetup)
		}
		return runSwarm(ctx, opts, dir)
	}

	if opts.Procs < 0 {
		return nil, fmt.Errorf("%w: --procs %d: want 0 (one generator process per %d streams) or a count", ErrSetup, opts.Procs, streamsPerGenerator)
	}
	if err := checkFaults(opts); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSetup, err)
	}
	var marks chan os.Signal
	if opts.ExternalFaults {
		var stopMarks func()
		marks, stopMarks = notifyMarks(len(sc.Faults))
		defer stopMarks()
	}
	topo, err := startTopology(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSetup, err)
	}
	defer topo.stop()
	lts, meta := withSlowConsumers(topo.targets, topo.meta, sc), topo.meta
	var shards []string
	if topo.origins != nil {
		shards = topo.origins.addrs
	}

	hl, err := hlog.NewSet(dir, targetNames(lts))
	if err != nil {
		return nil, err
	}
	defer hl.Abort()
	tl, err := reports.NewTimeline(dir)
	if err != nil {
		return nil, err
	}
	defer tl.Abort()

	tsField := opts.TimestampField
	if tsField == "" {
		tsField = defaultTimestampField
	}
	cfg := loadgen.Config{
		Targets:        lts,
		Connections:    sc.Connections,
		Ramp:           sc.Ramp,
		Hold:           sc.Duration,
		MaxDuration:    maxDuration(sc),
		MaxEventBytes:  sc.MaxEventBytes,
		TimestampField: tsField,
		TimestampUnit:  opts.TimestampUnit,
		SequenceField:  opts.SequenceField,
		// One merge, every sink: the files, then the caller's.
		OnInterval:  append(loadgen.IntervalSinks{hl, tl}, opts.Sinks...).Add,
		SourceAddrs: opts.SourceAddrs,
		TLSConfig:   &tls.Config{InsecureSkipVerify: opts.InsecureTLS, RootCAs: topo.roots},
		// Carried as JSON to worker processes (loadgen/procs), like the
		// targets' HTTP2.
		StreamsPerConn: opts.StreamsPerConn,
		Warn:           opts.Warn,
		Reconnect:      loadgen.ReconnectPolicy(sc.Reconnect),
		Retry:          sc.ReconnectDelay,
		Request:        sc.Request(),
	}
	// Resolved here, so that every generator process (--procs) runs the
	// same engine whatever its environment.
	cfg.Engine = opts.Engine
	if cfg.Engine == "" {
		if cfg.Engine, err = loadgen.EngineFromEnv(); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrSetup, err)
		}
	}
	if cfg.Engine == "" {
		cfg.Engine = loadgen.DefaultEngine()
	}
	if opts.Topology != TopologyNone {
		// sseload's own origin: every event carries "seq", and a
		// per-connection stream is scheduled exactly sc.Events events.
		if cfg.SequenceField == "" {
			cfg.SequenceField = defaultSequenceField
		}
		if sc.Mode == scenarios.ModePerConnection {
			cfg.EventsPerStream = sc.Events
		}
	}
	cfg.SentField = sentField(opts.SentField, opts.Topology, tsField)
	// sseload's broadcast origin (ours, or the compose topology's, which
	// the generator there knows by its sequence field) never ends a
	// stream: a clean end is a cut on the path.
	cfg.EndlessStreams = sc.Mode == scenarios.ModeBroadcast && sc.Events == 0 && cfg.SequenceField == defaultSequenceField
	if opts.SegmentCount > 0 {
		if cfg, err = procs.Segment(cfg, opts.SegmentIndex, opts.SegmentCount); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrSetup, err)
		}
		meta.Segment = fmt.Sprintf("%d/%d", opts.SegmentIndex, opts.SegmentCount)
	}
	if len(opts.Workers) > 0 && opts.TimeURL == "" && topo.origins != nil && len(shards) > 0 {
		opts.TimeURL = "http://" + shards[0] + origin.TimePath
	}
	gen, err := newGenerator(ctx, opts, cfg, generatorProcs(opts, cfg, len(shards)), shardURLs(shards), topo.rootsPEM)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSetup, err)
	}
	if note := splitNote(gen, cfg, len(shards)); note != "" && opts.Warn != nil {
		opts.Warn(note)
	}
	if opts.Started != nil {
		opts.Started(gen, plannedDuration(sc))
	}
	// Several generator processes may return what the others measured
	// together with the error of one that failed: the results are written
	// (marked unreliable) and the error returned after them.
	faults := &faultInjector{plan: sc.ParsedFaults(), down: sc.FaultDown, gen: gen, topo: topo, say: opts.Warn, marks: marks}
	fctx, stopFaults := context.WithCancel(ctx)
	faults.start(fctx, time.Now())
	res, runErr := gen.Run(ctx)
	stopFaults()
	faults.wait()
	if res == nil {
		return nil, runErr
	}
	noteUnsyncedClocks(opts, cfg, res)
	meta.Scenario = sc.Name
	meta.Topology = opts.Topology
	meta.Version = opts.Version
	meta.Command = opts.Command
	meta.Config = runConfig(sc)
	if opts.Topology == TopologyNone {
		// The origin is not ours: its mode and schedule are unknown.
		meta.Config.Mode, meta.Config.IntervalMS, meta.Config.Events, meta.Config.Payload, meta.Config.XAccel = "", 0, 0, 0, false
	}
	sum := reports.Summarize(res, meta)
	allowFailures(&sum, sc.MaxFailed)
	sum.Thresholds = reports.EvaluateThresholds(sum, opts.Thresholds)
	if err := hl.Commit(); err != nil {
		return nil, err
	}
	if err := tl.Commit(); err != nil {
		return nil, err
	}
	// The reports read the committed .hlog files and timeline; summary.json
	// still comes last. A report that cannot be written costs a warning,
	// not the run's measurements.
	if err := render.WriteReports(dir, sum); err != nil && opts.Warn != nil {
		opts.Warn(err.Error())
	}
	if err := reports.WriteSummary(dir, sum); err != nil {
		return nil, err
	}
	return &Outcome{Dir: dir, Summary: sum, Result: res}, runErr
}

// startedTopology is what startTopology started.
type startedTopology struct {
	targets []loadgen.Target
	meta    reports.Meta
	stop    func()          // stops it all
	origins *originSet      // the local origin (its shards); nil for external targets
	local   *topology.Local // the local proxy processes; nil for external targets
	// roots are the CAs the generator trusts for https targets (nil: the
	// system's): the run's own CA for local TLS targets, or --ca-cert's;
	// rootsPEM is the same as PEM, for generator processes.
	roots    *x509.CertPool
	rootsPEM []byte
}

// withRoots sets t's trusted CAs from PEM; errors name the source.
func (t *startedTopology) withRoots(pem []byte, source string) error {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return fmt.Errorf("%s: no PEM certificate in it", source)
	}
	t.roots, t.rootsPEM = pool, pem
	return nil
}

// startTopology starts what the topology needs: the targets to measure,
// what is known about them, and how to stop (and, for faults, restart or
// reload) its parts.
func startTopology(ctx context.Context, opts Options) (*startedTopology, error) {
	meta := reports.Meta{Targets: map[string]reports.TargetMeta{}}
	switch opts.Topology {
	case TopologyNone:
		if len(opts.External) == 0 {
			return nil, errors.New("--topology none measures external endpoints: name at least one with --target NAME=URL")
		}
		if len(opts.Scenario.TargetHeaders) > 0 {
			return nil, fmt.Errorf("%w: targets: headers of a target entry apply to the scenario's targets, and --topology none measures the --target URLs instead: give them as top-level headers or --header", topology.ErrConfig)
		}
		topo := &startedTopology{targets: opts.External, meta: meta, stop: func() {}}
		if opts.CACert != "" {
			b, err := os.ReadFile(opts.CACert)
			if err != nil {
				return nil, fmt.Errorf("--ca-cert: %w", err)
			}
			if err := topo.withRoots(b, "--ca-cert "+opts.CACert); err != nil {
				return nil, err
			}
		}
		return topo, nil
	case TopologyLocal, "":
	default:
		return nil, fmt.Errorf("topology %q: unknown (valid: %s, %s, %s)", opts.Topology, TopologyLocal, TopologyCompose, TopologyNone)
	}
	if len(opts.External) > 0 {
		return nil, errors.New("--target measures external endpoints and needs --topology none")
	}
	// Every config is checked before the origin starts: a config that
	// breaks the contract costs nothing.
	for _, t := range opts.Scenario.Targets {
		if t.Proxied() {
			if _, err := topology.PrepareConfig(t, opts.Scenario.ProxyReadTimeout); err != nil {
				return nil, err
			}
		}
	}
	shardCount := originShards(opts)
	if shardCount > 1 {
		for _, t := range opts.Scenario.Targets {
			if t.Kind == targets.HAProxy {
				return nil, fmt.Errorf("target %s: an HAProxy config proxies to one origin address, and %d streams in all need %d origin processes (one serves %d); with HAProxy targets, measure at most %d streams in all (fewer connections or targets)", t.Name, opts.Scenario.Connections*len(opts.Scenario.Targets), shardCount, streamsPerOrigin, streamsPerOrigin)
			}
		}
	}
	origins, err := startOrigins(ctx, opts, shardCount)
	if err != nil {
		return nil, err
	}
	shards, stopOrigin := origins.addrs, origins.stop

	local, err := topology.StartLocal(ctx, topology.LocalConfig{
		OriginAddr:   shards[0],
		OriginShards: shards[1:],
		Targets:      opts.Scenario.Targets,
		Programs:     opts.Programs,
		// The idle-timeout scenario's short proxy_read_timeout.
		IdleTimeout: opts.Scenario.ProxyReadTimeout,
	})
	if err != nil {
		stopOrigin()
		return nil, err
	}
	var lts []loadgen.Target
	for _, t := range local.Targets() {
		lts = append(lts, loadgen.Target{Name: t.Name, URL: t.URL, Headers: opts.Scenario.TargetHeaders[t.Name], HTTP2: t.HTTP2})
		meta.Targets[t.Name] = reports.TargetMeta{Proxy: t.Proxy, ProxyKind: t.Kind, ConfigSHA256: t.ConfigSHA256, ConfigFile: t.ConfigName}
	}
	stop := func() {
		if err := local.Stop(); err != nil && opts.Warn != nil {
			opts.Warn("stopping proxies: " + err.Error())
		}
		if opts.ProxyLogs != nil {
			for _, t := range local.Targets() {
				if log, err := local.ErrorLog(t.Name); err == nil {
					opts.ProxyLogs(t.Name, log)
				}
			}
		}
		stopOrigin()
	}
	topo := &startedTopology{targets: lts, meta: meta, stop: stop, origins: origins, local: local}
	if set := local.Certs(); set != nil {
		if err := topo.withRoots(set.CAPEM, "the run's CA"); err != nil {
			stop()
			return nil, err
		}
	}
	return topo, nil
}

// plannedDuration is the run's expected length: the ramp plus the hold, or
// for per-connection streams without a hold, the ramp plus one stream's life.
func plannedDuration(sc scenarios.Scenario) time.Duration {
	ramp := time.Duration(float64(sc.Connections) / sc.Ramp * float64(time.Second))
	if sc.Duration > 0 {
		return ramp + sc.Duration
	}
	if sc.Mode == scenarios.ModePerConnection {
		return ramp + time.Duration(sc.Events)*sc.Interval
	}
	return 0
}

// maxDuration bounds a run that waits for streams to end by themselves, so a
// proxy that never ends them cannot hang the run: one stream's planned life
// plus the ramp, plus a minute of grace.
func maxDuration(sc scenarios.Scenario) time.Duration {
	if sc.Duration > 0 {
		return 0
	}
	return plannedDuration(sc) + time.Minute
}

// withSlowConsumers splits off each target's slow consumers
// (Scenario.SlowShare) as a target of its own, "<name>~slow", reading at
// Scenario.SlowReadRate; the rest keep the target's name. meta gains the
// same proxy facts for the slow twin.
func withSlowConsumers(targets []loadgen.Target, meta reports.Meta, sc scenarios.Scenario) []loadgen.Target {
	slow := int(sc.SlowShare * float64(sc.Connections))
	if slow < 1 {
		return targets
	}
	out := make([]loadgen.Target, 0, 2*len(targets))
	for _, t := range targets {
		fast := t
		fast.Connections = sc.Connections - slow
		twin := t
		twin.Name, twin.Connections, twin.ReadBytesPerSec = t.Name+"~slow", slow, sc.SlowReadRate
		if fast.Connections > 0 {
			out = append(out, fast)
		}
		out = append(out, twin)
		if m, ok := meta.Targets[t.Name]; ok {
			meta.Targets[twin.Name] = m
		}
	}
	return out
}

func targetNames(ts []loadgen.Target) []string {
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = t.Name
	}
	return names
}

// ParseTarget parses a --target value NAME=URL[,h2]. A trailing ",h2"
// (as after --proxy) asks that https URL for HTTP/2 by ALPN; a comma
// anywhere else stays part of the URL.
func ParseTarget(s string) (loadgen.Target, error) {
	name, u, ok := strings.Cut(s, "=")
	if !ok || name == "" || u == "" {
		return loadgen.Target{}, fmt.Errorf("--target %q: expected NAME=URL, e.g. app=http://127.0.0.1:8080/events", s)
	}
	u, h2 := strings.CutSuffix(u, h2Suffix)
	if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		return loadgen.Target{}, fmt.Errorf("--target %q: URL must start with http:// or https://", s)
	}
	if h2 && !strings.HasPrefix(u, "https://") {
		return loadgen.Target{}, fmt.Errorf("--target %q: HTTP/2 (,h2) is negotiated over TLS: use an https:// URL, or leave ,h2 out", s)
	}
	return loadgen.Target{Name: name, URL: u, HTTP2: h2}, nil
}

// h2Suffix after a --target URL asks it for HTTP/2 (ParseTarget).
const h2Suffix = ",h2"

// TargetArg is the --target value ParseTarget reads back as t.
func TargetArg(t loadgen.Target) string {
	if t.HTTP2 {
		return t.Name + "=" + t.URL + h2Suffix
	}
	return t.Name + "=" + t.URL
}

// OnlyTargets validates an --only list against the targets known to this
// run (have: the scenario's, with --proxy ones added) and the built-in
// presets, and returns the chosen ones in the order given: it replaces the
// scenario's target list.
func OnlyTargets(only []string, have []targets.Spec) ([]targets.Spec, error) {
	var out []targets.Spec
	for _, n := range only {
		t, ok := targets.Find(have, n)
		if !ok {
			if t, ok = targets.Preset(n); !ok {
				known := append(targets.PresetNames(), slices.DeleteFunc(targets.Names(have), func(s string) bool { _, p := targets.Preset(s); return p })...)
				if s := suggest.Closest(n, known); s != "" {
					return nil, fmt.Errorf("--only %q: unknown target: did you mean %q? (valid: %s)", n, s, strings.Join(known, ", "))
				}
				return nil, fmt.Errorf("--only %q: unknown target (valid: %s)", n, strings.Join(known, ", "))
			}
		}
		if _, dup := targets.Find(out, n); dup {
			return nil, fmt.Errorf("--only %q: named twice", n)
		}
		out = append(out, t)
	}
	return out, nil
}

// runConfig is summary.json's "config" for sc.
func runConfig(sc scenarios.Scenario) reports.RunConfig {
	return reports.RunConfig{
		Mode:        sc.Mode,
		IntervalMS:  float64(sc.Interval) / float64(time.Millisecond),
		Events:      sc.Events,
		Payload:     sc.Payload,
		XAccel:      sc.XAccel,
		Connections: sc.Connections,
		Ramp:        sc.Ramp,
		DurationS:   sc.Duration.Seconds(),
		Reconnect:   sc.Reconnect,
		// The client's reconnection time matters only when it reconnects.
		ReconnectDelayMS: reconnectDelayMS(sc),
		HeartbeatMS:      float64(sc.Heartbeat) / float64(time.Millisecond),
		MaxFailed:        maxFailedConfig(sc.MaxFailed),
		Request:          reports.DescribeRequest(sc.Request(), sc.TargetHeaders),
	}
}

// maxFailedConfig is summary.json's config.max_failed: as written, or ""
// for the default (none allowed).
func maxFailedConfig(m scenarios.MaxFailed) string {
	if m == (scenarios.MaxFailed{}) {
		return ""
	}
	return m.String()
}

// allowFailures records in each target's connections how many failed
// streams the scenario's max_failed allows it (junit.xml's connections
// case).
func allowFailures(s *reports.Summary, m scenarios.MaxFailed) {
	for i := range s.Targets {
		c := &s.Targets[i].Connections
		c.MaxFailed = m.Allowed(c.Requested)
	}
}

func reconnectDelayMS(sc scenarios.Scenario) float64 {
	if sc.Reconnect == "" || sc.Reconnect == string(loadgen.ReconnectNever) {
		return 0
	}
	return float64(sc.ReconnectDelay) / float64(time.Millisecond)
}

// sentField is the write-time field the generator reads: the one given, or
// with sseload's own origin (every topology but none) its "sent" when
// latency is measured from its "sched" — another publish time would not
// pair with the origin's write time.
func sentField(given, topology, tsField string) string {
	if given != "" || topology == TopologyNone {
		return given
	}
	if tsField != defaultTimestampField {
		return ""
	}
	return defaultSentField
}

// reapOrphans kills the child processes an earlier sseload left running
// when it was killed outright, on systems where the kernel does not kill
// them with it (childproc: not Linux), and says so.
func reapOrphans(warn func(string)) {
	n, err := childproc.ReapOrphans()
	if warn == nil {
		return
	}
	if err != nil {
		warn(err.Error())
	}
	if n > 0 {
		warn(fmt.Sprintf("stopped %d child processes (proxies, origins, generator workers) left running by an earlier sseload that did not end normally (pid files in %s)", n, childproc.Dir()))
	}
}
