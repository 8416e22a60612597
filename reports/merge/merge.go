// Package merge combines results directories written by separate runs of
// one scenario (`sseload run --segment I/N` on N machines, a Kubernetes
// Indexed Job) into one, as if one generator had run them all: counters
// summed, histograms and .hlog intervals merged by value (never
// percentiles averaged) and by time, thresholds re-evaluated, every
// report written again. `sseload merge DIR... --out DIR` calls Dirs.
package merge

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/sseload/sseload/loadgen"
	"github.com/sseload/sseload/reports"
	"github.com/sseload/sseload/reports/hlog"
	"github.com/sseload/sseload/reports/render"
)

// ErrIncompatible marks inputs that cannot be merged: different
// scenarios, schema versions or targets, a segment given twice. The CLI
// exits 2 on it.
var ErrIncompatible = errors.New("results cannot be merged")

// Options says what to merge and where.
type Options struct {
	Dirs    []string // results directories, each with summary.json
	Out     string   // the merged results directory (created; must be new or empty: the caller checks)
	Command []string // the merge's command line, for summary.json
	Version string   // this sseload's version
}

// run is one input.
type run struct {
	dir string
	sum reports.Summary
}

// Dirs merges opts.Dirs into opts.Out and returns the merged summary.
func Dirs(opts Options) (reports.Summary, error) {
	if len(opts.Dirs) < 2 {
		return reports.Summary{}, fmt.Errorf("%w: name at least two results directories", ErrIncompatible)
	}
	runs := make([]run, 0, len(opts.Dirs))
	for _, d := range opts.Dirs {
		s, err := reports.ReadSummary(filepath.Join(d, "summary.json"))
		if err != nil {
			return reports.Summary{}, fmt.Errorf("%s: %w", d, err)
		}
		runs = append(runs, run{dir: d, sum: s})
	}
	if err := compatible(runs); err != nil {
		return reports.Summary{}, err
	}
	names := make([]string, len(runs[0].sum.Targets))
	for i, t := range runs[0].sum.Targets {
		names[i] = t.Name
	}
	res, err := mergeResult(runs, names)
	if err != nil {
		return reports.Summary{}, err
	}
	if err := os.MkdirAll(opts.Out, 0o755); err != nil {
		return reports.Summary{}, fmt.Errorf("merged results directory %s: %w", opts.Out, err)
	}
	if err := mergeIntervals(runs, names, opts.Out, res); err != nil {
		return reports.Summary{}, err
	}
	first := runs[0].sum
	meta := reports.Meta{Scenario: first.Scenario, Topology: first.Topology, Version: opts.Version, Command: opts.Command, Config: first.Config, Targets: map[string]reports.TargetMeta{}}
	for _, t := range first.Targets {
		meta.Targets[t.Name] = reports.TargetMeta{Proxy: t.Proxy, ProxyKind: t.ProxyKind, ConfigSHA256: t.ConfigSHA256, ConfigFile: t.ConfigFile}
	}
	sum := reports.Summarize(res, meta)
	for _, r := range runs {
		if r.sum.Segment != "" {
			sum.Segments = append(sum.Segments, r.sum.Segment)
		}
		sum.Workers = append(sum.Workers, r.sum.Workers...)
	}
	for i := range sum.Targets {
		sum.Targets[i].Connections.MaxFailed = 0
		for _, r := range runs {
			sum.Targets[i].Connections.MaxFailed += r.sum.Targets[i].Connections.MaxFailed
		}
	}
	ths, err := thresholds(first)
	if err != nil {
		return reports.Summary{}, err
	}
	sum.Thresholds = reports.EvaluateThresholds(sum, ths)
	if err := render.WriteReports(opts.Out, sum); err != nil {
		return sum, err
	}
	return sum, reports.WriteSummary(opts.Out, sum)
}

// compatible refuses runs that are not parts of one run, with the reason.
func compatible(runs []run) error {
	first := runs[0]
	segs := map[string]string{}
	for _, r := range runs {
		s := r.sum
		switch {
		case s.SchemaVersion != first.sum.SchemaVersion:
			return fmt.Errorf("%w: %s has summary schema_version %d, %s has %d", ErrIncompatible, r.dir, s.SchemaVersion, first.dir, first.sum.SchemaVersion)
		case s.Scenario != first.sum.Scenario:
			return fmt.Errorf("%w: %s ran scenario %q, %s ran %q: merge only the segments of one scenario", ErrIncompatible, r.dir, s.Scenario, first.dir, first.sum.Scenario)
		case s.Config != first.sum.Config:
			return fmt.Errorf("%w: %s and %s ran scenario %q with different settings (%+v vs %+v)", ErrIncompatible, r.dir, first.dir, s.Scenario, s.Config, first.sum.Config)
		case !slices.EqualFunc(s.Targets, first.sum.Targets, func(a, b reports.Target) bool { return a.Name == b.Name }):
			return fmt.Errorf("%w: %s and %s measured different targets (%s vs %s)", ErrIncompatible, r.dir, first.dir, targetNames(s), targetNames(first.sum))
		}
		if s.Segment != "" {
			if d, dup := segs[s.Segment]; dup {
				return fmt.Errorf("%w: %s and %s are both segment %s: each share once", ErrIncompatible, d, r.dir, s.Segment)
			}
			segs[s.Segment] = r.dir
		}
	}
	return nil
}

func targetNames(s reports.Summary) string {
	var ns []string
	for _, t := range s.Targets {
		ns = append(ns, t.Name)
	}
	return strings.Join(ns, ", ")
}

// mergeResult builds the result one engine would have returned for every
// run together: counters summed, delivery recomputed from the sums, the
// harness the worst of the runs', histograms merged from the .hlog files
// (which hold every recorded value, interval by interval).
func mergeResult(runs []run, names []string) (*loadgen.Result, error) {
	res := &loadgen.Result{Harness: loadgen.Harness{Reliable: true}}
	for _, r := range runs {
		s := r.sum
		if res.Started.IsZero() || s.Started.Before(res.Started) {
			res.Started = s.Started
		}
		if s.Ended.After(res.Ended) {
			res.Ended = s.Ended
		}
		res.Interrupted = res.Interrupted || s.Interrupted
		h := &res.Harness
		h.LagP99US = max(h.LagP99US, s.Harness.LagP99US)
		h.LagMaxUS = max(h.LagMaxUS, s.Harness.LagMaxUS)
		h.BusyMax = max(h.BusyMax, s.Harness.BusyMax)
		h.MachineCPUMax = max(h.MachineCPUMax, s.Harness.MachineCPUMax)
		for _, n := range s.Harness.Notes {
			n.Text = fmt.Sprintf("%s: %s", r.dir, n.Text)
			h.AddNote(loadgen.HarnessNote(n))
		}
		if !s.Harness.Reliable && len(s.Harness.Notes) == 0 {
			h.AddNote(loadgen.HarnessNote{Kind: loadgen.NoteGenerator, Text: fmt.Sprintf("%s: %s", r.dir, s.Harness.Note)})
		}
		res.Faults = append(res.Faults, runFaults(r)...)
	}
	slices.SortStableFunc(res.Faults, func(a, b loadgen.Fault) int { return a.At.Compare(b.At) })
	for i, name := range names {
		tr := &loadgen.TargetResult{Name: name, URL: runs[0].sum.Targets[i].URL, Errors: map[string]int64{}, ErrorValues: loadgen.ErrorValues{}}
		for m := range tr.Hist {
			tr.Hist[m] = loadgen.NewHistogram()
		}
		for _, r := range runs {
			t := r.sum.Targets[i]
			tr.Requested += t.Connections.Requested
			tr.Established += t.Connections.Established
			tr.Failed += t.Connections.Failed
			tr.Reconnects += t.Connections.Reconnects
			tr.EventsReceived += t.Events.Received
			tr.EventsTimed += t.Events.Timed
			tr.ClockSkewed += t.Events.ClockSkewed
			d := &tr.Delivery
			if t.Events.Accounted {
				d.Accounted = true
				d.Sequenced += t.Events.Sequenced
				d.Expected += t.Events.Expected
				d.Duplicated += t.Events.Duplicated
				d.OutOfOrder += t.Events.OutOfOrder
				d.Replayed += t.Events.Replayed
			}
			for k, n := range t.Errors {
				tr.Errors[k] += n
			}
			for k, vs := range t.ErrorValues {
				tr.ErrorValues.Merge(loadgen.ErrorValues{k: vs})
			}
			if tr.Head == nil && len(t.ResponseHead) > 0 {
				tr.Head = maps.Clone(t.ResponseHead)
			}
			for _, m := range loadgen.Metrics {
				hs, err := hlog.ReadHistograms(filepath.Join(r.dir, hlog.Name(name, m)))
				if err != nil {
					return nil, err
				}
				for _, h := range hs {
					if dropped := tr.Hist[m].Merge(h); dropped > 0 {
						return nil, fmt.Errorf("%s: %s %s: %d values outside the histograms' range", r.dir, name, m, dropped)
					}
				}
			}
		}
		if tr.Delivery.Accounted {
			tr.Delivery.Lost = max(0, tr.Delivery.Expected-(tr.Delivery.Sequenced-tr.Delivery.Duplicated))
		}
		res.Targets = append(res.Targets, tr)
	}
	return res, nil
}

// runFaults are r's faults, each kept as it was measured and labelled
// with its run ("origin-restart (segment 1/2)"; the directory when the
// run was not a segment). They are not merged with the other runs'
// faults: each segment injected its own, on its own topology and at its
// own moment, so the n-th fault of two segments is not one event whose
// costs could be added (the generator processes of one run, which share
// the marks, are merged by position in loadgen/procs instead).
func runFaults(r run) []loadgen.Fault {
	label := r.sum.Segment
	if label != "" {
		label = "segment " + label
	} else {
		label = r.dir
	}
	out := make([]loadgen.Fault, 0, len(r.sum.Faults))
	for _, f := range r.sum.Faults {
		lf := loadgen.Fault{Name: fmt.Sprintf("%s (%s)", f.Name, label), At: r.sum.Started.Add(time.Duration(f.AtS * float64(time.Second)))}
		for _, t := range f.Targets {
			ft := loadgen.FaultTarget{Name: t.Name, Streams: t.Streams, Recovered: t.Recovered, RecoveryUS: -1, Reconnects: t.Reconnects, Lost: t.Lost}
			if t.RecoveryS != nil {
				ft.RecoveryUS = int64(math.Round(*t.RecoveryS * 1e6))
			}
			lf.Targets = append(lf.Targets, ft)
		}
		out = append(out, lf)
	}
	return out
}

// mergeIntervals writes the merged .hlog files and timeline.csv: interval
// k of the merged run holds, by value, every run's interval that starts in
// [t0 + k·length, t0 + (k+1)·length), t0 being the earliest run's start and
// length the runs' interval length. The merge is loadgen's IntervalMerger,
// the one the engine and the worker parent use, feeding the same sinks a
// run does.
//
// The .hlog files carry histograms, not counters: a merged interval's
// established streams come from each run's timeline.csv, whose row k of a
// target is the target's .hlog interval k (both are written from the same
// interval reports). Established is a level, not a flow: each run counts
// with its latest interval at or before the merged one while it runs
// (intervals drift against the merged grid, so now and then a merged
// interval holds none of a run's), nothing before its first interval and
// nothing after its last: its streams were closed when it ended.
func mergeIntervals(runs []run, names []string, out string, res *loadgen.Result) error {
	type key struct{ target, metric int }
	// hists[run][key] is that run's .hlog intervals.
	hists := make([]map[key][]*hdrhistogram.Histogram, len(runs))
	// established[run][target][k] is that run's established streams at
	// the end of its interval k of the target.
	established := make([][][]int64, len(runs))
	var lengths []int64
	for ri, r := range runs {
		var err error
		if established[ri], err = readEstablished(r.dir, names); err != nil {
			return err
		}
		hists[ri] = map[key][]*hdrhistogram.Histogram{}
		for t, name := range names {
			for _, m := range loadgen.Metrics {
				hs, err := hlog.ReadHistograms(filepath.Join(r.dir, hlog.Name(name, m)))
				if err != nil {
					return err
				}
				if len(hs) != len(established[ri][t]) {
					return fmt.Errorf("%s: %s has %d intervals, %s has %d rows for target %s: the files are not of one run", r.dir, hlog.Name(name, m), len(hs), reports.TimelineFile, len(established[ri][t]), name)
				}
				hists[ri][key{t, int(m)}] = hs
				for _, h := range hs {
					lengths = append(lengths, h.EndTimeMs()-h.StartTimeMs())
				}
			}
		}
	}
	length := int64(1000)
	if len(lengths) > 0 {
		slices.Sort(lengths)
		if l := lengths[len(lengths)/2]; l > 0 {
			length = l
		}
	}
	t0 := res.Started.UnixMilli()
	type part struct {
		k      key
		h      *hdrhistogram.Histogram
		bucket int64
	}
	// level is one run's established streams of one target from a
	// bucket on.
	type level struct {
		run, target int
		bucket      int64
		established int64
	}
	var parts []part
	var levels []level
	last := int64(-1)
	runLast := make([]int64, len(runs)) // each run's last bucket
	for ri := range runs {
		for k, hs := range hists[ri] {
			for i, h := range hs {
				b := max(0, (h.StartTimeMs()-t0)/length)
				parts = append(parts, part{k: k, h: h, bucket: b})
				last = max(last, b)
				runLast[ri] = max(runLast[ri], b)
				if k.metric == int(loadgen.Latency) {
					levels = append(levels, level{run: ri, target: k.target, bucket: b, established: established[ri][k.target][i]})
				}
			}
		}
	}
	hl, err := hlog.NewSet(out, names)
	if err != nil {
		return err
	}
	defer hl.Abort()
	tl, err := reports.NewTimeline(out)
	if err != nil {
		return err
	}
	defer tl.Abort()
	m := loadgen.NewIntervalMerger(names, loadgen.IntervalSinks{hl, tl})
	byBucket := make([][]part, last+1)
	for _, p := range parts {
		byBucket[p.bucket] = append(byBucket[p.bucket], p)
	}
	levelsAt := make([][]level, last+1)
	for _, l := range levels { // in each run's interval order
		levelsAt[l.bucket] = append(levelsAt[l.bucket], l)
	}
	// now[run][target]: the run's counters as of the current bucket.
	now := make([][]loadgen.Interval, len(runs))
	for ri := range now {
		now[ri] = make([]loadgen.Interval, len(names))
	}
	for b, ps := range byBucket {
		m.Begin()
		start := time.UnixMilli(t0 + int64(b)*length)
		m.AddSpan(start, start.Add(time.Duration(length)*time.Millisecond))
		for _, p := range ps {
			if err := m.AddHist(p.k.target, loadgen.Metric(p.k.metric), loadgen.Dense(p.h)); err != nil {
				return err
			}
		}
		for _, l := range levelsAt[b] {
			now[l.run][l.target].Established = l.established
		}
		for ri := range now {
			if int64(b) > runLast[ri] {
				continue // it had ended: its streams were closed
			}
			for t := range names {
				m.AddTotals(t, &now[ri][t])
			}
		}
		m.Emit()
	}
	if err := hl.Commit(); err != nil {
		return err
	}
	return tl.Commit()
}

// readEstablished reads dir's timeline.csv: per target of names, the
// established streams of each of its intervals, in order.
func readEstablished(dir string, names []string) ([][]int64, error) {
	out := make([][]int64, len(names))
	f, err := os.Open(filepath.Join(dir, reports.TimelineFile))
	if errors.Is(err, os.ErrNotExist) {
		return out, nil // a run without intervals writes none (nor .hlog lines)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: the merged timeline's established streams come from it: %w", dir, err)
	}
	defer f.Close()
	pts, err := reports.ReadTimeline(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	index := make(map[string]int, len(names))
	for i, n := range names {
		index[n] = i
	}
	for _, p := range pts {
		i, ok := index[p.Target]
		if !ok {
			return nil, fmt.Errorf("%s: %s has rows for target %q, which its summary.json does not list", dir, reports.TimelineFile, p.Target)
		}
		out[i] = append(out[i], p.Established)
	}
	return out, nil
}

// thresholds are the runs' threshold expressions, parsed again so that
// they are evaluated on the merged figures.
func thresholds(s reports.Summary) ([]reports.Threshold, error) {
	var exprs []string
	seen := map[string]bool{}
	for _, r := range s.Thresholds {
		if !seen[r.Expression] {
			seen[r.Expression] = true
			exprs = append(exprs, r.Expression)
		}
	}
	ths, err := reports.ParseThresholds(exprs)
	if err != nil {
		return nil, fmt.Errorf("re-evaluate the thresholds: %w", err)
	}
	return ths, nil
}
