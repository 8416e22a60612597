package render

import (
	"fmt"
	"html"
	"strings"

	"github.com/sseload/sseload/reports"
)

// splitLines says which part dominates each split target's latency p99,
// one line per target, or returns nil when no target's latency was split:
//
//	direct: the origin dominates: of latency p99 67.0ms, 52.0ms is the origin's fan-out on this machine (path latency p99 15.0ms); compare targets by path latency
//	nginx-stock: the path dominates: latency p99 2.50s, path latency p99 2.48s, origin delay p99 53.0ms
func splitLines(s reports.Summary) []string {
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
		if v.Dominant == reports.SplitOrigin {
			out = append(out, fmt.Sprintf("%s: the origin dominates: of latency p99 %s, %s is %s (path latency p99 %s); compare targets by path latency",
				v.Target, reports.FormatMicros(v.LatencyP99US), reports.FormatMicros(v.OriginDelayP99US), what, reports.FormatMicros(v.PathLatencyP99US)))
			continue
		}
		out = append(out, fmt.Sprintf("%s: the path dominates: latency p99 %s, path latency p99 %s, origin delay p99 %s",
			v.Target, reports.FormatMicros(v.LatencyP99US), reports.FormatMicros(v.PathLatencyP99US), reports.FormatMicros(v.OriginDelayP99US)))
	}
	return out
}

// splitHeader and splitRow are the latency split table every report shows
// under the summary table when some target's latency was split: latency,
// origin delay and path latency, p50 and p99 each.
var splitHeader = []string{"target", "latency p50", "p99", "origin delay p50", "p99", "path latency p50", "p99"}

func splitRow(t *reports.Target) []string {
	p50 := func(h *reports.Hist) int64 { return h.P50 }
	p99 := func(h *reports.Hist) int64 { return h.P99 }
	return []string{
		t.Name,
		histField(t.LatencyUS, p50), histField(t.LatencyUS, p99),
		histField(t.OriginDelayUS, p50), histField(t.OriginDelayUS, p99),
		histField(t.PathLatencyUS, p50), histField(t.PathLatencyUS, p99),
	}
}

// writeHTMLSplit writes report.html's latency split: the table and which
// part dominates, or nothing when no target's latency was split.
func writeHTMLSplit(b *strings.Builder, s reports.Summary) {
	if !s.HasSplit() {
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
