// Package hlog writes and reads a run's interval logs: one HdrHistogram
// interval log (.hlog) per target and metric, streamed while the run goes on
// (Set, a loadgen.IntervalSink) and read back by the reports.
package hlog

import (
	"bufio"
	"fmt"
	"io"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/sseload/sseload/loadgen"
)

// Writer writes one metric's interval log incrementally, one line per
// interval as the run produces it, so a long run keeps no interval
// histograms in memory and an interrupted run keeps every finished interval.
//
// The format: the metric's interval histograms as a standard HdrHistogram
// interval log (format version 1.3, as HdrHistogram's Java HistogramLogWriter
// and hdrhistogram-go's HistogramLogWriter write it):
//
//	#[Histogram log format version 1.3]
//	#[StartTime: 1700000000.123 (seconds since epoch), 2023-11-14T22:13:20.123Z]
//	#[BaseTime: 1700000000.123 (seconds since epoch)]
//	#[sseload metric latency: values in microseconds, Interval_Max in milliseconds]
//	"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"
//	0.000,1.000,0.412,HISTFAAAA...
//
// Each interval line carries its start as an offset in seconds from the base
// time (the run's start), its length in seconds, its maximum and the
// histogram in the V2 compressed encoding. Every interval gets a line, an
// empty histogram where nothing was recorded (or the interval's histogram is
// nil), so the time axis has no gaps.
//
// Two details differ from calling hdrhistogram-go's writer directly, on
// purpose. Its OutputStartTime/OutputBaseTime print whole seconds, which
// would shift every interval by the run start's milliseconds on read-back, so
// the header lines are written with millisecond precision as Java does. And
// its interval output reads the timestamps from the histogram itself, which
// would mean stamping the caller's histograms, so the line is formatted here
// ("%.3f,%.3f,%.3f,%s", Java's format) from the histogram's own EncodeV2. The
// values are microseconds, so Interval_Max is written in milliseconds (value /
// 1000) instead of the writer's nanosecond default (value / 1e6).
//
// HdrHistogram's HistogramLogProcessor reads the file; pass
// -outputValueUnitRatio 1000 to print its microsecond values as milliseconds.
type Writer struct {
	bw      *bufio.Writer
	started time.Time
	m       loadgen.Metric
	n       int
	empty   *hdrhistogram.Histogram
}

// NewWriter writes the log's header lines and returns a writer for its
// interval lines. started is the base time interval offsets count from.
func NewWriter(w io.Writer, started time.Time, m loadgen.Metric) (*Writer, error) {
	if m < 0 || int(m) >= len(loadgen.Metrics) {
		return nil, fmt.Errorf("write hlog: unknown metric %d", int(m))
	}
	bw := bufio.NewWriter(w)
	lw := hdrhistogram.NewHistogramLogWriter(bw)
	startMS := started.UnixMilli()
	secs := fmt.Sprintf("%d.%03d", startMS/1000, startMS%1000)
	iso := time.UnixMilli(startMS).UTC().Format("2006-01-02T15:04:05.000Z07:00")
	if err := lw.OutputLogFormatVersion(); err != nil {
		return nil, fmt.Errorf("write hlog: %w", err)
	}
	// The reader's patterns match "#[StartTime: " and "#[BaseTime: " as
	// prefixes; any other '#' line is a comment.
	for _, c := range []string{
		"[StartTime: " + secs + " (seconds since epoch), " + iso + "]",
		"[BaseTime: " + secs + " (seconds since epoch)]",
		"[sseload metric " + m.String() + ": values in microseconds, Interval_Max in milliseconds]",
	} {
		if err := lw.OutputComment(c); err != nil {
			return nil, fmt.Errorf("write hlog: %w", err)
		}
	}
	if err := lw.OutputLegend(); err != nil {
		return nil, fmt.Errorf("write hlog: %w", err)
	}
	return &Writer{bw: bw, started: started, m: m}, nil
}

// Write appends one interval's line.
func (hw *Writer) Write(iv loadgen.Interval) error {
	i := hw.n
	hw.n++
	h := iv.Hist[hw.m]
	if h == nil {
		if hw.empty == nil {
			hw.empty = loadgen.NewHistogram()
		}
		h = hw.empty
	}
	off := iv.Start.Sub(hw.started)
	length := iv.End.Sub(iv.Start)
	if off < 0 || length < 0 {
		return fmt.Errorf("write hlog: interval %d (%s to %s) is not inside the run started at %s; intervals must start at or after the run start and end after they start",
			i, iv.Start.Format(time.RFC3339Nano), iv.End.Format(time.RFC3339Nano), hw.started.Format(time.RFC3339Nano))
	}
	enc, err := h.EncodeV2()
	if err != nil {
		return fmt.Errorf("write hlog: encode interval %d: %w", i, err)
	}
	if _, err := fmt.Fprintf(hw.bw, "%.3f,%.3f,%.3f,%s\n", off.Seconds(), length.Seconds(), float64(h.Max())/1000, enc); err != nil {
		return fmt.Errorf("write hlog: %w", err)
	}
	return nil
}

// Flush writes buffered lines to the underlying writer.
func (hw *Writer) Flush() error {
	if err := hw.bw.Flush(); err != nil {
		return fmt.Errorf("write hlog: %w", err)
	}
	return nil
}
