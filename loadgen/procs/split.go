package procs

import (
	"net/netip"
	"net/url"
	"slices"

	"github.com/sseload/sseload/loadgen"
)

// streamsPerSource is how many streams one child puts on one source address
// to one server address:port, as the engine does on its own: below the
// ~28,000 ephemeral ports so that the kernel never runs out mid-ramp.
const streamsPerSource = 25_000

// maxChildren is the most children cfg can be split over: each must get at
// least one connection of every target (a zero would mean "the default"
// to the engine).
func maxChildren(cfg loadgen.Config) int {
	n := cfg.Connections
	for _, t := range cfg.Targets {
		if t.Connections > 0 {
			n = min(n, t.Connections)
		}
	}
	return max(n, 1)
}

// splitConfig returns the n children's equal shares of cfg
// (splitWeighted with equal weights).
func splitConfig(cfg loadgen.Config, n int, urlFor func(child int, t loadgen.Target) string) []loadgen.Config {
	return splitWeighted(cfg, slices.Repeat([]int{1}, n), urlFor)
}

// splitWeighted returns the children's shares of cfg, one per weight.
//
// Every target's connections (Config.Connections and each
// Target.Connections) are split in proportion to the weights, by largest
// remainder, each child getting at least one (apportionEach): with equal
// weights, total/n each and the remainder to the first children. The ramp is split in
// proportion to each child's part of Config.Connections, so the children's
// ramps add up to cfg.Ramp and all end when a single engine's would.
//
// urlFor, when not nil, gives child i's URL for a target ("" keeps it): an
// origin shard per child.
//
// Source addresses: each child is an engine of its own that would start at
// 127.0.0.1 for loopback targets, so n children would put n shares on one
// source address per server port, past the ephemeral port range. When
// every target is a loopback IPv4 address and the caller gave none, child
// i gets source addresses of its own, in a block after those of the
// children before it (127.0.0.1…, then the next ones), one address per
// 25,000 of its streams to one target. When the caller gave at least n
// addresses, they are dealt out in turn; fewer are given to every child.
func splitWeighted(cfg loadgen.Config, weights []int, urlFor func(child int, t loadgen.Target) string) []loadgen.Config {
	n := len(weights)
	out := make([]loadgen.Config, n)
	conns := apportionEach(cfg.Connections, weights)
	targetConns := make([][]int, len(cfg.Targets))
	for j, t := range cfg.Targets {
		if t.Connections > 0 {
			targetConns[j] = apportionEach(t.Connections, weights)
		}
	}
	next := netip.AddrFrom4([4]byte{127, 0, 0, 1})
	for i := range out {
		c := cfg
		c.OnInterval, c.Warn, c.TLSConfig = nil, nil, nil
		c.Connections = conns[i]
		c.Ramp = cfg.Ramp * float64(c.Connections) / float64(cfg.Connections)
		c.Targets = make([]loadgen.Target, len(cfg.Targets))
		most := 0 // the child's largest stream count to one target
		for j, t := range cfg.Targets {
			if t.Connections > 0 {
				t.Connections = targetConns[j][i]
			}
			if urlFor != nil {
				if u := urlFor(i, t); u != "" {
					t.URL = u
				}
			}
			c.Targets[j] = t
			most = max(most, c.Connections, t.Connections)
		}
		switch {
		case len(cfg.SourceAddrs) >= n:
			c.SourceAddrs = nil
			for k := i; k < len(cfg.SourceAddrs); k += n {
				c.SourceAddrs = append(c.SourceAddrs, cfg.SourceAddrs[k])
			}
		case len(cfg.SourceAddrs) > 0:
			c.SourceAddrs = append([]netip.Addr(nil), cfg.SourceAddrs...)
		case n > 1 && allLoopback4(c.Targets):
			k := (most + streamsPerSource - 1) / streamsPerSource
			c.SourceAddrs = make([]netip.Addr, 0, k)
			for range k {
				c.SourceAddrs = append(c.SourceAddrs, next)
				next = next.Next()
			}
		}
		out[i] = c
	}
	return out
}

// allLoopback4 reports whether every target is plain http to a literal
// loopback IPv4 address: only then can a child bind its streams to
// 127.0.0.x without breaking one of them.
func allLoopback4(ts []loadgen.Target) bool {
	for _, t := range ts {
		u, err := url.Parse(t.URL)
		if err != nil || u.Scheme != "http" {
			return false
		}
		a, err := netip.ParseAddr(u.Hostname())
		if err != nil || !a.Is4() || !a.IsLoopback() {
			return false
		}
	}
	return len(ts) > 0
}

// planned is the number of streams cfg opens to t.
func planned(cfg loadgen.Config, t loadgen.Target) int64 {
	if t.Connections > 0 {
		return int64(t.Connections)
	}
	return int64(cfg.Connections)
}
