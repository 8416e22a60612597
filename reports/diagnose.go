package reports

import (
	"fmt"
	"strings"

	"github.com/sseload/sseload/loadgen"
)

// DirectTarget is the name of the target that reaches the origin without a
// proxy (the local topology's name for it). Diagnose compares the other
// targets against it: a symptom the direct stream shows too belongs to the
// origin, not to a proxy.
const DirectTarget = "direct"

// Thresholds of the header-buffering rule. The origin sends its response
// head together with the first event, so a direct stream's time to headers
// is about one publish interval. A proxy that buffers holds the head until
// the stream ends (or a buffer fills), so its time to headers is several
// intervals: held back means at least twice direct's and at least
// heldBackUS more. Without a direct target to compare with, a head that
// took slowHeadersUS or more is held back.
const (
	slowHeadersUS = 1_000_000
	heldBackUS    = 500_000
)

// headersHeldBack applies the rule above to one proxied target.
func headersHeldBack(t, direct *Target) bool {
	h := t.TimeToHeadersUS
	if h == nil {
		return false
	}
	if direct == nil {
		return h.P50 >= slowHeadersUS
	}
	d := direct.TimeToHeadersUS
	return d != nil && h.P50 >= 2*d.P50 && h.P50-d.P50 >= heldBackUS
}

// Diagnose returns one line per target whose numbers show a known reverse
// proxy symptom (the client-side rules in docs/proxies.md), naming the cause
// and the fix; nil when none applies. The direct target (DirectTarget), if
// present, is the baseline and is never diagnosed itself. The rules:
//
//   - time_to_headers p50 at least twice direct's and 500 ms more (or ≥ 1 s
//     when there is no direct target): the proxy buffers the response and
//     holds the head back.
//   - no connection established, some requested, and no_response_headers
//     among the errors, while the direct target (if any) did establish
//     connections: buffering of a never-ending stream; it looks dead.
//   - the proxied head carries Content-Encoding and the direct one does not:
//     the proxy compresses the stream, and a compressor holds small events.
//   - open streams dropped after a quiet time that is the same for nearly
//     all of them (quiet_before_drop min within 10 % of p90, at least 0.5 s),
//     while direct streams did not drop: an idle timeout on the path
//     (nginx's proxy_read_timeout, HAProxy's timeout server).
func Diagnose(s Summary) []string {
	var direct *Target
	for i := range s.Targets {
		if s.Targets[i].Name == DirectTarget {
			direct = &s.Targets[i]
			break
		}
	}
	var out []string
	for i := range s.Targets {
		t := &s.Targets[i]
		if t == direct {
			continue
		}
		if headersHeldBack(t, direct) {
			out = append(out, t.Name+": response headers held back until the stream ends or the first event arrives — response buffering (proxy_buffering on); fix: proxy_buffering off or X-Accel-Buffering: no")
		}
		if n := t.Errors[loadgen.ErrNoResponseHeaders]; n > 0 && t.Connections.Established == 0 && t.Connections.Requested > 0 &&
			(direct == nil || direct.Connections.Established > 0) {
			out = append(out, fmt.Sprintf("%s: no stream got response headers (%d %s) — the stream looks dead, not slow: response buffering holds back the head of a stream that never ends (proxy_buffering on); fix: proxy_buffering off or X-Accel-Buffering: no",
				t.Name, n, loadgen.ErrNoResponseHeaders))
		}
		if line := idleTimeout(t, direct); line != "" {
			out = append(out, line)
		}
		if direct != nil {
			enc := headValue(t.ResponseHead, "content-encoding")
			if enc != "" && !strings.EqualFold(enc, "identity") && headValue(direct.ResponseHead, "content-encoding") == "" && len(direct.ResponseHead) > 0 {
				out = append(out, fmt.Sprintf("%s: the proxy compresses the stream (Content-Encoding: %s, direct is not compressed) — small events wait in the compressor; fix: keep text/event-stream out of gzip_types (nginx) or of the encode directive (Caddy)",
					t.Name, enc))
			}
		}
	}
	return out
}

// Thresholds of the idle-timeout rule: drops after a quiet time this
// uniform and this long are a timer's doing, not the network's.
const (
	idleMinUS    = 500_000
	idleSpread   = 0.10
	idleMinDrops = 3
)

// idleTimeout applies the idle-timeout rule to one target.
func idleTimeout(t, direct *Target) string {
	h := t.QuietBeforeDropUS
	if h == nil || h.Count < idleMinDrops || h.P50 < idleMinUS {
		return ""
	}
	if float64(h.P90-h.Min) > idleSpread*float64(h.P90) {
		return ""
	}
	if direct != nil && direct.QuietBeforeDropUS != nil && direct.QuietBeforeDropUS.Count >= h.Count/2 {
		return "" // the origin's streams dropped as well: not the proxy
	}
	return fmt.Sprintf("%s: %d streams cut after %s without a byte — an idle timeout on the path (nginx proxy_read_timeout, default 60 s; HAProxy timeout server); fix: a heartbeat comment from the origin more often than that (sseload origin --heartbeat), or a longer timeout",
		t.Name, h.Count, formatMicros(h.P50))
}

// headValue looks a header up case-insensitively: the engine's Head map is
// not promised to use one case.
func headValue(head map[string]string, name string) string {
	if v, ok := head[name]; ok {
		return v
	}
	for k, v := range head {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}
