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

// Thresholds of the header-buffering rule. A proxy that buffers the response
// holds its head until the stream ends or the first event fills a chunk, so
// time to headers grows to at least one publish interval (seconds), while a
// direct stream answers within a round trip or two.
const (
	slowHeadersUS   = 1_000_000 // proxied time_to_headers p50 at or above this is held back
	directHeadersUS = 100_000   // direct time_to_headers p50 below this is normal
)

// Diagnose returns one line per target whose numbers show a known reverse
// proxy symptom (the client-side rules of SSE-PROXIES.md), naming the cause
// and the fix; nil when none applies. The direct target (DirectTarget), if
// present, is the baseline and is never diagnosed itself. The rules:
//
//   - time_to_headers p50 ≥ 1 s while direct's is < 100 ms (or there is no
//     direct target): the proxy buffers the response and holds the head back.
//   - no connection established, some requested, and no_response_headers
//     among the errors, while the direct target (if any) did establish
//     connections: buffering of a never-ending stream; it looks dead.
//   - the proxied head carries Content-Encoding and the direct one does not:
//     the proxy compresses the stream, and a compressor holds small events.
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
		if h := t.TimeToHeadersUS; h != nil && h.P50 >= slowHeadersUS &&
			(direct == nil || (direct.TimeToHeadersUS != nil && direct.TimeToHeadersUS.P50 < directHeadersUS)) {
			out = append(out, t.Name+": response headers held back until the stream ends or the first event arrives — response buffering (proxy_buffering on); fix: proxy_buffering off or X-Accel-Buffering: no")
		}
		if n := t.Errors[loadgen.ErrNoResponseHeaders]; n > 0 && t.Connections.Established == 0 && t.Connections.Requested > 0 &&
			(direct == nil || direct.Connections.Established > 0) {
			out = append(out, fmt.Sprintf("%s: no stream got response headers (%d %s) — the stream looks dead, not slow: response buffering holds back the head of a stream that never ends (proxy_buffering on); fix: proxy_buffering off or X-Accel-Buffering: no",
				t.Name, n, loadgen.ErrNoResponseHeaders))
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
