package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/sseload/sseload/scenarios"
)

// faultInjector runs a scenario's faults on schedule during a run.
type faultInjector struct {
	plan []scenarios.Fault
	down time.Duration
	topo *startedTopology // what the faults act on
	gen  Generator
	say  func(string) // may be nil
	// marks, when set, says someone else carries the faults out: each
	// signal on it marks the next one (Options.ExternalFaults).
	marks chan os.Signal

	wg sync.WaitGroup
}

// checkFaults says, before anything starts, whether the topology can
// inject the scenario's faults.
func checkFaults(opts Options) error {
	plan := opts.Scenario.ParsedFaults()
	if len(plan) == 0 || opts.ExternalFaults {
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
	if fi.marks != nil {
		fi.markOnSignal(ctx)
		return
	}
	fi.wg.Add(1)
	go func() {
		defer fi.wg.Done()
		onSchedule(ctx, start, fi.plan, func(f scenarios.Fault) { fi.inject(ctx, f) })
	}()
}

// onSchedule calls do with each fault of plan at start + its time, in
// order, until ctx ends; a fault in progress delays the next.
func onSchedule(ctx context.Context, start time.Time, plan []scenarios.Fault, do func(scenarios.Fault)) {
	for _, f := range plan {
		timer := time.NewTimer(time.Until(start.Add(f.At)))
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
		do(f)
	}
}

// inject marks fault f in the generator and carries it out.
func (fi *faultInjector) inject(ctx context.Context, f scenarios.Fault) {
	fi.gen.MarkFault(f.Kind)
	var what string
	var err error
	switch f.Kind {
	case scenarios.FaultOriginRestart:
		err = fi.topo.restartOrigin(ctx, fi.down)
	case scenarios.FaultProxyReload:
		what, err = fi.topo.reloadProxies()
	}
	if err != nil {
		what = err.Error()
	}
	if what != "" && fi.say != nil {
		fi.say(fmt.Sprintf("fault %s at %s: %s", f.Kind, f.At, what))
	}
}

// wait returns once no fault is in progress.
func (fi *faultInjector) wait() { fi.wg.Wait() }

// restartOrigin kills every origin process with SIGKILL, waits down and
// starts them again on the same addresses and schedule.
func (t *startedTopology) restartOrigin(ctx context.Context, down time.Duration) error {
	if t.origins == nil {
		return errors.New("no local origin to restart")
	}
	return t.origins.restart(ctx, down)
}

// reloadProxies reloads every proxied target, each the way its kind does
// it, and says what it did.
func (t *startedTopology) reloadProxies() (string, error) {
	if t.local == nil {
		return "", errors.New("no local proxy to reload")
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
		// More processes than a master and its workers: old workers of
		// an earlier reload still hold their streams.
		done = append(done, fmt.Sprintf("%s reloaded (%d %s processes before)", tg.Name, before, tg.Kind))
	}
	if len(done) == 0 {
		return "", errors.New("no proxied target in this run to reload")
	}
	return strings.Join(done, ", "), nil
}

// markOnSignal marks the plan's faults in order, one per signal on
// fi.marks, until ctx ends: the faults themselves happen outside this
// process.
func (fi *faultInjector) markOnSignal(ctx context.Context) {
	sig := fi.marks
	fi.wg.Add(1)
	go func() {
		defer fi.wg.Done()
		for _, f := range fi.plan {
			select {
			case <-ctx.Done():
				return
			case <-sig:
			}
			fi.gen.MarkFault(f.Kind)
			if fi.say != nil {
				fi.say(fmt.Sprintf("fault %s at %s: marked", f.Kind, f.At))
			}
		}
	}()
}
