//go:build unix

package procs

import (
	"fmt"
	"syscall"
)

// fileLimit is this process's hard RLIMIT_NOFILE: the engine raises its
// soft limit to it before opening streams.
func fileLimit() (uint64, error) {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0, fmt.Errorf("read the open file limit (getrlimit RLIMIT_NOFILE): %w", err)
	}
	return r.Max, nil
}
