//go:build !linux

package topology

import "os"

// tether does nothing here: F_SETSIG, which lets a closing pipe SIGKILL a
// process group, is Linux's. Stop still ends the whole group; a sseload
// killed outright leaves its proxies to the next sseload, which kills them
// from their pid files (childproc.ReapOrphans).
func tether(r *os.File, pgid int) error { return nil }
