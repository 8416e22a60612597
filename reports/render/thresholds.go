package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/sseload/sseload/reports"
)

// measuredText is a result's measured figure in words, or "not measured".
func measuredText(r reports.ThresholdResult) string {
	if r.Measured == nil {
		return "not measured"
	}
	return reports.FormatFigure(r.Metric, *r.Measured)
}

// WriteThresholdsText writes the threshold results for the terminal, after
// the table: a count line, then one line per result, failures saying what
// was measured. It writes nothing when there are no thresholds.
func WriteThresholdsText(w io.Writer, rs []reports.ThresholdResult) error {
	if len(rs) == 0 {
		return nil
	}
	var b strings.Builder
	failed := reports.ThresholdsFailed(rs)
	if failed == 0 {
		fmt.Fprintf(&b, "thresholds: all %d held\n", len(rs))
	} else {
		fmt.Fprintf(&b, "thresholds: %d of %d FAILED\n", failed, len(rs))
	}
	for _, r := range rs {
		name := r.Target + ": " + r.Rule()
		if r.OK {
			fmt.Fprintf(&b, "  ok    %s (measured %s)\n", name, measuredText(r))
		} else {
			fmt.Fprintf(&b, "  FAIL  %s — %s\n", name, r.Reason)
		}
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write thresholds: %w", err)
	}
	return nil
}
