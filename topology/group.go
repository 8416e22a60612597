package topology

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// groupSize counts the processes in process group pgid, from /proc.
func groupSize(pgid int) int { return len(groupPIDs(pgid)) }

// groupPIDs lists the processes in process group pgid, from /proc.
func groupPIDs(pgid int) []int {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var pids []int
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // the process exited meanwhile
		}
		// Fields after the command (which may hold spaces), from ") ":
		// state ppid pgrp ...
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(b[i+1:]))
		if len(fields) > 2 && fields[2] == strconv.Itoa(pgid) {
			if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(f))); err == nil {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}
