package render

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/sseload/sseload/internal/atomicfile"
	"github.com/sseload/sseload/reports"
)

// Report file names inside a results directory.
const (
	MarkdownFile = "report.md"
	HTMLFile     = "report.html"
	JUnitFile    = "junit.xml"
)

// WriteReports writes report.md, report.html and junit.xml into dir from
// s and the .hlog files and timeline.csv already in dir (reports.LoadRun),
// each atomically.
func WriteReports(dir string, s reports.Summary) error {
	d, err := reports.LoadRun(dir, s)
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
		if err := atomicfile.Write(dir, f.name, f.write); err != nil {
			return err
		}
	}
	return atomicfile.SyncDir(dir)
}

// RegenerateReports rewrites a results directory's reports from its
// summary.json, .hlog files and timeline.csv (`sseload report DIR`).
func RegenerateReports(dir string) (reports.Summary, error) {
	s, err := reports.ReadSummary(filepath.Join(dir, reports.SummaryFile))
	if err != nil {
		return reports.Summary{}, err
	}
	if s.Diagnoses == nil {
		// A summary written before diagnoses were stored in it.
		s.Diagnoses = reports.Diagnose(s)
	}
	return s, WriteReports(dir, s)
}
