// Package atomicfile writes whole files so that a reader, or a crash, never
// sees half of one: into a temporary file beside the target, flushed,
// fsynced and renamed over it. reports writes summary.json this way and
// reports/render the reports; both sit in one results directory.
package atomicfile

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Write writes dir/name through write: into a temporary file in dir (same
// file system, so the rename is atomic), flushed, fsynced and renamed over
// name. On any error the temporary file is removed and an existing
// dir/name is left as it was. Call SyncDir after the last Write into dir
// so that the renames survive a crash.
func Write(dir, name string, write func(io.Writer) error) (err error) {
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

// SyncDir fsyncs dir so that the renames into it survive a crash.
func SyncDir(dir string) error {
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
