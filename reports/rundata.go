package reports

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/sseload/sseload/loadgen"
	"github.com/sseload/sseload/reports/hlog"
)

// RunData is everything the reports draw from a results directory: the
// summary, each target's full distributions (the .hlog intervals merged),
// its latency per interval, and the timeline (connections over time).
// Reports are functions of RunData alone, so `sseload report DIR` years
// later draws what the run drew.
type RunData struct {
	Summary Summary
	// Hists holds, by target name, the merged histogram of each metric
	// (indexed by loadgen.Metric); nil where the .hlog file is missing.
	Hists map[string][len(loadgen.Metrics)]*hdrhistogram.Histogram
	// Latency holds, by target name, the latency of each .hlog interval.
	Latency map[string][]hlog.IntervalStat
	// Timeline is timeline.csv; nil when the directory has none.
	Timeline []TimelinePoint
}

// LoadRun reads the .hlog files and timeline.csv of dir for the targets of
// s (normally dir's summary.json). Missing files are not an error (the
// charts say what is missing); unreadable ones are.
func LoadRun(dir string, s Summary) (*RunData, error) {
	d := &RunData{
		Summary: s,
		Hists:   map[string][len(loadgen.Metrics)]*hdrhistogram.Histogram{},
		Latency: map[string][]hlog.IntervalStat{},
	}
	for _, t := range s.Targets {
		var hs [len(loadgen.Metrics)]*hdrhistogram.Histogram
		for _, m := range loadgen.Metrics {
			total, ivs, err := hlog.ReadFile(filepath.Join(dir, hlog.Name(t.Name, m)), s.Started)
			if err != nil {
				return nil, err
			}
			hs[m] = total
			if m == loadgen.Latency {
				d.Latency[t.Name] = ivs
			}
		}
		d.Hists[t.Name] = hs
	}
	f, err := os.Open(filepath.Join(dir, TimelineFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, err
	default:
		defer f.Close()
		tl, err := ReadTimeline(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", dir, err)
		}
		d.Timeline = tl
	}
	return d, nil
}
