package loadgen

import "golang.org/x/sys/unix"

// fileLimitCap bounds the soft limit asked for: macOS refuses a soft
// RLIMIT_NOFILE above kern.maxfilesperproc (its hard limit is often
// "unlimited"), as Go's own start-up raise knows.
func fileLimitCap(hard uint64) uint64 {
	if n, err := unix.SysctlUint32("kern.maxfilesperproc"); err == nil && uint64(n) < hard {
		return uint64(n)
	}
	return hard
}
