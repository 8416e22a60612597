package runner

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/sseload/sseload/loadgen"
	"github.com/sseload/sseload/reports"
	"github.com/sseload/sseload/scenarios"
)

// faultHooks are the actions fault injection takes on the topology.
type faultHooks struct {
	// restartOrigin kills every origin process with SIGKILL, waits down
	// and starts them again on the same addresses and schedule.
	restartOrigin func(ctx context.Context, down time.Duration) error
	// reloadProxies reloads every nginx target and says what it did.
	reloadProxies func() (string, error)
}

// faultInjector runs a scenario's faults on schedule during a run.
type faultInjector struct {
	plan  []scenarios.Fault
	down  time.Duration
	hooks faultHooks
	gen   Generator
	say   func(string)

	wg sync.WaitGroup
}

// checkFaults says, before anything starts, whether the topology can
// inject the scenario's faults.
func checkFaults(opts Options) error {
	plan := opts.Scenario.ParsedFaults()
	if len(plan) == 0 {
		return nil
	}
	if opts.Topology != TopologyLocal && opts.Topology != "" {
		return fmt.Errorf("faults (%s) are injected on the local topology only; run with --topology local", strings.Join(opts.Scenario.Faults, ", "))
	}
	for _, f := range plan {
		if f.Kind == scenarios.FaultOriginRestart && opts.OriginExec == "" {
			return fmt.Errorf("fault %s needs the origin in a process of its own, and this sseload cannot start one (no executable path)", f.Kind)
		}
	}
	return nil
}

// start runs the plan from start (the run's start) in the background until
// ctx ends. Wait waits for a fault in progress to finish.
func (fi *faultInjector) start(ctx context.Context, start time.Time) {
	if len(fi.plan) == 0 {
		return
	}
	fi.wg.Add(1)
	go func() {
		defer fi.wg.Done()
		timer := time.NewTimer(0)
		defer timer.Stop()
		<-timer.C
		for _, f := range fi.plan {
			timer.Reset(time.Until(start.Add(f.At)))
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
			fi.inject(ctx, f)
		}
	}()
}

// inject marks fault f in the generator and carries it out.
func (fi *faultInjector) inject(ctx context.Context, f scenarios.Fault) {
	fi.gen.MarkFault(f.Kind)
	switch f.Kind {
	case scenarios.FaultOriginRestart:
		if err := fi.hooks.restartOrigin(ctx, fi.down); err != nil {
			fi.say(fmt.Sprintf("fault %s at %s: %v", f.Kind, f.At, err))
		}
	case scenarios.FaultProxyReload:
		what, err := fi.hooks.reloadProxies()
		if err != nil {
			fi.say(fmt.Sprintf("fault %s at %s: %v", f.Kind, f.At, err))
			return
		}
		fi.say(fmt.Sprintf("fault %s at %s: %s", f.Kind, f.At, what))
	}
}

// wait returns once no fault is in progress.
func (fi *faultInjector) wait() { fi.wg.Wait() }

// faultHooks returns the actions faults take on this topology.
func (t *startedTopology) faultHooks() faultHooks {
	return faultHooks{
		restartOrigin: func(ctx context.Context, down time.Duration) error {
			if t.origins == nil {
				return errors.New("no local origin to restart")
			}
			return t.origins.restart(ctx, down)
		},
		reloadProxies: func() (string, error) {
			if t.local == nil {
				return "", errors.New("no local nginx to reload")
			}
			var done []string
			for _, tg := range t.local.Targets() {
				if tg.Proxy == "" {
					continue
				}
				before := t.local.Processes(tg.Name)
				if err := t.local.Reload(tg.Name); err != nil {
					return strings.Join(done, ", "), err
				}
				// More processes than a master and its workers: old
				// workers of an earlier reload still hold their streams.
				done = append(done, fmt.Sprintf("%s reloaded (%d nginx processes before)", tg.Name, before))
			}
			if len(done) == 0 {
				return "", errors.New("no nginx target in this run to reload")
			}
			return strings.Join(done, ", "), nil
		},
	}
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
