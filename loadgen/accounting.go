package loadgen

import "sync/atomic"

// Delivery accounting: which events each stream should have received, and
// which it lost, received twice or received out of order, from the sequence
// number every event carries (sseload's origin writes it as "seq"; other
// origins name their field with Config.SequenceField).
//
// A stream keeps O(1) state, never a set of the numbers it saw: the first
// and the highest sequence number received, and gap, the number of
// sequence numbers skipped between them that have not turned up since. An
// event with sequence number s, on a stream whose highest so far is last:
//
//   - s == last+1: in order.
//   - s > last+1: the s-last-1 numbers in between are missing for now
//     (gap grows); they may still arrive out of order.
//   - s == last: duplicated (the same event again).
//   - first <= s < last and gap > 0: out of order, one missing number has
//     arrived (gap shrinks). Without a set of seen numbers this cannot tell
//     a late arrival from a second copy of an older event; while numbers are
//     missing the arrival is taken to be one of them. Replays after a
//     reconnect will need more than this (and are counted apart, as
//     replayed).
//   - first <= s < last and gap == 0: duplicated: every number in the
//     stream's window was already received.
//   - s < first: out of order, from before the first one seen: the window
//     grows back to s and the numbers between s and first join the gap.
//
// From these, per target (see delivery):
//
//	expected = per-connection origin: Config.EventsPerStream for every
//	           stream that got a response head;
//	           broadcast: Σ over streams (max − first + 1), where max is the
//	           highest sequence number any stream of the target received
//	           (the engine knows the origin's schedule only through the
//	           events; the highest one seen stands for the origin's last
//	           publish before the run ended);
//	unique   = sequenced − duplicated (each number counted once per stream);
//	lost     = max(0, expected − unique).
//
// Lost therefore includes a stream's tail: events after its last one that
// other streams of the target did receive. A broadcast stream that received
// no event at all is given a provisional first number when its head
// arrives: one past the highest the target's streams had received by then,
// so it expects what the target received after it subscribed. That
// underestimates when the highest received lags the origin (a buffering
// proxy), and a target whose streams received nothing expects nothing:
// its loss shows as events.received 0, not as lost.

// Sequence states of a stream.
const (
	seqNone        uint8 = iota // no sequence number yet
	seqProvisional              // broadcast head seen, first number estimated
	seqSeen                     // at least one sequence number received
)

// seqTrack is one stream's sequence state: 25 bytes, whatever the number of
// events.
type seqTrack struct {
	first, last int64
	gap         int64 // numbers in (first, last) not received yet
	state       uint8
}

// seqCounters are one worker's delivery counters for one target. Like
// counters, each is written by one worker (the https worker's streams add
// from their own goroutines, hence atomics and the CAS in raiseMax).
type seqCounters struct {
	sequenced  atomic.Int64 // events whose sequence number was read
	duplicated atomic.Int64
	outOfOrder atomic.Int64
	streams    atomic.Int64 // streams with a first (or provisional) number
	firstSum   atomic.Int64 // Σ first over those streams
	max        atomic.Int64 // highest number received
	replayed   atomic.Int64 // received after a reconnect, published while disconnected
}

// raiseMax lifts max to v if v is higher.
func (s *seqCounters) raiseMax(v int64) {
	for {
		m := s.max.Load()
		if v <= m || s.max.CompareAndSwap(m, v) {
			return
		}
	}
}

// subscribe gives a broadcast stream whose head just arrived a provisional
// first number: one past the highest its target's streams have received
// so far (across all workers). Its first real event replaces it.
func (c *conn) subscribe(st *seqCounters) {
	var m int64
	for _, w := range c.w.e.workers {
		m = max(m, w.stats[c.t.index].seq.max.Load())
	}
	c.seq = seqTrack{first: m + 1, last: m, state: seqProvisional}
	st.streams.Add(1)
	st.firstSum.Add(m + 1)
}

// account classifies one received sequence number (see the file comment).
// It allocates nothing.
func (c *conn) account(st *seqCounters, v int64) {
	st.sequenced.Add(1)
	s := &c.seq
	switch {
	case s.state != seqSeen:
		if s.state == seqNone {
			st.streams.Add(1)
			st.firstSum.Add(v)
		} else {
			st.firstSum.Add(v - s.first)
		}
		*s = seqTrack{first: v, last: v, state: seqSeen}
		st.raiseMax(v)
	case v > s.last:
		s.gap += v - s.last - 1
		s.last = v
		st.raiseMax(v)
	case v == s.last:
		st.duplicated.Add(1)
	case v < s.first:
		st.outOfOrder.Add(1)
		s.gap += s.first - v - 1
		st.firstSum.Add(v - s.first)
		s.first = v
	case s.gap > 0:
		st.outOfOrder.Add(1)
		s.gap--
	default:
		st.duplicated.Add(1)
	}
}

// deliverySum adds up the workers' delivery counters for one target.
type deliverySum struct {
	sequenced, duplicated, outOfOrder, streams, firstSum, max, replayed int64
}

func (d *deliverySum) add(s *seqCounters) {
	d.sequenced += s.sequenced.Load()
	d.duplicated += s.duplicated.Load()
	d.outOfOrder += s.outOfOrder.Load()
	d.streams += s.streams.Load()
	d.firstSum += s.firstSum.Load()
	d.max = max(d.max, s.max.Load())
	d.replayed += s.replayed.Load()
}

// delivery turns the sums into the target's Delivery. perStream is
// Config.EventsPerStream (0: broadcast); established is the number of
// streams that got a response head.
func (d *deliverySum) delivery(perStream, established int64) Delivery {
	out := Delivery{
		Accounted:  true,
		Sequenced:  d.sequenced,
		Duplicated: d.duplicated,
		OutOfOrder: d.outOfOrder,
		Replayed:   d.replayed,
		Streams:    d.streams,
		MaxSeq:     d.max,
	}
	if perStream > 0 {
		out.Expected = perStream * established
	} else {
		out.Expected = max(0, d.streams*(d.max+1)-d.firstSum)
	}
	out.Lost = max(0, out.Expected-(d.sequenced-d.duplicated))
	return out
}
