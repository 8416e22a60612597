package loadgen

import (
	"container/heap"
	"math/rand/v2"
	"time"
)

// Reconnection, as EventSource does it.
//
// When a stream's response ends or its connection fails, the policy
// (Config.Reconnect) decides whether the stream is over or waits and
// reconnects. A waiting stream keeps its conn (its delivery accounting, its
// last event ID, its reconnection time) and joins its worker's timer heap;
// the worker reopens it when it is due, with a Last-Event-ID header when
// the stream has one. The same heap holds slow consumers whose read budget
// ran out (readrate.go), so a worker has one timer structure, not one timer
// per stream.

const (
	// defaultRetry is the reconnection time before a server sets one with
	// retry:, as browsers use.
	defaultRetry = 3 * time.Second
	// backoffCap bounds the persistent policy's exponential backoff.
	backoffCap = 30 * time.Second
)

// dropCause is why a stream's connection ended.
type dropCause uint8

const (
	dropEnded   dropCause = iota // the response ended cleanly
	dropNetwork                  // connect, read or framing failure: a network error
	dropHTTP                     // a response other than 200 text/event-stream
	dropNoMore                   // 204 No Content: the server says stop reconnecting
)

// reconnectDelay decides what happens to a stream whose connection ended
// for cause: the delay before it reconnects, or false when it is over.
func (c *conn) reconnectDelay(cause dropCause) (time.Duration, bool) {
	e := c.w.e
	if cause == dropNoMore {
		return 0, false
	}
	switch e.cfg.Reconnect {
	case ReconnectSpec:
		if cause == dropHTTP {
			return 0, false // "fail the connection": EventSource is CLOSED
		}
		return c.retryTime(), true
	case ReconnectPersistent:
		if cause == dropEnded || (cause == dropNetwork && c.opened) {
			// A stream that was open dropped: come back after the
			// reconnection time, as EventSource would.
			return c.retryTime(), true
		}
		// Refused, failed before a head, or an HTTP error: back off with
		// full jitter, doubling per consecutive failure.
		c.failures++
		ceil := c.retryTime() << min(c.failures-1, 16)
		if ceil > backoffCap || ceil <= 0 {
			ceil = backoffCap
		}
		return time.Duration(rand.Int64N(int64(ceil) + 1)), true
	}
	return 0, false
}

// retryTime is the stream's reconnection time: the last retry: field the
// server sent, else Config.Retry.
func (c *conn) retryTime() time.Duration {
	if ms, ok := c.parser.Retry(); ok {
		return time.Duration(ms) * time.Millisecond
	}
	return c.w.e.cfg.Retry
}

// drop handles the end of a stream's connection: its socket is closed, and
// it either waits to reconnect or is over. It reports whether the stream
// will reconnect.
func (w *worker) drop(c *conn, cause dropCause) bool {
	w.closeSocket(c)
	if c.state == stateClosed {
		return false
	}
	if w.stopping() {
		w.finish(c)
		return false
	}
	if c.state == stateStreaming && (cause != dropEnded || w.e.cfg.EndlessStreams) && (w.streams == nil || w.streams.tr == nil) {
		// A response that ended cleanly was ended by the server, unless
		// the server never ends one; a cut (an idle timeout) leaves a
		// response unfinished. The https worker's streams (net/http)
		// do not see the last byte of the framing: they record nothing.
		w.record(c.t.index, QuietBeforeDrop, (time.Since(w.e.epoch) - c.lastByte).Microseconds())
	}
	d, again := c.reconnectDelay(cause)
	if !again {
		w.finish(c)
		return false
	}
	now := time.Since(w.e.epoch)
	if !c.waiting {
		c.droppedAt = now
		c.droppedUnix = time.Now().UnixNano()
		c.waiting = true
	}
	c.state = stateWaiting
	if w.streams != nil {
		c.due = now + d // the stream's own goroutine waits (tls.go)
		return true
	}
	w.schedule(c, now+d)
	return true
}

// readyReconnect readies a waiting stream to connect again: counted as a
// reconnection, redirects followed afresh, and its request carrying
// Last-Event-ID when it has received an event with an id. The engine's
// worker then connects it (reconnect in worker_linux.go, portable.go).
func (c *conn) readyReconnect() error {
	c.beginReconnect()
	c.redirects = 0
	c.url, c.addr, c.shape = nil, c.t.addr, nil // redirects are followed afresh
	req, err := c.t.shape.AppendRequest(c.req[:0], c.t.host, c.t.path, c.lastEventID()...)
	if err != nil {
		return err
	}
	c.req = req
	c.dec.Reset()
	return nil
}

// lastEventID is the Last-Event-ID request field of c's next request, or
// none before an event with an id. The parser never keeps CR, LF or NUL in
// an id (they end a line or void the field), so the field is always valid.
func (c *conn) lastEventID() [][2]string {
	id := c.parser.LastEventID()
	if len(id) == 0 {
		return nil
	}
	return [][2]string{{"Last-Event-ID", string(id)}}
}

// beginReconnect counts a reconnection of c and readies its parser for a
// new response (it keeps the last event ID and the reconnection time).
func (c *conn) beginReconnect() {
	c.w.stats[c.t.index].reconnects.Add(1)
	c.faultReconnect()
	c.parser.Reset()
	c.resumed = true
}

// streamBack is called when a 200 text/event-stream head arrives: for a
// stream that had dropped, the end of its time without a stream (error
// responses in between, a proxy's 502 while the origin is down, do not
// end it).
func (c *conn) streamBack() {
	if !c.waiting {
		return
	}
	c.waiting = false
	c.w.record(c.t.index, Disconnected, (time.Since(c.w.e.epoch) - c.droppedAt).Microseconds())
}

// resumeSeq is called with a reconnected stream's first sequence number:
// the numbers it skipped while disconnected are charged to the fault.
func (c *conn) resumeSeq(v int64) {
	c.resumed = false
	if c.seq.state == seqSeen && v > c.seq.last+1 {
		c.faultLost(v - c.seq.last - 1)
	}
}

// timerHeap orders waiting streams by due time (since the engine's epoch).
// A stream is in it at most once: conn.timer is its index + 1, 0 when out.
type timerHeap []*conn

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].due < h[j].due }
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].timer, h[j].timer = i+1, j+1
}
func (h *timerHeap) Push(x any) {
	c := x.(*conn)
	*h = append(*h, c)
	c.timer = len(*h)
}
func (h *timerHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	c.timer = 0
	return c
}

// schedule sets c's one timer to due, replacing any it had.
func (w *worker) schedule(c *conn, due time.Duration) {
	c.due = due
	if c.timer > 0 {
		heap.Fix(&w.timers, c.timer-1)
		return
	}
	heap.Push(&w.timers, c)
}

// unschedule removes c's timer, if it has one.
func (w *worker) unschedule(c *conn) {
	if c.timer > 0 {
		heap.Remove(&w.timers, c.timer-1)
	}
}

// next returns when the earliest timer is due, or false with none.
func (h timerHeap) next() (time.Duration, bool) {
	if len(h) == 0 {
		return 0, false
	}
	return h[0].due, true
}
