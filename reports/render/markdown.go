package render

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/sseload/sseload/reports"
)

// tableHeader and tableRow are the summary table shared by the Markdown and
// HTML reports: the text table's columns.
var tableHeader = []string{"target", "conns ok/req", "failed", "events", "headers p50", "1st event p50", "latency p50", "p90", "p99", "p99.9", "max"}

func tableRow(t *reports.Target) []string {
	lat := t.LatencyUS
	return []string{
		t.Name,
		strconv.FormatInt(t.Connections.Established, 10) + "/" + strconv.FormatInt(t.Connections.Requested, 10),
		strconv.FormatInt(t.Connections.Failed, 10),
		strconv.FormatInt(t.Events.Received, 10),
		histField(t.TimeToHeadersUS, func(h *reports.Hist) int64 { return h.P50 }),
		histField(t.TimeToFirstEventUS, func(h *reports.Hist) int64 { return h.P50 }),
		histField(lat, func(h *reports.Hist) int64 { return h.P50 }),
		histField(lat, func(h *reports.Hist) int64 { return h.P90 }),
		histField(lat, func(h *reports.Hist) int64 { return h.P99 }),
		histField(lat, func(h *reports.Hist) int64 { return h.P999 }),
		histField(lat, func(h *reports.Hist) int64 { return h.Max }),
	}
}

// verdictLine is the one-line outcome both reports lead with.
func verdictLine(s reports.Summary) string {
	var parts []string
	switch n, f := len(s.Thresholds), reports.ThresholdsFailed(s.Thresholds); {
	case n == 0:
		parts = append(parts, "no thresholds")
	case f == 0:
		parts = append(parts, fmt.Sprintf("PASS: all %d %s held", n, plural(n, "threshold", "thresholds")))
	default:
		parts = append(parts, fmt.Sprintf("FAIL: %d of %d %s failed", f, n, plural(n, "threshold", "thresholds")))
	}
	if !s.Harness.Reliable {
		parts = append(parts, "harness NOT RELIABLE")
	}
	if s.Interrupted {
		parts = append(parts, "run interrupted")
	}
	return strings.Join(parts, " · ")
}

// harnessWords explains the harness verdict in plain words.
func harnessWords(h reports.Harness) string {
	if h.Reliable {
		words := fmt.Sprintf("reliable: the load generator kept up (scheduling lag p99 %.1f ms, busiest worker %.0f %% of a second).", float64(h.LagP99US)/1000, h.BusyMax*100)
		if h.Note != "" {
			words += " Not checked: " + h.Note + "." // checks this run could not make
		}
		return words
	}
	note := ""
	if h.Note != "" {
		note = " (" + h.Note + ")"
	}
	return "NOT RELIABLE" + note + ": the load generator was short of CPU, or its clock disagrees with the origin's, so these latencies include its own delays. " +
		"Measure again with fewer connections, on a less busy or bigger machine, or with synchronised clocks, before trusting them."
}

// mdEscape makes s safe inside a Markdown table cell.
func mdEscape(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	s = strings.ReplaceAll(s, "|", `\|`)
	s = strings.ReplaceAll(s, "\n", " ")
	return s
}

// WriteMarkdown writes report.md: the verdict, the summary table, errors,
// diagnosis (s.Diagnoses), thresholds and the harness verdict as
// GitHub-flavoured Markdown, fit for $GITHUB_STEP_SUMMARY (it starts at
// heading level 2 so several runs can share one job summary).
func WriteMarkdown(w io.Writer, s reports.Summary) error {
	var b strings.Builder
	fmt.Fprintf(&b, "## sseload: %s\n\n", mdEscape(orDash(s.Scenario)))
	fmt.Fprintf(&b, "**%s**\n\n", verdictLine(s))
	fmt.Fprintf(&b, "topology %s · %d %s · %.1f s", mdEscape(orDash(s.Topology)), len(s.Targets), plural(len(s.Targets), "target", "targets"), s.DurationS)
	if !s.Started.IsZero() {
		fmt.Fprintf(&b, " · started %s", s.Started.UTC().Format("2006-01-02 15:04:05Z"))
	}
	if s.SSELoadVersion != "" {
		fmt.Fprintf(&b, " · sseload %s", mdEscape(s.SSELoadVersion))
	}
	b.WriteString("\n\n")

	header, row := withProtocol(s.Targets, tableHeader, tableRow)
	mdTable(&b, header, s.Targets, row)
	if s.HasSplit() {
		b.WriteString("**Latency split**: origin delay is the origin's write time minus the scheduled publish time, path latency the receipt time minus the write time.\n\n")
		mdTable(&b, splitHeader, s.Targets, splitRow)
	}

	var errs []string
	for i := range s.Targets {
		if line := errorLine(&s.Targets[i]); line != "" {
			errs = append(errs, strings.TrimPrefix(line, "errors: "))
		}
	}
	if len(errs) > 0 {
		b.WriteString("**Errors**\n\n")
		for _, e := range errs {
			b.WriteString("- " + mdEscape(e) + "\n")
		}
		b.WriteString("\n")
	}
	var drops []string
	for i := range s.Targets {
		if line := reconnectLine(&s.Targets[i]); line != "" {
			drops = append(drops, strings.TrimPrefix(line, "reconnects: "))
		}
	}
	if len(drops) > 0 || len(s.Faults) > 0 {
		b.WriteString("**Reconnects and faults**\n\n")
		for _, d := range drops {
			b.WriteString("- " + mdEscape(d) + "\n")
		}
		for _, f := range s.Faults {
			b.WriteString("- " + mdEscape(faultLine(f)) + "\n")
		}
		b.WriteString("\n")
	}
	if len(s.Diagnoses) > 0 {
		b.WriteString("**Diagnosis**\n\n")
		for _, d := range s.Diagnoses {
			b.WriteString("- " + mdEscape(d.String()) + "\n")
		}
		b.WriteString("\n")
	}
	if len(s.Thresholds) > 0 {
		b.WriteString("**Thresholds**\n\n| result | target | threshold | measured | why |\n|---|---|---|--:|---|\n")
		for _, r := range s.Thresholds {
			res := "✅ ok"
			if !r.OK {
				res = "❌ FAIL"
			}
			fmt.Fprintf(&b, "| %s | %s | `%s` | %s | %s |\n", res, mdEscape(r.Target),
				mdEscape(r.Rule()), mdEscape(measuredText(r)), mdEscape(r.Reason))
		}
		b.WriteString("\n")
	}
	b.WriteString("**Harness**: " + mdEscape(harnessWords(s.Harness)) + "\n")
	if ls := splitLines(s); len(ls) > 0 {
		b.WriteString("\n**Latency split**\n\n")
		for _, l := range ls {
			b.WriteString("- " + mdEscape(l) + "\n")
		}
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write %s: %w", MarkdownFile, err)
	}
	return nil
}

// mdTable writes a Markdown table of one row per target: the first column
// left-aligned, the figures right-aligned.
func mdTable(b *strings.Builder, header []string, targets []reports.Target, row func(*reports.Target) []string) {
	b.WriteString("| " + strings.Join(header, " | ") + " |\n")
	b.WriteString("|---" + strings.Repeat("|--:", len(header)-1) + "|\n")
	for i := range targets {
		cells := row(&targets[i])
		for j := range cells {
			cells[j] = mdEscape(cells[j])
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	b.WriteString("\n")
}
