package reports

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
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
	return writeSummary(dir, append(js, '\n'))
}

func writeSummary(dir string, js []byte) error {
	err := writeFileAtomic(dir, SummaryFile, func(w io.Writer) error {
		_, err := w.Write(js)
		return err
	})
	if err != nil {
		return err
	}
	return syncDir(dir)
}

// writeFileAtomic writes dir/name through write: into a temporary file in
// dir (same file system, so the rename is atomic), flushed, fsynced and
// renamed over name. On any error the temporary file is removed and an
// existing dir/name is left as it was.
func writeFileAtomic(dir, name string, write func(io.Writer) error) (err error) {
	f, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(f, 64<<10)
	if err := write(bw); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Join(dir, name), err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Join(dir, name), err)
	}
	// CreateTemp makes the file 0600; results are meant to be shared.
	if err := f.Chmod(0o644); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Join(dir, name), err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write %s: sync: %w", filepath.Join(dir, name), err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Join(dir, name), err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Join(dir, name), err)
	}
	return nil
}

// syncDir fsyncs dir so that the renames into it survive a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("write results: sync %s: %w", dir, err)
	}
	return nil
}
