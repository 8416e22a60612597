package hlog

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/sseload/sseload/loadgen"
)

// Set streams every target's interval logs into a results directory
// while a run goes on: one <target>.<metric>.hlog per target and metric,
// written to a temporary file and renamed into place by Commit. It is a
// loadgen.IntervalSink.
type Set struct {
	dir   string
	mu    sync.Mutex
	files map[string]*hlogFile // by Name
	order []string
	err   error // the first write error; Commit returns it
	done  bool
}

type hlogFile struct {
	f   *os.File
	w   *Writer
	tmp string
}

// NewSet prepares the set for the named targets; files are created on
// the first interval, whose start is the logs' base time.
func NewSet(dir string, targets []string) (*Set, error) {
	seen := make(map[string]bool, len(targets))
	for _, t := range targets {
		if err := CheckName(t); err != nil {
			return nil, err
		}
		if seen[t] {
			return nil, fmt.Errorf("write results: two targets are named %q; their .hlog files would overwrite each other: give every target a distinct name", t)
		}
		seen[t] = true
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("write results: %w", err)
	}
	s := &Set{dir: dir, files: map[string]*hlogFile{}}
	for _, t := range targets {
		for _, m := range loadgen.Metrics {
			s.order = append(s.order, Name(t, m))
		}
	}
	return s, nil
}

var _ loadgen.IntervalSink = (*Set)(nil)

// Add writes every target's interval to its logs, one per metric. Errors
// are kept and returned by Commit: the engine's callback has no error to
// return.
func (s *Set) Add(r loadgen.IntervalReport) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range r.Targets {
		if s.err != nil || s.done {
			return
		}
		s.add(&r.Targets[i])
	}
}

// add writes one target's interval; the caller holds s.mu.
func (s *Set) add(t *loadgen.TargetInterval) {
	for _, m := range loadgen.Metrics {
		name := Name(t.Name, m)
		hf, ok := s.files[name]
		if !ok {
			f, err := os.CreateTemp(s.dir, "."+name+".tmp-*")
			if err != nil {
				s.err = fmt.Errorf("write %s: %w", name, err)
				return
			}
			w, err := NewWriter(f, t.Start, m)
			if err != nil {
				f.Close()
				os.Remove(f.Name())
				s.err = err
				return
			}
			hf = &hlogFile{f: f, w: w, tmp: f.Name()}
			s.files[name] = hf
		}
		if err := hf.w.Write(t.Interval); err != nil {
			s.err = fmt.Errorf("%s: %w", name, err)
			return
		}
	}
}

// Commit flushes, syncs and renames every log into place. Logs of targets
// that produced no interval are not written.
func (s *Set) Commit() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return errors.New("hlog set already committed")
	}
	s.done = true
	if s.err != nil {
		s.removeTemps()
		return s.err
	}
	for _, name := range s.order {
		hf, ok := s.files[name]
		if !ok {
			continue
		}
		err := hf.w.Flush()
		if err == nil {
			err = hf.f.Chmod(0o644)
		}
		if err == nil {
			err = hf.f.Sync()
		}
		if cerr := hf.f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(hf.tmp, filepath.Join(s.dir, name))
		}
		if err != nil {
			s.removeTemps()
			return fmt.Errorf("write %s: %w", filepath.Join(s.dir, name), err)
		}
		delete(s.files, name)
	}
	return nil
}

// Abort removes temporary files if Commit did not run; safe after Commit.
func (s *Set) Abort() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.done = true
	s.removeTemps()
}

func (s *Set) removeTemps() {
	for name, hf := range s.files {
		hf.f.Close()
		os.Remove(hf.tmp)
		delete(s.files, name)
	}
}
