package loadgen

import (
	"context"
	"time"
)

// Settling: how a broadcast run ends.
//
// Delivery accounting expects every stream of a broadcast target to have
// received every publish up to the highest sequence number any of them
// received (accounting.go). A publish reaches its streams over a while: the
// origin writes them one after another, and with 40,000 streams on two
// cores one publish takes half a second to fan out. A run that stopped in
// the middle of one would charge every stream that had not got it yet with
// a lost event, though nothing was lost; which runs did depended only on
// where in the publish schedule the hold happened to end. At high publish
// rates (100 a second) every moment is the middle of one.
//
// So when the hold is over, the engine draws a line: each target's cutoff
// is the highest sequence number any of its streams has received. Events
// after the cutoff belong to no one's expectation and are not counted at
// all (not received, not timed, not accounted). The engine then waits
// until the publishes up to the cutoff have reached every stream: until no
// counted event has arrived for settleQuiet, at most settleMax. Runs
// without sequence numbers (no accounting), per-connection origins (no
// shared publishes), interrupted runs and runs whose streams all ended stop
// at once. The wait shows as a run up to settleMax longer than its ramp
// and hold.
//
// Several generator processes (loadgen/procs) draw their lines each on its
// own; each process's expectation is consistent with its own streams, and
// the parent adds them up.
const (
	settleQuiet = 100 * time.Millisecond
	settleMax   = 2 * time.Second
	settlePoll  = 10 * time.Millisecond
)

// settle draws the cutoff and waits for the publishes before it (see
// above).
func (e *Engine) settle(ctx context.Context) {
	if e.cfg.SequenceField == "" || e.cfg.EventsPerStream > 0 {
		return
	}
	for i := range e.targets {
		var m int64
		for _, w := range e.workers {
			m = max(m, w.stats[i].seq.max.Load())
		}
		// No event yet: nothing to wait for, and no line to draw (0 means
		// none).
		e.cutoff[i].Store(m)
	}
	t := time.NewTicker(settlePoll)
	defer t.Stop()
	start := time.Now()
	quietSince, last := start, e.Snapshot().Events
	for {
		select {
		case <-ctx.Done():
			return
		case <-e.allFinished:
			return
		case now := <-t.C:
			if n := e.Snapshot().Events; n != last {
				quietSince, last = now, n
			}
			if now.Sub(quietSince) >= settleQuiet || now.Sub(start) >= settleMax {
				return
			}
		}
	}
}
