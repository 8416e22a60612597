package runner

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/sseload/sseload/compose"
	"github.com/sseload/sseload/docker"
	"github.com/sseload/sseload/reports"
	"github.com/sseload/sseload/scenarios"
)

// TopologyCompose runs origin, proxies and the load generator as containers
// on one compose network (docker/compose.yaml).
const TopologyCompose = "compose"

// runCompose is Run for the compose topology. The engine does not run in
// this process: the load generator is `sseload run --topology none` in a
// container on the compose network, against the service names, so no
// docker-proxy or published port sits on a measured path. It writes the
// .hlog files, reports and summary.json into dir through a bind mount; this
// side then records what only it knows — topology, scenario, the origin's
// configuration, each proxy's version and config hash — evaluates the
// thresholds and rewrites the reports and summary.json.
//
// The project is torn down on every path out, including a failed start and
// cancellation; cancellation interrupts the generator like a Ctrl-C, so the
// results it measured are still written.
func runCompose(ctx context.Context, opts Options, dir string) (*Outcome, error) {
	sc := opts.Scenario
	if len(opts.External) > 0 {
		return nil, fmt.Errorf("%w: --target measures external endpoints and needs --topology none", ErrSetup)
	}
	logw := lineWriter(opts.Warn, "")
	d, err := compose.Detect(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSetup, err)
	}
	proxied := slices.ContainsFunc(sc.Targets, func(t string) bool { return t != "direct" })
	imgs, err := compose.BuildImages(ctx, d, compose.BuildConfig{
		SSELoadImage: os.Getenv(compose.EnvSSELoadImage),
		NginxImage:   os.Getenv(compose.EnvNginxImage),
		SkipNginx:    !proxied,
		Binary:       opts.SelfBinary,
		Log:          logw,
	})
	if err != nil {
		if ctx.Err() != nil { // a Ctrl-C during a build: interrupted, not failed
			err = ctx.Err()
		}
		return nil, fmt.Errorf("%w: %w", ErrSetup, err)
	}

	services := []string{compose.ServiceOrigin}
	for _, t := range sc.Targets {
		if t != "direct" {
			services = append(services, t)
		}
	}
	p, err := compose.Up(ctx, d, compose.Config{
		Images:     imgs,
		Services:   services,
		OriginArgs: originFlags(originConfig(sc)),
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

	meta := reports.Meta{Targets: map[string]reports.TargetMeta{}}
	for _, t := range sc.Targets {
		if t == "direct" {
			continue
		}
		v, err := p.ProxyVersion(ctx, t)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			p.SaveLogs()
			return nil, fmt.Errorf("%w: %w", ErrSetup, err)
		}
		conf, err := docker.NginxConfigs.ReadFile("nginx/" + t + ".conf")
		if err != nil {
			return nil, fmt.Errorf("%s: embedded config: %w", t, err)
		}
		sum := sha256.Sum256(conf)
		meta.Targets[t] = reports.TargetMeta{Proxy: v, ConfigSHA256: hex.EncodeToString(sum[:])}
	}

	// The generator's own table and "results:" line name container paths;
	// this side prints the summary instead.
	code, err := p.RunLoadgen(ctx, composeLoadgenArgs(sc, opts), io.Discard, lineWriter(opts.Warn, "loadgen: "))
	if err != nil {
		p.SaveLogs()
		return nil, err
	}
	sum, err := reports.ReadSummary(filepath.Join(dir, "summary.json"))
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("interrupted before the load generator wrote results: %w", ctx.Err())
		}
		return nil, fmt.Errorf("load generator exited with code %d without results: %w", code, err)
	}
	sum.Scenario = sc.Name
	sum.Topology = TopologyCompose
	sum.SSELoadVersion = opts.Version
	sum.Command = opts.Command
	sum.Config = runConfig(sc)
	for i := range sum.Targets {
		if m, ok := meta.Targets[sum.Targets[i].Name]; ok {
			sum.Targets[i].Proxy = m.Proxy
			sum.Targets[i].ConfigSHA256 = m.ConfigSHA256
		}
	}
	sum.Thresholds = reports.EvaluateThresholds(sum, opts.Thresholds)
	if err := reports.WriteReports(dir, sum); err != nil && opts.Warn != nil {
		opts.Warn(err.Error())
	}
	if err := reports.WriteSummary(dir, sum); err != nil {
		return nil, err
	}
	return &Outcome{Dir: dir, Summary: sum}, nil
}

// composeLoadgenArgs is the generator's command line: the scenario's
// figures as flags (the origin's too, which plan the run's length), one
// --target per service, results to the mounted directory. Thresholds are
// evaluated on this side, after the summary is completed.
func composeLoadgenArgs(sc scenarios.Scenario, opts Options) []string {
	args := []string{"run", "--topology=none", "--no-progress", "--out=" + compose.ResultsMount,
		"--mode=" + sc.Mode,
		"--interval=" + sc.Interval.String(),
		"--events=" + strconv.Itoa(sc.Events),
		"--payload=" + strconv.Itoa(sc.Payload),
		"--connections=" + strconv.Itoa(sc.Connections),
		"--ramp=" + strconv.FormatFloat(sc.Ramp, 'g', -1, 64),
		"--duration=" + sc.Duration.String(),
		"--max-event-bytes=" + strconv.Itoa(sc.MaxEventBytes),
	}
	for _, t := range sc.Targets {
		svc := compose.ServiceOrigin
		if t != "direct" {
			svc = t
		}
		args = append(args, "--target="+t+"="+compose.ServiceURL(svc)+"/events")
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
	return args
}

// composeNofile is the descriptor limit for the origin, nginx-sse and the
// generator: one per stream per target for the generator and the origin
// (which serves the direct streams and every proxy's upstream ones), two per
// stream for a proxy, plus headroom; at least 20000, what nginx-sse.conf's
// worker_rlimit_nofile asks for. It is also the hard limit, which a
// container cannot exceed the engine's own (dockerd's LimitNOFILE).
func composeNofile(sc scenarios.Scenario) int {
	need := max(sc.Connections*len(sc.Targets), 2*sc.Connections) + 1024
	return min(max(need, 20000), 1<<20)
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
