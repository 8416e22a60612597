package reports

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/sseload/sseload/internal/atomicfile"
)

// SummaryFile is the name of the summary inside a results directory.
const SummaryFile = "summary.json"

// WriteSummary writes summary.json alone, atomically, into dir (created if
// needed). Runs that streamed their .hlog files (hlog.Set) finish with it.
func WriteSummary(dir string, s Summary) error {
	js, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("write results: encode %s: %w", SummaryFile, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	err = atomicfile.Write(dir, SummaryFile, func(w io.Writer) error {
		_, err := w.Write(append(js, '\n'))
		return err
	})
	if err != nil {
		return err
	}
	return atomicfile.SyncDir(dir)
}
