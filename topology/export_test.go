package topology

// Hooks for the tests of package topology_test. Those tests run real proxy
// processes and find the programs with internal/testenv, which imports
// topology, so they cannot live in package topology itself.

// ProcessGroups returns each proxied target's process group id (its main
// process's pid).
func (l *Local) ProcessGroups() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	g := make(map[string]int, len(l.procs))
	for name, p := range l.procs {
		g[name] = p.cmd.Process.Pid
	}
	return g
}

// WorkDir returns the directory holding each proxy's prefix.
func (l *Local) WorkDir() string { return l.workDir }
