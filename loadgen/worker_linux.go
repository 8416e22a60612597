package loadgen

import (
	"container/heap"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// epollAvailable says the epoll engine runs here.
const epollAvailable = true

// epollState is what an epoll worker holds besides the state every worker
// has (worker.go): the epoll set, its wake-up eventfd, the shared read
// buffer and the connections by file descriptor.
type epollState struct {
	epfd int
	// epf wraps epfd for Go's netpoller: the worker waits for its epoll set
	// to become readable parked in the runtime's poller (see wait), never in
	// a blocking epoll_wait that would hold a P.
	epf    *os.File
	epRaw  syscall.RawConn
	wakefd int // eventfd: wakes epoll_wait when work is queued
	buf    []byte
	conns  []*conn // indexed by file descriptor
	// connecting lists connections waiting for connect, for deadline checks.
	connecting []*conn
	// tls holds TLS streams in the handshaker (tlsconn_linux.go).
	tls tlsWorker
}

// noEpoll is the epollState of a worker without an epoll set: no file
// descriptors (-1).
func noEpoll() epollState { return epollState{epfd: -1, wakefd: -1} }

// closeFD closes c's socket and removes it from the epoll set; streams of
// the goroutine-per-stream workers have no fd here (c.fd is -1): their
// goroutine closes its own connection.
func (w *worker) closeFD(c *conn) {
	if c.fd >= 0 && w.streams == nil {
		w.conns[c.fd] = nil
		unix.Close(c.fd) // also removes it from the epoll set
		c.fd = -1
	}
	c.tls = nil
}

// idleWait bounds how long a worker sleeps in epoll_wait, so connect
// deadlines and interval ends are noticed without a timer per connection.
const idleWait = 50 * time.Millisecond

func newWorker(e *Engine, id int) (*worker, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("engine worker %d: epoll_create1: %w", id, err)
	}
	wfd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(epfd)
		return nil, fmt.Errorf("engine worker %d: eventfd: %w", id, err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(wfd)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wfd, &ev); err != nil {
		unix.Close(wfd)
		unix.Close(epfd)
		return nil, fmt.Errorf("engine worker %d: epoll_ctl: %w", id, err)
	}
	if err := unix.SetNonblock(epfd, true); err != nil {
		unix.Close(wfd)
		unix.Close(epfd)
		return nil, fmt.Errorf("engine worker %d: epoll fd non-blocking: %w", id, err)
	}
	epf := os.NewFile(uintptr(epfd), "epoll")
	raw, err := epf.SyscallConn()
	if err != nil {
		unix.Close(wfd)
		epf.Close()
		return nil, fmt.Errorf("engine worker %d: epoll fd: %w", id, err)
	}
	w := newWorkerState(e, id)
	w.epfd, w.epf, w.epRaw, w.wakefd = epfd, epf, raw, wfd
	w.buf = make([]byte, readBufSize)
	return w, nil
}

func (w *worker) closeFDs() {
	if w.epf == nil {
		return
	}
	unix.Close(w.wakefd)
	w.epf.Close()
}

// wait returns the ready events of the worker's epoll set, waiting at most
// until deadline.
//
// A plain blocking epoll_wait would keep the goroutine's P for as long as
// the call lasts: the runtime takes the P back only when sysmon notices,
// and sysmon sleeps up to 10 ms when the process is quiet. With one worker
// per P, every other goroutine (timers, the embedded origin, the lag
// monitor) would wait that long: measured here as a 10 ms latency p99 on
// loopback. Instead the epoll fd itself is registered with Go's netpoller
// (an epoll set is readable while it has ready events), the goroutine parks
// there like any socket reader, and epoll_wait is only ever called with a
// zero timeout.
func (w *worker) wait(events []unix.EpollEvent, deadline time.Time) (int, error) {
	if err := w.epf.SetReadDeadline(deadline); err != nil {
		return 0, err
	}
	n := 0
	var werr error
	err := w.epRaw.Read(func(fd uintptr) bool {
		n, werr = unix.EpollWait(int(fd), events, 0)
		if werr == unix.EINTR {
			n, werr = 0, nil
			return true
		}
		return n > 0 || werr != nil
	})
	if werr != nil {
		return 0, werr
	}
	if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
		return 0, err
	}
	return n, nil
}

func (w *worker) wake() {
	if w.wakefd < 0 {
		return
	}
	var one = [8]byte{1}
	_, _ = unix.Write(w.wakefd, one[:])
}

// run is the worker's loop: wait for ready sockets, serve them, check
// deadlines and interval ends, until stopped.
func (w *worker) run() {
	defer w.closeFDs()
	events := make([]unix.EpollEvent, 512)
	iv := w.e.cfg.Interval
	tickStart := w.e.epoch
	tickEnd := tickStart.Add(iv)
	nextSweep := time.Now().Add(idleWait)
	for {
		deadline := tickEnd
		if d := time.Now().Add(idleWait); d.Before(deadline) {
			deadline = d
		}
		if due, ok := w.timers.next(); ok {
			if d := w.e.epoch.Add(due); d.Before(deadline) {
				deadline = d
			}
		}
		n, err := w.wait(events, deadline)
		began := time.Now()
		if err != nil {
			// epoll_wait fails only on programming errors (bad fd); there is
			// nothing to serve, so end the run for this worker cleanly.
			w.shutdown(began, tickStart, tickEnd)
			return
		}
		for i := 0; i < n; i++ {
			fd := int(events[i].Fd)
			if fd == w.wakefd {
				w.drainWake()
				continue
			}
			if fd < len(w.conns) && w.conns[fd] != nil {
				w.serve(w.conns[fd], events[i].Events)
			}
		}
		now := time.Now()
		w.runTimers(now.Sub(w.e.epoch))
		if !now.Before(nextSweep) {
			w.sweepConnecting(now)
			nextSweep = now.Add(idleWait)
		}
		w.mu.Lock()
		stopAt := w.stopAt
		w.mu.Unlock()
		w.creditBusy(began, time.Now(), tickEnd)
		for (stopAt.IsZero() || !tickEnd.After(stopAt)) && !now.Before(tickEnd) {
			w.sendTick(tickStart, tickEnd, false)
			tickStart, tickEnd = tickEnd, tickEnd.Add(iv)
		}
		if !stopAt.IsZero() {
			w.shutdown(stopAt, tickStart, tickEnd)
			return
		}
	}
}

// shutdown closes every connection (those still without a response head
// fail as no_response_headers: within the run, no head arrived) and sends
// the remaining intervals up to stopAt, the last one partial and final.
func (w *worker) shutdown(stopAt, tickStart, tickEnd time.Time) {
	w.shutdownTLS()
	for _, c := range w.conns {
		if c == nil {
			continue
		}
		if c.state < stateStreaming && !c.opened {
			w.fail(c, ErrNoResponseHeaders, "no response head before the run ended")
		} else {
			w.closeConn(c)
		}
	}
	for _, c := range w.timers {
		w.closeConn(c) // waiting to reconnect (or paused, and closed above)
	}
	w.timers = nil
	w.mu.Lock()
	left := len(w.queue)
	w.queue = nil
	w.mu.Unlock()
	w.e.notOpened(int64(left))
	w.shutdownTicks(stopAt, tickStart, tickEnd)
}

func (w *worker) drainWake() {
	var b [8]byte
	_, _ = unix.Read(w.wakefd, b[:])
	w.mu.Lock()
	q := w.queue
	w.queue = nil
	stopping := !w.stopAt.IsZero()
	w.mu.Unlock()
	w.takeTLS(stopping)
	if stopping {
		w.e.notOpened(int64(len(q)))
		return
	}
	for _, t := range q {
		w.open(t)
	}
}

// open starts a non-blocking connect to t and adds the socket to the epoll
// set; the rest happens in serve when the socket becomes writable.
func (w *worker) open(t *target) {
	c := &conn{w: w, t: t, fd: -1, addr: t.addr, born: time.Now()}
	c.parser.MaxEventBytes = w.e.cfg.MaxEventBytes
	w.stats[t.index].opened.Add(1)
	w.connect(c)
}

// connect starts a new connection for stream c: its first, a reconnection
// or a redirect.
func (w *worker) connect(c *conn) {
	c.state = stateConnecting
	c.start = time.Since(w.e.epoch)
	if c.t.tls {
		w.connectTLS(c, w.source(c))
		return
	}
	fd, err := dialSocket(c, w.source(c))
	if err != nil {
		w.fail(c, errnoKind(err, ErrConnect), err.Error())
		return
	}
	c.fd = fd
	c.deadline = c.start + w.e.cfg.ConnectTimeout
	for fd >= len(w.conns) {
		w.conns = append(w.conns, make([]*conn, len(w.conns)+1024)...)
	}
	w.conns[fd] = c
	ev := unix.EpollEvent{Events: unix.EPOLLOUT | unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(fd)}
	if err := unix.EpollCtl(w.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		w.fail(c, ErrConnect, "epoll_ctl: "+err.Error())
		return
	}
	w.connecting = append(w.connecting, c)
}

// source is the local address c's next connection binds to: the
// target's source addresses in turn, for its own address (not where a
// redirect led); invalid = any.
func (w *worker) source(c *conn) netip.Addr {
	src := c.t.sources
	if len(src) == 0 || c.addr != c.t.addr {
		return netip.Addr{}
	}
	a := src[w.srcNext%len(src)]
	w.srcNext++
	return a
}

// dialSocket creates a non-blocking socket, bound to src when valid, and
// starts connecting it to c.addr.
func dialSocket(c *conn, src netip.Addr) (int, error) {
	t := c.t
	family := unix.AF_INET
	if c.addr.Addr().Is6() {
		family = unix.AF_INET6
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("socket: %w", err)
	}
	_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	if t.ReadBytesPerSec > 0 {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, slowRcvBuf)
	}
	if src.IsValid() {
		// Choose the source port at connect time, per destination, so one
		// source address serves ~28k streams to each server address:port
		// instead of ~28k in all.
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
		if err := unix.Bind(fd, sockaddr(netip.AddrPortFrom(src, 0))); err != nil {
			unix.Close(fd)
			return -1, fmt.Errorf("bind %s: %w", src, err)
		}
	}
	err = unix.Connect(fd, sockaddr(c.addr))
	if err != nil && err != unix.EINPROGRESS {
		unix.Close(fd)
		return -1, fmt.Errorf("connect %s: %w", c.addr, err)
	}
	return fd, nil
}

func sockaddr(ap netip.AddrPort) unix.Sockaddr {
	if ap.Addr().Is4() {
		return &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	}
	return &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
}

// sweepConnecting fails connections whose connect deadline passed and
// forgets those that connected.
func (w *worker) sweepConnecting(now time.Time) {
	mono := now.Sub(w.e.epoch)
	kept := w.connecting[:0]
	for _, c := range w.connecting {
		if c.state != stateConnecting || c.fd < 0 {
			continue
		}
		if mono >= c.deadline {
			w.fail(c, ErrConnectTimeout, fmt.Sprintf("connect %s: no answer within %s", c.addr, w.e.cfg.ConnectTimeout))
			continue
		}
		kept = append(kept, c)
	}
	clear(w.connecting[len(kept):])
	w.connecting = kept
}

// serve advances one connection on an epoll readiness event.
func (w *worker) serve(c *conn, ev uint32) {
	switch c.state {
	case stateConnecting:
		soerr, err := unix.GetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_ERROR)
		if err == nil && soerr != 0 {
			err = unix.Errno(soerr)
		}
		if err != nil {
			w.fail(c, errnoKind(err, ErrConnect), fmt.Sprintf("connect %s: %v", c.addr, err))
			return
		}
		if ev&unix.EPOLLOUT == 0 {
			return
		}
		c.state = stateSending
		c.out = c.request()
		w.send(c)
	case stateSending:
		w.send(c)
	default:
		if c.paused && ev&(unix.EPOLLHUP|unix.EPOLLERR) == 0 {
			return // a slow reader waits for its budget (readrate.go)
		}
		w.read(c)
	}
}

// send writes the request; the socket buffer nearly always takes it whole.
func (w *worker) send(c *conn) {
	for len(c.out) > 0 {
		n, err := unix.Write(c.fd, c.out)
		if err == unix.EAGAIN {
			return
		}
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			w.fail(c, errnoKind(err, ErrRequest), "send request: "+err.Error())
			return
		}
		c.out = c.out[n:]
	}
	c.out = nil
	c.state = stateHead
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(c.fd)}
	if err := unix.EpollCtl(w.epfd, unix.EPOLL_CTL_MOD, c.fd, &ev); err != nil {
		w.fail(c, ErrRequest, "epoll_ctl: "+err.Error())
	}
}

// read takes what the socket has into the worker's buffer and pushes it
// through the HTTP decoder and the SSE parser.
func (w *worker) read(c *conn) {
	if c.tls != nil {
		w.readTLS(c, w.buf)
		return
	}
	buf := w.buf
	if c.t.ReadBytesPerSec > 0 {
		now := time.Since(w.e.epoch)
		lim := c.readLimit(now)
		if lim == 0 {
			if !c.paused {
				w.pauseReading(c, now)
				return
			}
			lim = len(buf) // hung up while paused: read what is left
		}
		buf = buf[:lim]
	}
	n, err := unix.Read(c.fd, buf)
	for err == unix.EINTR {
		n, err = unix.Read(c.fd, buf)
	}
	if err == unix.EAGAIN {
		return
	}
	if err != nil {
		w.fail(c, errnoKind(err, ErrRead), "read: "+err.Error())
		return
	}
	if n == 0 {
		w.eof(c)
		return
	}
	if c.t.ReadBytesPerSec > 0 {
		c.budget -= n
	}
	w.consume(c, buf[:n])
}

// consume pushes bytes read from c's connection through the HTTP decoder
// and the SSE parser. It reports whether the connection is still open.
func (w *worker) consume(c *conn, p []byte) bool {
	if err := c.dec.Feed(p, c); err != nil {
		if err == errFollow {
			w.follow(c)
			return false
		}
		w.failErr(c, err)
		return false
	}
	if c.dec.Done() {
		w.ended(c)
		return false
	}
	return true
}

// follow opens c again where a redirect led (redirect.go).
func (w *worker) follow(c *conn) {
	w.closeSocket(c)
	c.dec.Reset()
	w.connect(c)
}

// reconnect opens a waiting stream again (readyReconnect).
func (w *worker) reconnect(c *conn) {
	if err := c.readyReconnect(); err != nil {
		w.fail(c, ErrRequest, "reconnect: "+err.Error())
		return
	}
	w.connect(c)
}

// runTimers serves every timer due by now: reconnections and slow readers
// whose budget has refilled.
func (w *worker) runTimers(now time.Duration) {
	for len(w.timers) > 0 && w.timers[0].due <= now {
		c := heap.Pop(&w.timers).(*conn)
		switch c.state {
		case stateWaiting:
			w.reconnect(c)
		case stateStreaming, stateHead:
			w.resumeReading(c)
		}
	}
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
