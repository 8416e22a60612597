//go:build unix

package childproc

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// deadPID is the pid of a process that has exited and been reaped.
func deadPID(t *testing.T) int {
	t.Helper()
	c := exec.Command("true")
	if err := c.Run(); err != nil {
		t.Fatal(err)
	}
	return c.Process.Pid
}

// TestReapKillsOrphansOnly records two real children, one of a sseload
// that is gone and one of this (running) process: reap kills the first
// and its record, and leaves the second.
func TestReapKillsOrphansOnly(t *testing.T) {
	dir := t.TempDir()
	start := func() *exec.Cmd {
		c := exec.Command("sleep", "60")
		OwnGroup(c)
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Process.Kill(); _ = c.Wait() })
		return c
	}
	orphan, ours := start(), start()
	record(dir, deadPID(t), orphan, true)
	record(dir, os.Getpid(), ours, true)
	killed, err := reap(dir)
	if err != nil || killed != 1 {
		t.Fatalf("reap = %d, %v; want 1 killed", killed, err)
	}
	if err := orphan.Wait(); err == nil {
		t.Error("the orphan exited cleanly; want it killed")
	}
	if !alive(ours.Process.Pid) {
		t.Error("this process's own child was killed")
	}
	if _, err := os.Stat(filepath.Join(dir, strconv.Itoa(orphan.Process.Pid)+".pid")); !os.IsNotExist(err) {
		t.Errorf("the orphan's record is still there (%v)", err)
	}
	if _, err := os.Stat(filepath.Join(dir, strconv.Itoa(ours.Process.Pid)+".pid")); err != nil {
		t.Errorf("this process's record is gone: %v", err)
	}
}

// TestReapForgetsReusedPIDs: a record whose pid now runs another program
// is forgotten, and that process is left alone.
func TestReapForgetsReusedPIDs(t *testing.T) {
	dir := t.TempDir()
	c := exec.Command("sleep", "60")
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Process.Kill(); _ = c.Wait() }()
	c.Path = "/bin/not-sleep" // as if the pid were another program's now
	record(dir, deadPID(t), c, false)
	if killed, err := reap(dir); err != nil || killed != 0 {
		t.Fatalf("reap = %d, %v; want nothing killed", killed, err)
	}
	if !alive(c.Process.Pid) {
		t.Error("a process running another program was killed")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("records left: %d, want none", len(ents))
	}
}
