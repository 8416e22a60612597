package hlog

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/sseload/sseload/loadgen"
)

// IntervalStat is one interval of a .hlog file.
type IntervalStat struct {
	Start    time.Duration // after the run's start (summary "started")
	End      time.Duration
	Count    int64
	P50, P99 int64 // µs; meaningless when Count is 0
}

// ReadFile merges a .hlog file's intervals and lists each one's
// percentiles; (nil, nil, nil) when the file does not exist.
func ReadFile(path string, started time.Time) (*hdrhistogram.Histogram, []IntervalStat, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	return ReadIntervals(f, path, started)
}

// ReadIntervals reads a .hlog from r (name labels errors): the merged
// histogram and each interval's figures, offsets from started.
func ReadIntervals(r io.Reader, name string, started time.Time) (*hdrhistogram.Histogram, []IntervalStat, error) {
	lr := hdrhistogram.NewHistogramLogReader(r)
	total := loadgen.NewHistogram()
	var ivs []IntervalStat
	base := started.UnixMilli()
	for {
		h, err := lr.NextIntervalHistogram()
		if err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", name, err)
		}
		if h == nil {
			return total, ivs, nil
		}
		total.Merge(h)
		st := IntervalStat{
			Start: time.Duration(h.StartTimeMs()-base) * time.Millisecond,
			End:   time.Duration(h.EndTimeMs()-base) * time.Millisecond,
			Count: h.TotalCount(),
		}
		if st.Count > 0 {
			st.P50, st.P99 = h.ValueAtQuantile(50), h.ValueAtQuantile(99)
		}
		ivs = append(ivs, st)
	}
}

// ReadHistograms returns every interval histogram of a .hlog file, in file
// order, each with its absolute start and end (StartTimeMs, EndTimeMs);
// nil when the file does not exist. `sseload merge` merges them by value
// and by time.
func ReadHistograms(path string) ([]*hdrhistogram.Histogram, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	lr := hdrhistogram.NewHistogramLogReader(f)
	var out []*hdrhistogram.Histogram
	for {
		h, err := lr.NextIntervalHistogram()
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		if h == nil {
			return out, nil
		}
		out = append(out, h)
	}
}
