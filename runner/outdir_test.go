package runner

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPrepareOutDir(t *testing.T) {
	base := t.TempDir()
	missing := filepath.Join(base, "new")
	if err := PrepareOutDir(missing, false); err != nil {
		t.Errorf("missing directory: %v", err)
	}
	empty := filepath.Join(base, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := PrepareOutDir(empty, false); err != nil {
		t.Errorf("empty directory: %v", err)
	}

	// An earlier run's results: refused without force, naming the
	// directory, what is in it and the fix.
	used := filepath.Join(base, "used")
	for _, f := range []string{"summary.json", "old.latency.hlog", "step-100/summary.json"} {
		p := filepath.Join(used, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	err := PrepareOutDir(used, false)
	if err == nil || !strings.Contains(err.Error(), used+" is not empty (old.latency.hlog, step-100, summary.json)") || !strings.Contains(err.Error(), "--force") {
		t.Errorf("used directory without force: %v", err)
	}
	if _, err := os.Stat(filepath.Join(used, "summary.json")); err != nil {
		t.Errorf("refused, yet touched: %v", err)
	}
	if err := PrepareOutDir(used, true); err != nil {
		t.Fatalf("used directory with force: %v", err)
	}
	if entries, err := os.ReadDir(used); err != nil || len(entries) != 0 {
		t.Errorf("after --force: %v entries, %v; want it empty", entries, err)
	}

	file := filepath.Join(base, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := PrepareOutDir(file, true); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("a file: %v", err)
	}

	// force never empties the working directory or a parent of it.
	wd := filepath.Join(base, "work")
	if err := os.MkdirAll(filepath.Join(wd, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(wd, "sub", "notes.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(filepath.Join(wd, "sub"))
	for _, dir := range []string{".", "..", wd} {
		if err := PrepareOutDir(dir, true); err == nil || !strings.Contains(err.Error(), "the working directory or one of its parents") {
			t.Errorf("--force on %s: %v, want a refusal", dir, err)
		}
	}
	if _, err := os.Stat(filepath.Join(wd, "sub", "notes.txt")); err != nil {
		t.Errorf("the working directory was touched: %v", err)
	}
}
