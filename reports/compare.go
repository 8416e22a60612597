package reports

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/sseload/sseload/loadgen"
)

// DefaultCompareMetrics are the figures `sseload compare` checks when no
// --metric is given: the latency a user feels, the tail, how long onopen
// takes, and whether connections broke. When both runs split latency
// (origin delay and path latency measured), path_latency.p99 is checked
// too.
var DefaultCompareMetrics = []string{"latency.p50", "latency.p99", "time_to_headers.p50", "connections.failed"}

// noiseTail is the number of samples at or above a percentile below which
// the percentile is called noise-prone: p99 of fewer than 1,000 samples is
// decided by fewer than 10 events, and a second run with the same setup
// commonly moves it by more than any sensible allowance.
const noiseTail = 10

// CompareOptions selects what Compare checks.
type CompareOptions struct {
	// MaxRegression is the allowed change for the worse, as a fraction
	// (0.10 = 10 %).
	MaxRegression float64
	// Metrics are canonical metric names (ParseCompareMetric); nil means
	// DefaultCompareMetrics.
	Metrics []string
}

// CompareRow is one target's figure in both runs.
type CompareRow struct {
	Target, Metric string
	// Base and Current are nil when the run did not measure the figure.
	Base, Current *float64
	// Change is (current − base) / base; ±Inf when base is 0 and current is
	// not; NaN when either is missing.
	Change    float64
	Regressed bool
	// Noise says why the difference may be run-to-run noise, or is "".
	Noise string
}

// Comparison is the outcome of Compare.
type Comparison struct {
	MaxRegression float64
	Metrics       []string
	Rows          []CompareRow
	// Targets that only one of the runs has, which are not compared.
	OnlyBase, OnlyCurrent []string
	// Notes about the runs themselves (an unreliable harness, an
	// interrupted run).
	Notes []string
}

// Regressions counts the rows that regressed beyond the allowance.
func (c Comparison) Regressions() int {
	n := 0
	for _, r := range c.Rows {
		if r.Regressed {
			n++
		}
	}
	return n
}

// ParseCompareMetric checks a --metric name (the threshold metrics) and
// returns its canonical spelling.
func ParseCompareMetric(m string) (string, error) {
	c, ok := canonicalMetric(strings.TrimSpace(m))
	if !ok {
		return "", fmt.Errorf("metric %q: unknown (valid: %s)", m, validMetricsText())
	}
	return c, nil
}

// ParseRegression parses a --max-regression value: a percentage, "10%" or
// "10" (both 10 %), returned as a fraction.
func ParseRegression(s string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "%"), 64)
	if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("%q: want a percentage such as 10%% (0 or more)", s)
	}
	return v / 100, nil
}

// higherIsWorse reports the direction in which a metric gets worse: time
// figures, failures and clock-skewed events get worse upwards; counts of
// connections, events and samples downwards.
func higherIsWorse(metric string) bool {
	return isTimeMetric(metric) || metric == "connections.failed" || metric == "events.clock_skewed"
}

// Compare checks cur against base, target by target (matched by name),
// for each metric: a change for the worse larger than MaxRegression is a
// regression, as is a figure base measured and cur did not. It is an error
// when the runs have no target name in common.
//
// The histograms in RunData (from the .hlog files) make the noise notes
// precise (see spread); without them (nil Hists) a percentile is called
// noisy when fewer than ten samples decide it.
func Compare(baseRun, curRun *RunData, opt CompareOptions) (Comparison, error) {
	base, cur := baseRun.Summary, curRun.Summary
	metrics := opt.Metrics
	if len(metrics) == 0 {
		metrics = DefaultCompareMetrics
		if base.HasSplit() && cur.HasSplit() {
			// Both runs split latency: the path's own p99 is the figure
			// a proxy change moves, free of the origin's fan-out.
			metrics = append(slices.Clone(metrics), "path_latency.p99")
		}
	}
	c := Comparison{MaxRegression: opt.MaxRegression, Metrics: metrics}
	curByName := map[string]*Target{}
	for i := range cur.Targets {
		curByName[cur.Targets[i].Name] = &cur.Targets[i]
	}
	common := 0
	for i := range base.Targets {
		bt := &base.Targets[i]
		ct, ok := curByName[bt.Name]
		if !ok {
			c.OnlyBase = append(c.OnlyBase, bt.Name)
			continue
		}
		common++
		for _, m := range metrics {
			r := compareFigure(bt, ct, m, opt.MaxRegression)
			if r.Change != 0 && !math.IsNaN(r.Change) {
				r.Noise = noiseNote(baseRun, curRun, bt, ct, m)
			}
			c.Rows = append(c.Rows, r)
		}
	}
	for i := range cur.Targets {
		if !slices.ContainsFunc(base.Targets, func(t Target) bool { return t.Name == cur.Targets[i].Name }) {
			c.OnlyCurrent = append(c.OnlyCurrent, cur.Targets[i].Name)
		}
	}
	if common == 0 {
		return c, fmt.Errorf("compare: the runs have no target name in common (base: %s; current: %s); targets are matched by name: name them alike, e.g. --target app=URL in both runs",
			strings.Join(targetNamesOf(base), ", "), strings.Join(targetNamesOf(cur), ", "))
	}
	for _, r := range []struct {
		which string
		s     Summary
	}{{"base", base}, {"current", cur}} {
		if !r.s.Harness.Reliable {
			c.Notes = append(c.Notes, fmt.Sprintf("the %s run's harness was NOT RELIABLE, so its latencies include the generator's own delays: %s", r.which, r.s.Harness.Note))
		}
		if r.s.Interrupted {
			c.Notes = append(c.Notes, "the "+r.which+" run was interrupted: it covers a shorter run")
		}
	}
	return c, nil
}

func targetNamesOf(s Summary) []string {
	out := make([]string, len(s.Targets))
	for i := range s.Targets {
		out[i] = s.Targets[i].Name
	}
	return out
}

func compareFigure(bt, ct *Target, m string, allow float64) CompareRow {
	r := CompareRow{Target: bt.Name, Metric: m, Change: math.NaN()}
	bv, bok, _ := measure(bt, m)
	cv, cok, _ := measure(ct, m)
	if bok {
		r.Base = &bv
	}
	if cok {
		r.Current = &cv
	}
	switch {
	case bok && !cok:
		r.Regressed = true // measured before, not now: nothing arrived
		return r
	case !bok || !cok:
		return r
	}
	switch {
	case bv == cv:
		r.Change = 0
	case bv == 0:
		r.Change = math.Inf(int(math.Copysign(1, cv)))
	default:
		r.Change = (cv - bv) / math.Abs(bv)
	}
	worse := r.Change
	if !higherIsWorse(m) {
		worse = -worse
	}
	r.Regressed = worse > allow+1e-12
	return r
}

// noiseNote says when a difference may be run-to-run noise, or "".
//
// With both runs' histograms, a figure's run-to-run spread is read from the
// histogram itself: a percentile q of n samples is the sample of rank n·q,
// and a repeat of the same run would put that rank anywhere within about
// ±1.96·√(n·q·(1−q)) ranks (the binomial 95 % interval), so the values at
// those ranks bound it. The mean's spread is ±1.96 standard errors. When
// the two runs' ranges overlap, the difference is within the spread. p99 of
// 40 samples spans the top four samples up to the max, and p99 of 100,000
// barely moves.
//
// Without histograms, a percentile decided by fewer than noiseTail samples
// (p99 of fewer than 1,000) is called noisy.
func noiseNote(baseRun, curRun *RunData, bt, ct *Target, m string) string {
	if !isTimeMetric(m) {
		return ""
	}
	hname, field, _ := strings.Cut(m, ".")
	metric := metricByName(hname)
	bh, ch := baseRun.Hists[bt.Name][metric], curRun.Hists[ct.Name][metric]
	if bh != nil && ch != nil && bh.TotalCount() > 0 && ch.TotalCount() > 0 {
		blo, bhi := spread(bh, field)
		clo, chi := spread(ch, field)
		if blo <= chi && clo <= bhi {
			return fmt.Sprintf("within run-to-run spread: from their histograms, a repeat would put %s anywhere in %s–%s (base, %d samples) and %s–%s (current, %d samples)",
				field, FormatFigure(m, blo), FormatFigure(m, bhi), bh.TotalCount(), FormatFigure(m, clo), FormatFigure(m, chi), ch.TotalCount())
		}
		return ""
	}
	q := map[string]float64{"p50": 0.5, "p90": 0.9, "p99": 0.99, "p999": 0.999}[field]
	n, _, _ := measure(bt, hname+".count")
	if cn, _, _ := measure(ct, hname+".count"); cn < n {
		n = cn
	}
	switch {
	case field == "max" || field == "min":
		return fmt.Sprintf("%s is a single sample: expect it to move from run to run", field)
	case q > 0 && n*(1-q) < noiseTail:
		return fmt.Sprintf("%s of %.0f samples rests on %.1f of them: likely run-to-run noise; measure %.0f or more samples (more connections, events or time) to trust it",
			field, n, n*(1-q), math.Ceil(noiseTail/(1-q)))
	}
	return ""
}

// metricByName is the histogram a canonical metric's first part names
// (loadgen.Metric's String: "latency", "path_latency", …); Latency for a
// name that is none, which canonical metrics never are.
func metricByName(name string) loadgen.Metric {
	for _, m := range loadgen.Metrics {
		if m.String() == name {
			return m
		}
	}
	return loadgen.Latency
}

// spread returns the range within which a repeat of the run would likely
// put a histogram's figure (see noiseNote), in µs.
func spread(h *hdrhistogram.Histogram, field string) (lo, hi float64) {
	n := float64(h.TotalCount())
	var q float64
	switch field {
	case "mean":
		se := 1.96 * h.StdDev() / math.Sqrt(n)
		return h.Mean() - se, h.Mean() + se
	case "min":
		q = 0.5 / n
	case "max":
		q = 1 - 0.5/n
	case "p50":
		q = 0.5
	case "p90":
		q = 0.9
	case "p99":
		q = 0.99
	case "p999":
		q = 0.999
	default:
		v := float64(h.ValueAtQuantile(50))
		return v, v
	}
	half := 1.96 * math.Sqrt(n*q*(1-q))
	rlo, rhi := math.Max(0, n*q-half), math.Min(n, n*q+half+1)
	at := func(rank float64) float64 {
		if rank <= 0 {
			return float64(h.Min())
		}
		if rank >= n {
			return float64(h.Max())
		}
		return float64(h.ValueAtQuantile(100 * rank / n))
	}
	return at(rlo), at(rhi)
}
