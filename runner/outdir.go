package runner

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// PrepareOutDir makes dir, a results directory the user named, ready for
// one run's files, so that results of two runs are never mixed (a stale
// .hlog of a target the new run does not have, beside the new summary): a
// missing or empty directory is fine; one with entries is refused, unless
// force, which empties it first. force never empties the filesystem's
// root, the home directory, or the working directory or one of its
// parents: a mistyped --out must not cost the user their files.
func PrepareOutDir(dir string, force bool) error {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("%s: %w", dir, err)
	case !st.IsDir():
		return fmt.Errorf("%s exists and is not a directory: give a directory for the results", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	if len(entries) == 0 {
		return nil
	}
	if !force {
		return fmt.Errorf("%s is not empty (%s): results of two runs are never mixed; give a new directory, or add --force to empty it first", dir, listEntries(entries))
	}
	if why := precious(dir); why != "" {
		return fmt.Errorf("--force would empty %s, %s: give a directory of its own for the results", dir, why)
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("--force: empty %s: %w", dir, err)
		}
	}
	return nil
}

// precious says why dir must not be emptied, or returns "".
func precious(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "a directory whose absolute path is unknown"
	}
	abs, _ = filepath.EvalSymlinks(abs)
	if abs == filepath.Dir(abs) {
		return "the root of the file system"
	}
	if home, err := os.UserHomeDir(); err == nil {
		if h, err := filepath.EvalSymlinks(home); err == nil && h == abs {
			return "your home directory"
		}
	}
	if wd, err := os.Getwd(); err == nil {
		if w, err := filepath.EvalSymlinks(wd); err == nil && (w == abs || strings.HasPrefix(w, abs+string(filepath.Separator))) {
			return "the working directory or one of its parents"
		}
	}
	return ""
}

// listEntries names a directory's first entries (os.ReadDir sorts them by
// name).
func listEntries(entries []os.DirEntry) string {
	const show = 3
	names := make([]string, 0, show)
	for _, e := range entries[:min(show, len(entries))] {
		names = append(names, e.Name())
	}
	s := strings.Join(names, ", ")
	if len(entries) > show {
		s += fmt.Sprintf(", … %d entries", len(entries))
	}
	return s
}
