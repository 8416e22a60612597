package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"

	"github.com/sseload/sseload/capacity"
	"github.com/sseload/sseload/loadgen"
	"github.com/sseload/sseload/reports"
	"github.com/sseload/sseload/reports/render"
	"github.com/sseload/sseload/runner"
	"github.com/sseload/sseload/scenarios"
	"github.com/sseload/sseload/targets"
)

const capacityExamples = `
Examples:
  sseload capacity steady --target nginx-stock --x-accel          # Debian's nginx defaults: the worker_connections knee
  sseload capacity steady --target nginx-sse --max 20000
  sseload capacity steady --target haproxy-stock
  sseload capacity steady --proxy edge=haproxy:./deploy/haproxy.cfg --target edge
  sseload capacity --target direct --slo 'latency.p99 < 20ms' --slo 'time_to_headers.p99 < 1s'
  sseload capacity --topology none --target app=http://127.0.0.1:8080/events --timestamp-field ts

Finds the largest number of streams the target carries while every connection is
established, none fails, and every SLO holds (default: latency.p99 < 100ms; --slo
replaces it; syntax as 'sseload run --threshold'). Steps grow x2 from --start until
one fails, then bisect to within 5 %%. Each step is a fresh steady broadcast run of
the scenario through the local topology with only that target (or the --target URL
with --topology none): ramp (at most %v), then hold for --duration (default %v).
`

// capacityCmd is `sseload capacity`: the origin and topology flags of
// `sseload run`, plus the search's own; the search is capacity.Run.
func capacityCmd(args []string, stdout, stderr io.Writer) (int, error) {
	f := newRunFlags(stderr)
	fs := f.fs
	fs.Init("capacity", pflag.ContinueOnError)
	var slos []string
	var maxN, start int
	fs.StringArrayVar(&slos, "slo", nil, "rule every step must meet, [TARGET:]METRIC OP VALUE (repeatable; replaces the default 'latency.p99 < 100ms')")
	fs.IntVar(&maxN, "max", capacity.DefaultMax, "largest stream count to try")
	fs.IntVar(&start, "start", capacity.DefaultStart, "first stream count; steps double from here")
	// Flags of `run` that the search decides, or that have another meaning here.
	notHere := map[string]string{
		"connections":      "the search chooses the stream count: use --start and --max",
		"only":             "capacity measures one target: use --target NAME",
		"threshold":        "use --slo for the rules every step must meet",
		"require-reliable": "each step's harness verdict is in the steps table and summary.json",
		"swarm-workers":    "capacity runs on the local topology or against --topology none",
		// Distributed runs are `sseload run`'s (docs/distributed.md).
		"workers":             "the search runs on this machine; remote workers are for sseload run",
		"token":               "the search runs on this machine; remote workers are for sseload run",
		"time-url":            "the search runs on this machine; remote workers are for sseload run",
		"no-clock-correction": "the search runs on this machine; remote workers are for sseload run",
		"segment":             "the search decides the stream count; segments are for sseload run",
	}
	for name := range notHere {
		if fl := fs.Lookup(name); fl != nil {
			fl.Hidden = true
		}
	}
	if fl := fs.Lookup("target"); fl != nil {
		fl.Usage = "the target to measure: a built-in target (" + strings.Join(targets.PresetNames(), ", ") + ") or a --proxy one on the local topology, or NAME=URL with --topology none"
	}
	if fl := fs.Lookup("duration"); fl != nil {
		fl.Usage = fmt.Sprintf("how long each step holds its streams after the ramp (default %v)", capacity.DefaultHold)
	}
	if fl := fs.Lookup("out"); fl != nil {
		fl.Usage = "results directory, new or empty (default results/capacity-<target>-<UTC time>)"
	}
	fs.Usage = func() {
		showHelp(stdout, fs, fmt.Sprintf("Usage: sseload capacity [SCENARIO] --target NAME [--slo EXPR ...] [--max N] [--start N] [flags]\n\nFlags:\n%s", fs.FlagUsages())+
			fmt.Sprintf(capacityExamples, capacity.DefaultMaxRamp, capacity.DefaultHold))
	}
	if err := fs.Parse(args); err != nil {
		if err == pflag.ErrHelp {
			return exitOK, nil
		}
		return exitUsage, usageError{err}
	}
	for name, why := range notHere {
		if fs.Changed(name) {
			return exitUsage, usagef("capacity: --%s: %s", name, why)
		}
	}
	if fs.NArg() > 1 {
		return exitUsage, usagef("capacity takes one scenario, got %q", fs.Args())
	}
	if err := f.checkTopologyFlags(); err != nil {
		return exitUsage, err
	}
	ref := scenarios.DefaultName
	if fs.NArg() == 1 {
		ref = fs.Arg(0)
	}
	// As with run: --topology none without a scenario named is ad hoc,
	// labelled so; each step sets its own streams and hold.
	f.noneDefaults = f.topology == runner.TopologyNone && fs.NArg() == 0
	sc, err := f.scenario(ref)
	if err != nil {
		return exitUsage, err
	}
	if sc.Mode != scenarios.ModeBroadcast {
		return exitUsage, usagef("capacity: %s has mode %s: each step is a steady broadcast; use --mode broadcast", sc.Source, sc.Mode)
	}
	hold := capacity.DefaultHold
	if fs.Changed("duration") {
		if f.duration <= 0 {
			return exitUsage, usagef("capacity: --duration %v: each step must hold its streams for a while, e.g. 5s", f.duration)
		}
		hold = f.duration
	}
	plan := capacity.Plan{Start: start, Max: maxN}
	if err := plan.Validate(); err != nil {
		return exitUsage, usageError{err}
	}

	var target string
	var external []loadgen.Target
	switch {
	case len(f.targets) != 1:
		return exitUsage, usagef("capacity: name exactly one --target: a built-in target (%s), a --proxy target, or NAME=URL with --topology none", strings.Join(targets.PresetNames(), ", "))
	case f.topology == runner.TopologyNone:
		tg, err := f.externalTarget(f.targets[0])
		if err != nil {
			return exitUsage, usageError{err}
		}
		target, external = tg.Name, []loadgen.Target{tg}
	case f.topology == runner.TopologyLocal:
		target = f.targets[0]
		if strings.Contains(target, "=") {
			return exitUsage, usagef("capacity: --target %q is an external endpoint: add --topology none", target)
		}
		if _, ok := targets.Find(sc.Targets, target); !ok {
			if _, ok := targets.Preset(target); !ok {
				return exitUsage, usagef("capacity: --target %q: %v (or a --proxy target, or NAME=URL with --topology none)", target, targets.UnknownPreset(target))
			}
		}
	default:
		return exitUsage, usagef("capacity: --topology %q: capacity runs on %s or %s", f.topology, runner.TopologyLocal, runner.TopologyNone)
	}

	var ths []reports.Threshold
	if len(slos) > 0 {
		if ths, err = reports.ParseThresholds(slos); err != nil {
			return exitUsage, usagef("--slo: %v", err)
		}
		if err := reports.CheckThresholdTargets(ths, []string{target}); err != nil {
			return exitUsage, usagef("--slo: %v", err)
		}
	}
	unit, sources, err := f.measureFlags()
	if err != nil {
		return exitUsage, err
	}
	live, err := f.startLiveAndOut()
	if err != nil {
		return exitUsage, err
	}

	ctx, stop := interruptible(stderr, "stopping the step and writing the steps measured so far")
	defer stop()
	// One exporter for the whole search: each step is a run, and its
	// counters count on from the steps before (nextRun).
	defer live.stop(ctx, stderr)

	warn := func(msg string) { fmt.Fprintf(stderr, "sseload: %s\n", msg) }
	nstep := 0
	base := f.runOptions(sc, external, unit, sources)
	base.Warn = warn
	base.Sinks = live.sinks()
	opts := capacity.Options{
		Base:    base,
		Target:  target,
		SLOs:    ths,
		Plan:    plan,
		Hold:    hold,
		MaxRamp: capacity.DefaultMaxRamp,
		OutDir:  f.out,
		StepDone: func(s reports.CapacityStep) {
			live.nextRun()
			nstep++
			streams := "streams"
			if s.Connections == 1 {
				streams = "stream"
			}
			if s.OK {
				p99 := "no latency samples"
				if s.P99US != nil {
					p99 = "latency p99 " + reports.FormatMicros(*s.P99US)
				}
				fmt.Fprintf(stderr, "step %d: %d %s: ok (%s)\n", nstep, s.Connections, streams, p99)
				return
			}
			fmt.Fprintf(stderr, "step %d: %d %s: FAIL (%s)\n", nstep, s.Connections, streams, strings.Join(s.Failed, "; "))
		},
	}
	fmt.Fprintf(stderr, "sseload capacity: %s from %d streams, each step a %v hold after the ramp\n", target, plan.Start, hold)
	out, err := capacity.Run(ctx, opts)
	if out != nil {
		if werr := render.WriteCapacityText(stdout, *out.Summary.Capacity); werr != nil {
			return exitNotComplete, werr
		}
		fmt.Fprintf(stdout, "\nresults: %s\n", out.Dir)
	}
	switch {
	case err != nil && errors.Is(err, context.Canceled):
		return exitInterrupted, err
	case err != nil:
		return exitNotComplete, err
	case out.Summary.Capacity.MaxOK == 0:
		return exitThreshold, nil
	}
	return exitOK, nil
}
