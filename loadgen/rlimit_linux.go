package loadgen

import (
	"fmt"
	"syscall"
)

// fileLimitMargin is what a run needs besides one descriptor per stream: the
// workers' epoll and eventfd descriptors, stdio, the results files being
// written, /proc/stat, and the embedded origin's and nginx's own sockets when
// they share the process. It is a floor, not an estimate of everything.
const fileLimitMargin = 64

// raiseFileLimit raises the soft RLIMIT_NOFILE to the hard limit, which an
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
		raised := syscall.Rlimit{Cur: r.Max, Max: r.Max}
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err != nil {
			return r.Cur, r.Max, fmt.Errorf("raise the open file limit from %d to its hard limit %d (setrlimit RLIMIT_NOFILE): %w", r.Cur, r.Max, err)
		}
		r.Cur = r.Max
	}
	return r.Cur, r.Max, nil
}

// fileLimitWarning says, in words with the numbers and the fix, that the
// open file limit is below what a run of need descriptors takes; "" when it
// is not.
func fileLimitWarning(soft, hard uint64, streams, need int) string {
	if soft >= uint64(need) {
		return ""
	}
	return fmt.Sprintf("the open file limit is %d (hard limit %d), but this run opens %d streams and needs at least %d file descriptors: "+
		"streams past the limit will fail as %s. Raise it before the run with `ulimit -n %d` (a hard limit below that needs root: "+
		"/etc/security/limits.conf, or LimitNOFILE= for a systemd service), or run fewer connections per process",
		soft, hard, streams, need, ErrTooManyFiles, need)
}

// checkFileLimit raises the open file limit to the hard limit and warns
// once when it is still below what the run needs: one descriptor per
// stream of every target, plus fileLimitMargin.
func (e *Engine) checkFileLimit() {
	streams := e.cfg.Connections * len(e.targets)
	soft, hard, err := raiseFileLimit()
	if err != nil {
		e.warnf("%v", err)
		if soft == 0 {
			return
		}
	}
	if msg := fileLimitWarning(soft, hard, streams, streams+fileLimitMargin); msg != "" {
		e.warnf("%s", msg)
	}
}
