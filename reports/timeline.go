package reports

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/sseload/sseload/loadgen"
)

// TimelineFile is the per-interval timeline inside a results directory.
const TimelineFile = "timeline.csv"

// timelineHeader is timeline.csv's first line. Columns, one row per target
// and reporting interval, in the order the engine reported them:
//
//	target           target name
//	start_s          the interval's start, seconds after the first interval began
//	length_s         the interval's length, seconds
//	established      connections with response headers at the interval's end
//	events_timed     latency samples recorded in the interval
//	latency_p50_us   the interval's latency median, µs; empty without samples
//	latency_p99_us   the interval's latency 99th percentile, µs; empty without samples
//
// The connection count is what the .hlog files cannot carry; the latency
// columns repeat what the latency .hlog holds, for tools that read CSV.
var timelineHeader = []string{"target", "start_s", "length_s", "established", "events_timed", "latency_p50_us", "latency_p99_us"}

// TimelinePoint is one row of timeline.csv.
type TimelinePoint struct {
	Target      string
	Start       time.Duration // after the first interval's start
	Length      time.Duration
	Established int64
	EventsTimed int64
	LatencyP50  int64 // µs; -1 when the interval had no latency sample
	LatencyP99  int64 // µs; -1 likewise
}

// Timeline streams timeline.csv while a run goes on, one row per target and
// interval, into a temporary file that Commit renames into place (like
// hlog.Set). It is a loadgen.IntervalSink.
type Timeline struct {
	dir  string
	mu   sync.Mutex
	f    *os.File
	bw   *bufio.Writer
	cw   *csv.Writer
	base time.Time
	err  error
	done bool
}

// NewTimeline prepares timeline.csv in dir (created if needed); the file is
// created on the first interval, whose start is the time base.
func NewTimeline(dir string) (*Timeline, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("write results: %w", err)
	}
	return &Timeline{dir: dir}, nil
}

var _ loadgen.IntervalSink = (*Timeline)(nil)

// Add writes a row per target of the interval. The histograms are read
// during the call only (the engine reuses them). Errors are kept for
// Commit.
func (tl *Timeline) Add(r loadgen.IntervalReport) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	for i := range r.Targets {
		if tl.err != nil || tl.done {
			return
		}
		tl.add(&r.Targets[i])
	}
}

// add writes one target's row; the caller holds tl.mu.
func (tl *Timeline) add(t *loadgen.TargetInterval) {
	if tl.f == nil {
		f, err := os.CreateTemp(tl.dir, "."+TimelineFile+".tmp-*")
		if err != nil {
			tl.err = fmt.Errorf("write %s: %w", TimelineFile, err)
			return
		}
		tl.f, tl.bw = f, bufio.NewWriter(f)
		tl.cw = csv.NewWriter(tl.bw)
		tl.base = t.Start
		if err := tl.cw.Write(timelineHeader); err != nil {
			tl.err = fmt.Errorf("write %s: %w", TimelineFile, err)
			return
		}
	}
	iv := t.Interval
	p50, p99, n := "", "", int64(0)
	if h := iv.Hist[loadgen.Latency]; h != nil && h.TotalCount() > 0 {
		n = h.TotalCount()
		p50 = strconv.FormatInt(h.ValueAtQuantile(50), 10)
		p99 = strconv.FormatInt(h.ValueAtQuantile(99), 10)
	}
	row := []string{
		t.Name,
		strconv.FormatFloat(iv.Start.Sub(tl.base).Seconds(), 'f', 3, 64),
		strconv.FormatFloat(iv.End.Sub(iv.Start).Seconds(), 'f', 3, 64),
		strconv.FormatInt(iv.Established, 10),
		strconv.FormatInt(n, 10),
		p50, p99,
	}
	if err := tl.cw.Write(row); err != nil {
		tl.err = fmt.Errorf("write %s: %w", TimelineFile, err)
	}
}

// Commit flushes, syncs and renames timeline.csv into place. A run that
// produced no interval writes no file.
func (tl *Timeline) Commit() error {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	if tl.done {
		return errors.New("timeline already committed")
	}
	tl.done = true
	if tl.f == nil {
		return tl.err
	}
	err := tl.err
	if err == nil {
		tl.cw.Flush()
		err = tl.cw.Error()
	}
	if err == nil {
		err = tl.bw.Flush()
	}
	if err == nil {
		err = tl.f.Chmod(0o644)
	}
	if err == nil {
		err = tl.f.Sync()
	}
	if cerr := tl.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tl.f.Name(), filepath.Join(tl.dir, TimelineFile))
	}
	if err != nil {
		os.Remove(tl.f.Name())
		tl.f = nil
		return fmt.Errorf("write %s: %w", filepath.Join(tl.dir, TimelineFile), err)
	}
	tl.f = nil
	return nil
}

// Abort removes the temporary file if Commit did not run; safe after Commit.
func (tl *Timeline) Abort() {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	tl.done = true
	if tl.f != nil {
		tl.f.Close()
		os.Remove(tl.f.Name())
		tl.f = nil
	}
}

// ReadTimeline reads a timeline.csv written by Timeline. Columns are found
// by name, so files with columns added later still read.
func ReadTimeline(r io.Reader) ([]TimelinePoint, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", TimelineFile, err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	for _, h := range timelineHeader {
		if _, ok := col[h]; !ok {
			return nil, fmt.Errorf("read %s: no %q column", TimelineFile, h)
		}
	}
	var out []TimelinePoint
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", TimelineFile, err)
		}
		if len(rec) < len(head) {
			return nil, fmt.Errorf("read %s: line %d: %d fields, want %d", TimelineFile, line, len(rec), len(head))
		}
		p := TimelinePoint{Target: rec[col["target"]], LatencyP50: -1, LatencyP99: -1}
		var errs []error
		secs := func(s string) time.Duration {
			f, err := strconv.ParseFloat(s, 64)
			errs = append(errs, err)
			return time.Duration(f * float64(time.Second))
		}
		num := func(s string, empty int64) int64 {
			if s == "" {
				return empty
			}
			n, err := strconv.ParseInt(s, 10, 64)
			errs = append(errs, err)
			return n
		}
		p.Start = secs(rec[col["start_s"]])
		p.Length = secs(rec[col["length_s"]])
		p.Established = num(rec[col["established"]], 0)
		p.EventsTimed = num(rec[col["events_timed"]], 0)
		p.LatencyP50 = num(rec[col["latency_p50_us"]], -1)
		p.LatencyP99 = num(rec[col["latency_p99_us"]], -1)
		if err := errors.Join(errs...); err != nil {
			return nil, fmt.Errorf("read %s: line %d: %w", TimelineFile, line, err)
		}
		out = append(out, p)
	}
}
