package reports

// The latency split. With sseload's origin (or --sent-field) every event
// says when the origin wrote it, beside when it was scheduled, so each
// event's latency splits into origin delay (written − scheduled: the
// origin's own lateness, with sseload's origin its fan-out to thousands of
// streams) and path latency (received − written: the network, the proxy
// and the receiving side). On a small machine the origin's fan-out can be
// most of a direct target's latency, which is a fact about the harness on
// that machine, not about the path: the reports say so (SplitVerdicts).

// LatencySplit is, for one target whose latency was split, the three p99s
// and which part dominates; summary.json's harness.latency_split[].
type LatencySplit struct {
	Target           string `json:"target"`
	LatencyP99US     int64  `json:"latency_p99_us"`
	OriginDelayP99US int64  `json:"origin_delay_p99_us"`
	PathLatencyP99US int64  `json:"path_latency_p99_us"`
	// Dominant is SplitOrigin when the origin's delay p99 is at least the
	// path latency p99, else SplitPath (see SplitVerdicts).
	Dominant string `json:"dominant"`
}

// LatencySplit.Dominant values.
const (
	SplitOrigin = "origin"
	SplitPath   = "path"
)

// SplitVerdicts returns the verdict for every target with a latency split,
// in target order; nil when none has one.
//
// The part with the larger p99 dominates: the origin when its delay p99 is
// at least the path latency p99. Each event's latency is exactly its
// origin delay plus its path latency, but percentiles do not add (the
// slowest 1 % of one part need not be the same events as the other's), so
// the verdict compares the two tails, each on its own: which part, at its
// worst 1 %, delays events more. Since every one of the slowest 1 % of
// events has a part of at least half its latency, the dominant part's p99
// is normally at least half the latency p99 as well.
func SplitVerdicts(targets []Target) []LatencySplit {
	var out []LatencySplit
	for _, t := range targets {
		if t.LatencyUS == nil || t.OriginDelayUS == nil || t.PathLatencyUS == nil {
			continue
		}
		v := LatencySplit{
			Target:           t.Name,
			LatencyP99US:     t.LatencyUS.P99,
			OriginDelayP99US: t.OriginDelayUS.P99,
			PathLatencyP99US: t.PathLatencyUS.P99,
			Dominant:         SplitPath,
		}
		if v.OriginDelayP99US >= v.PathLatencyP99US {
			v.Dominant = SplitOrigin
		}
		out = append(out, v)
	}
	return out
}

// HasSplit reports whether any target's latency was split: whether the
// reports show the latency split table and compare adds path_latency.p99.
func (s Summary) HasSplit() bool {
	for i := range s.Targets {
		if s.Targets[i].OriginDelayUS != nil {
			return true
		}
	}
	return false
}
