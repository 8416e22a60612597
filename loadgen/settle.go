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
// where in the publish schedule the hold happened to end.
//
// So when the hold is over, the engine waits until the publish in flight,
// if any, has reached everybody: until no event has arrived for
// settleQuiet, at most settleMax. Runs without sequence numbers (no
// accounting), per-connection origins (no shared publishes), interrupted
// runs and runs whose streams all ended stop at once. The streams are
// still measured while the engine settles; it shows as a run up to
// settleMax longer than its ramp and hold.
//
// Several generator processes (loadgen/procs) settle each on its own: they
// end their holds at the same moment and see the same publishes, so they
// stop after the same one, unless a publish arrives just as the first of
// them finds its quiet moment (a window of about settlePoll).
const (
	settleQuiet = 100 * time.Millisecond
	settleMax   = 2 * time.Second
	settlePoll  = 10 * time.Millisecond
)

// settle waits, after the hold, until no event has arrived for
// settleQuiet (see above).
func (e *Engine) settle(ctx context.Context) {
	if e.cfg.SequenceField == "" || e.cfg.EventsPerStream > 0 {
		return
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
