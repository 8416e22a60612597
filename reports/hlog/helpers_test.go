package hlog

import (
	"io"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/sseload/sseload/loadgen"
)

// testStart is 123.456789 ms past a second: a log's base time needs its
// milliseconds.
var testStart = time.Date(2025, 1, 2, 3, 4, 5, 123_456_789, time.UTC)

// histOf returns a histogram holding vals.
func histOf(t testing.TB, vals ...int64) *hdrhistogram.Histogram {
	t.Helper()
	h := loadgen.NewHistogram()
	for _, v := range vals {
		if err := h.RecordValue(v); err != nil {
			t.Fatalf("record %d: %v", v, err)
		}
	}
	return h
}

// seq returns lo, lo+1, ..., hi.
func seq(lo, hi int64) []int64 {
	out := make([]int64, 0, hi-lo+1)
	for v := lo; v <= hi; v++ {
		out = append(out, v)
	}
	return out
}

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
