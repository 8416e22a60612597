package loadgen

import "time"

// Slow consumers. A target with ReadBytesPerSec reads each stream through a
// token bucket: a read takes at most the bytes the stream's budget holds,
// and a stream whose budget is spent stops reading until the budget has
// refilled (epoll: EPOLLIN off and a timer in the worker's heap,
// worker_linux.go; portable: its goroutine sleeps, portable.go), so unread
// bytes back up into its small socket receive buffer and from there to the
// server, as they would for a device on a poor link.

// slowRcvBuf is the receive buffer asked for on a slow consumer's socket
// (the kernel doubles it): small, so that backpressure reaches the server
// after a few events rather than after megabytes.
const slowRcvBuf = 4 << 10

// burst is how many bytes a slow stream may read at once: a quarter of a
// second's worth, at least 64.
func burst(rate int) int { return max(rate/4, 64) }

// readLimit returns how many bytes c, a slow consumer (ReadBytesPerSec >
// 0), may read now (0: none), refilling its budget for the time since the
// last refill.
func (c *conn) readLimit(now time.Duration) int {
	rate := c.t.ReadBytesPerSec
	if c.refilled == 0 {
		c.refilled, c.budget = now, burst(rate)
	}
	if add := int(int64(now-c.refilled) * int64(rate) / int64(time.Second)); add > 0 {
		c.budget = min(c.budget+add, burst(rate))
		c.refilled = now
	}
	return min(c.budget, readBufSize)
}
