package origin

import (
	"sync"
	"sync/atomic"
	"time"
)

// hub drives the broadcast schedule.
//
// Publish k is a pure function of (epoch, interval, k), so nothing is
// queued per subscriber: the hub only advances the latest published seq at
// each scheduled time and wakes its waiters, which write every seq from
// their subscribers' next one up to latest, building the events
// themselves. The waiters are the fan-out's shard goroutines and catch-up
// goroutines (fanout.go), and the handler goroutines of streams that could
// not be hijacked. A slow subscriber therefore never delays the others (it
// falls behind and catches up, or is dropped by its write deadline), and
// memory does not grow with how far behind it is. A replaying subscriber
// (Last-Event-ID, see resume) is written every seq from its Last-Event-ID+1
// the same way: nothing is stored, so a restarted origin with the same
// epoch replays exactly what the old one published.
//
// Wake-ups use a close-and-replace channel: the current tick holds the
// latest seq and a channel that is closed when a later tick replaces it.
// The hub stores the new tick before closing the old channel, and a
// subscriber loads the tick (seq and channel together) before deciding to
// wait, so no publish is missed.
//
// The hub goroutine runs only while there are subscribers: the first one
// starts it, and it exits when the last one leaves (or after the final
// publish of a bounded broadcast). A Server used only through ServeHTTP
// therefore leaks no goroutine once its streams are gone.
type hub struct {
	epoch    time.Time
	interval time.Duration
	last     int64 // the final publish; 0 = publish forever

	cur atomic.Pointer[tick]

	mu      sync.Mutex
	subs    int  // subscribers joined and not yet left
	running bool // a run goroutine exists
	// kick wakes a sleeping run goroutine when the last subscriber leaves,
	// so it exits now rather than at the next publish (which may be one
	// long Interval away).
	kick chan struct{}
}

// tick is one published state: every seq <= seq has been published.
type tick struct {
	seq  int64
	done chan struct{} // closed once a later tick is current
}

func newHub(epoch time.Time, interval time.Duration, last int64) *hub {
	h := &hub{epoch: epoch, interval: interval, last: last, kick: make(chan struct{}, 1)}
	h.cur.Store(&tick{done: make(chan struct{})})
	return h
}

// sched returns the scheduled time of publish seq: epoch + seq×interval.
// Computing it from the epoch (never from the previous publish) keeps the
// schedule free of accumulated drift.
func (h *hub) sched(seq int64) time.Time {
	return h.epoch.Add(time.Duration(seq) * h.interval)
}

// due returns the latest seq whose scheduled time is at or before now
// (0 before the first publish), capped at the final publish.
func (h *hub) due(now time.Time) int64 {
	d := now.Sub(h.epoch)
	if d < h.interval {
		return 0
	}
	k := int64(d / h.interval)
	if h.last > 0 && k > h.last {
		k = h.last
	}
	return k
}

// join registers a subscriber and returns the first seq it is to receive:
// the first publish scheduled after now. For a bounded broadcast that has
// finished, that is last+1 and nothing will ever be published for it.
func (h *hub) join() int64 {
	now := time.Now()
	next := int64(1)
	if d := now.Sub(h.epoch); d >= h.interval {
		next = int64(d/h.interval) + 1
	}
	h.mu.Lock()
	h.subs++
	if !h.running && (h.last == 0 || next <= h.last) {
		h.running = true
		go h.run()
	}
	h.mu.Unlock()
	return next
}

// resume returns the first seq for a subscriber that join placed at next
// and that says (Last-Event-ID) it has seen every publish up to seen:
// seen+1 when that is earlier than next, so that it is sent what it missed,
// but no earlier than maxReplay publishes before the latest due one (older
// ones are lost to it). The latest due is next-1, or for a bounded
// broadcast at most the final publish, so a client that missed the end of
// a finished broadcast is sent the rest; one that has seen it all gets
// next, past the end.
func (h *hub) resume(next, seen int64) int64 {
	latest := next - 1
	if h.last > 0 {
		latest = min(latest, h.last)
	}
	if seen >= latest {
		return next
	}
	return max(seen+1, latest-maxReplay+1)
}

// leave unregisters a subscriber.
func (h *hub) leave() {
	h.mu.Lock()
	h.subs--
	idle := h.subs == 0
	h.mu.Unlock()
	if idle {
		select {
		case h.kick <- struct{}{}:
		default:
		}
	}
}

// run publishes on schedule until no subscriber is left or the final
// publish is out. Each wake-up publishes everything due by now, so a hub
// woken late (an overloaded machine) publishes several seqs at once and the
// subscribers write them back to back, each with its own scheduled time.
func (h *hub) run() {
	timer := time.NewTimer(0) // fire at once: catch up after an idle period
	defer timer.Stop()
	for {
		select {
		case <-timer.C:
		case <-h.kick: // possibly stale from an earlier idle period; harmless
		}
		h.mu.Lock()
		if h.subs == 0 {
			h.running = false
			h.mu.Unlock()
			return
		}
		h.mu.Unlock()

		k := h.due(time.Now())
		if old := h.cur.Load(); k > old.seq {
			h.cur.Store(&tick{seq: k, done: make(chan struct{})})
			close(old.done)
		}
		if h.last > 0 && k >= h.last {
			h.mu.Lock()
			h.running = false
			h.mu.Unlock()
			return
		}
		timer.Reset(time.Until(h.sched(k + 1)))
	}
}
