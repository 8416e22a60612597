// Package childproc ties sseload's child processes (proxies, origin
// processes, generator workers, compose helpers) to sseload's own life, as
// far as each system allows.
//
// Every child is stopped by sseload at the end of a run and on Ctrl-C, on
// every system. What differs is a sseload killed outright (kill -9, a
// crash): on Linux the kernel kills its children then (Pdeathsig; the
// topology package adds a tether for proxy workers). Elsewhere nothing
// does, so each child is written down in a pid file under the temp
// directory while it runs (Record), and the next sseload to start kills
// the children whose sseload is gone (ReapOrphans).
package childproc

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// Tethered reports whether the kernel kills sseload's children when
// sseload dies (Linux). Without it, Record and ReapOrphans clean up.
const Tethered = tethered

// Dir is where the pid files of running children are kept: one file per
// child, named after its pid.
func Dir() string { return filepath.Join(os.TempDir(), "sseload-children") }

// Setup readies cmd before it starts: where the kernel can, the child
// dies with this process; with group, it leads a process group of its
// own (signals to the group reach its workers too; a terminal's Ctrl-C
// reaches sseload only, which then stops the child in order).
func Setup(cmd *exec.Cmd, group bool) { setup(cmd, group, true) }

// OwnGroup gives cmd a process group of its own and nothing else: a
// terminal's Ctrl-C reaches sseload only, which ends the child itself (the
// compose topology's docker commands, which must not die half-way with
// sseload).
func OwnGroup(cmd *exec.Cmd) { setup(cmd, true, false) }

// Record writes down a started child, when the kernel does not tie it to
// sseload (Tethered false), so that the next sseload can kill it if this
// one dies without stopping it. The returned function removes the record;
// call it once the child has exited.
func Record(cmd *exec.Cmd, group bool) (release func()) {
	if Tethered || cmd.Process == nil {
		return func() {}
	}
	return record(Dir(), os.Getpid(), cmd, group)
}

// record writes the pid file of child cmd of process parent into dir.
func record(dir string, parent int, cmd *exec.Cmd, group bool) (release func()) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return func() {}
	}
	path := filepath.Join(dir, strconv.Itoa(cmd.Process.Pid)+".pid")
	rec := fmt.Sprintf("%d %d %t %s\n", parent, cmd.Process.Pid, group, filepath.Base(cmd.Path))
	if err := os.WriteFile(path, []byte(rec), 0o600); err != nil {
		return func() {}
	}
	return func() { _ = os.Remove(path) }
}

// ReapOrphans kills the children that an earlier sseload recorded and left
// running when it died (its pid no longer runs), and forgets their records.
// A record whose child runs another program now (its pid reused) is only
// forgotten. It returns how many it killed; errors are of reading the
// records, never fatal to a run.
func ReapOrphans() (killed int, err error) {
	if Tethered {
		return 0, nil
	}
	return reap(Dir())
}

// reap is ReapOrphans over the pid files in dir.
func reap(dir string) (killed int, err error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("orphaned children: %w", err)
	}
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		var parent, child int
		var group bool
		var prog string
		if _, err := fmt.Sscanf(strings.TrimSpace(string(b)), "%d %d %t %s", &parent, &child, &group, &prog); err != nil {
			_ = os.Remove(path) // not a record of ours
			continue
		}
		if parent == os.Getpid() || alive(parent) {
			continue // its sseload (this one, or another) runs and will stop it
		}
		if alive(child) && programOf(child) == prog {
			if kill(child, group) == nil {
				killed++
			}
		}
		_ = os.Remove(path)
	}
	return killed, nil
}

// programOf is the name of the program pid runs ("" when unknown), from
// ps (or tasklist on Windows): how a reused pid is told from the child.
func programOf(pid int) string {
	out, err := psCommand(pid).Output()
	if err != nil {
		return ""
	}
	return parseProgram(string(out))
}
