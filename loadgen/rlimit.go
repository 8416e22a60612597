package loadgen

import "fmt"

// fileLimitMargin is what a run needs besides one descriptor per stream: the
// workers' epoll and eventfd descriptors, stdio, the results files being
// written, /proc/stat, and the embedded origin's and nginx's own sockets when
// they share the process. It is a floor, not an estimate of everything.
const fileLimitMargin = 64

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
