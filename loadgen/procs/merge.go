package procs

import (
	"fmt"

	"github.com/sseload/sseload/loadgen"
)

// mergeResults merges the children's results into the result one engine
// running the whole of plan would have returned, as far as sums and maxima
// allow:
//
//   - histograms by value; counters and error maps summed;
//   - Requested from the plan, so that a child that never reported shows as
//     streams missing rather than as a smaller plan;
//   - delivery exactly (mergeDelivery);
//   - faults by position (the n-th fault of every child is the same
//     fault; mergeFault);
//   - the harness verdict worst-of (mergeHarness);
//   - Started the earliest, Ended the latest, Interrupted if any was.
//
// results may hold nil for children without a result; at least one must
// not be nil.
func mergeResults(plan loadgen.Config, results []*loadgen.Result) (*loadgen.Result, error) {
	var got []*loadgen.Result
	for _, r := range results {
		if r != nil {
			got = append(got, r)
		}
	}
	if len(got) == 0 {
		return nil, fmt.Errorf("no generator process returned a result")
	}
	out := &loadgen.Result{}
	for _, r := range got {
		if len(r.Targets) != len(plan.Targets) {
			return nil, fmt.Errorf("a generator process returned %d targets, the run has %d", len(r.Targets), len(plan.Targets))
		}
		for i, tr := range r.Targets {
			if tr.Name != plan.Targets[i].Name {
				return nil, fmt.Errorf("a generator process returned target %q as target %d, the run's is %q", tr.Name, i, plan.Targets[i].Name)
			}
		}
		if out.Started.IsZero() || r.Started.Before(out.Started) {
			out.Started = r.Started
		}
		if r.Ended.After(out.Ended) {
			out.Ended = r.Ended
		}
		out.Interrupted = out.Interrupted || r.Interrupted
	}
	for i, t := range plan.Targets {
		parts := make([]*loadgen.TargetResult, len(got))
		for k, r := range got {
			parts[k] = r.Targets[i]
		}
		tr, err := mergeTarget(parts, int64(plan.EventsPerStream))
		if err != nil {
			return nil, fmt.Errorf("target %s: %w", t.Name, err)
		}
		tr.Name, tr.URL = t.Name, t.URL
		tr.Requested = planned(plan, t)
		out.Targets = append(out.Targets, tr)
	}
	out.Faults = mergeFaults(got)
	hs := make([]loadgen.Harness, len(got))
	for k, r := range got {
		hs[k] = r.Harness
	}
	out.Harness = mergeHarness(hs)
	return out, nil
}

// mergeTarget merges one target's results.
func mergeTarget(parts []*loadgen.TargetResult, perStream int64) (*loadgen.TargetResult, error) {
	out := &loadgen.TargetResult{Errors: map[string]int64{}, ErrorValues: loadgen.ErrorValues{}}
	for m := range out.Hist {
		out.Hist[m] = loadgen.NewHistogram()
	}
	ds := make([]loadgen.Delivery, 0, len(parts))
	for _, p := range parts {
		out.Established += p.Established
		out.Failed += p.Failed
		out.Reconnects += p.Reconnects
		out.EventsReceived += p.EventsReceived
		out.EventsTimed += p.EventsTimed
		out.ClockSkewed += p.ClockSkewed
		for m, h := range p.Hist {
			if h == nil {
				continue
			}
			if dropped := out.Hist[m].Merge(h); dropped > 0 {
				return nil, fmt.Errorf("%s histogram: %d values outside 1 µs to 1 h", loadgen.Metric(m), dropped)
			}
		}
		for k, n := range p.Errors {
			out.Errors[k] += n
		}
		out.ErrorValues.Merge(p.ErrorValues)
		if out.Protocol == "" {
			out.Protocol, out.TLSVersion = p.Protocol, p.TLSVersion
		}
		if out.Head == nil && len(p.Head) > 0 {
			out.Head = p.Head
		}
		ds = append(ds, p.Delivery)
	}
	out.Delivery = mergeDelivery(ds, perStream)
	return out, nil
}

// mergeDelivery merges the delivery accounting of one target's parts.
//
// The parts' Expected add up. Per-connection origins (perStream > 0):
// expected is per stream. Broadcast: each part drew its own line at the end
// of the hold (loadgen/settle.go), the highest sequence number its streams
// had received, counted nothing after it, and expected every publish up to
// it of each of its streams. A part whose line is one publish short of
// another's did not count that publish at all, so charging its streams
// with it (the global highest number) would report a loss that is only
// where each process drew its line.
//
// Lost = max(0, expected − (sequenced − duplicated)) as in one engine.
func mergeDelivery(ds []loadgen.Delivery, perStream int64) loadgen.Delivery {
	var out loadgen.Delivery
	var expectedSum int64
	for _, d := range ds {
		if !d.Accounted {
			continue
		}
		out.Accounted = true
		out.Sequenced += d.Sequenced
		out.Duplicated += d.Duplicated
		out.OutOfOrder += d.OutOfOrder
		out.Replayed += d.Replayed
		out.Streams += d.Streams
		out.MaxSeq = max(out.MaxSeq, d.MaxSeq)
		expectedSum += d.Expected
	}
	if !out.Accounted {
		return out
	}
	out.Expected = expectedSum
	out.Lost = max(0, out.Expected-(out.Sequenced-out.Duplicated))
	return out
}

// mergeFaults merges the n-th fault of every result: every child was sent
// the same fault messages in the same order. Each child marked a fault when
// its message arrived, a little after the others perhaps; the merged fault
// is at the earliest mark, and a child's recovery time is counted from
// there (its own RecoveryUS plus how much later it marked).
func mergeFaults(results []*loadgen.Result) []loadgen.Fault {
	var out []loadgen.Fault
	for k := 0; ; k++ {
		var parts []loadgen.Fault
		for _, r := range results {
			if k < len(r.Faults) {
				parts = append(parts, r.Faults[k])
			}
		}
		if len(parts) == 0 {
			return out
		}
		out = append(out, mergeFault(parts))
	}
}

func mergeFault(parts []loadgen.Fault) loadgen.Fault {
	f := loadgen.Fault{Name: parts[0].Name, At: parts[0].At}
	for _, p := range parts[1:] {
		if p.At.Before(f.At) {
			f.At = p.At
		}
	}
	for i, t := range parts[0].Targets {
		ft := loadgen.FaultTarget{Name: t.Name}
		recovered := true
		for _, p := range parts {
			if i >= len(p.Targets) {
				continue
			}
			pt := p.Targets[i]
			ft.Streams += pt.Streams
			ft.Recovered += pt.Recovered
			ft.Reconnects += pt.Reconnects
			ft.Lost += pt.Lost
			switch {
			case pt.Streams == 0:
				// Nothing to recover in this child.
			case pt.RecoveryUS < 0:
				recovered = false
			default:
				ft.RecoveryUS = max(ft.RecoveryUS, pt.RecoveryUS+p.At.Sub(f.At).Microseconds())
			}
		}
		if !recovered {
			ft.RecoveryUS = -1
		}
		f.Targets = append(f.Targets, ft)
	}
	return f
}

// mergeHarness is the worst of the children's verdicts: the highest lag,
// busy share and machine CPU, and reliable only if every child was. Notes
// of one kind (every child may say its lag was too high) are said once:
// the one with the highest figure, with how many children said it.
func mergeHarness(hs []loadgen.Harness) loadgen.Harness {
	out := loadgen.Harness{Reliable: true}
	type key struct{ kind, target string }
	var order []key
	worst := map[key]loadgen.HarnessNote{}
	count := map[key]int{}
	for _, h := range hs {
		out.LagP99US = max(out.LagP99US, h.LagP99US)
		out.LagMaxUS = max(out.LagMaxUS, h.LagMaxUS)
		out.BusyMax = max(out.BusyMax, h.BusyMax)
		out.MachineCPUMax = max(out.MachineCPUMax, h.MachineCPUMax)
		out.Reliable = out.Reliable && h.Reliable
		for _, n := range h.Notes {
			k := key{n.Kind, n.Target}
			if w, seen := worst[k]; !seen {
				order = append(order, k)
				worst[k] = n
			} else if n.Value > w.Value {
				worst[k] = n
			}
			count[k]++
		}
	}
	reliable := out.Reliable
	for _, k := range order {
		n := worst[k]
		if count[k] > 1 {
			n.Text += fmt.Sprintf(" (the worst of %d generator processes)", count[k])
		}
		out.AddNote(n)
	}
	out.Reliable = reliable
	return out
}
