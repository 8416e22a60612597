package render

import (
	"bytes"
	"strings"
	"testing"

	"github.com/sseload/sseload/reports"
	"github.com/sseload/sseload/reports/internal/testsummary"
)

// TestWriteThresholdsText: a count line, then a line per result; a passing
// one says what was measured, a failing one why it failed.
func TestWriteThresholdsText(t *testing.T) {
	ths, err := reports.ParseThresholds([]string{"latency.p99 < 50ms", "nginx-stock:connections.failed == 0"})
	if err != nil {
		t.Fatal(err)
	}
	rs := reports.EvaluateThresholds(testsummary.Text(), ths)

	var buf bytes.Buffer
	if err := WriteThresholdsText(&buf, rs); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"thresholds: 3 of 4 FAILED\n",
		"  ok    direct: latency.p99 < 50ms (measured 1.53ms)\n",
		"  FAIL  nginx-stock: latency.p99 < 50ms — measured 29.9s, not < 50ms\n",
		"  FAIL  nginx-stock: connections.failed == 0 — measured 4, not == 0\n",
	} {
		if !strings.Contains(buf.String(), line) {
			t.Errorf("text lacks %q:\n%s", line, buf.String())
		}
	}
	buf.Reset()
	if err := WriteThresholdsText(&buf, nil); err != nil || buf.Len() != 0 {
		t.Errorf("no thresholds: wrote %q (%v), want nothing", buf.String(), err)
	}
}
