package reports

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sseload/sseload/loadgen"
	"github.com/sseload/sseload/targets"
)

// DirectTarget is the name of the target that reaches the origin without a
// proxy. Diagnose compares the other targets against it: a symptom the
// direct stream shows too belongs to the origin, not to a proxy.
const DirectTarget = targets.Direct

// The proxy kinds Diagnose words its causes for: the values of
// Target.ProxyKind (summary.json's "proxy_kind"). Any other value, ""
// included, gets the generic wording.
const (
	kindNginx   = targets.Nginx
	kindHAProxy = targets.HAProxy
	kindCaddy   = targets.Caddy
)

// Diagnosis is one known reverse-proxy symptom found in one target's
// numbers (summary.json's "diagnoses"): what a client sees, the proxy
// setting that causes it, worded for the target's proxy kind, the fix, and
// the figures that matched the rule.
type Diagnosis struct {
	Target string `json:"target"`
	// Symptom is what the client sees, in words.
	Symptom string `json:"symptom"`
	// Directive is the cause: the proxy's setting (named in its own
	// configuration syntax when the kind is known) or the layer at fault.
	Directive string `json:"directive"`
	Fix       string `json:"fix"`
	// Evidence is the figures that matched, e.g. "time_to_headers p50
	// 3.01s vs direct 503.8ms".
	Evidence string `json:"evidence"`
}

// String is the diagnosis as one line of the text report:
// "<target>: <symptom> (<evidence>) — <directive>; fix: <fix>".
func (d Diagnosis) String() string {
	var b strings.Builder
	b.WriteString(d.Target + ": " + d.Symptom)
	if d.Evidence != "" {
		b.WriteString(" (" + d.Evidence + ")")
	}
	b.WriteString(" — " + d.Directive)
	if d.Fix != "" {
		b.WriteString("; fix: " + d.Fix)
	}
	return b.String()
}

// cause is a rule's directive and fix for one proxy kind.
type cause struct{ directive, fix string }

// Diagnose returns the known reverse-proxy symptoms in s's numbers (the
// client-side rules of docs/proxies.md), in target order and, within a
// target, in the order of the rules below; nil when none applies. Each
// proxied target is compared with its baseline: the direct target
// (DirectTarget), or for a runner's "<name>~slow" twin the direct target's
// twin "direct~slow", since slow readers are late by their own doing.
// Baselines are never diagnosed themselves. The rules, each worded for the
// target's ProxyKind:
//
//   - held headers (heldHeaders): the response head comes late — buffering;
//     or, when every event is on time (headWithFirstEvent), a layer that
//     sends the head with the first body bytes (nginx over HTTP/2).
//   - batched events (batchedEvents): some events on time, a tenth half a
//     second late or more — events held and released together. Folded into
//     the held-headers or compression diagnosis when one of those applies,
//     since then it names the same cause.
//   - constant added delay (addedDelay): the typical event late by about the
//     same amount, the head on time — HAProxy without http-no-delay.
//   - dead stream (deadStream): no stream got a head although the origin
//     answers — buffering of a never-ending stream.
//   - idle timeout (idleTimeout): open streams cut after the same quiet
//     time.
//   - connection limit (connectionLimit): past a knee, connections refused
//     or closed without a head while direct took them all.
//   - compression (compressed): the proxy adds Content-Encoding.
//
// The thresholds are the constants beside each rule (docs/summary.md lists
// them). Summarize stores the result in Summary.Diagnoses, which every
// report shows.
func Diagnose(s Summary) []Diagnosis {
	var out []Diagnosis
	faulted := len(s.Faults) > 0
	for i := range s.Targets {
		t := &s.Targets[i]
		base := baselineName(t.Name)
		if base == t.Name {
			continue
		}
		var direct *Target
		if j := slices.IndexFunc(s.Targets, func(c Target) bool { return c.Name == base }); j >= 0 {
			direct = &s.Targets[j]
		}
		out = append(out, diagnoseTarget(t, direct, faulted)...)
	}
	return out
}

// baselineName is the name of the target t is compared with: DirectTarget,
// or DirectTarget with the same "~" suffix for the runner's twins (slow
// consumers, "<name>~slow"). A target whose baseline is itself is one.
func baselineName(name string) string {
	if i := strings.IndexByte(name, '~'); i >= 0 {
		return DirectTarget + name[i:]
	}
	return DirectTarget
}

// DiagnoseTarget applies every rule to one target's figures against its
// baseline (nil: none to compare with, as for `sseload check`, which
// measures one URL; the rules that need a baseline then stay silent and
// the others use their absolute thresholds). It is the one entry to the
// rules besides Diagnose, so run and check name the same directives.
func DiagnoseTarget(t, baseline *Target) []Diagnosis {
	return diagnoseTarget(t, baseline, false)
}

// BurstDiagnosis is the diagnosis of events seen arriving together, several
// to a read, after quiet gaps: the batched-events rule's cause and fix for
// t's proxy kind, for a caller that saw the batches in the bytes (check)
// rather than in latencies measured against a baseline.
func BurstDiagnosis(t *Target, evidence string) Diagnosis {
	return diagnosis(t, "events held back and released together, several to a read", batchCause(t.ProxyKind), evidence)
}

// diagnoseTarget applies every rule to one target; direct is its baseline
// (nil when the run has none) and faulted says faults were injected.
func diagnoseTarget(t, direct *Target, faulted bool) []Diagnosis {
	var out []Diagnosis
	batch, batchOK := batchedEvents(t, direct)
	comp, compressedOK := compressed(t, direct)
	held, heldOK := heldHeaders(t, direct)
	if d, ok := headWithFirstEvent(t, direct, heldOK, batchOK); ok {
		held = d
	}
	if heldOK {
		if batchOK {
			held.Evidence += "; " + batch.Evidence
		}
		out = append(out, held)
	} else if batchOK && !compressedOK {
		out = append(out, batch)
	}
	if d, ok := addedDelay(t, direct, heldOK); ok {
		out = append(out, d)
	}
	if d, ok := deadStream(t, direct); ok {
		out = append(out, d)
	}
	if d, ok := idleTimeout(t, direct); ok {
		out = append(out, d)
	}
	if d, ok := connectionLimit(t, direct, faulted); ok {
		out = append(out, d)
	}
	if compressedOK {
		if batchOK && !heldOK {
			comp.Evidence += "; " + batch.Evidence
		}
		out = append(out, comp)
	}
	return out
}

// diagnosis fills a Diagnosis for t from the cause for its kind.
func diagnosis(t *Target, symptom string, c cause, evidence string) Diagnosis {
	return Diagnosis{Target: t.Name, Symptom: symptom, Directive: c.directive, Fix: c.fix, Evidence: evidence}
}

// Thresholds of the header-buffering rule. time_to_headers runs from the
// connection's start to the parsed response head. sseload's origin sends
// its head as soon as it accepts a stream, so a direct stream's time to
// headers is a connection set-up (milliseconds); with head_with_first_event
// (or an origin that does not flush) it is about one publish interval. A
// proxy that buffers holds the head until the stream ends (or a buffer
// fills): stock nginx does so whether or not the origin flushed it. Held
// back means at least twice direct's and at least heldBackUS more, so a
// proxy that delays the head by less (HAProxy's 200 ms) is not taken for
// one that buffers. Without a direct target to compare with, a head that
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

// heldHeaders is the held-headers rule (headersHeldBack): the proxy
// buffers the response and holds its head back, so EventSource's onopen
// fires late.
func heldHeaders(t, direct *Target) (Diagnosis, bool) {
	if !headersHeldBack(t, direct) {
		return Diagnosis{}, false
	}
	ev := "time_to_headers p50 " + FormatMicros(t.TimeToHeadersUS.P50)
	if direct != nil {
		ev += " vs " + direct.Name + " " + FormatMicros(direct.TimeToHeadersUS.P50)
	} else {
		ev += ", no direct target to compare"
	}
	return diagnosis(t, "response headers held back until the stream ends or the first event arrives", bufferingCause(t.ProxyKind), ev), true
}

// headWithFirstEvent narrows the held-headers rule: the head came late but
// every event on time (latency p99 within direct's p99 + onTimeSlackUS, no
// staircase), so nothing buffers the body: a layer sends the head only
// with the first body bytes, and EventSource's onopen waits for the first
// event. Measured: nginx 1.22 over HTTP/2 (listen … ssl http2) queues the
// HEADERS frame until the first DATA frame even with proxy_buffering off
// (curl --http2: head at 1.004 s, the first event's time; over HTTP/1.1 on
// the same listener 0.008 s; with a retry: line at once, 0.021 s); Caddy's
// encode waits for the first write to choose whether to compress.
func headWithFirstEvent(t, direct *Target, held, batched bool) (Diagnosis, bool) {
	l, d := latencies(t, direct)
	if !held || batched || l == nil || l.P99 >= d.P99+onTimeSlackUS {
		return Diagnosis{}, false
	}
	ev := fmt.Sprintf("time_to_headers p50 %s vs %s %s; latency p99 %s vs %s p99 %s",
		FormatMicros(t.TimeToHeadersUS.P50), direct.Name, FormatMicros(direct.TimeToHeadersUS.P50),
		FormatMicros(l.P99), direct.Name, FormatMicros(d.P99))
	return diagnosis(t, "response headers held back until the first event, every event on time", headCause(t.ProxyKind), ev), true
}

// headCause names what sends the head only with the first body bytes, per
// kind; the fix is the origin's in every case.
func headCause(kind string) cause {
	const fix = "have the origin write a comment line (`: ok`) or a `retry:` line as soon as it accepts the stream, so the head goes out at once"
	switch kind {
	case kindNginx:
		return cause{"nginx's HTTP/2 (listen … http2) sends the response head with the first DATA frame; proxy_buffering off does not change that", fix}
	case kindCaddy:
		return cause{"Caddy's encode holds the response head until the first write decides on compression", "no encode on the SSE path, or " + fix}
	}
	return cause{"a layer on the path sends the response head only with the first body bytes (nginx over HTTP/2 does)", fix}
}

// bufferingCause names response buffering for a proxy kind. Only nginx
// buffers responses by default (proxy_buffering on); HAProxy and Caddy
// forward a stream as they read it, so for them the cause is worded as the
// layer, not a directive.
func bufferingCause(kind string) cause {
	switch kind {
	case kindNginx:
		return cause{"response buffering (proxy_buffering on)", "proxy_buffering off or X-Accel-Buffering: no"}
	case kindHAProxy, kindCaddy:
		return cause{"response buffering at the proxy", "turn response buffering off for text/event-stream at the proxy"}
	}
	return cause{"response buffering at the proxy", "turn response buffering off for text/event-stream on that layer (nginx: proxy_buffering off or X-Accel-Buffering: no from the origin)"}
}

// Thresholds of the latency rules (batched events, added delay). Latency
// runs from an event's scheduled publish time to the parse of the blank
// line that dispatches it, so a proxy's holding shows in it directly, and
// the direct target's latency is what the origin and the network add by
// themselves (the seed: p50 730µs, p99 5.5 ms on loopback). Both rules need
// a direct target with latency samples: without one a late event may be
// the origin's own doing. minLatencySamples: fewer events are an anecdote.
//
// onTimeSlackUS divides "on time" from "late": an event within direct's
// p50 + 100 ms was not held. It is twenty times the seed's direct p99 and
// half HAProxy's 200 ms send delay, so that delay counts as late.
const (
	minLatencySamples = 3
	onTimeSlackUS     = 100_000
)

// batchLateUS is the batched-events rule's "late": the target's latency
// p90 at least this much above direct's p99. A buffer that releases events
// together (the staircase) delivers the last event of a batch on time and
// the others up to the batch's span late: at the seed's 500 ms interval,
// six events released at once have latencies 2.5 s, 2 s … 0 (measured: p50
// 1.00 s, max 2.50 s, beside direct's p99 5.5 ms). The rule asks for the
// fastest event on time (min below direct's p50 + onTimeSlackUS: something
// released it at once) and a tenth of the events half a second late (p90,
// so one stall of the network or the generator cannot trigger it alone).
// A min above that is the added-delay rule's instead, and so is a batch
// whose p90 stays within half a second of on time.
const batchLateUS = 500_000

// isStaircase is the batched-events condition on t's and direct's latency.
func isStaircase(l, d *Hist) bool {
	return l.P90 >= d.P99+batchLateUS && l.Min < d.P50+onTimeSlackUS
}

// batchedEvents is the batched-events rule. Without held headers or
// compression it points at a buffer that passes the head on but holds
// events (a compressor without Content-Encoding on the head seen, a layer
// in front of the proxy).
func batchedEvents(t, direct *Target) (Diagnosis, bool) {
	l, d := latencies(t, direct)
	if l == nil || !isStaircase(l, d) {
		return Diagnosis{}, false
	}
	ev := fmt.Sprintf("latency min %s, p50 %s, max %s vs %s p99 %s",
		FormatMicros(l.Min), FormatMicros(l.P50), FormatMicros(l.Max), direct.Name, FormatMicros(d.P99))
	return diagnosis(t, "events held back and released together: latencies a staircase, the last of each batch on time", batchCause(t.ProxyKind), ev), true
}

// batchCause names what holds events after the head went out, per kind.
func batchCause(kind string) cause {
	switch kind {
	case kindNginx:
		return cause{"output held in nginx's buffers (proxy_buffering on, or a filter such as gzip)", "proxy_buffering off or X-Accel-Buffering: no"}
	case kindHAProxy:
		return cause{"events held in a buffer on the path (HAProxy forwards a stream as it reads it: look at its filters, such as compression, and at layers in front)", "make every layer flush each text/event-stream write"}
	case kindCaddy:
		return cause{"events held in a buffer on the path (Caddy's reverse_proxy flushes text/event-stream at once: look at other handlers, such as encode, and at layers in front)", "make every layer flush each text/event-stream write"}
	}
	return cause{"events held in a buffer on the path (a proxy's response buffering or a compressor)", "make every layer flush each text/event-stream write (nginx: proxy_buffering off or X-Accel-Buffering: no)"}
}

// latencies returns t's and direct's latency summaries when both can be
// compared (direct present, both with samples, t with minLatencySamples);
// nil, nil otherwise.
func latencies(t, direct *Target) (*Hist, *Hist) {
	if direct == nil || direct.LatencyUS == nil || t.LatencyUS == nil || t.LatencyUS.Count < minLatencySamples {
		return nil, nil
	}
	return t.LatencyUS, direct.LatencyUS
}

// delaySpread bounds the added-delay rule's uniformity: latency p90 at most
// delaySpread times p50. A timer that holds every small write (HAProxy's
// ~200 ms without option http-no-delay; measured p50 ≈ 206 ms, p90 ≈ 210
// ms beside direct's ≈ 1 ms) adds the same amount to each event; a queue
// or a stall spreads them, and a buffer's staircase (nginx-stock: p50 1.0 s,
// p90 2.5 s) is the other rule's.
const delaySpread = 1.5

// addedDelay is the constant-added-delay rule: the typical event (p50) late
// by direct's p50 + onTimeSlackUS or more, and p90 within delaySpread of
// p50, while the head came on time and the events form no staircase (held
// headers and staircases are buffering's). The fastest event does not count: the
// last event of a stream the origin ends is flushed with the end, on time
// (measured on haproxy-stock with per-connection streams: min 159 µs,
// p50 206 ms).
func addedDelay(t, direct *Target, held bool) (Diagnosis, bool) {
	l, d := latencies(t, direct)
	if held || l == nil || isStaircase(l, d) || l.P50 < d.P50+onTimeSlackUS || float64(l.P90) > delaySpread*float64(l.P50) {
		return Diagnosis{}, false
	}
	ev := fmt.Sprintf("latency p50 %s, p90 %s vs %s p50 %s",
		FormatMicros(l.P50), FormatMicros(l.P90), direct.Name, FormatMicros(d.P50))
	return diagnosis(t, "events late by about the same amount", delayCause(t.ProxyKind), ev), true
}

// delayCause names a constant per-event delay, per kind. Only HAProxy is
// known for one; for a kind not known here the fix names HAProxy's switch.
func delayCause(kind string) cause {
	const directive = "a constant delay added by the proxy"
	const fix = "find the setting that holds small writes back (a send delay or flush interval) and turn it off for text/event-stream"
	switch kind {
	case kindHAProxy:
		return cause{"no option http-no-delay (HAProxy's 200 ms network optimisation)", "option http-no-delay in the frontend and backend (or defaults)"}
	case kindNginx, kindCaddy:
		return cause{directive, fix}
	}
	return cause{directive, fix + " (HAProxy: option http-no-delay)"}
}

// deadStream is the dead-stream rule: no connection got a response head,
// some were requested, no_response_headers among the errors (the run ended
// first), while the direct target (if any) did get heads. A proxy that
// buffers a never-ending stream of small events never fills a buffer, so
// the stream looks dead, not slow.
func deadStream(t, direct *Target) (Diagnosis, bool) {
	n := t.Errors[loadgen.ErrNoResponseHeaders]
	if n == 0 || t.Connections.Established > 0 || t.Connections.Requested == 0 || (direct != nil && direct.Connections.Established == 0) {
		return Diagnosis{}, false
	}
	c := bufferingCause(t.ProxyKind)
	c.directive += " holds back the head of a stream that never ends"
	ev := fmt.Sprintf("%d %s, 0 of %d established", n, loadgen.ErrNoResponseHeaders, t.Connections.Requested)
	return diagnosis(t, "no stream got response headers: the stream looks dead, not slow", c, ev), true
}

// Thresholds of the idle-timeout rule. quiet_before_drop runs, per open
// stream cut with its response unfinished, from its last byte to the cut:
// drops after a quiet time this uniform (min within idleSpread of p90) and
// this long (p50 ≥ idleMinUS), idleMinDrops or more of them, are a timer's
// doing, not the network's.
const (
	idleMinUS    = 500_000
	idleSpread   = 0.10
	idleMinDrops = 3
)

// idleTimeout is the idle-timeout rule, unless direct streams dropped as
// well (at least half as many): then the origin ended them.
func idleTimeout(t, direct *Target) (Diagnosis, bool) {
	h := t.QuietBeforeDropUS
	if h == nil || h.Count < idleMinDrops || h.P50 < idleMinUS {
		return Diagnosis{}, false
	}
	if float64(h.P90-h.Min) > idleSpread*float64(h.P90) {
		return Diagnosis{}, false
	}
	if direct != nil && direct.QuietBeforeDropUS != nil && direct.QuietBeforeDropUS.Count >= h.Count/2 {
		return Diagnosis{}, false
	}
	symptom := fmt.Sprintf("%d streams cut after %s without a byte", h.Count, FormatMicros(h.P50))
	ev := fmt.Sprintf("quiet_before_drop min %s, p50 %s, p90 %s", FormatMicros(h.Min), FormatMicros(h.P50), FormatMicros(h.P90))
	return diagnosis(t, symptom, idleCause(t.ProxyKind), ev), true
}

// idleCause names the idle timeout per kind. Every directive starts with
// "an idle timeout on the path".
func idleCause(kind string) cause {
	const fix = "a heartbeat comment from the origin more often than that (sseload origin --heartbeat), or a longer "
	switch kind {
	case kindNginx:
		return cause{"an idle timeout on the path: nginx's proxy_read_timeout (default 60 s)", fix + "proxy_read_timeout"}
	case kindHAProxy:
		return cause{"an idle timeout on the path: HAProxy's timeout server (50 s in Debian's haproxy.cfg; timeout tunnel does not apply to SSE)", fix + "timeout server"}
	case kindCaddy:
		return cause{"an idle timeout on the path: Caddy's reverse_proxy transport read_timeout (none by default; it ends the response cleanly), or a layer in front", fix + "read_timeout"}
	}
	return cause{"an idle timeout on the path (nginx proxy_read_timeout, default 60 s; HAProxy timeout server / timeout client, 50 s in Debian; AWS ALB 60 s; Cloudflare 100 s)", fix + "timeout"}
}

// limitErrors returns the error kinds of a connection refused or closed at
// a limit: a full listen backlog refuses, a proxy out of worker connections
// or file descriptors closes or resets without a response head.
//
// HAProxy at its maxconn accepts nothing more: further connections wait in
// the listen backlog (as long as maxconn) and then time out at connect
// (measured: 498 of 1000 streams carried at a hard open-file limit of 1024,
// the rest no_response_headers and connect_timeout, and not a word in its
// log).
func limitErrors() []string {
	return []string{loadgen.ErrConnectRefused, loadgen.ErrReset, loadgen.ErrEOFBeforeHeaders, loadgen.ErrConnectTimeout}
}

// Thresholds of the connection-limit rule: at least limitMinStreams
// streams, and one in limitShareOf (1 %, rounded up) of those requested,
// never got a head, with that many limit errors (limitErrors). Measured: nginx with Debian's 768
// worker_connections carried 766 of 800 streams and closed 34 without a
// response (29 EOF, 5 reset). A handful of failures, or one in a thousand,
// is the network's or a restart's, not a limit's.
const (
	limitMinStreams = 10
	limitShareOf    = 100
)

// connectionLimit is the connection-limit rule: the target carried some
// streams (a knee, not a proxy that is down: Established > 0) and failed
// enough others with limitErrors, while the direct target got a head on
// every stream it requested without any limit error, so the origin was not
// the limit. A direct target is required, and the rule is off when faults
// were injected: restarts refuse and reset connections by design.
func connectionLimit(t, direct *Target, faulted bool) (Diagnosis, bool) {
	if direct == nil || faulted || t.Connections.Established == 0 {
		return Diagnosis{}, false
	}
	dc := direct.Connections
	if dc.Requested == 0 || dc.Established < dc.Requested || errorCount(direct, limitErrors()) > 0 {
		return Diagnosis{}, false
	}
	headless := t.Connections.Requested - t.Connections.Established
	need := max(limitMinStreams, (t.Connections.Requested+limitShareOf-1)/limitShareOf)
	if headless < need || errorCount(t, limitErrors()) < need {
		return Diagnosis{}, false
	}
	limits := map[string]int64{}
	for _, k := range limitErrors() {
		limits[k] = t.Errors[k]
	}
	ev := fmt.Sprintf("%d of %d streams without a head (%s); %s %d/%d",
		headless, t.Connections.Requested, ErrorList(limits, t.ErrorValues), direct.Name, dc.Established, dc.Requested)
	return diagnosis(t, "connections refused or closed without a response past a number of streams", limitCause(t.ProxyKind), ev), true
}

// errorCount sums t's errors of the given kinds.
func errorCount(t *Target, kinds []string) int64 {
	var n int64
	for _, k := range kinds {
		n += t.Errors[k]
	}
	return n
}

// limitCause names the connection limit per kind.
func limitCause(kind string) cause {
	switch kind {
	case kindNginx:
		return cause{"nginx's worker_connections (768 per worker in Debian's nginx.conf; each proxied stream takes two) or its open-file limit", "raise worker_connections and worker_rlimit_nofile (and the container's nofile ulimit)"}
	case kindHAProxy:
		return cause{"HAProxy's maxconn (unset, it is (hard open-file limit − 30) / 2: 497 at 1024) — past it connections wait unanswered, and HAProxy logs nothing", "raise the hard open-file limit (ulimit -Hn, LimitNOFILE, the container's nofile ulimit); set maxconn only below half of it"}
	case kindCaddy:
		return cause{"Caddy's open-file limit (its log: \"socket: too many open files\", 502s to some streams)", "raise the proxy's open-file limit (ulimit -Hn, LimitNOFILE, the container's nofile ulimit)"}
	}
	return cause{"a connection limit on the path (nginx worker_connections, HAProxy maxconn) or a file-descriptor limit", "raise that limit and the proxy's file-descriptor limit"}
}

// compressed is the compression rule: the proxied head carries a
// Content-Encoding (other than identity) and the direct one, when there is
// one and it was seen, carries none (an origin that compresses is not the
// proxy's doing). A compressor holds small events until its buffer fills
// or it is flushed.
func compressed(t, direct *Target) (Diagnosis, bool) {
	if direct != nil && (len(direct.ResponseHead) == 0 || headValue(direct.ResponseHead, "content-encoding") != "") {
		return Diagnosis{}, false
	}
	enc := headValue(t.ResponseHead, "content-encoding")
	if enc == "" || strings.EqualFold(enc, "identity") {
		return Diagnosis{}, false
	}
	ev := fmt.Sprintf("Content-Encoding: %s, no direct target to compare", enc)
	if direct != nil {
		ev = fmt.Sprintf("Content-Encoding: %s, %s is not compressed", enc, direct.Name)
	}
	return diagnosis(t, "the proxy compresses the stream", compressionCause(t.ProxyKind), ev), true
}

// compressionCause names the compressor per kind.
func compressionCause(kind string) cause {
	switch kind {
	case kindNginx:
		return cause{"gzip with text/event-stream in gzip_types: small events wait in the compressor", "keep text/event-stream out of gzip_types"}
	case kindCaddy:
		return cause{"the encode directive (it matches text/*): small events wait in the compressor", "leave text/event-stream out of encode (a match block naming the types to compress)"}
	case kindHAProxy:
		return cause{"HAProxy's compression filter with text/event-stream in compression type: small events wait in the compressor", "remove text/event-stream from compression type"}
	}
	return cause{"compression on the path: small events wait in the compressor", "keep text/event-stream out of the compressed types (nginx gzip_types, Caddy encode)"}
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
