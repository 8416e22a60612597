package loadgen

import (
	"sync"
	"sync/atomic"
	"time"
)

// Fault tracking. A fault (an origin restart, a proxy reload) is marked by
// whoever injects it (Engine.MarkFault). From the mark on, every stream's
// first event counts it as recovered; when the last stream alive at the
// mark has received one, the fault's recovery time is known. Reconnections
// and the events skipped across them are charged to the latest fault.
//
// The hot path pays one atomic load per event: a stream compares the
// current fault's generation with the one it last reported to.

// faultMark is one marked fault, its per-target counters updated by the
// workers.
type faultMark struct {
	gen     uint32 // 1, 2, …: the n-th fault of the run
	name    string
	at      time.Time
	targets []faultCounters
}

type faultCounters struct {
	streams    int64 // alive at the mark
	recovered  atomic.Int64
	recoveryUS atomic.Int64 // -1 until every stream recovered
	reconnects atomic.Int64
	lost       atomic.Int64
}

// faultLog is the run's faults.
type faultLog struct {
	mu    sync.Mutex
	marks []*faultMark
	cur   atomic.Pointer[faultMark]
}

// mark starts tracking a fault at now.
func (l *faultLog) mark(e *Engine, name string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := &faultMark{gen: uint32(len(l.marks) + 1), name: name, at: now, targets: make([]faultCounters, len(e.targets))}
	for i := range f.targets {
		fc := &f.targets[i]
		fc.streams = e.alive(i)
		fc.recoveryUS.Store(-1)
		if fc.streams == 0 {
			fc.recoveryUS.Store(0)
		}
	}
	l.marks = append(l.marks, f)
	l.cur.Store(f)
}

// faultReceived is called for every event of c: the first one after a fault
// counts c as recovered from it.
func (c *conn) faultReceived(now time.Time) {
	f := c.w.e.faults.cur.Load()
	if f == nil || c.faultGen == f.gen {
		return
	}
	c.faultGen = f.gen
	if c.born.After(f.at) {
		return // opened after the fault: it had nothing to recover from
	}
	fc := &f.targets[c.t.index]
	if fc.recovered.Add(1) == fc.streams {
		fc.recoveryUS.Store(now.Sub(f.at).Microseconds())
	}
}

// faultReconnect charges one reconnection of c to the current fault.
func (c *conn) faultReconnect() {
	if f := c.w.e.faults.cur.Load(); f != nil {
		f.targets[c.t.index].reconnects.Add(1)
	}
}

// faultLost charges n sequence numbers that c skipped across a
// reconnection to the current fault.
func (c *conn) faultLost(n int64) {
	if f := c.w.e.faults.cur.Load(); f != nil && n > 0 {
		f.targets[c.t.index].lost.Add(n)
	}
}

// results returns the faults as Result.Faults.
func (l *faultLog) results(targets []*target) []Fault {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Fault, 0, len(l.marks))
	for _, f := range l.marks {
		r := Fault{Name: f.name, At: f.at}
		for i, t := range targets {
			fc := &f.targets[i]
			r.Targets = append(r.Targets, FaultTarget{
				Name:       t.Name,
				Streams:    fc.streams,
				Recovered:  min(fc.recovered.Load(), fc.streams),
				RecoveryUS: fc.recoveryUS.Load(),
				Reconnects: fc.reconnects.Load(),
				Lost:       fc.lost.Load(),
			})
		}
		out = append(out, r)
	}
	return out
}

// alive returns the number of target t's streams that are open or waiting
// to reconnect: opened and not yet gone for good.
func (e *Engine) alive(t int) int64 {
	var n int64
	if !e.started.Load() {
		return 0
	}
	for _, w := range e.workers {
		c := &w.stats[t]
		n += c.opened.Load() - c.gone.Load()
	}
	return n
}
