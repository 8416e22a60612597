package runner

import (
	"net/netip"
	"net/url"
	"strings"

	"github.com/sseload/sseload/loadgen"
	"github.com/sseload/sseload/loadgen/procs"
)

// noteUnsyncedClocks adds the harness note (kind unchecked, target clock:
// the run stays reliable, as the issue's contract says "the report says
// latencies assume synchronised clocks") of a run on this
// machine whose latencies subtract a publish time written by another
// machine's clock, with nothing to measure the difference: external
// targets (TopologyNone, with or without --timestamp-field) timed on a
// host that is not this one. The local and compose topologies run
// sseload's own origin on this machine (containers share the host's
// clock), and so does a target on a loopback address: one clock, no note.
// Remote workers are judged by procs (judgeClocks), with or without a
// time source; a run that timed no event has no latency to doubt.
func noteUnsyncedClocks(opts Options, cfg loadgen.Config, res *loadgen.Result) {
	if opts.Topology != TopologyNone || len(opts.Workers) > 0 {
		return
	}
	urls := make(map[string]string, len(cfg.Targets))
	for _, t := range cfg.Targets {
		urls[t.Name] = t.URL
	}
	for _, t := range res.Targets {
		if t.EventsTimed+t.ClockSkewed > 0 && !onThisMachine(urls[t.Name]) {
			res.Harness.AddUnchecked(procs.UnsyncedClocksNote("this machine's clock"))
			return
		}
	}
}

// onThisMachine reports whether rawURL's host is a loopback address (or
// localhost): its origin reads this machine's clock.
func onThisMachine(rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}
