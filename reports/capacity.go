package reports

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Capacity is summary.json's "capacity" block, written by `sseload
// capacity`: the largest connection count the target carried while every
// SLO held, the smallest that failed, why it failed, and every step the
// search measured (docs/summary.md).
type Capacity struct {
	Target string `json:"target"`
	// MaxOK is the largest connection count at which every SLO held; 0 when
	// none did.
	MaxOK int `json:"max_ok"`
	// FirstFailed is the smallest connection count measured that failed;
	// null when no step failed (the search reached --max).
	FirstFailed *int `json:"first_failed"`
	// Reason names the failing symptom at FirstFailed in words (connections
	// refused, reset or closed without a response; the latency SLO; response
	// buffering), and what it points at; "" when nothing failed.
	Reason string `json:"reason"`
	// Answer is the one-sentence result printed by the command.
	Answer string `json:"answer"`
	// SLOs are the rules every step had to meet, as written, besides "all
	// connections established, none failed", which always applies.
	SLOs  []string       `json:"slos"`
	Steps []CapacityStep `json:"steps"`
}

// CapacityStep is one measured connection count, in the order measured.
type CapacityStep struct {
	Connections int  `json:"connections"`
	OK          bool `json:"ok"`
	// Established counts connections that got a response head.
	Established int64 `json:"established"`
	// P99US is the step's latency p99 in microseconds; null when no event
	// arrived with a publish time.
	P99US *int64 `json:"p99_us"`
	// Errors counts failed connections by kind (summary.json's errors);
	// always an object.
	Errors map[string]int64 `json:"errors"`
	// Failed lists, in words, what did not hold at this step; absent when ok.
	Failed []string `json:"failed,omitempty"`
	// Reliable is the harness's verdict on the step's own measurements.
	Reliable bool `json:"reliable"`
	// Dir is the step's results directory, relative to the capacity
	// results directory.
	Dir string `json:"dir"`
}

// FormatMicros formats a duration in microseconds the way the text table
// does: "766µs", "3.21ms", "41.5ms", "1.20s".
func FormatMicros(us int64) string { return formatMicros(us) }

// ErrorBreakdown lists error counts most frequent first, "29
// eof_before_headers, 5 reset_by_peer"; "" when there are none.
func ErrorBreakdown(errs map[string]int64) string {
	type kc struct {
		kind string
		n    int64
	}
	var kinds []kc
	for k, n := range errs {
		if n > 0 {
			kinds = append(kinds, kc{k, n})
		}
	}
	slices.SortFunc(kinds, func(a, b kc) int {
		if c := cmp.Compare(b.n, a.n); c != 0 {
			return c
		}
		return strings.Compare(a.kind, b.kind)
	})
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		parts[i] = strconv.FormatInt(k.n, 10) + " " + k.kind
	}
	return strings.Join(parts, ", ")
}

// WriteCapacityText writes the search for the terminal: the steps table in
// the order measured, then the one-sentence answer.
//
//	step  streams  result  established  latency p99  errors
//	   1      100  ok          100/100       2.31ms  —
//	   5      800  FAIL        766/800       3.02ms  29 eof_before_headers, 5 reset_by_peer
func WriteCapacityText(w io.Writer, c Capacity) error {
	bw := bufio.NewWriter(w)
	rows := [][]string{{"step", "streams", "result", "established", "latency p99", "errors"}}
	for i, s := range c.Steps {
		res := "ok"
		if !s.OK {
			res = "FAIL"
		}
		p99 := absent
		if s.P99US != nil {
			p99 = formatMicros(*s.P99US)
		}
		if !s.Reliable {
			res += " (unreliable)"
		}
		rows = append(rows, []string{
			strconv.Itoa(i + 1), strconv.Itoa(s.Connections), res,
			fmt.Sprintf("%d/%d", s.Established, s.Connections), p99, orDash(ErrorBreakdown(s.Errors)),
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
