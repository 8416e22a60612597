package capacity

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"github.com/sseload/sseload/reports"
	"github.com/sseload/sseload/runner"
	"github.com/sseload/sseload/targets"
)

// Step defaults. A step is a short steady run: ramp, then hold every stream
// for Hold. At 1 event/s a 5 s hold gives each stream five events (a p99
// over 5·N samples) and is long enough for a proxy that accepted a stream
// but cannot serve it to show it; the ramp is the scenario's rate but never
// longer than MaxRamp, so a large step does not spend most of its time
// ramping. A step costs about ramp + hold + 1 s of topology start and stop:
// the acceptance search (8 steps up to 800 streams through nginx-stock)
// takes well under two minutes.
const (
	DefaultHold    = 5 * time.Second
	DefaultMaxRamp = 5 * time.Second
)

// DefaultSLOs are checked when Options.SLOs is nil. "All connections
// established, none failed" is checked on every step in any case: it is
// what carrying N streams means.
var defaultSLOs = []string{"latency.p99 < 100ms"}

// DefaultSLOs returns the default SLO expressions.
func DefaultSLOs() []string { return append([]string(nil), defaultSLOs...) }

// Options is one capacity search.
type Options struct {
	// Base is the run every step starts from: the scenario (origin mode,
	// interval, payload, X-Accel-Buffering), the topology and its settings.
	// Each step sets the scenario's Connections, Duration, Ramp and Targets,
	// and the run's OutDir and Thresholds.
	Base runner.Options
	// Target names the one target measured: a local topology target
	// (a built-in or one of Base.Scenario's targets), or the name of Base.External's only
	// entry for topology none.
	Target string
	// SLOs must all hold on a step for it to count as carried; nil means
	// DefaultSLOs.
	SLOs []reports.Threshold
	Plan Plan
	// Hold is how long a step holds its streams after the ramp; 0 = DefaultHold.
	Hold time.Duration
	// MaxRamp bounds a step's ramp time; 0 = DefaultMaxRamp.
	MaxRamp time.Duration
	// OutDir is the results directory: summary.json with the capacity
	// block, and one sub-directory per step. "" = results/capacity-<target>-<UTC time>.
	OutDir string
	// StepDone, when set, is called after each step with its result.
	StepDone func(reports.CapacityStep)
}

// Outcome is what a search produced; Summary.Capacity holds the answer.
type Outcome struct {
	Dir     string
	Summary reports.Summary
}

// step is one measured count with what the reason needs beyond the JSON.
type step struct {
	rep      reports.CapacityStep
	sum      reports.Summary // the step's summary.json
	target   reports.Target
	sloFails []reports.ThresholdResult
	// proxyLimit is the proxy's own line about a limit (nginx's "N
	// worker_connections are not enough", "Too many open files") when the
	// target's log had one, proxyLimitCount how often, and proxyKind the
	// kind whose log it is.
	proxyLimit      string
	proxyLimitCount int
	proxyKind       string
}

// proxyLimitRE matches a proxy's own words for running out of connection
// slots or descriptors: nginx's worker_connections alert, and the
// "Too many open files" of an accept() at the descriptor limit (nginx,
// HAProxy and Caddy all print the system's message), or HAProxy's
// "reached process FD limit".
var proxyLimitRE = regexp.MustCompile(`\d+ worker_connections are not enough|[Tt]oo many open files|reached (?:process|system) FD limit`)

// Run searches for the target's capacity, writes the results directory and
// returns the summary. When ctx is cancelled the steps measured so far are
// written with Interrupted set, and the error is ctx's.
func Run(ctx context.Context, opts Options) (*Outcome, error) {
	if opts.Target == "" {
		return nil, errors.New("capacity: no target: name one with --target NAME")
	}
	if err := opts.Plan.Validate(); err != nil {
		return nil, err
	}
	slos := opts.SLOs
	if slos == nil {
		var err error
		if slos, err = reports.ParseThresholds(defaultSLOs); err != nil {
			return nil, err
		}
	}
	if err := reports.CheckThresholdTargets(slos, []string{opts.Target}); err != nil {
		return nil, fmt.Errorf("--slo: %w", err)
	}
	hold, maxRamp := opts.Hold, opts.MaxRamp
	if hold <= 0 {
		hold = DefaultHold
	}
	if maxRamp <= 0 {
		maxRamp = DefaultMaxRamp
	}
	dir := opts.OutDir
	if dir == "" {
		dir = filepath.Join("results", fmt.Sprintf("capacity-%s-%s", opts.Target, time.Now().UTC().Format("20060102T150405Z")))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("results directory %s: %w", dir, err)
	}

	var steps []*step
	probe := ProbeFunc(func(ctx context.Context, n int) (bool, error) {
		ro := opts.Base
		sc := ro.Scenario
		sc.Connections = n
		sc.Duration = hold
		sc.Ramp = max(sc.Ramp, float64(n)/maxRamp.Seconds())
		if ro.Topology != runner.TopologyNone {
			spec, ok := targets.Find(sc.Targets, opts.Target)
			if !ok {
				if spec, ok = targets.Preset(opts.Target); !ok {
					return false, targets.UnknownPreset(opts.Target)
				}
			}
			sc.Targets = []targets.Spec{spec}
		}
		ro.Scenario = sc
		ro.Thresholds = slos
		sub := "step-" + strconv.Itoa(n)
		ro.OutDir = filepath.Join(dir, sub)
		var errorLog string
		kind := ""
		if spec, ok := targets.Find(sc.Targets, opts.Target); ok {
			kind = spec.Kind
		}
		ro.ProxyLogs = func(name, log string) {
			if name == opts.Target {
				errorLog = log
			}
		}
		out, err := runner.Run(ctx, ro)
		if err != nil {
			return false, err
		}
		if out.Summary.Interrupted {
			// An interrupted step measured less than it claims: leave it out.
			if err := ctx.Err(); err != nil {
				return false, err
			}
			return false, errors.New("the run was interrupted")
		}
		st := evaluate(n, out.Summary, opts.Target)
		st.rep.Dir = sub
		if m := proxyLimitRE.FindAllString(errorLog, -1); len(m) > 0 {
			st.proxyLimit, st.proxyLimitCount, st.proxyKind = m[0], len(m), kind
		}
		steps = append(steps, st)
		if opts.StepDone != nil {
			opts.StepDone(st.rep)
		}
		return st.rep.OK, nil
	})
	found, serr := opts.Plan.Search(ctx, probe)

	exprs := make([]string, len(slos))
	for i, s := range slos {
		exprs[i] = s.Expr
	}
	capa := reports.Capacity{
		Target: opts.Target,
		MaxOK:  found.MaxOK,
		SLOs:   exprs,
		Steps:  make([]reports.CapacityStep, len(steps)),
	}
	for i, s := range steps {
		capa.Steps[i] = s.rep
	}
	if found.FirstFailed > 0 {
		ff := found.FirstFailed
		capa.FirstFailed = &ff
	}
	interrupted := serr != nil && ctx.Err() != nil
	capa.Reason, capa.Answer = explain(opts.Target, found, steps, exprs, opts.Plan, interrupted)
	if len(steps) == 0 {
		if serr != nil {
			return nil, serr
		}
		return nil, errors.New("capacity: no step was measured")
	}
	sum := topSummary(steps, found, opts.Base)
	sum.Capacity = &capa
	sum.Interrupted = interrupted
	if err := reports.WriteSummary(dir, sum); err != nil {
		return nil, err
	}
	out := &Outcome{Dir: dir, Summary: sum}
	return out, serr
}

// evaluate judges one step: every stream established, none failed, and every
// SLO held.
func evaluate(n int, sum reports.Summary, name string) *step {
	st := &step{sum: sum, rep: reports.CapacityStep{Connections: n, Errors: map[string]int64{}, Reliable: sum.Harness.Reliable}}
	for _, t := range sum.Targets {
		if t.Name == name {
			st.target = t
		}
	}
	t := st.target
	st.rep.Established = t.Connections.Established
	for k, v := range t.Errors {
		st.rep.Errors[k] = v
	}
	for k, vs := range t.ErrorValues {
		if st.rep.ErrorValues == nil {
			st.rep.ErrorValues = map[string]map[string]int64{}
		}
		st.rep.ErrorValues[k] = maps.Clone(vs)
	}
	if t.LatencyUS != nil {
		p := t.LatencyUS.P99
		st.rep.P99US = &p
	}
	switch {
	case t.Connections.Failed > 0:
		st.rep.Failed = append(st.rep.Failed, fmt.Sprintf("%d of %d %s failed (%s)", t.Connections.Failed, n, plural(n, "connection", "connections"), reports.ErrorList(t.Errors, t.ErrorValues)))
	case t.Connections.Established < int64(n):
		st.rep.Failed = append(st.rep.Failed, fmt.Sprintf("%d of %d connections established", t.Connections.Established, n))
	}
	for _, r := range sum.Thresholds {
		if !r.OK {
			st.sloFails = append(st.sloFails, r)
			st.rep.Failed = append(st.rep.Failed, r.Expression+": "+r.Reason)
		}
	}
	st.rep.OK = len(st.rep.Failed) == 0
	return st
}

// topSummary is the capacity directory's summary.json apart from the
// capacity block: the run at MaxOK (or the first step when none held) for
// config, targets, harness and thresholds, and the whole search's start,
// end and duration.
func topSummary(steps []*step, found Found, base runner.Options) reports.Summary {
	rep := steps[0]
	for _, s := range steps {
		if s.rep.Connections == found.MaxOK {
			rep = s
		}
	}
	sum := rep.sum
	sum.Command = append([]string{}, base.Command...)
	sum.Started = steps[0].sum.Started
	for _, s := range steps {
		if s.sum.Started.Before(sum.Started) {
			sum.Started = s.sum.Started
		}
		if s.sum.Ended.After(sum.Ended) {
			sum.Ended = s.sum.Ended
		}
	}
	sum.DurationS = float64(sum.Ended.Sub(sum.Started).Round(time.Millisecond)) / float64(time.Second)
	return sum
}
