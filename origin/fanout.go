package origin

import (
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// The broadcast fan-out.
//
// A measurement origin must cost far less than what it measures. Serving
// each broadcast stream from its own net/http handler goroutine does not:
// at every publish thousands of goroutines wake at once, and each formats
// the event, sets a write deadline and writes and flushes it through
// net/http's chunked writer, so the last subscriber's write leaves tens of
// milliseconds after the schedule (45 ms at p99 for 1,000 streams on two
// cores), and that is latency the origin adds to every figure it serves.
//
// Instead, once net/http has routed and validated GET /events, the handler
// hijacks the connection, and the stream is served as follows.
//
//   - The subscriber (a sub) joins one of GOMAXPROCS shards. Each shard is
//     one goroutine. At a publish it encodes the event once, chunk-framed
//     for HTTP/1.1 subscribers and bare for HTTP/1.0 ones, and writes it to
//     each of its subscribers with one non-blocking write(2) through
//     syscall.RawConn (the callback never asks to wait, so the shard never
//     parks on a socket). One goroutine wake-up per core per publish,
//     instead of one per subscriber, and one system call per subscriber.
//   - The "sent" field is the time the shard's write batch started: it is
//     refreshed every refreshEvery writes, so it trails the real write time
//     by at most the cost of that many writes (a few tens of µs).
//   - A subscriber whose socket does not take the whole write (a partial
//     write, or EAGAIN: its client reads slowly or not at all) leaves the
//     shard and gets its own goroutine (catchUp), which finishes the write
//     and catches up with blocking writes under the write deadline. Events
//     are a pure function of (epoch, interval, seq), so catching up needs
//     no queue: it writes every seq from its next one to the latest. Once
//     caught up it rejoins a shard; a client that stays stalled is dropped
//     when the deadline expires. Either way the shard moved on at once.
//   - A write that fails (the client closed) ends the stream. A client that
//     closes is noticed at the next publish's write, not at once: nothing
//     reads the hijacked connections, which is what makes them cheap.
//   - A replaying subscriber (Last-Event-ID: its first seq is already due)
//     starts in catchUp, not in a shard: a shard builds one range of
//     frames for all its subscribers, and a replay's range (up to
//     maxReplay events) would be built, and offered to a non-blocking
//     write, in the middle of everyone's publish. catchUp writes it in
//     pieces of about catchUpBytes and then hands the stream to a shard.
//   - Heartbeats (Config.Heartbeat): each shard has one timer, reset at
//     every publish it sees. Its subscribers all get each publish
//     together, so when no publish has come for Heartbeat, the shard
//     writes the comment to each subscriber that has nothing else to be
//     sent, a whole frame between two events, like any write.
//
// The response head is the one net/http would write (same headers, Date
// included). It is written at once, from the handler's goroutine (catchUp,
// with the retry line when RetryMS > 0), before the stream joins a shard;
// with HeadWithFirstEvent and no retry line it is kept until the stream's
// first write and travels with the first event (or heartbeat).

// refreshEvery is how many writes a shard makes between two readings of the
// clock for the "sent" field (and so between two encodings of the event).
// A loopback write costs a few µs, so "sent" is at most ~100 µs early.
const refreshEvery = 32

// terminator ends a chunked body.
const terminator = "0\r\n\r\n"

// catchUpBytes is about the most one catchUp write carries: a long replay
// (maxReplay padded events) is built and written in pieces of this size,
// each under its own write deadline, instead of whole in memory.
const catchUpBytes = 256 << 10

// sub is one hijacked broadcast stream. At any time it is owned by exactly
// one goroutine, a shard's or its own catchUp, which alone touch next and
// head; the hand-over (a mutex or a go statement) orders their accesses.
type sub struct {
	conn    net.Conn
	raw     syscall.RawConn // nil: the conn is no socket; catchUp serves it
	chunked bool            // HTTP/1.1: chunked framing; HTTP/1.0: close-delimited
	head    []byte          // the response head, until it is written
	next    int64           // the next seq to write
	set     *streamSet      // Serve's set of hijacked streams, or nil

	mu    sync.Mutex
	endBy time.Time     // shutdown: the latest time the stream may still write
	endc  chan struct{} // closed when the stream is to end (shutdown)
}

// ending reports whether the stream has been told to end.
func (sb *sub) ending() bool {
	select {
	case <-sb.endc:
		return true
	default:
		return false
	}
}

// end tells the stream to end, writing for at most grace more.
func (sb *sub) end(grace time.Duration) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	if !sb.endBy.IsZero() {
		return
	}
	sb.endBy = time.Now().Add(grace)
	close(sb.endc)
	_ = sb.conn.SetWriteDeadline(sb.endBy)
}

// setDeadline sets the write deadline for the next blocking write: d from
// now (or none for d == 0), but never past the shutdown limit.
func (sb *sub) setDeadline(d time.Duration) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	var t time.Time
	if d > 0 {
		t = time.Now().Add(d)
	}
	if !sb.endBy.IsZero() && (t.IsZero() || sb.endBy.Before(t)) {
		t = sb.endBy
	}
	_ = sb.conn.SetWriteDeadline(t)
}

// try makes one non-blocking write attempt of p and returns how much of p
// the socket took. EAGAIN (and EINTR) is not an error: 0 bytes taken.
func (sb *sub) try(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var n int
	var err error
	if rerr := sb.raw.Write(func(fd uintptr) bool {
		n, err = writeFD(fd, p)
		return true // never wait for writability: that is catchUp's job
	}); rerr != nil {
		return 0, rerr
	}
	if err == syscall.EAGAIN || err == syscall.EINTR {
		return 0, nil
	}
	return max(n, 0), err
}

// withHead returns p preceded by the response head if that is still to be
// written (built in *scratch), and marks the head written.
func (sb *sub) withHead(scratch *[]byte, p []byte) []byte {
	if sb.head == nil {
		return p
	}
	*scratch = append(append((*scratch)[:0], sb.head...), p...)
	sb.head = nil
	return *scratch
}

// shard serves a share of the hijacked subscribers from one goroutine that
// runs only while it has subscribers.
type shard struct {
	s    *Server
	wake chan struct{} // a new subscriber, or a shutdown

	mu      sync.Mutex
	inbox   []*sub
	running bool
	full    atomic.Bool // endAll: the next round must visit every subscriber

	// Owned by the run goroutine.
	subs    []*sub
	ev      []byte    // one event, unframed
	frames  [2][]byte // [chunked] events lo..hi, framed
	offs    [2][]int  // [chunked][k-lo]: where seq k starts in frames
	built   [2]bool
	scratch []byte // head + frames for a first write
}

func newShard(s *Server) *shard { return &shard{s: s, wake: make(chan struct{}, 1)} }

// add hands sb to the shard, starting its goroutine if needed.
func (sh *shard) add(sb *sub) {
	sh.mu.Lock()
	sh.inbox = append(sh.inbox, sb)
	if !sh.running {
		sh.running = true
		go sh.run()
	}
	sh.mu.Unlock()
	sh.kick()
}

func (sh *shard) kick() {
	select {
	case sh.wake <- struct{}{}:
	default:
	}
}

func (sh *shard) run() {
	h := sh.s.hub
	hb := newBeat(sh.s.cfg.Heartbeat)
	defer hb.stop()
	seen, beating := int64(-1), false
	for {
		sh.mu.Lock()
		n0 := len(sh.subs)
		sh.subs = append(sh.subs, sh.inbox...)
		clear(sh.inbox)
		sh.inbox = sh.inbox[:0]
		if len(sh.subs) == 0 {
			sh.running = false
			sh.mu.Unlock()
			return
		}
		sh.mu.Unlock()

		t := h.cur.Load()
		// Woken only by newcomers: they wait for the next publish, so
		// nobody needs a write now (no O(subscribers) scan per join).
		skip := t.seq == seen && !beating && !sh.full.Swap(false)
		if skip {
			for _, sb := range sh.subs[n0:] {
				if sb.next <= t.seq || sb.ending() {
					skip = false
					break
				}
			}
		}
		if !skip {
			sh.round(t.seq, beating)
		}
		if beating || t.seq != seen {
			hb.reset() // every subscriber has just been written to
		}
		seen, beating = t.seq, false
		if len(sh.subs) == 0 {
			continue // exit, unless someone joined meanwhile
		}
		select {
		case <-t.done:
		case <-sh.wake:
		case <-hb.C:
			beating = true
		}
	}
}

// round writes to every subscriber whose next seq has been published (hi
// is the latest), and ends the streams that are told to end or that have
// written the final publish. With beat, every other subscriber is written
// a heartbeat.
func (sh *shard) round(hi int64, beat bool) {
	s := sh.s
	final := s.hub.last > 0 && hi >= s.hub.last
	lo := hi + 1
	for _, sb := range sh.subs {
		lo = min(lo, sb.next)
	}
	sh.built = [2]bool{}
	now := time.Now()
	writes := 0
	keep := sh.subs[:0]
	for _, sb := range sh.subs {
		ending := sb.ending()
		events := !ending && sb.next <= hi
		if !ending && !events && !beat {
			keep = append(keep, sb)
			continue
		}
		var p []byte
		switch {
		case ending:
			if sb.chunked {
				p = []byte(terminator)
			}
		case !events:
			p = heartbeatFrame[b2i(sb.chunked)]
		default:
			if writes > 0 && writes%refreshEvery == 0 {
				now = time.Now()
				sh.built = [2]bool{}
			}
			k := b2i(sb.chunked)
			if !sh.built[k] {
				sh.frames[k], sh.ev = s.appendFrames(sh.frames[k][:0], sh.ev, lo, hi, sb.chunked, final, now, &sh.offs[k])
				sh.built[k] = true
			}
			p = sh.frames[k][sh.offs[k][sb.next-lo]:]
			sb.next = hi + 1
		}
		p = sb.withHead(&sh.scratch, p)
		n, err := sb.try(p)
		writes++
		last := ending || (events && final) // p ends the stream
		switch {
		case err != nil:
			s.closeSub(sb)
		case n == len(p) && last:
			s.closeSub(sb)
		case n == len(p):
			keep = append(keep, sb)
		default:
			// The socket is full: finish elsewhere, with blocking writes.
			go s.catchUp(sb, append([]byte(nil), p[n:]...), last)
		}
	}
	clear(sh.subs[len(keep):])
	sh.subs = keep
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// appendFrames appends events lo..hi (event k scheduled at sched(k), sent
// at now), each framed as a chunk when chunked, and the chunked terminator
// after them when final. ev is scratch for one event; offs, if not nil, is
// reset to where each event's frame starts.
func (s *Server) appendFrames(dst, ev []byte, lo, hi int64, chunked, final bool, now time.Time, offs *[]int) ([]byte, []byte) {
	if offs != nil {
		*offs = (*offs)[:0]
	}
	for k := lo; k <= hi; k++ {
		if offs != nil {
			*offs = append(*offs, len(dst))
		}
		ev = AppendEvent(ev[:0], k, s.hub.sched(k).Add(s.cfg.ClockSkew), now.Add(s.cfg.ClockSkew), s.cfg.Payload)
		if chunked {
			dst = appendChunk(dst, ev)
		} else {
			dst = append(dst, ev...)
		}
	}
	if final && chunked {
		dst = append(dst, terminator...)
	}
	return dst, ev
}

// appendChunk appends p as one chunk of a chunked body, framed as net/http
// frames it: lower-case hex size, CRLF, data, CRLF.
func appendChunk(dst, p []byte) []byte {
	dst = strconv.AppendInt(dst, int64(len(p)), 16)
	dst = append(dst, "\r\n"...)
	dst = append(dst, p...)
	return append(dst, "\r\n"...)
}

// catchUp serves sb from its own goroutine with blocking writes: it writes
// pending, then every seq due since, in batches of about catchUpBytes each
// under a fresh write deadline, until it has caught up, and hands sb back
// to a shard. end means that pending completes the stream, which is then
// closed. A write that fails (the deadline expired: the client stopped
// reading) ends the stream.
//
// It writes up to the latest *due* seq, not only the latest published: a
// replay may start before the hub has caught up (a restarted origin's hub
// has only just started) or when it no longer runs (a bounded broadcast
// that is over), and a stream handed to a shard ahead of the hub simply
// waits there for the next publish.
func (s *Server) catchUp(sb *sub, pending []byte, end bool) {
	h := s.hub
	var buf, ev []byte
	batch := max(1, int64(catchUpBytes/eventSize(s.cfg.Payload)))
	var hb beat // heartbeats, for a stream this goroutine serves for good
	if sb.raw == nil {
		hb = newBeat(s.cfg.Heartbeat)
		defer hb.stop()
	}
	for {
		if len(pending) > 0 {
			sb.setDeadline(s.writeTimeout)
			if _, err := sb.conn.Write(pending); err != nil {
				s.closeSub(sb)
				return
			}
			hb.reset()
		}
		if end {
			s.closeSub(sb)
			return
		}
		if sb.ending() {
			buf = append(buf[:0], sb.head...)
			sb.head = nil
			if sb.chunked {
				buf = append(buf, terminator...)
			}
			pending, end = buf, true
			continue
		}
		t := h.cur.Load()
		if hi := max(t.seq, h.due(time.Now())); sb.next <= hi {
			to := min(hi, sb.next+batch-1)
			end = h.last > 0 && to >= h.last
			buf = append(buf[:0], sb.head...)
			sb.head = nil
			buf, ev = s.appendFrames(buf, ev, sb.next, to, sb.chunked, end, time.Now(), nil)
			pending, sb.next = buf, to+1
			continue
		}
		pending = nil
		if sb.raw != nil {
			sb.setDeadline(0) // the shard's writes never block
			s.shardFor().add(sb)
			return
		}
		// Not a socket (no RawConn): this goroutine serves it for good.
		select {
		case <-t.done:
		case <-sb.endc:
		case <-hb.C:
			buf = append(append(buf[:0], sb.head...), heartbeatFrame[b2i(sb.chunked)]...)
			sb.head = nil
			pending = buf
		}
	}
}

// shardFor picks the shard for a (re)joining subscriber, round robin.
func (s *Server) shardFor() *shard {
	return s.shards[s.nextShard.Add(1)%uint64(len(s.shards))]
}

// closeSub ends a hijacked stream: whatever was to be written has been (or
// cannot be), so the connection is closed and the stream uncounted.
func (s *Server) closeSub(sb *sub) {
	_ = sb.conn.Close()
	s.subs.Add(-1)
	s.hub.leave()
	if sb.set != nil {
		sb.set.remove(sb)
	}
}

// head returns the response head of a broadcast stream, as net/http would
// write it: HTTP/1.1 requests get a chunked body, HTTP/1.0 ones a body
// delimited by the close. A bounded broadcast's HTTP/1.1 streams also say
// "Connection: close", since the connection, once hijacked, cannot serve
// another request after the body ends.
func (s *Server) head(r *http.Request) []byte {
	chunked := r.ProtoAtLeast(1, 1)
	b := make([]byte, 0, 256)
	if chunked {
		b = append(b, "HTTP/1.1 200 OK\r\n"...)
	} else {
		b = append(b, "HTTP/1.0 200 OK\r\n"...)
	}
	b = append(b, "Cache-Control: no-cache\r\nContent-Type: text/event-stream\r\n"...)
	if s.cfg.XAccel {
		b = append(b, "X-Accel-Buffering: no\r\n"...)
	}
	b = append(b, "Date: "...)
	b = time.Now().UTC().AppendFormat(b, http.TimeFormat)
	b = append(b, "\r\n"...)
	if chunked {
		b = append(b, "Transfer-Encoding: chunked\r\n"...)
	}
	if !chunked || s.hub.last > 0 {
		b = append(b, "Connection: close\r\n"...)
	}
	return append(b, "\r\n"...)
}

// hijack takes over a broadcast stream's connection from net/http and hands
// it to the fan-out; next is its first seq. It reports false, having done
// nothing, when w cannot be hijacked (HTTP/2, a recorder): the caller then
// serves the stream through w.
func (s *Server) hijack(w http.ResponseWriter, r *http.Request, next int64) bool {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return false
	}
	// net/http's read and write deadlines stay on the conn: clear them.
	_ = conn.SetDeadline(time.Time{})
	sb := &sub{
		conn:    conn,
		chunked: r.ProtoAtLeast(1, 1),
		head:    s.head(r),
		next:    next,
		endc:    make(chan struct{}),
	}
	sb.raw = rawOf(conn)
	if set, _ := r.Context().Value(streamSetKey{}).(*streamSet); set != nil {
		sb.set = set
		if !set.add(sb) {
			sb.end(s.shutdownGrace) // Serve is shutting down: an empty stream
		}
	}
	var pending []byte
	switch {
	case s.retry != nil:
		pending = sb.head
		sb.head = nil
		if sb.chunked {
			pending = appendChunk(pending, s.retry)
		} else {
			pending = append(pending, s.retry...)
		}
	case !s.cfg.HeadWithFirstEvent:
		pending = sb.head // the head alone, now
		sb.head = nil
	}
	// A replay (next is due already) starts in catchUp too: see above.
	if pending != nil || sb.raw == nil || sb.ending() || next <= s.hub.due(time.Now()) {
		s.catchUp(sb, pending, false)
	} else {
		s.shardFor().add(sb)
	}
	return true
}

// streamSetKey is the request context key under which Serve puts its
// streamSet.
type streamSetKey struct{}

// streamSet is the hijacked streams of one Serve call: net/http does not
// track hijacked connections, so Serve ends and waits for them itself.
type streamSet struct {
	mu     sync.Mutex
	closed bool
	m      map[*sub]struct{}
	wg     sync.WaitGroup
}

// add registers sb; false once the set is closed (Serve is shutting down).
func (ss *streamSet) add(sb *sub) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.closed {
		return false
	}
	if ss.m == nil {
		ss.m = make(map[*sub]struct{})
	}
	ss.m[sb] = struct{}{}
	ss.wg.Add(1)
	return true
}

func (ss *streamSet) remove(sb *sub) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if _, ok := ss.m[sb]; ok {
		delete(ss.m, sb)
		ss.wg.Done()
	}
}

// endAll closes the set and tells every stream in it to end, writing for at
// most grace more: its terminator (HTTP/1.1) and close, or for a stream
// whose client has stopped reading, the close when its deadline expires.
// The shards are woken so that their streams end now.
func (ss *streamSet) endAll(grace time.Duration, shards []*shard) {
	ss.mu.Lock()
	ss.closed = true
	subs := make([]*sub, 0, len(ss.m))
	for sb := range ss.m {
		subs = append(subs, sb)
	}
	ss.mu.Unlock()
	for _, sb := range subs {
		sb.end(grace)
	}
	for _, sh := range shards {
		sh.full.Store(true)
		sh.kick()
	}
}

// wait returns once every stream of a closed set has ended, which endAll's
// grace bounds.
func (ss *streamSet) wait() { ss.wg.Wait() }
