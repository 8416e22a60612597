package reports

import (
	"fmt"
	"html"
	"strings"
)

// The latency split. With sseload's origin (or --sent-field) every event
// says when the origin wrote it, beside when it was scheduled, so each
// event's latency splits into origin delay (written − scheduled: the
// origin's own lateness, with sseload's origin its fan-out to thousands of
// streams) and path latency (received − written: the network, the proxy
// and the receiving side). On a small machine the origin's fan-out can be
// most of a direct target's latency, which is a fact about the harness on
// that machine, not about the path: the reports say so (SplitVerdicts).

// LatencySplit is, for one target whose latency was split, the three p99s
// and which part dominates; summary.json's harness.latency_split[].
type LatencySplit struct {
	Target           string `json:"target"`
	LatencyP99US     int64  `json:"latency_p99_us"`
	OriginDelayP99US int64  `json:"origin_delay_p99_us"`
	PathLatencyP99US int64  `json:"path_latency_p99_us"`
	// Dominant is SplitOrigin when the origin's delay p99 is at least the
	// path latency p99, else SplitPath (see SplitVerdicts).
	Dominant string `json:"dominant"`
}

// LatencySplit.Dominant values.
const (
	SplitOrigin = "origin"
	SplitPath   = "path"
)

// SplitVerdicts returns the verdict for every target with a latency split,
// in target order; nil when none has one.
//
// The part with the larger p99 dominates: the origin when its delay p99 is
// at least the path latency p99. Each event's latency is exactly its
// origin delay plus its path latency, but percentiles do not add (the
// slowest 1 % of one part need not be the same events as the other's), so
// the verdict compares the two tails, each on its own: which part, at its
// worst 1 %, delays events more. Since every one of the slowest 1 % of
// events has a part of at least half its latency, the dominant part's p99
// is normally at least half the latency p99 as well.
func SplitVerdicts(targets []Target) []LatencySplit {
	var out []LatencySplit
	for _, t := range targets {
		if t.LatencyUS == nil || t.OriginDelayUS == nil || t.PathLatencyUS == nil {
			continue
		}
		v := LatencySplit{
			Target:           t.Name,
			LatencyP99US:     t.LatencyUS.P99,
			OriginDelayP99US: t.OriginDelayUS.P99,
			PathLatencyP99US: t.PathLatencyUS.P99,
			Dominant:         SplitPath,
		}
		if v.OriginDelayP99US >= v.PathLatencyP99US {
			v.Dominant = SplitOrigin
		}
		out = append(out, v)
	}
	return out
}

// splitLines says which part dominates each split target's latency p99,
// one line per target, or returns nil when no target's latency was split:
//
//	direct: the origin dominates: of latency p99 67.0ms, 52.0ms is the origin's fan-out on this machine (path latency p99 15.0ms); compare targets by path latency
//	nginx-stock: the path dominates: latency p99 2.50s, path latency p99 2.48s, origin delay p99 53.0ms
func splitLines(s Summary) []string {
	vs := s.Harness.LatencySplit
	if len(vs) == 0 {
		return nil
	}
	// The origin runs on the generator's machine with the local and compose
	// topologies; a broadcast origin's delay is its fan-out.
	what := "the origin's own delay"
	if s.Config.Mode == "broadcast" {
		what = "the origin's fan-out"
	}
	if s.Topology == "local" || s.Topology == "compose" {
		what += " on this machine"
	}
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		if v.Dominant == SplitOrigin {
			out = append(out, fmt.Sprintf("%s: the origin dominates: of latency p99 %s, %s is %s (path latency p99 %s); compare targets by path latency",
				v.Target, formatMicros(v.LatencyP99US), formatMicros(v.OriginDelayP99US), what, formatMicros(v.PathLatencyP99US)))
			continue
		}
		out = append(out, fmt.Sprintf("%s: the path dominates: latency p99 %s, path latency p99 %s, origin delay p99 %s",
			v.Target, formatMicros(v.LatencyP99US), formatMicros(v.PathLatencyP99US), formatMicros(v.OriginDelayP99US)))
	}
	return out
}

// splitHeader and splitRow are the latency split table every report shows
// under the summary table when some target's latency was split: latency,
// origin delay and path latency, p50 and p99 each.
var splitHeader = []string{"target", "latency p50", "p99", "origin delay p50", "p99", "path latency p50", "p99"}

func splitRow(t *Target) []string {
	p50 := func(h *Hist) int64 { return h.P50 }
	p99 := func(h *Hist) int64 { return h.P99 }
	return []string{
		t.Name,
		histField(t.LatencyUS, p50), histField(t.LatencyUS, p99),
		histField(t.OriginDelayUS, p50), histField(t.OriginDelayUS, p99),
		histField(t.PathLatencyUS, p50), histField(t.PathLatencyUS, p99),
	}
}

// hasSplit reports whether any target's latency was split.
func hasSplit(s Summary) bool {
	for i := range s.Targets {
		if s.Targets[i].OriginDelayUS != nil {
			return true
		}
	}
	return false
}

// writeHTMLSplit writes report.html's latency split: the table and which
// part dominates, or nothing when no target's latency was split.
func writeHTMLSplit(b *strings.Builder, s Summary) {
	if !hasSplit(s) {
		return
	}
	e := html.EscapeString
	b.WriteString(`<p><b>Latency split</b>: origin delay is the origin's write time minus the scheduled publish time, path latency the receipt time minus the write time.</p><table><tr>`)
	for _, h := range splitHeader {
		b.WriteString("<th>" + e(h) + "</th>")
	}
	b.WriteString("</tr>\n")
	for i := range s.Targets {
		b.WriteString("<tr>")
		for _, c := range splitRow(&s.Targets[i]) {
			b.WriteString("<td>" + e(c) + "</td>")
		}
		b.WriteString("</tr>\n")
	}
	b.WriteString("</table>\n")
	for _, l := range splitLines(s) {
		b.WriteString("<p>" + e(l) + "</p>\n")
	}
}
