package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestWriteFailure: when the writer fails half-way, the partial temporary
// file is removed and the existing file keeps its content.
func TestWriteFailure(t *testing.T) {
	dir := t.TempDir()
	write := func(s string) func(io.Writer) error {
		return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
	}
	if err := Write(dir, "f.txt", write("old\n")); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "f.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("f.txt mode %v, want 0644", fi.Mode().Perm())
	}
	boom := errors.New("encoder failed")
	err = Write(dir, "f.txt", func(w io.Writer) error {
		// Enough to pass the buffer and reach the temporary file.
		if _, err := io.WriteString(w, strings.Repeat("partial ", 20000)); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the writer's error wrapped", err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "f.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != "old\n" {
		t.Errorf("f.txt = %.20q..., want the old content", b)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"f.txt"}) {
		t.Errorf("files = %v, want only f.txt (temporary file removed)", names)
	}
	if err := SyncDir(dir); err != nil {
		t.Errorf("SyncDir: %v", err)
	}

	if err := Write(filepath.Join(dir, "missing"), "g.txt", write("x")); err == nil {
		t.Error("write into a missing directory: no error")
	}
	if err := SyncDir(filepath.Join(dir, "missing")); err == nil {
		t.Error("SyncDir of a missing directory: no error")
	}
}
