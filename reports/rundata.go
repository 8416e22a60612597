package reports

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/sseload/sseload/loadgen"
	"github.com/sseload/sseload/reports/hlog"
)

// Report file names inside a results directory.
const (
	MarkdownFile = "report.md"
	HTMLFile     = "report.html"
	JUnitFile    = "junit.xml"
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

// WriteReports writes report.md, report.html and junit.xml into dir from
// s and the .hlog files and timeline.csv already in dir, each atomically.
func WriteReports(dir string, s Summary) error {
	d, err := LoadRun(dir, s)
	if err != nil {
		return fmt.Errorf("reports: %w", err)
	}
	for _, f := range []struct {
		name  string
		write func(io.Writer) error
	}{
		{MarkdownFile, func(w io.Writer) error { return WriteMarkdown(w, s) }},
		{HTMLFile, func(w io.Writer) error { return WriteHTML(w, d) }},
		{JUnitFile, func(w io.Writer) error { return WriteJUnit(w, s) }},
	} {
		if err := writeFileAtomic(dir, f.name, f.write); err != nil {
			return err
		}
	}
	return syncDir(dir)
}

// RegenerateReports rewrites a results directory's reports from its
// summary.json, .hlog files and timeline.csv (`sseload report DIR`).
func RegenerateReports(dir string) (Summary, error) {
	s, err := ReadSummary(filepath.Join(dir, SummaryFile))
	if err != nil {
		return Summary{}, err
	}
	if s.Diagnoses == nil {
		// A summary written before diagnoses were stored in it.
		s.Diagnoses = Diagnose(s)
	}
	return s, WriteReports(dir, s)
}
