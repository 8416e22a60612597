package render

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/sseload/sseload/reports"
)

// WriteCapacityText writes the search for the terminal: the steps table in
// the order measured, then the one-sentence answer.
//
//	step  streams  result  established  latency p99  errors
//	   1      100  ok          100/100       2.31ms  —
//	   5      800  FAIL        766/800       3.02ms  eof_before_headers ×29, reset_by_peer ×5
func WriteCapacityText(w io.Writer, c reports.Capacity) error {
	bw := bufio.NewWriter(w)
	rows := [][]string{{"step", "streams", "result", "established", "latency p99", "errors"}}
	for i, s := range c.Steps {
		res := "ok"
		if !s.OK {
			res = "FAIL"
		}
		p99 := absent
		if s.P99US != nil {
			p99 = reports.FormatMicros(*s.P99US)
		}
		if !s.Reliable {
			res += " (unreliable)"
		}
		rows = append(rows, []string{
			strconv.Itoa(i + 1), strconv.Itoa(s.Connections), res,
			fmt.Sprintf("%d/%d", s.Established, s.Connections), p99, orDash(reports.ErrorList(s.Errors, s.ErrorValues)),
		})
	}
	writeCapacityColumns(bw, rows)
	fmt.Fprintf(bw, "\n%s\n", c.Answer)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write capacity report: %w", err)
	}
	return nil
}

// writeCapacityColumns is writeColumns with the result and error columns
// left-aligned: they are words, not figures.
func writeCapacityColumns(w *bufio.Writer, rows [][]string) {
	left := map[int]bool{2: true, 5: true}
	var widths []int
	for _, r := range rows {
		for j, c := range r {
			if j >= len(widths) {
				widths = append(widths, 0)
			}
			widths[j] = max(widths[j], len([]rune(c)))
		}
	}
	for _, r := range rows {
		var b strings.Builder
		for j, c := range r {
			if j > 0 {
				b.WriteString("  ")
			}
			pad := strings.Repeat(" ", widths[j]-len([]rune(c)))
			switch {
			case left[j] && j == len(r)-1:
				b.WriteString(c)
			case left[j]:
				b.WriteString(c + pad)
			default:
				b.WriteString(pad + c)
			}
		}
		b.WriteByte('\n')
		w.WriteString(b.String())
	}
}
