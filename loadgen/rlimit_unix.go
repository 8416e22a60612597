//go:build unix

package loadgen

import (
	"fmt"
	"syscall"
)

// raiseFileLimit raises the soft RLIMIT_NOFILE to the hard limit (on macOS,
// to the kernel's per-process bound below it: fileLimitCap), which an
// unprivileged process may always do, and returns both as they then are.
// Go already does this at start-up (since 1.19); doing it again here keeps
// the engine right when it is embedded in a program that lowered the limit,
// and gives the numbers the warning needs.
func raiseFileLimit() (soft, hard uint64, err error) {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0, 0, fmt.Errorf("read the open file limit (getrlimit RLIMIT_NOFILE): %w", err)
	}
	if r.Cur < r.Max {
		raised := syscall.Rlimit{Cur: fileLimitCap(r.Max), Max: r.Max}
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err != nil {
			return r.Cur, r.Max, fmt.Errorf("raise the open file limit from %d to its hard limit %d (setrlimit RLIMIT_NOFILE): %w", r.Cur, r.Max, err)
		}
		r.Cur = raised.Cur
	}
	return r.Cur, r.Max, nil
}
