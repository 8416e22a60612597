package loadgen

import (
	"time"

	"golang.org/x/sys/unix"
)

// Slow consumers. A target with ReadBytesPerSec reads each stream through a
// token bucket: a read takes at most the bytes the stream's budget holds,
// and a stream whose budget is spent stops asking for EPOLLIN until the
// budget has refilled (a timer in the worker's heap), so unread bytes back
// up into its small socket receive buffer and from there to the server,
// as they would for a device on a poor link.

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
	return min(c.budget, len(c.w.buf))
}

// pauseReading stops EPOLLIN for c until its budget has refilled by a
// burst.
func (w *worker) pauseReading(c *conn, now time.Duration) {
	rate := c.t.ReadBytesPerSec
	ev := unix.EpollEvent{Events: unix.EPOLLRDHUP, Fd: int32(c.fd)}
	if err := unix.EpollCtl(w.epfd, unix.EPOLL_CTL_MOD, c.fd, &ev); err != nil {
		w.fail(c, ErrRead, "epoll_ctl: "+err.Error())
		return
	}
	c.paused = true
	w.schedule(c, now+time.Duration(int64(burst(rate))*int64(time.Second)/int64(rate)))
}

// resumeReading asks for EPOLLIN again once c's budget has refilled.
func (w *worker) resumeReading(c *conn) {
	if !c.paused || c.fd < 0 {
		return
	}
	c.paused = false
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(c.fd)}
	if err := unix.EpollCtl(w.epfd, unix.EPOLL_CTL_MOD, c.fd, &ev); err != nil {
		w.fail(c, ErrRead, "epoll_ctl: "+err.Error())
		return
	}
	if c.tls != nil {
		w.read(c) // tls.Conn may hold bytes the socket will not signal again
	}
}
