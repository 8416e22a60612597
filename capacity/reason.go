package capacity

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sseload/sseload/loadgen"
	"github.com/sseload/sseload/reports"
	"github.com/sseload/sseload/targets"
)

// BufferingReason is the reason given when no stream got a response head at
// any size: the proxy buffers the response of a never-ending stream, head
// included, so there is no count to report.
const BufferingReason = "no events delivered at any size: response buffering — the proxy holds the head of a never-ending stream; use --x-accel or proxy_buffering off"

// connectionLimitKinds are the error kinds of a proxy or server that has
// run out of connection slots, with how each reads in the reason: nginx
// past worker_connections closes the accepted connection without a word
// (eof_before_headers) or resets it; a full accept backlog refuses or
// never answers the connect.
var connectionLimitKinds = []struct{ kind, words string }{
	{loadgen.ErrConnectRefused, "refused"},
	{loadgen.ErrReset, "reset"},
	{loadgen.ErrEOFBeforeHeaders, "closed without a response"},
	{loadgen.ErrConnectTimeout, "not accepted within 10 s"},
	{loadgen.ErrEOFMidResponse, "closed mid-stream"},
}

// generatorKinds are limits of the machine running sseload, not the target.
var generatorKinds = []string{loadgen.ErrTooManyFiles, loadgen.ErrNoSourcePorts}

// explain returns the reason (the failing symptom at FirstFailed and what
// it points at) and the one-sentence answer.
//
// An interrupted search answers with what it knew when it stopped.
func explain(target string, f Found, steps []*step, slos []string, plan Plan, interrupted bool) (reason, answer string) {
	if len(steps) == 0 {
		return "", target + ": no step was measured"
	}
	if f.MaxOK == 0 && allBuffered(steps) {
		return BufferingReason, target + ": " + BufferingReason
	}
	var failed *step
	for _, s := range steps {
		if s.rep.Connections == f.FirstFailed {
			failed = s
		}
	}
	carried := target + " carries " + strconv.Itoa(f.MaxOK) + " " + plural(f.MaxOK, "stream", "streams")
	if f.MaxOK == 0 {
		carried = target + " carries no stream"
	}
	if rate := rateText(steps[0].sum.Config); rate != "" {
		carried += " at " + rate
	}
	carried += " with " + sloText(slos)
	if failed == nil && interrupted {
		return "", strings.Replace(carried, " carries ", " carries at least ", 1) + " (interrupted before a step failed)"
	}
	if failed == nil {
		// Nothing failed: the search stopped at --max.
		p, _ := plan.withDefaults()
		return "", fmt.Sprintf("%s (every step held; --max %d reached: raise --max to look further)", strings.Replace(carried, " carries ", " carries at least ", 1), p.Max)
	}
	reason = failureReason(failed)
	return reason, fmt.Sprintf("%s; at %d, %s", carried, failed.rep.Connections, reason)
}

// allBuffered reports whether every step ended with no response head on
// any connection, every one counted as no_response_headers.
func allBuffered(steps []*step) bool {
	for _, s := range steps {
		t := s.target
		if t.Connections.Established != 0 || t.Errors[loadgen.ErrNoResponseHeaders] == 0 {
			return false
		}
	}
	return true
}

// failureReason names what failed at a step and what it points at: the
// errors first (a connection limit, the generator's own limits, HTTP
// statuses), then the SLOs.
func failureReason(s *step) string {
	t := s.target
	n := s.rep.Connections
	var parts []string
	if t.Connections.Failed > 0 {
		what := fmt.Sprintf("%d %s failed (%s)", t.Connections.Failed, plural(int(t.Connections.Failed), "connection", "connections"), reports.ErrorList(t.Errors, t.ErrorValues))
		if why := errorMeaning(s); why != "" {
			what += " — " + why
		}
		parts = append(parts, what)
	} else if t.Connections.Established < int64(n) {
		parts = append(parts, fmt.Sprintf("only %d of %d connections got a response head", t.Connections.Established, n))
	}
	for _, r := range s.sloFails {
		parts = append(parts, sloFailText(r))
	}
	if len(parts) == 0 {
		parts = append(parts, strings.Join(s.rep.Failed, "; "))
	}
	out := strings.Join(parts, "; ")
	if !s.sum.Harness.Reliable {
		out += fmt.Sprintf(" (harness NOT RELIABLE at this size: %s — the figures include the generator's own delays)", s.sum.Harness.Note)
	}
	return out
}

// errorMeaning says what a step's error kinds point at.
func errorMeaning(s *step) string {
	errs := s.target.Errors
	for _, k := range generatorKinds {
		if errs[k] > 0 {
			return "the generator's own limit (" + k + "), not the target's: see the warning for the fix"
		}
	}
	var words []string
	for _, k := range connectionLimitKinds {
		if errs[k.kind] > 0 {
			words = append(words, k.words)
		}
	}
	if len(words) > 0 {
		why := "connections " + joinOr(words) + ": " + limitWords(s.proxyKind)
		if s.proxyLimit != "" {
			why += fmt.Sprintf(" (%s's log: %q, %d %s)", s.proxyKind, s.proxyLimit, s.proxyLimitCount, plural(s.proxyLimitCount, "time", "times"))
		}
		return why
	}
	if errs[loadgen.ErrHTTPStatus] > 0 {
		return "the target answered with an error status: a limit such as limit_conn or limit_req, or a failing upstream"
	}
	if errs[loadgen.ErrNoResponseHeaders] > 0 {
		return "streams got no response head before the step ended: response buffering, or the proxy queueing connections it cannot serve yet"
	}
	return ""
}

// sloFailText is a failed SLO in words: "latency SLO latency.p99 < 100ms:
// measured 230ms".
func sloFailText(r reports.ThresholdResult) string {
	kind := "SLO"
	if strings.HasPrefix(r.Metric, "latency.") {
		kind = "latency SLO"
	}
	return fmt.Sprintf("%s %s failed: %s", kind, r.Expression, r.Reason)
}

// rateText is the publish rate of a broadcast step ("1 event/s", "2
// events/s", "1 event every 5s"); "" when unknown (external origin) or
// per-connection.
func rateText(c reports.RunConfig) string {
	if c.Mode != "broadcast" || c.IntervalMS <= 0 {
		return ""
	}
	perS := 1000 / c.IntervalMS
	switch {
	case perS == 1:
		return "1 event/s"
	case perS > 1 && perS == float64(int(perS)):
		return strconv.Itoa(int(perS)) + " events/s"
	case perS > 1:
		return strconv.FormatFloat(perS, 'f', 1, 64) + " events/s"
	}
	return "1 event every " + strconv.FormatFloat(c.IntervalMS/1000, 'f', -1, 64) + "s"
}

// sloText lists the SLOs for the answer: "latency.p99 < 100ms", or "all
// connections established" when there are none besides it.
func sloText(slos []string) string {
	if len(slos) == 0 {
		return "every connection established"
	}
	return strings.Join(slos, " and ")
}

func joinOr(words []string) string {
	switch len(words) {
	case 1:
		return words[0]
	case 2:
		return words[0] + " or " + words[1]
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// limitWords names the connection limit a kind of proxy runs into.
func limitWords(kind string) string {
	switch kind {
	case targets.Nginx:
		return "a connection limit such as nginx's worker_connections"
	case targets.HAProxy:
		return "a connection limit such as HAProxy's maxconn or its file-descriptor limit"
	case targets.Caddy:
		return "a connection limit such as Caddy's file-descriptor limit"
	}
	return "a connection limit such as nginx's worker_connections or a file-descriptor limit"
}
