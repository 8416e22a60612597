package topology

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// tether arranges for the kernel to SIGKILL process group pgid as soon as
// the last write end of r's pipe closes while a member of the group still
// holds r.
//
// Why: Pdeathsig reaches the main process only. Killing it (by Pdeathsig or
// kill -9) leaves nginx's or HAProxy's workers running as orphans, still
// listening. With O_ASYNC on the read end, owner -pgid and F_SETSIG SIGKILL,
// closing the last writer makes the kernel (pipe_release → kill_fasync)
// signal the whole group — also when sseload itself is SIGKILLed, because
// the kernel closes its files then. The owner is held as a struct pid, so a
// recycled group id is never hit, and if no proxy process holds the read
// end any more the pipe is simply freed.
func tether(r *os.File, pgid int) error {
	fd := r.Fd()
	if _, err := unix.FcntlInt(fd, unix.F_SETOWN, -pgid); err != nil {
		return fmt.Errorf("tether: F_SETOWN: %w", err)
	}
	if _, err := unix.FcntlInt(fd, unix.F_SETSIG, int(unix.SIGKILL)); err != nil {
		return fmt.Errorf("tether: F_SETSIG: %w", err)
	}
	fl, err := unix.FcntlInt(fd, unix.F_GETFL, 0)
	if err != nil {
		return fmt.Errorf("tether: F_GETFL: %w", err)
	}
	if _, err := unix.FcntlInt(fd, unix.F_SETFL, fl|unix.O_ASYNC); err != nil {
		return fmt.Errorf("tether: F_SETFL O_ASYNC: %w", err)
	}
	return nil
}
