package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/sseload/sseload/compose"
	"github.com/sseload/sseload/origin"
	"github.com/sseload/sseload/reports"
	"github.com/sseload/sseload/swarm"
)

// TopologySwarm runs the compose topology's origin and proxies and
// Options.SwarmWorkers generator workers as a stack on the current Docker
// swarm, and the coordinator in a container on the stack's network (see
// package swarm).
const TopologySwarm = "swarm"

// DefaultSwarmWorkers is the number of worker replicas a swarm run deploys
// when Options.SwarmWorkers is 0.
const DefaultSwarmWorkers = 3

// runSwarm is Run for the swarm topology. As on the compose topology, the
// engine does not run in this process: the coordinator is `sseload run
// SCENARIO --topology none --workers dns:tasks.worker:PORT` in a container
// on the stack's overlay network, given the whole scenario as a file, one
// --target per service and the stack's random token in its environment;
// it splits the streams over the worker replicas, merges their results by
// value and writes one results directory into dir through a bind mount.
// This side then completes the summary as for compose (completeSummary).
//
// The stack is removed on every path out, including a failed start and
// cancellation; cancellation interrupts the coordinator like a Ctrl-C, so
// what the workers measured is still written.
func runSwarm(ctx context.Context, opts Options, dir string) (*Outcome, error) {
	sc := opts.Scenario
	if err := CheckSwarm(opts); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSetup, err)
	}
	proxies, err := prepareProxies(sc)
	if err != nil {
		return nil, err
	}
	genScenario, err := generatorScenario(sc)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSetup, err)
	}
	logw := lineWriter(opts.Warn, "")
	d, err := compose.DetectEngine(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSetup, err)
	}
	if err := swarm.InSwarm(ctx, d); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSetup, err)
	}
	imgs, err := buildImages(ctx, d, proxies, opts.SelfBinary, logw)
	if err != nil {
		return nil, err
	}
	token, err := swarm.NewToken()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSetup, err)
	}
	workers := opts.SwarmWorkers
	if workers == 0 {
		workers = DefaultSwarmWorkers
	}
	st, err := swarm.Deploy(ctx, d, swarm.Config{
		Images:     imgs,
		Proxies:    proxies,
		OriginArgs: originFlags(originConfig(sc)),
		Workers:    workers,
		Token:      token,
	}, dir, logw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSetup, err)
	}
	defer func() {
		if err := st.Remove(); err != nil && opts.Warn != nil {
			opts.Warn(err.Error())
		}
	}()

	meta := reports.Meta{Targets: map[string]reports.TargetMeta{}}
	for _, pr := range proxies {
		k := pr.Kind
		out, err := st.ImageVersion(ctx, imgs.Proxies[k.Name()], append([]string{k.Binary()}, k.VersionArgs()...))
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("%w: target %s: %w", ErrSetup, pr.Spec.Name, err)
		}
		v, err := k.ParseVersion(out)
		if err != nil {
			return nil, fmt.Errorf("%w: target %s: %w", ErrSetup, pr.Spec.Name, err)
		}
		meta.Targets[pr.Spec.Name] = reports.TargetMeta{
			Proxy:        v,
			ProxyKind:    k.Name(),
			ConfigSHA256: pr.SHA256,
			ConfigFile:   pr.Spec.ConfigName(),
		}
	}

	// The workers measure their clock offset against the origin's GET
	// /time: on several nodes their clocks are not the origin's.
	args := append(containerGeneratorArgs(sc, opts), "--workers="+swarm.WorkersDNS, "--time-url="+compose.OriginURL+origin.TimePath)
	if opts.NoClockCorrection {
		args = append(args, "--no-clock-correction")
	}
	code, err := st.RunCoordinator(ctx, args, genScenario, dir, "", io.Discard, lineWriter(opts.Warn, "coordinator: "))
	summaryFile := filepath.Join(dir, reports.SummaryFile)
	if err != nil {
		st.SaveLogs(dir)
		return nil, err
	}
	if code != 0 && code != 1 && code != 130 {
		if _, serr := os.Stat(summaryFile); code != 3 || serr != nil {
			st.SaveLogs(dir)
			return nil, fmt.Errorf("the coordinator exited with code %d without results (the services' last log lines are in %s)", code, filepath.Join(dir, "<service>.log"))
		}
	}
	return containerOutcome(ctx, "the coordinator", code, dir, TopologySwarm, meta, opts)
}

// CheckSwarm refuses, before anything starts, what the swarm topology
// cannot do, naming the flag; the CLI reports its error as a usage error.
func CheckSwarm(opts Options) error {
	if err := checkContainerTopology(opts, TopologySwarm, "each worker opens its streams from its task's own address"); err != nil {
		return err
	}
	if opts.ExternalFaults {
		return errors.New("--external-faults is for the generator inside the compose topology, not the swarm topology")
	}
	if len(opts.Scenario.Faults) > 0 {
		return errors.New("faults: the swarm topology does not carry out faults (its origin and proxies run as swarm tasks, which a kill would reschedule elsewhere): remove the scenario's faults, or use --topology compose or local")
	}
	if opts.Procs != 0 {
		return fmt.Errorf("--procs %d: on the swarm topology each worker replica is one generator; choose their number with --swarm-workers", opts.Procs)
	}
	if len(opts.Workers) > 0 || opts.Token != "" || opts.TimeURL != "" || opts.SegmentCount > 0 {
		return errors.New("--workers, --token, --time-url, --segment: the swarm topology deploys its own workers, gives them a token of its own and times them against its origin; leave them out (--swarm-workers sets how many), or use --topology local or none")
	}
	if len(opts.Scenario.TargetHeaders) > 0 {
		return errors.New("targets: headers of a target entry: on the swarm topology the workers know the targets by URL only; give them as top-level headers (or --header), which every target gets, or use --topology local")
	}
	for _, t := range opts.Scenario.Targets {
		if t.TLS {
			return fmt.Errorf("targets: %s: tls/http2 targets are not deployed on the swarm topology yet (its proxies get no certificate); measure them with --topology local or compose", t.Name)
		}
	}
	if opts.SwarmWorkers < 0 {
		return fmt.Errorf("--swarm-workers %d: want a number of worker replicas (0 = %d)", opts.SwarmWorkers, DefaultSwarmWorkers)
	}
	return nil
}
