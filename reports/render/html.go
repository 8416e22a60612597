package render

import (
	"cmp"
	"fmt"
	"html"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/sseload/sseload/loadgen"
	"github.com/sseload/sseload/reports"
)

// WriteHTML writes report.html: one self-contained page (inline CSS and
// SVG; no script, no font, nothing fetched) that a browser shows offline
// years later. It holds the verdict, the summary table with errors by kind,
// the diagnoses (s.Diagnoses, as a table), thresholds and the harness
// verdict in words, then the charts: events received per interval (one lane
// per target: batching is one spike at the end), the latency percentile
// distribution of every target on a "nines" axis, latency p99/p50 over
// time, connections established over time, and the distributions of time
// to headers and to the first event. Targets have colour-blind-safe
// colours (Okabe-Ito) and, beyond colour, a dash pattern or a marker each;
// time axes end where the data does; the command is shown as typed
// (`sseload …`), not as the path os.Args[0] held.
func WriteHTML(w io.Writer, d *reports.RunData) error {
	s := d.Summary
	e := html.EscapeString
	var b strings.Builder
	title := "sseload · " + orDash(s.Scenario)
	if !s.Started.IsZero() {
		title += " · " + s.Started.UTC().Format("2006-01-02 15:04Z")
	}
	b.WriteString(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>` + e(title) + `</title>
<style>
body{font-family:sans-serif;margin:24px auto;max-width:1320px;padding:0 16px;color:#222;background:#fafafa}
h1{font-size:22px;margin:0 0 6px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
.meta{color:#555;margin:4px 0}
.verdict{display:inline-block;padding:4px 10px;border-radius:4px;font-weight:bold;margin:6px 0}
.pass{background:#e3f4e3;color:#1a5e1a}.fail{background:#fbe3e3;color:#8a1212}.none{background:#eee;color:#333}
.warn{background:#fff3d6;border:1px solid #e0b94f;padding:10px 12px;border-radius:4px;margin:10px 0}
table{border-collapse:collapse;margin:6px 0 12px;background:#fff}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:right;white-space:nowrap}
th:first-child,td:first-child,td.l,th.l{text-align:left}
td.wrap{white-space:normal;text-align:left}
svg.swatch{vertical-align:middle;margin-right:6px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:14px}
figure{margin:0;background:#fff;border:1px solid #ddd;border-radius:4px;padding:6px}
figcaption{color:#555;font-size:12px;margin:2px 4px 4px}
svg.chart{width:100%;height:auto;display:block}
code{background:#f0f0f0;padding:1px 4px;border-radius:3px}
footer{color:#777;font-size:12px;margin-top:28px}
</style></head><body>
`)
	b.WriteString(`<header><h1>` + e(title) + `</h1>`)
	class := "none"
	if n := len(s.Thresholds); n > 0 {
		class = "pass"
		if reports.ThresholdsFailed(s.Thresholds) > 0 {
			class = "fail"
		}
	}
	b.WriteString(`<div class="verdict ` + class + `">` + e(verdictLine(s)) + `</div>`)
	meta := fmt.Sprintf("topology %s · %d %s · %.1f s", orDash(s.Topology), len(s.Targets), plural(len(s.Targets), "target", "targets"), s.DurationS)
	if c := s.Config; c.Connections > 0 {
		meta += fmt.Sprintf(" · %d connections per target", c.Connections)
		if c.Mode != "" {
			meta += fmt.Sprintf(" · origin %s, every %s", c.Mode, reports.FormatMicros(int64(c.IntervalMS*1000)))
			if c.Events > 0 {
				meta += fmt.Sprintf(", %d events", c.Events)
			}
		}
	}
	b.WriteString(`<p class="meta">` + e(meta) + `</p></header>` + "\n")

	if !s.Harness.Reliable {
		b.WriteString(`<div class="warn"><b>Harness NOT RELIABLE.</b> ` + e(strings.TrimPrefix(harnessWords(s.Harness), "NOT RELIABLE")) + `</div>` + "\n")
	}
	if s.Interrupted {
		b.WriteString(`<div class="warn"><b>Interrupted.</b> The run was stopped before its planned end; the figures cover a shorter run.</div>` + "\n")
	}

	// Summary table.
	b.WriteString("<h2>Summary</h2>\n<table><tr>")
	for _, h := range tableHeader {
		b.WriteString("<th>" + e(h) + "</th>")
	}
	b.WriteString("</tr>\n")
	for i := range s.Targets {
		b.WriteString("<tr>")
		for j, c := range tableRow(&s.Targets[i]) {
			if j == 0 {
				b.WriteString(`<td>` + swatch(i) + e(c) + "</td>")
				continue
			}
			b.WriteString("<td>" + e(c) + "</td>")
		}
		b.WriteString("</tr>\n")
	}
	b.WriteString("</table>\n")
	writeHTMLSplit(&b, s)
	writeHTMLErrors(&b, s)
	writeHTMLDiagnoses(&b, s.Diagnoses)
	if len(s.Thresholds) > 0 {
		b.WriteString(`<p><b>Thresholds</b></p><table><tr><th class="l">result</th><th class="l">target</th><th class="l">threshold</th><th>measured</th><th class="l">why</th></tr>` + "\n")
		for _, r := range s.Thresholds {
			res := `<td class="l" style="color:#1a5e1a">ok</td>`
			if !r.OK {
				res = `<td class="l" style="color:#8a1212"><b>FAIL</b></td>`
			}
			b.WriteString("<tr>" + res + `<td class="l">` + e(r.Target) + `</td><td class="l"><code>` +
				e(r.Rule()) + "</code></td><td>" + e(measuredText(r)) + `</td><td class="wrap">` + e(r.Reason) + "</td></tr>\n")
		}
		b.WriteString("</table>\n")
	}
	b.WriteString(`<p><b>Harness</b>: ` + e(harnessWords(s.Harness)) + "</p>\n")

	// Charts.
	b.WriteString("<h2>Latency</h2>\n<div class=\"grid\">\n")
	figureSVG(&b, arrivalsChart(d), "Events received in each interval (normally 1 s), one lane per target, each lane scaled to its own busiest interval (the count at its right). Events delivered as they are published keep the publish rhythm (a flat band when they come more often than the intervals); a proxy that buffers shows nothing, then one spike when it lets go. The last interval may be shorter than the others.")
	figure(&b, percentileChart(d, loadgen.Latency, "Latency by percentile (publish → receipt)"),
		"HdrHistogram percentile plot: x is how rare a value is (90 % of events were at or below the line at 90 %), on a log “nines” axis that ends where the most-sampled line does. A line ends where its samples run out; the dot is its maximum.")
	figure(&b, latencyOverTime(d), "Per interval (normally 1 s) from the .hlog files: p99 solid, p50 dashed; each target its colour and marker (hollow on p50). Gaps are intervals without events.")
	b.WriteString("</div>\n<h2>Connections</h2>\n<div class=\"grid\">\n")
	figure(&b, establishedOverTime(d), "Connections with a 200 text/event-stream response head (EventSource onopen) at the end of each interval, from timeline.csv.")
	figure(&b, percentileChart(d, loadgen.TimeToHeaders, "Time to headers by percentile"), "From the connection's start until the response head was parsed.")
	figure(&b, percentileChart(d, loadgen.TimeToFirstEvent, "Time to first event by percentile"), "From the connection's start until its first event was dispatched.")
	b.WriteString("</div>\n")

	// Targets.
	b.WriteString(`<h2>Targets</h2><table><tr><th class="l">target</th><th class="l">URL</th><th class="l">proxy</th><th class="l">response head</th></tr>` + "\n")
	for i := range s.Targets {
		t := &s.Targets[i]
		proxy := orDash(t.Proxy)
		if t.ConfigSHA256 != "" {
			proxy += " (config sha256 " + t.ConfigSHA256[:min(12, len(t.ConfigSHA256))] + "…)"
		}
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range t.ResponseHead {
				if !yield(k) {
					return
				}
			}
		})
		var head []string
		for _, k := range keys {
			head = append(head, k+": "+t.ResponseHead[k])
		}
		b.WriteString(`<tr><td>` + e(t.Name) + `</td><td class="l">` + e(t.URL) + `</td><td class="l">` + e(proxy) + `</td><td class="wrap">` + e(orDash(strings.Join(head, "; "))) + "</td></tr>\n")
	}
	b.WriteString("</table>\n")
	b.WriteString(`<footer>`)
	if len(s.Command) > 0 {
		b.WriteString(`<p>command: <code>` + e(commandLine(s.Command)) + `</code></p>`)
	}
	b.WriteString(`<p>sseload ` + e(orDash(s.SSELoadVersion)) + ` · figures from summary.json, charts from the .hlog files and timeline.csv beside this file (docs/summary.md).</p></footer>
</body></html>
`)
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write %s: %w", HTMLFile, err)
	}
	return nil
}

func figure(b *strings.Builder, c chart, caption string) { figureSVG(b, c.svg(), caption) }

func figureSVG(b *strings.Builder, svg, caption string) {
	b.WriteString("<figure>" + svg + "<figcaption>" + html.EscapeString(caption) + "</figcaption></figure>\n")
}

// writeHTMLDiagnoses writes the diagnoses as a table, one row each with its
// fields as columns; nothing when there are none.
func writeHTMLDiagnoses(b *strings.Builder, ds []reports.Diagnosis) {
	if len(ds) == 0 {
		return
	}
	e := html.EscapeString
	b.WriteString(`<p><b>Diagnosis</b></p><table><tr><th class="l">target</th><th class="l">symptom</th><th class="l">cause</th><th class="l">fix</th><th class="l">evidence</th></tr>` + "\n")
	for _, d := range ds {
		b.WriteString(`<tr><td>` + e(d.Target) + `</td><td class="wrap">` + e(d.Symptom) + `</td><td class="wrap">` + e(d.Directive) +
			`</td><td class="wrap">` + e(d.Fix) + `</td><td class="wrap">` + e(d.Evidence) + "</td></tr>\n")
	}
	b.WriteString("</table>\n")
}

// writeHTMLErrors writes the errors by kind: one row per kind, one column
// per target; nothing when no target had an error.
func writeHTMLErrors(b *strings.Builder, s reports.Summary) {
	var kinds []string
	for _, t := range s.Targets {
		for k, n := range t.Errors {
			if n > 0 && !slices.Contains(kinds, k) {
				kinds = append(kinds, k)
			}
		}
	}
	if len(kinds) == 0 {
		b.WriteString("<p><b>Errors</b>: none.</p>\n")
		return
	}
	total := func(k string) (n int64) {
		for _, t := range s.Targets {
			n += t.Errors[k]
		}
		return n
	}
	slices.SortFunc(kinds, func(a, b string) int {
		if c := cmp.Compare(total(b), total(a)); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	b.WriteString(`<p><b>Errors by kind</b> (docs/summary.md lists the kinds)</p><table><tr><th class="l">kind</th>`)
	for _, t := range s.Targets {
		b.WriteString("<th>" + html.EscapeString(t.Name) + "</th>")
	}
	b.WriteString("</tr>\n")
	for _, k := range kinds {
		b.WriteString("<tr><td>" + html.EscapeString(k) + "</td>")
		for _, t := range s.Targets {
			cell := strconv.FormatInt(t.Errors[k], 10)
			if vs := reports.ValueList(k, t.ErrorValues); vs != "" {
				cell += " (" + vs + ")"
			}
			b.WriteString("<td>" + html.EscapeString(cell) + "</td>")
		}
		b.WriteString("</tr>\n")
	}
	b.WriteString("</table>\n")
}

// nines is the x position of quantile q (0 ≤ q < 1) on the percentile
// plot: log10(1/(1−q)), so 90 % is 1, 99 % is 2, 99.9 % is 3.
func nines(q float64) float64 { return -math.Log10(1 - q) }

// percentileChart plots metric m of every target against the nines axis.
// A target's line runs to the quantile 1 − 1/count, the highest its samples
// support, and ends at its maximum; the axis ends where the longest line
// does.
func percentileChart(d *reports.RunData, m loadgen.Metric, title string) chart {
	c := chart{title: title}
	lo, hi := math.Inf(1), 0.0
	var maxCount int64
	for i, t := range d.Summary.Targets {
		h := d.Hists[t.Name][m]
		if h == nil || h.TotalCount() == 0 {
			continue
		}
		n := h.TotalCount()
		maxCount = max(maxCount, n)
		s := series{name: fmt.Sprintf("%s (%d)", t.Name, n), color: seriesColor(i), dash: seriesDash(i), endDot: true}
		xEnd := nines(1 - 1/float64(n))
		if n == 1 {
			xEnd = 0
		}
		for x := 0.0; x < xEnd; x += 0.01 {
			q := 1 - math.Pow(10, -x)
			s.pts = appendStep(s.pts, point{x, float64(h.ValueAtQuantile(q * 100))})
		}
		s.pts = append(s.pts, point{xEnd, float64(h.Max())})
		lo = math.Min(lo, float64(h.Min()))
		hi = math.Max(hi, float64(h.Max()))
		c.series = append(c.series, s)
	}
	if len(c.series) == 0 {
		c.empty = "no samples: " + absentWhy(m)
		c.x, c.y = axis{min: 0, max: 1}, axis{min: 0, max: 1}
		return c
	}
	// One sample draws a single point: give it a 0–90 % axis to sit on.
	xMax := math.Max(nines(1-1/float64(maxCount)), 1)
	c.x = axis{min: 0, max: xMax, title: "percentile"}
	for _, p := range []float64{0, 50, 90, 99, 99.9, 99.99, 99.999, 99.9999, 99.99999, 99.999999} {
		if x := nines(p / 100); x <= xMax+1e-9 {
			c.x.ticks = append(c.x.ticks, tick{x, strconv.FormatFloat(p, 'f', -1, 64) + "%"})
		}
	}
	// Label the axis's end, where the data ends, unless a tick is close.
	if last := c.x.ticks[len(c.x.ticks)-1].v; xMax-last > 0.3 {
		c.x.ticks = append(c.x.ticks, tick{xMax, strconv.FormatFloat(100*(1-math.Pow(10, -xMax)), 'g', 4, 64) + "%"})
	}
	c.y = timeAxis(lo, hi, metricWords(m))
	return c
}

// metricWords names a metric in an axis title.
func metricWords(m loadgen.Metric) string {
	switch m {
	case loadgen.Latency:
		return "latency"
	case loadgen.TimeToHeaders:
		return "time to headers"
	case loadgen.TimeToFirstEvent:
		return "time to first event"
	}
	return strings.ReplaceAll(m.String(), "_", " ")
}

// appendStep adds p, dropping the previous point when it and the one before
// it have p's value: a flat run keeps only its ends.
func appendStep(pts []point, p point) []point {
	if n := len(pts); n >= 2 && pts[n-1].y == p.y && pts[n-2].y == p.y {
		pts[n-1] = p
		return pts
	}
	return append(pts, p)
}

func absentWhy(m loadgen.Metric) string {
	switch m {
	case loadgen.Latency:
		return "no event carried a readable publish time"
	case loadgen.TimeToHeaders:
		return "no connection received response headers"
	}
	return "no connection received an event"
}

// latencyOverTime plots each target's per-interval latency p99 (solid)
// and p50 (dashed). Targets differ by colour and by marker shape, filled on
// p99 and hollow on p50, on every point while there are few, else on
// about 40 of them.
func latencyOverTime(d *reports.RunData) chart {
	c := chart{title: "Latency over time: p99 solid, p50 dashed"}
	lo, hi, end := math.Inf(1), 0.0, 0.0
	for i, t := range d.Summary.Targets {
		ivs := d.Latency[t.Name]
		every := 1
		if len(ivs) > 60 {
			every = (len(ivs) + 39) / 40
		}
		p99 := series{name: t.Name + " p99", color: seriesColor(i), marks: every, marker: i, width: 2.2}
		p50 := series{name: t.Name + " p50", color: seriesColor(i), dash: "6 4", marks: every, marker: i, hollow: true, width: 1.6}
		any := false
		for _, iv := range ivs {
			x := (iv.Start + iv.End).Seconds() / 2
			end = math.Max(end, iv.End.Seconds())
			if iv.Count == 0 {
				p50.pts = append(p50.pts, point{x, math.NaN()})
				p99.pts = append(p99.pts, point{x, math.NaN()})
				continue
			}
			any = true
			p50.pts = append(p50.pts, point{x, float64(iv.P50)})
			p99.pts = append(p99.pts, point{x, float64(iv.P99)})
			lo, hi = math.Min(lo, float64(iv.P50)), math.Max(hi, float64(iv.P99))
		}
		if any {
			// p50 first: where the two meet, p99's filled marker is on top.
			c.series = append(c.series, p50, p99)
		}
	}
	if len(c.series) == 0 {
		c.empty = "no latency intervals (.hlog files missing or without events)"
		c.x, c.y = axis{min: 0, max: 1}, axis{min: 0, max: 1}
		return c
	}
	c.x = secondsAxis(end)
	c.y = timeAxis(lo, hi, "latency")
	return c
}

// establishedOverTime plots each target's established connections at the
// end of every interval, as a step line starting from zero at the start.
func establishedOverTime(d *reports.RunData) chart {
	c := chart{title: "Connections established over time"}
	if len(d.Timeline) == 0 {
		c.empty = "no timeline.csv in this results directory"
		c.x, c.y = axis{min: 0, max: 1}, axis{min: 0, max: 1}
		return c
	}
	end, top := 0.0, 0.0
	for i, t := range d.Summary.Targets {
		s := series{name: t.Name, color: seriesColor(i), dash: seriesDash(i), step: true, pts: []point{{0, 0}}}
		for _, p := range d.Timeline {
			if p.Target != t.Name {
				continue
			}
			x := (p.Start + p.Length).Seconds()
			s.pts = append(s.pts, point{x, float64(p.Established)})
			end, top = math.Max(end, x), math.Max(top, float64(p.Established))
		}
		top = math.Max(top, float64(t.Connections.Requested))
		if len(s.pts) > 1 {
			c.series = append(c.series, s)
		}
	}
	if len(c.series) == 0 {
		c.empty = "timeline.csv holds none of these targets"
		c.x, c.y = axis{min: 0, max: 1}, axis{min: 0, max: 1}
		return c
	}
	c.x = secondsAxis(end)
	c.y = linearAxis(0, math.Max(top, 1)*1.05, "connections established")
	return c
}

// secondsAxis is a time axis from the run's start to end seconds, where
// the data ends.
func secondsAxis(end float64) axis {
	return linearAxis(0, math.Max(end, 0.001), "time since start (s)")
}

// commandLine is the command a run was started with, as the user typed
// it: "sseload" and the arguments, each quoted for a POSIX shell where it
// needs to be. Command[0] is os.Args[0], which may be a path (or, under
// `go run`, a temporary build's), so it is not shown.
func commandLine(cmd []string) string {
	parts := []string{"sseload"}
	if len(cmd) > 1 {
		for _, a := range cmd[1:] {
			parts = append(parts, shellQuote(a))
		}
	}
	return strings.Join(parts, " ")
}

// shellQuote quotes a for a POSIX shell unless it is made only of
// characters that need none.
func shellQuote(a string) string {
	if a != "" && strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=,+@%") == "" {
		return a
	}
	return "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
}
