package render

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sseload/sseload/reports"
)

// formatChange formats a relative change as a signed percentage.
func formatChange(ch float64) string {
	switch {
	case math.IsNaN(ch):
		return "—"
	case math.IsInf(ch, 1):
		return "+∞"
	case math.IsInf(ch, -1):
		return "−∞"
	case ch == 0:
		return "0%"
	case math.Abs(ch) >= 10:
		return fmt.Sprintf("%+.0f%%", ch*100)
	}
	return fmt.Sprintf("%+.1f%%", ch*100)
}

func formatAllowance(f float64) string {
	return strconv.FormatFloat(f*100, 'f', -1, 64) + "%"
}

// writeAligned writes rows as columns two spaces apart, the first left
// columns left-aligned and the rest right-aligned, without trailing blanks.
func writeAligned(b *strings.Builder, rows [][]string, left int) {
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
		var line strings.Builder
		for j, c := range r {
			if j > 0 {
				line.WriteString("  ")
			}
			pad := strings.Repeat(" ", widths[j]-utf8.RuneCountInString(c))
			if j < left || j == len(r)-1 {
				line.WriteString(c + pad)
			} else {
				line.WriteString(pad + c)
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
}

// WriteCompare writes the comparison as a table, then the noise notes and
// the verdict.
func WriteCompare(w io.Writer, c reports.Comparison, baseName, curName string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "compare %s (base) → %s (current) · allowance %s for the worse on %s\n\n",
		baseName, curName, formatAllowance(c.MaxRegression), strings.Join(c.Metrics, ", "))
	rows := [][]string{{"target", "metric", "base", "current", "change", ""}}
	var notes []string
	for _, r := range c.Rows {
		val := func(v *float64) string {
			if v == nil {
				return "not measured"
			}
			return reports.FormatFigure(r.Metric, *v)
		}
		verdict := ""
		switch {
		case r.Regressed && r.Noise != "":
			verdict = "REGRESSED (within noise)"
		case r.Regressed:
			verdict = "REGRESSED"
		case r.Noise != "":
			verdict = "(within noise)"
		}
		rows = append(rows, []string{r.Target, r.Metric, val(r.Base), val(r.Current), formatChange(r.Change), verdict})
		if r.Noise != "" {
			notes = append(notes, r.Target+" "+r.Metric+": "+r.Noise)
		}
	}
	writeAligned(&b, rows, 2)
	if len(c.OnlyBase) > 0 {
		fmt.Fprintf(&b, "\nonly in base, not compared: %s\n", strings.Join(c.OnlyBase, ", "))
	}
	if len(c.OnlyCurrent) > 0 {
		fmt.Fprintf(&b, "\nonly in current, not compared: %s\n", strings.Join(c.OnlyCurrent, ", "))
	}
	if len(notes) > 0 {
		b.WriteString("\nnoise:\n")
		for _, n := range notes {
			b.WriteString("  " + n + "\n")
		}
	}
	if len(c.Notes) > 0 {
		b.WriteString("\n")
	}
	for _, n := range c.Notes {
		b.WriteString("note: " + n + "\n")
	}
	if n := c.Regressions(); n > 0 {
		fmt.Fprintf(&b, "\nREGRESSION: %d of %d figures worse by more than the %s allowance\n", n, len(c.Rows), formatAllowance(c.MaxRegression))
	} else {
		fmt.Fprintf(&b, "\nno regression beyond %s (%d figures compared)\n", formatAllowance(c.MaxRegression), len(c.Rows))
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write comparison: %w", err)
	}
	return nil
}
