package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sseload/sseload/compose"
	"github.com/sseload/sseload/loadgen"
	"github.com/sseload/sseload/reports"
	"github.com/sseload/sseload/reports/render"
	"github.com/sseload/sseload/scenarios"
	"github.com/sseload/sseload/topology"
)

// TopologyCompose runs origin, proxies and the load generator as containers
// on one compose network: one service per proxied target, generated from
// its config and its kind (see package compose; docker/compose.yaml is the
// same topology written by hand).
const TopologyCompose = "compose"

// composeMinFaultAt is the earliest a fault may be planned on the compose
// topology: the generator must be up and listening for the SIGUSR1 that
// marks it (before that, the signal would be lost, or end it) — a container
// start and a process start, tens of milliseconds, with a wide margin.
const composeMinFaultAt = time.Second

// runCompose is Run for the compose topology. The engine does not run in
// this process: the load generator is `sseload run SCENARIO --topology none`
// in a container on the compose network, given the whole scenario as a
// file and one --target per service, so no docker-proxy or published port
// sits on a measured path. It writes the .hlog files, reports and
// summary.json into dir through a bind mount; this side carries out the
// scenario's faults on the containers (each marked in the generator first),
// then records what only it knows — topology, scenario, the origin's
// configuration, each proxy's kind, version, config and its hash —
// evaluates the thresholds and rewrites the reports and summary.json.
//
// The project is torn down on every path out, including a failed start and
// cancellation; cancellation interrupts the generator like a Ctrl-C, so the
// results it measured are still written.
func runCompose(ctx context.Context, opts Options, dir string) (*Outcome, error) {
	sc := opts.Scenario
	if err := CheckCompose(opts); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSetup, err)
	}
	// Every config is checked, and its overrides applied, before anything
	// starts: a config that breaks its kind's contract costs nothing.
	proxies, err := prepareProxies(sc)
	if err != nil {
		return nil, err
	}
	if err := checkComposeFaults(sc, proxies); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSetup, err)
	}
	genScenario, err := generatorScenario(sc)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSetup, err)
	}

	logw := lineWriter(opts.Warn, "")
	d, err := compose.Detect(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSetup, err)
	}
	imgs, err := buildImages(ctx, d, proxies, opts.SelfBinary, logw)
	if err != nil {
		return nil, err
	}

	p, err := compose.Up(ctx, d, compose.Config{
		Images:     imgs,
		Proxies:    proxies,
		OriginArgs: originFlags(originConfig(sc)),
		Scenario:   genScenario,
		ResultsDir: dir,
		Nofile:     composeNofile(sc),
		Log:        logw,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSetup, err)
	}
	defer func() {
		if err := p.Down(); err != nil && opts.Warn != nil {
			opts.Warn(err.Error())
		}
	}()
	if opts.ProxyLogs != nil {
		defer func() {
			lctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			for _, pr := range proxies {
				if out, err := p.Logs(lctx, pr.Spec.Name, 0); err == nil {
					opts.ProxyLogs(pr.Spec.Name, string(out))
				}
			}
		}()
	}

	meta := reports.Meta{Targets: map[string]reports.TargetMeta{}}
	for _, pr := range proxies {
		v, err := p.ProxyVersion(ctx, pr.Spec.Name)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			p.SaveLogs()
			return nil, fmt.Errorf("%w: %w", ErrSetup, err)
		}
		meta.Targets[pr.Spec.Name] = reports.TargetMeta{
			Proxy:        v,
			ProxyKind:    pr.Kind.Name(),
			ConfigSHA256: pr.SHA256,
			ConfigFile:   pr.Spec.ConfigName(),
		}
	}

	// The generator's own table and "results:" line name container paths;
	// this side prints the summary instead.
	fctx, stopFaults := context.WithCancel(ctx)
	faults := startComposeFaults(fctx, p, sc, proxies, opts.Warn)
	code, err := p.RunLoadgen(ctx, composeLoadgenArgs(sc, opts), io.Discard, lineWriter(opts.Warn, "loadgen: "))
	stopFaults()
	faults.Wait()
	summaryFile := filepath.Join(dir, reports.SummaryFile)
	if err != nil {
		// Exit 3 after writing results is the generator's verdict on a
		// target (unusable), which this side draws again from the summary;
		// without results it is a failure of the generator itself.
		if _, serr := os.Stat(summaryFile); code != 3 || serr != nil {
			p.SaveLogs()
			return nil, err
		}
	}
	return containerOutcome(ctx, "the load generator", code, dir, TopologyCompose, meta, opts)
}

// containerOutcome reads the summary that the generator in a container
// (who: the compose generator, the swarm coordinator) wrote into dir after
// exiting with code, and completes it (completeSummary).
func containerOutcome(ctx context.Context, who string, code int, dir, topo string, meta reports.Meta, opts Options) (*Outcome, error) {
	sum, err := reports.ReadSummary(filepath.Join(dir, reports.SummaryFile))
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("interrupted before %s wrote results: %w", who, ctx.Err())
		}
		return nil, fmt.Errorf("%s exited with code %d without results: %w", who, code, err)
	}
	if err := completeSummary(&sum, dir, topo, meta, opts); err != nil {
		return nil, err
	}
	return &Outcome{Dir: dir, Summary: sum}, nil
}

// completeSummary records in the summary of a generator that ran in a
// container (--topology none, knowing the targets only as URLs) what only
// this side knows — the topology, scenario, the origin's configuration,
// each proxy's kind, version and config — diagnoses and evaluates the
// thresholds again, and rewrites the reports and summary.json in dir.
func completeSummary(sum *reports.Summary, dir, topo string, meta reports.Meta, opts Options) error {
	sc := opts.Scenario
	sum.Scenario = sc.Name
	sum.Topology = topo
	sum.SSELoadVersion = opts.Version
	sum.Command = opts.Command
	// The generator knew the origin only as a URL (--topology none).
	sum.Config = runConfig(sc)
	allowFailures(sum, sc.MaxFailed)
	for i := range sum.Targets {
		// A slow consumers' twin, "<target>~slow", shares its target's proxy.
		if m, ok := meta.Targets[strings.TrimSuffix(sum.Targets[i].Name, slowSuffix)]; ok {
			sum.Targets[i].Proxy = m.Proxy
			sum.Targets[i].ProxyKind = m.ProxyKind
			sum.Targets[i].ConfigSHA256 = m.ConfigSHA256
			sum.Targets[i].ConfigFile = m.ConfigFile
		}
	}
	// The diagnoses word causes and fixes by the proxy's kind, which the
	// generator did not know.
	sum.Diagnoses = reports.Diagnose(*sum)
	sum.Thresholds = reports.EvaluateThresholds(*sum, opts.Thresholds)
	if err := render.WriteReports(dir, *sum); err != nil && opts.Warn != nil {
		opts.Warn(err.Error())
	}
	if err := reports.WriteSummary(dir, *sum); err != nil {
		return err
	}
	return nil
}

// slowSuffix ends the name of a target's slow consumers (withSlowConsumers).
const slowSuffix = "~slow"

// CheckCompose refuses, before anything starts, what the compose topology
// cannot do, naming the flag and the topology; the CLI calls it before a
// compose run and reports its error as a usage error.
func CheckCompose(opts Options) error {
	if err := checkContainerTopology(opts, TopologyCompose, "the generator opens its streams from its container's own address"); err != nil {
		return err
	}
	if opts.ExternalFaults {
		return errors.New("--external-faults is for the generator inside the compose topology; with --topology compose, sseload carries the faults out itself")
	}
	if opts.Procs < 0 {
		return fmt.Errorf("--procs %d: want 0 (one generator process per %d streams) or a count", opts.Procs, streamsPerGenerator)
	}
	if len(opts.Scenario.TargetHeaders) > 0 {
		return errors.New("targets: headers of a target entry: on the compose topology the generator knows the targets by URL only; give them as top-level headers (or --header), which every target gets, or use --topology local")
	}
	return nil
}

// checkComposeFaults says whether the compose topology can carry out the
// scenario's faults: a proxy-reload needs a way to reload each proxy's
// container, and every fault comes after the generator can be told of it.
func checkComposeFaults(sc scenarios.Scenario, proxies []topology.Prepared) error {
	for _, f := range sc.ParsedFaults() {
		if f.At < composeMinFaultAt {
			return fmt.Errorf("faults: %s@%s: on the compose topology a fault comes at least %s after the start (the generator must be running to mark it)", f.Kind, f.At, composeMinFaultAt)
		}
		if f.Kind != scenarios.FaultProxyReload {
			continue
		}
		if len(proxies) == 0 {
			return fmt.Errorf("faults: %s: no proxied target in this run to reload", f.Kind)
		}
		for _, pr := range proxies {
			if c := pr.Kind.Container(pr.ContainerTLS()); c.ReloadSignal == "" && len(c.ReloadExec) == 0 {
				return fmt.Errorf("faults: %s: target %s: a %s proxy has no way to reload in a container on the compose topology", f.Kind, pr.Spec.Name, pr.Kind.Name())
			}
		}
	}
	return nil
}

// generatorScenario is the scenario file the generator container runs: sc
// whole, every key written (flags applied), except targets — it measures
// the --target URLs of the services, and a user's config path would not
// exist in its container. The reader's default targets stand in, unused by
// --topology none.
func generatorScenario(sc scenarios.Scenario) ([]byte, error) {
	sc.Targets = nil
	b, err := scenarios.Marshal(sc)
	if err != nil {
		return nil, fmt.Errorf("the generator's scenario: %w", err)
	}
	return b, nil
}

// proxyKinds lists the kinds of proxies, each once, in order.
func proxyKinds(proxies []topology.Prepared) []string {
	var kinds []string
	for _, pr := range proxies {
		if !slices.Contains(kinds, pr.Kind.Name()) {
			kinds = append(kinds, pr.Kind.Name())
		}
	}
	return kinds
}

// composeLoadgenArgs is the generator's command line: the scenario file
// (compose.ScenarioMount), one --target per service, results to the
// mounted directory, and what is not a scenario key. Thresholds are
// evaluated again on this side, after the summary is completed.
func composeLoadgenArgs(sc scenarios.Scenario, opts Options) []string {
	args := containerGeneratorArgs(sc, opts)
	if opts.Procs > 0 {
		args = append(args, "--procs="+strconv.Itoa(opts.Procs))
	}
	if len(sc.Faults) > 0 {
		// This side carries the faults out; a SIGUSR1 marks each.
		args = append(args, "--external-faults")
	}
	return args
}

// containerGeneratorArgs is the command line of a generator that runs in a
// container on the network of the origin and proxy services (compose and
// swarm): the scenario file (compose.ScenarioMount), one --target per
// service, results to the mounted directory, and the fields of sseload's
// origin.
func containerGeneratorArgs(sc scenarios.Scenario, opts Options) []string {
	args := []string{"run", compose.ScenarioMount, "--topology=none", "--no-progress", "--out=" + compose.ResultsMount}
	for _, t := range sc.Targets {
		args = append(args, "--target="+TargetArg(loadgen.Target{Name: t.Name, URL: compose.TargetURL(t) + "/events", HTTP2: t.HTTP2}))
	}
	if opts.StreamsPerConn > 1 {
		args = append(args, "--streams-per-conn="+strconv.Itoa(opts.StreamsPerConn))
	}
	if compose.HasTLS(sc.Targets) {
		// The run's CA, mounted in the generator's container: it trusts
		// that and the system's roots' absence changes nothing.
		args = append(args, "--ca-cert="+compose.CAFile)
	}
	if opts.TimestampField != "" {
		args = append(args, "--timestamp-field="+opts.TimestampField, "--timestamp-unit="+opts.TimestampUnit.String())
	}
	// The origin service is sseload's: its events carry "seq", so the
	// generator accounts for lost, duplicated and reordered events.
	seq := opts.SequenceField
	if seq == "" {
		seq = defaultSequenceField
	}
	args = append(args, "--sequence-field="+seq)
	// And "sent", its write time, which splits latency into the origin's
	// delay and the path's, when latency is read from its "sched".
	ts := opts.TimestampField
	if ts == "" {
		ts = defaultTimestampField
	}
	if sent := sentField(opts.SentField, opts.Topology, ts); sent != "" {
		args = append(args, "--sent-field="+sent)
	}
	if eng := composeEngine(opts); eng != "" {
		args = append(args, "--engine="+string(eng))
	}
	return args
}

// composeNofile is the descriptor limit for the services: one per stream
// per target for the generator and the origin (which serves the direct
// streams and every proxy's upstream ones), two per stream for a proxy,
// plus headroom; at least 20000, what nginx-sse.conf's worker_rlimit_nofile
// asks for. It is also the hard limit, which a container cannot have above
// the engine's own (dockerd's LimitNOFILE).
func composeNofile(sc scenarios.Scenario) int {
	need := max(sc.Connections*len(sc.Targets), 2*sc.Connections) + 1024
	return min(max(need, 20000), 1<<20)
}

// composeFaults carries out a scenario's faults on the compose topology's
// containers.
type composeFaults struct {
	p       *compose.Project
	plan    []scenarios.Fault
	down    time.Duration
	proxies []topology.Prepared
	say     func(string) // may be nil
	wg      sync.WaitGroup
}

// startComposeFaults runs the plan in the background until ctx ends: each
// fault at its time after the generator's container started (the
// generator's own start follows within milliseconds), marked in the
// generator first (SIGUSR1; it runs with --external-faults), then carried
// out. Wait waits for a fault in progress.
func startComposeFaults(ctx context.Context, p *compose.Project, sc scenarios.Scenario, proxies []topology.Prepared, say func(string)) *composeFaults {
	cf := &composeFaults{p: p, plan: sc.ParsedFaults(), down: sc.FaultDown, proxies: proxies, say: say}
	if len(cf.plan) == 0 {
		return cf
	}
	cf.wg.Add(1)
	go func() {
		defer cf.wg.Done()
		start, err := p.LoadgenStarted(ctx)
		if err != nil {
			return // the run ended before the generator started
		}
		onSchedule(ctx, start, cf.plan, func(f scenarios.Fault) {
			what, err := cf.inject(ctx, f)
			if err != nil {
				what = strings.TrimPrefix(what+"; ", "; ") + err.Error()
			}
			if cf.say != nil && what != "" {
				cf.say(fmt.Sprintf("fault %s at %s: %s", f.Kind, f.At, what))
			}
		})
	}()
	return cf
}

// Wait returns once no fault is in progress.
func (cf *composeFaults) Wait() { cf.wg.Wait() }

// inject marks f in the generator and carries it out, and says what it did.
func (cf *composeFaults) inject(ctx context.Context, f scenarios.Fault) (string, error) {
	if err := cf.p.Signal(ctx, compose.ServiceLoadgen, "USR1"); err != nil {
		return "", fmt.Errorf("not marked in the generator, not carried out: %w", err)
	}
	switch f.Kind {
	case scenarios.FaultOriginRestart:
		return cf.restartOrigin(ctx)
	case scenarios.FaultProxyReload:
		return cf.reloadProxies(ctx)
	}
	return "", fmt.Errorf("unknown fault %q", f.Kind)
}

// restartOrigin kills the origin's container with SIGKILL, waits down and
// starts it again: the same command, so the same --epoch and schedule, and
// the same address (compose.ServiceOriginNet); it replays what a stream
// missed by Last-Event-ID.
func (cf *composeFaults) restartOrigin(ctx context.Context) (string, error) {
	if err := cf.p.Signal(ctx, compose.ServiceOrigin, "KILL"); err != nil {
		return "", err
	}
	t := time.NewTimer(cf.down)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return "origin killed (SIGKILL); the run ended before it was due back", nil
	case <-t.C:
	}
	if err := cf.p.Start(ctx, compose.ServiceOrigin); err != nil {
		return "origin killed (SIGKILL)", fmt.Errorf("start it again: %w", err)
	}
	return fmt.Sprintf("origin killed (SIGKILL), started again %s later", cf.down), nil
}

// reloadProxies reloads every proxy's container the way its kind says.
func (cf *composeFaults) reloadProxies(ctx context.Context) (string, error) {
	var done []string
	for _, pr := range cf.proxies {
		name := pr.Spec.Name
		// More processes than a master and its workers: old workers of
		// an earlier reload still hold their streams.
		before, perr := cf.p.Processes(ctx, name)
		how, err := cf.p.Reload(ctx, name)
		if err != nil {
			return strings.Join(done, ", "), err
		}
		s := fmt.Sprintf("%s reloaded (%s", name, how)
		if perr == nil {
			s += fmt.Sprintf("; %d %s processes before", before, pr.Kind.Name())
		}
		done = append(done, s+")")
	}
	return strings.Join(done, ", "), nil
}

// lineWriter turns written text into one warn call per line, with the
// generator's own "sseload: " prefix replaced by prefix.
func lineWriter(warn func(string), prefix string) io.Writer {
	if warn == nil {
		return io.Discard
	}
	return &linesTo{warn: warn, prefix: prefix}
}

type linesTo struct {
	mu     sync.Mutex
	warn   func(string)
	prefix string
	part   []byte
}

func (l *linesTo) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.part = append(l.part, b...)
	for {
		i := bytes.IndexByte(l.part, '\n')
		if i < 0 {
			return len(b), nil
		}
		line := strings.TrimRight(string(l.part[:i]), "\r")
		l.part = l.part[i+1:]
		if line = strings.TrimPrefix(line, "sseload: "); line != "" {
			l.warn(l.prefix + line)
		}
	}
}

// composeEngine is the engine the compose topology's generator is told:
// the one chosen here (Options.Engine, else $SSELOAD_ENGINE), or "" for
// its own default (epoll: the container runs Linux). The CLI has
// already refused a bad $SSELOAD_ENGINE.
func composeEngine(opts Options) loadgen.EngineName {
	if opts.Engine != "" {
		return opts.Engine
	}
	eng, _ := loadgen.EngineFromEnv()
	return eng
}

// prepareProxies checks every proxied target's config and applies its
// overrides (topology.PrepareConfig) before anything starts, for the
// container topologies: a config that breaks its kind's contract costs
// nothing.
func prepareProxies(sc scenarios.Scenario) ([]topology.Prepared, error) {
	var proxies []topology.Prepared
	for _, t := range sc.Targets {
		if !t.Proxied() {
			continue
		}
		pr, err := topology.PrepareConfig(t, sc.ProxyReadTimeout)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrSetup, err)
		}
		proxies = append(proxies, pr)
	}
	return proxies, nil
}

// buildImages builds (or finds) the images of the container topologies:
// sseload's and one per proxy kind, or those named in the environment.
func buildImages(ctx context.Context, d *compose.Docker, proxies []topology.Prepared, selfBinary string, log io.Writer) (compose.Images, error) {
	sseloadImage, proxyImages := compose.NamedImages()
	imgs, err := compose.BuildImages(ctx, d, compose.BuildConfig{
		SSELoadImage: sseloadImage,
		Kinds:        proxyKinds(proxies),
		ProxyImages:  proxyImages,
		Binary:       selfBinary,
		Log:          log,
	})
	if err != nil {
		if ctx.Err() != nil { // a Ctrl-C during a build: interrupted, not failed
			err = ctx.Err()
		}
		return compose.Images{}, fmt.Errorf("%w: %w", ErrSetup, err)
	}
	return imgs, nil
}

// checkContainerTopology refuses what no container topology (topo:
// compose, swarm) can do: external targets, source addresses (sources
// says where the streams come from instead) and local proxy binaries.
func checkContainerTopology(opts Options, topo, sources string) error {
	if len(opts.External) > 0 {
		return errors.New("--target measures external endpoints and needs --topology none")
	}
	if len(opts.SourceAddrs) > 0 {
		return fmt.Errorf("--source-addrs: on the %s topology %s; leave it out, or use --topology local", topo, sources)
	}
	for _, kind := range slices.Sorted(maps.Keys(opts.Programs)) {
		if opts.Programs[kind] != "" {
			return fmt.Errorf("--%s %s: the %s binary is for the local topology; the %s topology runs %s from its image (%s names another image)", kind, opts.Programs[kind], kind, topo, kind, compose.ImageEnv(kind))
		}
	}
	return nil
}
