package render

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sseload/sseload/reports"
)

// absent marks a distribution with no samples in the text table.
const absent = "—"

// WriteText writes the short table users read on stdout: one row per target
// with connection and event counts, the medians of time to headers and to
// the first event, and the latency distribution; when latency was split,
// a second table of latency, origin delay and path latency (split.go);
// then error counts, the diagnosis lines (reports.Diagnose), the harness verdict
// and which part of the latency dominates. Columns are as wide as
// their widest cell, so a run with short target names stays well within 120
// columns.
func WriteText(w io.Writer, s reports.Summary) error {
	bw := bufio.NewWriter(w)

	head := fmt.Sprintf("scenario %s · topology %s · %d %s · %.1f s",
		orDash(s.Scenario), orDash(s.Topology), len(s.Targets), plural(len(s.Targets), "target", "targets"), s.DurationS)
	if s.Interrupted {
		head += " · interrupted"
	}
	bw.WriteString(head + "\n\n")

	header, row := withProtocol(s.Targets, tableHeader, tableRow)
	rows := [][]string{header}
	for i := range s.Targets {
		rows = append(rows, row(&s.Targets[i]))
	}
	writeColumns(bw, withLostColumn(rows, s.Targets))
	bw.WriteString("\n")
	if s.HasSplit() {
		rows := [][]string{splitHeader}
		for i := range s.Targets {
			rows = append(rows, splitRow(&s.Targets[i]))
		}
		writeColumns(bw, rows)
		bw.WriteString("\n")
	}

	for i := range s.Targets {
		if line := errorLine(&s.Targets[i]); line != "" {
			bw.WriteString(line + "\n")
		}
	}
	for i := range s.Targets {
		if line := reconnectLine(&s.Targets[i]); line != "" {
			bw.WriteString(line + "\n")
		}
	}
	for _, f := range s.Faults {
		bw.WriteString(faultLine(f) + "\n")
	}
	for _, d := range s.Diagnoses {
		bw.WriteString(d.String() + "\n")
	}
	h := s.Harness
	if h.Reliable {
		unchecked := ""
		if h.Note != "" {
			unchecked = " — " + h.Note // checks this run could not make
		}
		fmt.Fprintf(bw, "harness: reliable (scheduling lag p99 %.1f ms)%s\n", float64(h.LagP99US)/1000, unchecked)
	} else {
		note := ""
		if h.Note != "" {
			note = " — " + h.Note
		}
		fmt.Fprintf(bw, "harness: NOT RELIABLE%s; treat these numbers with suspicion\n", note)
	}
	for _, l := range splitLines(s) {
		bw.WriteString("latency split: " + l + "\n")
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write text report: %w", err)
	}
	return nil
}

// writeColumns writes rows as aligned columns two spaces apart: the first
// column left-aligned, the others right-aligned. Widths count runes, not
// bytes, because "µs" and "—" are multi-byte.
func writeColumns(w *bufio.Writer, rows [][]string) {
	var widths []int
	for _, r := range rows {
		for j, c := range r {
			if j >= len(widths) {
				widths = append(widths, 0)
			}
			widths[j] = max(widths[j], utf8.RuneCountInString(c))
		}
	}
	for _, r := range rows {
		var b strings.Builder
		for j, c := range r {
			pad := strings.Repeat(" ", widths[j]-utf8.RuneCountInString(c))
			switch {
			case j == 0:
				b.WriteString(c)
				if j < len(r)-1 {
					b.WriteString(pad)
				}
			default:
				b.WriteString("  ")
				b.WriteString(pad)
				b.WriteString(c)
			}
		}
		b.WriteByte('\n')
		w.WriteString(b.String())
	}
}

// withLostColumn adds a "lost" column after "events" when any target lost
// events (loadgen.Delivery), and returns rows unchanged otherwise: a column
// of zeros would only crowd the table. A target without accounting shows —.
func withLostColumn(rows [][]string, targets []reports.Target) [][]string {
	if !slices.ContainsFunc(targets, func(t reports.Target) bool { return t.Events.Lost > 0 }) {
		return rows
	}
	at := slices.Index(rows[0], "events") // after the protocol column, if any
	out := make([][]string, len(rows))
	for i, r := range rows {
		cell := "lost"
		if i > 0 {
			cell = absent
			if t := targets[i-1]; t.Events.Accounted {
				cell = strconv.FormatInt(t.Events.Lost, 10)
			}
		}
		out[i] = slices.Insert(slices.Clone(r), at+1, cell)
	}
	return out
}

// errorLine lists a target's error counts with their values, most
// frequent first (reports.ErrorList), or returns "" when there were none.
func errorLine(t *reports.Target) string {
	b := reports.ErrorList(t.Errors, t.ErrorValues)
	if b == "" {
		return ""
	}
	return "errors: " + t.Name + ": " + b
}

// reconnectLine says how often a target's streams reconnected and what
// that cost, or returns "" when none did.
func reconnectLine(t *reports.Target) string {
	if t.Connections.Reconnects == 0 && t.QuietBeforeDropUS == nil {
		return ""
	}
	line := fmt.Sprintf("reconnects: %s: %d", t.Name, t.Connections.Reconnects)
	var parts []string
	if h := t.DisconnectedUS; h != nil {
		parts = append(parts, "disconnected p50 "+reports.FormatMicros(h.P50)+" p99 "+reports.FormatMicros(h.P99))
	}
	if h := t.QuietBeforeDropUS; h != nil {
		parts = append(parts, fmt.Sprintf("%d drops after p50 %s quiet", h.Count, reports.FormatMicros(h.P50)))
	}
	if t.Events.Replayed > 0 {
		parts = append(parts, fmt.Sprintf("%d events replayed", t.Events.Replayed))
	}
	if len(parts) > 0 {
		line += " (" + strings.Join(parts, "; ") + ")"
	}
	return line
}

// faultLine says what one fault cost each target.
func faultLine(f reports.Fault) string {
	parts := make([]string, 0, len(f.Targets))
	for _, t := range f.Targets {
		rec := fmt.Sprintf("%d/%d streams receiving again", t.Recovered, t.Streams)
		if t.RecoveryS != nil {
			rec = fmt.Sprintf("all %d streams receiving again after %.2f s", t.Streams, *t.RecoveryS)
		}
		parts = append(parts, fmt.Sprintf("%s: %s, %d reconnects, %d events lost", t.Name, rec, t.Reconnects, t.Lost))
	}
	return fmt.Sprintf("fault %s at %.1f s: %s", f.Name, f.AtS, strings.Join(parts, "; "))
}

func histField(h *reports.Hist, f func(*reports.Hist) int64) string {
	if h == nil {
		return absent
	}
	return reports.FormatMicros(f(h))
}

func orDash(s string) string {
	if s == "" {
		return absent
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
