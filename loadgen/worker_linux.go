package loadgen

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// readBufSize is the one read buffer a worker shares among all its
// connections. A read takes whatever one socket has ready, up to this size.
const readBufSize = 64 << 10

// idleWait bounds how long a worker sleeps in epoll_wait, so connect
// deadlines and interval ends are noticed without a timer per connection.
const idleWait = 50 * time.Millisecond

// worker owns an epoll set and every connection in it. Only the worker's
// goroutine touches its connections, histograms and read buffer; other
// goroutines talk to it through enqueue/wake/stop.
type worker struct {
	e    *Engine
	id   int
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
	// timers holds streams waiting to reconnect and slow readers waiting
	// for their read budget (reconnect.go, readrate.go).
	timers timerHeap

	hists  histSet
	stats  []counters         // per target
	errors []map[string]int64 // per target, written only by this worker
	// errValues holds, per target, the values of the errors that carry
	// one (ErrorValues); written only by this worker.
	errValues []ErrorValues

	ticks chan tickMsg  // to the collector
	spare chan histSet  // back from the collector
	busy  time.Duration // working time in the current interval
	// busyNext is working time that fell after the current interval's end
	// (a loop pass that straddled it): it belongs to the next interval.
	busyNext time.Duration

	// streams is set on the worker that serves https targets through
	// net/http (tls.go); its streams record from many goroutines, under mu.
	streams *streamSet
	tls     tlsWorker     // TLS streams in the handshaker (tlsconn_linux.go)
	stopped chan struct{} // closed by stop

	mu      sync.Mutex
	queue   []*target // connections to open
	stopAt  time.Time // set once; zero while running
	srcNext int
}

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

// newWorkerState is what every worker, epoll or https, starts with: its
// per-target histograms, counters and error tables, and its channels to
// the collector; no file descriptors (-1).
func newWorkerState(e *Engine, id int) *worker {
	n := len(e.targets)
	w := &worker{
		e: e, id: id, epfd: -1, wakefd: -1,
		hists:     newHistSet(n),
		stats:     make([]counters, n),
		errors:    make([]map[string]int64, n),
		errValues: make([]ErrorValues, n),
		ticks:     make(chan tickMsg, 16), // room for a collector held up by slow disk writes
		spare:     make(chan histSet, 2),
		stopped:   make(chan struct{}),
	}
	for i := range w.errors {
		w.errors[i] = map[string]int64{}
		w.errValues[i] = ErrorValues{}
	}
	return w
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

// enqueue asks the worker to open one connection to t; wake delivers it.
func (w *worker) enqueue(t *target) {
	if w.streams != nil {
		w.mu.Lock()
		stopping := !w.stopAt.IsZero()
		w.mu.Unlock()
		if stopping {
			w.e.notOpened(1)
			return
		}
		w.openStream(t)
		return
	}
	w.mu.Lock()
	w.queue = append(w.queue, t)
	w.mu.Unlock()
}

func (w *worker) wake() {
	if w.wakefd < 0 {
		return
	}
	var one = [8]byte{1}
	_, _ = unix.Write(w.wakefd, one[:])
}

// stop asks the worker to close everything as of at and exit.
func (w *worker) stop(at time.Time) {
	w.mu.Lock()
	w.stopAt = at
	w.mu.Unlock()
	close(w.stopped)
	w.wake()
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

// shutdownTicks sends the intervals that ended before stopAt, then the last,
// partial one, marked final. Every worker sends the same sequence.
func (w *worker) shutdownTicks(stopAt, tickStart, tickEnd time.Time) {
	iv := w.e.cfg.Interval
	for !tickEnd.After(stopAt) {
		w.sendTick(tickStart, tickEnd, false)
		tickStart, tickEnd = tickEnd, tickEnd.Add(iv)
	}
	// A worker that learned of the stop late has already sent intervals
	// past stopAt: its final one is then empty and ends where it starts.
	end := stopAt
	if end.Before(tickStart) {
		end = tickStart
	}
	w.sendTick(tickStart, end, true)
}

// creditBusy adds a loop pass's working time, from began to end, to the
// interval ending at tickEnd and, for the part after tickEnd, to the next
// one: a pass that straddles an interval's end must not make that interval
// look more than fully busy.
func (w *worker) creditBusy(began, end, tickEnd time.Time) {
	if !end.After(tickEnd) {
		w.busy += end.Sub(began)
		return
	}
	if began.Before(tickEnd) {
		w.busy += tickEnd.Sub(began)
		began = tickEnd
	}
	w.busyNext += end.Sub(began)
}

func (w *worker) sendTick(start, end time.Time, final bool) {
	busy := 0.0
	if d := end.Sub(start); d > 0 {
		busy = min(1, w.busy.Seconds()/d.Seconds())
	}
	w.busy, w.busyNext = w.busyNext, 0
	var next histSet
	select {
	case next = <-w.spare:
	default:
		next = newHistSet(len(w.e.targets))
	}
	if w.streams != nil {
		w.mu.Lock()
	}
	full := w.hists
	w.hists = next
	errs := make([]map[string]int64, len(w.errors))
	vals := make([]ErrorValues, len(w.errors))
	for t := range w.errors {
		errs[t], vals[t] = cloneErrors(w.errors[t], w.errValues[t])
	}
	if w.streams != nil {
		w.mu.Unlock()
	}
	w.ticks <- tickMsg{start: start, end: end, hists: full, busy: busy, final: final, errors: errs, errValues: vals}
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

// eof handles the server closing the connection.
func (w *worker) eof(c *conn) {
	err := c.dec.Close()
	switch {
	case c.state < stateStreaming:
		w.fail(c, ErrEOFBeforeHeaders, "connection closed before a response head")
	case err != nil:
		w.fail(c, ErrEOFMidResponse, err.Error())
	default:
		w.ended(c)
	}
}

// ended handles a stream whose response ended cleanly (the origin
// finished, or a proxy ended it): over, or reconnecting (reconnect.go).
func (w *worker) ended(c *conn) {
	w.stats[c.t.index].ended.Add(1)
	w.drop(c, dropEnded)
}

// follow opens c again where a redirect led (redirect.go).
func (w *worker) follow(c *conn) {
	w.closeSocket(c)
	c.dec.Reset()
	w.connect(c)
}

// fail counts an error of the given kind for c's target and drops c's
// connection as a network error (reconnect.go decides what follows).
// Machine limits (file descriptors, source ports) are said once, in words.
func (w *worker) fail(c *conn, kind, msg string) { w.failCause(c, kind, "", msg, dropNetwork) }

// failErr fails c with an error of the decoder, the parser or Head,
// counted under its kind and value (classify).
func (w *worker) failErr(c *conn, err error) {
	kind, value, msg, cause := classify(err)
	w.failCause(c, kind, value, msg, cause)
}

func (w *worker) failCause(c *conn, kind, value, msg string, cause dropCause) {
	w.countError(c.t.index, kind, value)
	if hint := limitHint(kind); hint != "" && w.firstLimit(kind) {
		w.e.warnf("%s after %d connections: %s (%s)", kind, w.e.Snapshot().Opened, hint, msg)
	}
	if !w.drop(c, cause) {
		w.stats[c.t.index].failed.Add(1)
	}
}

// record adds one measurement to the worker's current interval. Epoll
// workers own their histograms outright; the https worker's streams run in
// their own goroutines and take the worker's lock.
func (w *worker) record(target int, m Metric, us int64) {
	if w.streams != nil {
		w.mu.Lock()
		w.hists.record(target, m, us)
		w.mu.Unlock()
		return
	}
	w.hists.record(target, m, us)
}

// firstLimit reports whether this is the first time the run hit the
// machine limit kind (any worker).
func (w *worker) firstLimit(kind string) bool {
	_, said := w.e.limitSaid.LoadOrStore(kind, true)
	return !said
}

func (w *worker) countError(target int, kind, value string) {
	if w.streams != nil {
		w.mu.Lock()
		defer w.mu.Unlock()
	}
	w.errors[target][kind]++
	w.errValues[target].Add(kind, value, 1)
}

// closeConn ends stream c for good.
func (w *worker) closeConn(c *conn) {
	w.closeSocket(c)
	w.finish(c)
}

// closeSocket closes c's current connection, if any. Every path out of
// stateStreaming passes here first and leaves it right after (drop: to
// waiting or closed; closeConn: to closed), so this is where an open
// response stops counting as open, once.
func (w *worker) closeSocket(c *conn) {
	if c.state == stateStreaming {
		w.stats[c.t.index].open.Add(-1)
	}
	if c.paused {
		w.unschedule(c)
	}
	if c.fd >= 0 && w.streams == nil {
		w.conns[c.fd] = nil
		unix.Close(c.fd) // also removes it from the epoll set
		c.fd = -1
	}
	c.tls = nil
	c.paused = false
}

// finish marks stream c over: it will not reconnect.
func (w *worker) finish(c *conn) {
	if c.state == stateClosed {
		return
	}
	c.state = stateClosed
	w.stats[c.t.index].gone.Add(1)
	w.e.finished()
}

// stopping reports whether the run is stopping.
func (w *worker) stopping() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return !w.stopAt.IsZero()
}
