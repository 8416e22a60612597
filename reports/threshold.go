package reports

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sseload/sseload/loadgen"
)

// A threshold is a pass/fail rule on one figure of summary.json, k6-style:
//
//	[TARGET:]METRIC OP VALUE
//
// for example "nginx-sse:latency.p99 < 50ms", "time_to_headers.p50 <= 1s",
// "connections.failed == 0". METRIC is a distribution field
// (<histogram>.<field>, histograms latency, time_to_headers,
// time_to_first_event, disconnected, quiet_before_drop, origin_delay and
// path_latency; fields count, min, mean, p50, p90, p99, p999, max) or
// a counter (connections.requested|established|failed,
// events.received|timed|clock_skewed|expected|lost|duplicated|out_of_order;
// the last four need delivery accounting, else they are not measured). OP is one of < <= > >= == !=. VALUE
// is a duration with a unit (µs or us, ms, s, m; "1.5s", "250ms") for a time
// figure and a plain number for a count. Without TARGET the rule applies to
// every target of the run, each checked on its own.

// Threshold is one parsed expression.
type Threshold struct {
	Expr   string  // as written, trimmed
	Target string  // "" = every target
	Metric string  // canonical name, e.g. "latency.p99"
	Op     string  // <, <=, >, >=, ==, !=
	Value  float64 // microseconds for time figures, a count otherwise
}

// ThresholdResult is one threshold checked on one target; summary.json's
// "thresholds" array holds one per threshold and target.
type ThresholdResult struct {
	Expression string  `json:"expression"`
	Target     string  `json:"target"`
	Metric     string  `json:"metric"`
	Op         string  `json:"op"`
	Value      float64 `json:"value"`
	// Measured is null when the figure was not measured (a null histogram,
	// or a target that is not in the run); such a threshold fails.
	Measured *float64 `json:"measured"`
	OK       bool     `json:"ok"`
	// Reason says in words why a threshold failed; empty when it held.
	Reason string `json:"reason,omitempty"`
}

// Histogram and counter names accepted in a threshold's METRIC, in the order
// the valid-metric list shows them.
var (
	thresholdHists  = []string{"latency", "time_to_headers", "time_to_first_event", "disconnected", "quiet_before_drop", "origin_delay", "path_latency"}
	thresholdFields = []string{"count", "min", "mean", "p50", "p90", "p99", "p999", "max"}
	thresholdCounts = []string{
		"connections.requested", "connections.established", "connections.failed", "connections.reconnects",
		"events.received", "events.replayed", "events.timed", "events.clock_skewed",
		"events.expected", "events.lost", "events.duplicated", "events.out_of_order",
	}
	thresholdOps = []string{"<=", ">=", "==", "!=", "<", ">"} // two-character ops first
)

// ThresholdMetrics returns every valid METRIC name.
func ThresholdMetrics() []string {
	var out []string
	for _, h := range thresholdHists {
		for _, f := range thresholdFields {
			out = append(out, h+"."+f)
		}
	}
	return append(out, thresholdCounts...)
}

// validMetricsText is the list of valid metrics in the compact form error
// messages print.
func validMetricsText() string {
	fields := "{" + strings.Join(thresholdFields, ",") + "}"
	var parts []string
	for _, h := range thresholdHists {
		parts = append(parts, h+"."+fields)
	}
	return strings.Join(parts, ", ") + ", connections.{requested,established,failed}, events.{received,timed,clock_skewed,expected,lost,duplicated,out_of_order}"
}

// isTimeMetric reports whether a canonical metric is a duration (µs).
func isTimeMetric(metric string) bool {
	h, f, ok := strings.Cut(metric, ".")
	return ok && slices.Contains(thresholdHists, h) && f != "count"
}

// canonicalMetric checks a metric name and returns its canonical spelling:
// "p99.9" is accepted for p999, and summary.json's "<hist>_us" spelling for
// the histogram.
func canonicalMetric(m string) (string, bool) {
	h, f, ok := strings.Cut(m, ".")
	if !ok {
		return "", false
	}
	h = strings.TrimSuffix(h, "_us")
	if f == "p99.9" {
		f = "p999"
	}
	if slices.Contains(thresholdHists, h) && slices.Contains(thresholdFields, f) {
		return h + "." + f, true
	}
	if slices.Contains(thresholdCounts, h+"."+f) {
		return h + "." + f, true
	}
	return "", false
}

// ParseThreshold parses one expression. The error names the token that is
// wrong and, for a metric, lists the valid ones.
func ParseThreshold(expr string) (Threshold, error) {
	e := strings.TrimSpace(expr)
	if e == "" {
		return Threshold{}, fmt.Errorf("threshold %q: empty; write [TARGET:]METRIC OP VALUE, e.g. \"nginx-sse:latency.p99 < 50ms\"", expr)
	}
	at, op := -1, ""
	for _, o := range thresholdOps {
		if i := strings.Index(e, o); i >= 0 && (at < 0 || i < at || (i == at && len(o) > len(op))) {
			at, op = i, o
		}
	}
	if at < 0 {
		if i := strings.IndexAny(e, "=!"); i >= 0 {
			return Threshold{}, fmt.Errorf("threshold %q: operator %q: unknown (valid: <, <=, >, >=, ==, !=)", e, e[i:i+1])
		}
		return Threshold{}, fmt.Errorf("threshold %q: no comparison operator; write [TARGET:]METRIC OP VALUE with OP one of <, <=, >, >=, ==, !=, e.g. \"latency.p99 < 50ms\"", e)
	}
	left := strings.TrimSpace(e[:at])
	right := strings.TrimSpace(e[at+len(op):])
	if strings.HasSuffix(left, "=") || strings.HasSuffix(left, "!") {
		return Threshold{}, fmt.Errorf("threshold %q: operator %q: unknown (valid: <, <=, >, >=, ==, !=)", e, left[len(left)-1:]+op)
	}
	if strings.ContainsAny(right, "<>=!") {
		return Threshold{}, fmt.Errorf("threshold %q: value %q: one comparison per threshold (write two thresholds for a range)", e, right)
	}
	t := Threshold{Expr: e, Op: op}
	metric := left
	if i := strings.LastIndexByte(left, ':'); i >= 0 {
		t.Target, metric = strings.TrimSpace(left[:i]), strings.TrimSpace(left[i+1:])
		if t.Target == "" {
			return Threshold{}, fmt.Errorf("threshold %q: empty target before ':'; write TARGET:METRIC, or leave out the ':' to check every target", e)
		}
		if strings.ContainsAny(t.Target, " \t") {
			return Threshold{}, fmt.Errorf("threshold %q: target %q: target names have no spaces", e, t.Target)
		}
	}
	if metric == "" {
		return Threshold{}, fmt.Errorf("threshold %q: no metric before %q (valid: %s)", e, op, validMetricsText())
	}
	canon, ok := canonicalMetric(metric)
	if !ok {
		return Threshold{}, fmt.Errorf("threshold %q: metric %q: unknown (valid: %s)", e, metric, validMetricsText())
	}
	t.Metric = canon
	if right == "" {
		return Threshold{}, fmt.Errorf("threshold %q: no value after %q", e, op)
	}
	v, err := parseThresholdValue(canon, right)
	if err != nil {
		return Threshold{}, fmt.Errorf("threshold %q: value %q: %w", e, right, err)
	}
	t.Value = v
	return t, nil
}

// parseThresholdValue returns a time figure's value in microseconds or a
// count as is.
func parseThresholdValue(metric, s string) (float64, error) {
	s = strings.ReplaceAll(s, " ", "") // "50 ms"
	if !isTimeMetric(metric) {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
			return 0, fmt.Errorf("%s is a count: write a plain number, e.g. 0 or 1000", metric)
		}
		return v, nil
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil && s != "0" {
		return 0, fmt.Errorf("%s is a time: give a unit (µs, us, ms, s, m), e.g. %sms", metric, s)
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%s is a time: write a number with a unit (µs, us, ms, s, m), e.g. 50ms or 1.5s", metric)
	}
	return float64(d) / float64(time.Microsecond), nil
}

// ParseThresholds parses every expression; the first error stops it.
func ParseThresholds(exprs []string) ([]Threshold, error) {
	out := make([]Threshold, 0, len(exprs))
	for _, e := range exprs {
		t, err := ParseThreshold(e)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// CheckThresholdTargets returns an error naming the first threshold whose
// target is not among names (the run's targets), so a typo is caught before
// the run rather than as a failed threshold after it.
func CheckThresholdTargets(ths []Threshold, names []string) error {
	for _, t := range ths {
		if t.Target != "" && !slices.Contains(names, t.Target) {
			return fmt.Errorf("threshold %q: target %q is not in this run (targets: %s)", t.Expr, t.Target, strings.Join(names, ", "))
		}
	}
	return nil
}

// measure returns a target's figure for a canonical metric; ok is false when
// the figure was not measured (null histogram), with the reason in words.
// A null histogram has no samples, so its count reads 0.
func measure(t *Target, metric string) (v float64, ok bool, why string) {
	switch metric {
	case "connections.requested":
		return float64(t.Connections.Requested), true, ""
	case "connections.established":
		return float64(t.Connections.Established), true, ""
	case "connections.failed":
		return float64(t.Connections.Failed), true, ""
	case "connections.reconnects":
		return float64(t.Connections.Reconnects), true, ""
	case "events.replayed":
		return float64(t.Events.Replayed), true, ""
	case "events.received":
		return float64(t.Events.Received), true, ""
	case "events.timed":
		return float64(t.Events.Timed), true, ""
	case "events.clock_skewed":
		return float64(t.Events.ClockSkewed), true, ""
	case "events.expected", "events.lost", "events.duplicated", "events.out_of_order":
		if !t.Events.Accounted {
			return 0, false, "no delivery accounting: the run read no sequence numbers (give --sequence-field for an external origin)"
		}
		switch metric {
		case "events.expected":
			return float64(t.Events.Expected), true, ""
		case "events.lost":
			return float64(t.Events.Lost), true, ""
		case "events.duplicated":
			return float64(t.Events.Duplicated), true, ""
		}
		return float64(t.Events.OutOfOrder), true, ""
	}
	hname, field, _ := strings.Cut(metric, ".")
	m := metricByName(hname)
	h := t.Hist(m)
	switch m {
	case loadgen.Latency:
		why = "no latency samples: no event arrived with a readable publish time"
	case loadgen.TimeToHeaders:
		why = "no connection received response headers"
	case loadgen.TimeToFirstEvent:
		why = "no connection received an event"
	case loadgen.Disconnected:
		why = "no stream reconnected"
	case loadgen.QuietBeforeDrop:
		why = "no open stream dropped"
	case loadgen.OriginDelay, loadgen.PathLatency:
		why = "no latency split: no event carried the origin's write time (sseload's own origin does; give --sent-field for another)"
	}
	if h == nil {
		if field == "count" {
			return 0, true, ""
		}
		return 0, false, "not measured: " + why
	}
	switch field {
	case "count":
		return float64(h.Count), true, ""
	case "min":
		return float64(h.Min), true, ""
	case "mean":
		return h.Mean, true, ""
	case "p50":
		return float64(h.P50), true, ""
	case "p90":
		return float64(h.P90), true, ""
	case "p99":
		return float64(h.P99), true, ""
	case "p999":
		return float64(h.P999), true, ""
	case "max":
		return float64(h.Max), true, ""
	}
	return 0, false, "unknown metric " + metric
}

func compare(v float64, op string, want float64) bool {
	switch op {
	case "<":
		return v < want
	case "<=":
		return v <= want
	case ">":
		return v > want
	case ">=":
		return v >= want
	case "==":
		return v == want
	case "!=":
		return v != want
	}
	return false
}

// EvaluateThresholds checks every threshold on the targets it names (all
// targets when it names none) and returns one result per threshold and
// target, in the order of ths and then of s.Targets. The result is never nil.
// A threshold naming a target that is not in s fails, as does one whose
// figure was not measured.
func EvaluateThresholds(s Summary, ths []Threshold) []ThresholdResult {
	out := []ThresholdResult{}
	for _, th := range ths {
		matched := false
		for i := range s.Targets {
			t := &s.Targets[i]
			if th.Target != "" && th.Target != t.Name {
				continue
			}
			matched = true
			r := ThresholdResult{Expression: th.Expr, Target: t.Name, Metric: th.Metric, Op: th.Op, Value: th.Value}
			v, ok, why := measure(t, th.Metric)
			switch {
			case !ok:
				r.Reason = why
			default:
				r.Measured = &v
				r.OK = compare(v, th.Op, th.Value)
				if !r.OK {
					r.Reason = fmt.Sprintf("measured %s, not %s %s", FormatFigure(th.Metric, v), th.Op, strings.TrimSpace(th.Expr[strings.Index(th.Expr, th.Op)+len(th.Op):]))
				}
			}
			out = append(out, r)
		}
		if !matched {
			names := make([]string, len(s.Targets))
			for i := range s.Targets {
				names[i] = s.Targets[i].Name
			}
			out = append(out, ThresholdResult{
				Expression: th.Expr, Target: th.Target, Metric: th.Metric, Op: th.Op, Value: th.Value,
				Reason: fmt.Sprintf("not measured: no target %q in this run (targets: %s)", th.Target, strings.Join(names, ", ")),
			})
		}
	}
	return out
}

// ThresholdsFailed counts the results that did not hold.
func ThresholdsFailed(rs []ThresholdResult) int {
	n := 0
	for _, r := range rs {
		if !r.OK {
			n++
		}
	}
	return n
}

// Rule is the result's rule without its target prefix, as written:
// "latency.p99 < 50ms" for "nginx-sse:latency.p99 < 50ms".
func (r ThresholdResult) Rule() string {
	e := r.Expression
	if i := strings.Index(e, r.Op); i > 0 {
		if j := strings.LastIndexByte(e[:i], ':'); j >= 0 {
			e = e[j+1:]
		}
	}
	return strings.TrimSpace(e)
}
