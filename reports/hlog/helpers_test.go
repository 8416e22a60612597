package hlog

import (
	"io"
	"time"

	"github.com/sseload/sseload/loadgen"
)

// writeLog writes intervals as one metric's log through a Writer.
func writeLog(w io.Writer, started time.Time, intervals []loadgen.Interval, m loadgen.Metric) error {
	hw, err := NewWriter(w, started, m)
	if err != nil {
		return err
	}
	for i := range intervals {
		if err := hw.Write(intervals[i]); err != nil {
			return err
		}
	}
	return hw.Flush()
}
