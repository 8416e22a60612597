package runner

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"

	"github.com/sseload/sseload/loadgen"
	"github.com/sseload/sseload/loadgen/procs"
	"github.com/sseload/sseload/targets"
)

// Generator is what opens and measures the streams of a run: the engine in
// this process, or several generator processes (loadgen/procs) merged into
// one. The progress display reads Snapshot; fault injection calls
// MarkFault.
type Generator interface {
	Run(ctx context.Context) (*loadgen.Result, error)
	Snapshot() loadgen.Snapshot
	MarkFault(name string)
}

var (
	_ Generator = (*loadgen.Engine)(nil)
	_ Generator = (*procs.Generator)(nil)
)

// Limits that decide how a run is split over processes. One process may
// hold at most 20,000 open files on the machines sseload targets (a hard
// limit an unprivileged user cannot raise), and a stream costs one: each
// process stays well below, leaving room for the process's own files.
const (
	// streamsPerGenerator is the most streams (all targets counted) one
	// generator process holds when Options.Procs is 0: the rule remote
	// workers report their capacity by, spelled in loadgen/procs.
	streamsPerGenerator = procs.StreamsPerProcess
	// streamsPerOrigin is the most streams one origin process serves; the
	// local topology starts more origin processes (shards, on ports of
	// their own, one schedule) past it.
	streamsPerOrigin = 15_000
)

// ceilDiv is ⌈a/b⌉ for positive b.
func ceilDiv(a, b int) int { return (a + b - 1) / b }

// originShards is how many origin processes the local topology starts for
// sc: one per 15,000 streams to the origin (every target's streams reach
// it, directly or through a proxy). Sharding needs a child process per
// shard, so an in-process origin (no OriginExec) is never sharded.
func originShards(opts Options) int {
	if opts.OriginExec == "" {
		return 1
	}
	return max(1, ceilDiv(opts.Scenario.Connections*len(opts.Scenario.Targets), streamsPerOrigin))
}

// totalStreams is the number of streams cfg opens, all targets counted.
func totalStreams(cfg loadgen.Config) int {
	n := 0
	for _, t := range cfg.Targets {
		if t.Connections > 0 {
			n += t.Connections
		} else {
			n += cfg.Connections
		}
	}
	return n
}

// generatorProcs is how many generator processes run cfg: opts.Procs when
// set, else one per 18,000 streams, and then at least one per origin shard
// so that the direct target's streams spread over every shard. Below
// 18,000 streams it is 1: the engine runs in this process, as it always
// has.
func generatorProcs(opts Options, cfg loadgen.Config, shards int) int {
	if opts.Procs > 0 {
		return opts.Procs
	}
	n := totalStreams(cfg)
	if n <= streamsPerGenerator {
		return 1
	}
	return max(ceilDiv(n, streamsPerGenerator), shards)
}

// shardURLs returns the per-process URL hook for a sharded origin: the
// direct target of generator process i goes to shard i mod K. Proxied
// targets keep their URL (their proxy balances over the shards). Nil when
// there is one origin.
func shardURLs(shards []string) func(int, loadgen.Target) string {
	if len(shards) < 2 {
		return nil
	}
	return func(i int, t loadgen.Target) string {
		if t.Name != targets.Direct {
			return ""
		}
		return "http://" + shards[i%len(shards)] + "/events"
	}
}

// newGenerator returns the generator for cfg: the in-process engine for
// one process, else a procs.Generator running `sseload worker` children.
//
// rootsPEM are the CAs cfg.TLSConfig trusts (nil: the system's), which
// generator processes load themselves.
func newGenerator(ctx context.Context, opts Options, cfg loadgen.Config, n int, childURL func(int, loadgen.Target) string, rootsPEM []byte) (Generator, error) {
	if len(opts.Workers) > 0 {
		return procs.New(ctx, procs.Options{
			Config:            cfg,
			Workers:           opts.Workers,
			Token:             opts.Token,
			RootCAs:           rootsPEM,
			TimeURL:           opts.TimeURL,
			NoClockCorrection: opts.NoClockCorrection,
		})
	}
	if n <= 1 {
		return loadgen.New(ctx, cfg)
	}
	if opts.WorkerExec == "" {
		return nil, errors.New("generator processes: no sseload binary to run them with (Options.WorkerExec); use --procs 1")
	}
	return procs.New(ctx, procs.Options{
		Config:    cfg,
		Procs:     n,
		Command:   func(int) *exec.Cmd { return exec.Command(opts.WorkerExec, "worker") },
		TargetURL: childURL,
		RootCAs:   rootsPEM,
	})
}

// CheckDistributed refuses what cannot work with remote workers
// (Options.Workers) or a segment, naming it.
func CheckDistributed(opts Options) error {
	if len(opts.Workers) == 0 {
		switch {
		case opts.Token != "":
			return errors.New("--token authenticates to remote workers: it needs --workers")
		case opts.TimeURL != "":
			return errors.New("--time-url is the remote workers' time source: it needs --workers")
		case opts.NoClockCorrection:
			return errors.New("--no-clock-correction concerns remote workers' clock offset: it needs --workers")
		}
		return nil
	}
	switch {
	case opts.Topology == TopologyCompose:
		return errors.New("--workers with --topology compose: the compose topology runs its generator in a container; use --topology local or none")
	case opts.Procs > 1:
		return fmt.Errorf("--workers with --procs %d: the remote workers are the generator processes; run `sseload worker --listen` more times instead", opts.Procs)
	case len(opts.SourceAddrs) > 0:
		return errors.New("--workers with --source-addr: source addresses belong to this machine, not the workers'")
	case opts.TimeURL != "" && opts.Topology != TopologyNone:
		return errors.New("--time-url with the local topology: sseload's own origin is the time source (GET /time); --time-url is for --topology none")
	}
	return nil
}

// splitNote says how a run is spread over processes, for the progress
// output; "" when it runs in one process on one origin.
func splitNote(gen Generator, cfg loadgen.Config, shards int) string {
	p, ok := gen.(*procs.Generator)
	if !ok {
		if shards > 1 {
			return fmt.Sprintf("the origin runs as %d processes (shards on ports of their own, one schedule)", shards)
		}
		return ""
	}
	if ws := p.Workers(); len(ws) > 0 {
		return fmt.Sprintf("the streams are opened by %d remote workers (%s), %d in all, shared by the CPUs and open file limit each reports", len(ws), strings.Join(ws, ", "), totalStreams(cfg))
	}
	note := fmt.Sprintf("the generator runs as %d processes (`sseload worker`), about %d streams each", p.Procs(), ceilDiv(totalStreams(cfg), p.Procs()))
	if shards > 1 {
		note += fmt.Sprintf("; the origin as %d (shards on ports of their own, one schedule)", shards)
	}
	return note
}
