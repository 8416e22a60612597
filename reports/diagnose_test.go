package reports

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/sseload/sseload/loadgen"
)

// The words a user reads, spelled out: the tests check them, not the
// functions that produce them.
const (
	heldSym  = "response headers held back until the stream ends or the first event arrives"
	deadSym  = "no stream got response headers: the stream looks dead, not slow"
	batchSym = "events held back and released together: latencies a staircase, the last of each batch on time"
	delaySym = "events late by about the same amount"
	limitSym = "connections refused or closed without a response past a number of streams"
	gzipSym  = "the proxy compresses the stream"

	nginxBuffering    = "response buffering (proxy_buffering on)"
	nginxBufferingFix = "proxy_buffering off or X-Accel-Buffering: no"
)

// diagnoseCase is one table row: the targets of a summary and the
// diagnoses Diagnose must return for it, in order.
type diagnoseCase struct {
	name    string
	targets []Target
	want    []Diagnosis
}

// runDiagnoseCases checks every row, comparing whole Diagnosis values.
func runDiagnoseCases(t *testing.T, cases []diagnoseCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Diagnose(Summary{Targets: tc.targets})
			if !slices.Equal(got, tc.want) {
				t.Errorf("Diagnose =\n%s\nwant\n%s", diagLines(got), diagLines(tc.want))
			}
		})
	}
}

func diagLines(ds []Diagnosis) string {
	if len(ds) == 0 {
		return "(none)"
	}
	var b strings.Builder
	for _, d := range ds {
		fmt.Fprintf(&b, "%#v\n", d)
	}
	return b.String()
}

// withHeaders is a target with 50 streams established whose heads took p50
// µs; a proxied one (any name but direct) is an nginx.
func withHeaders(name string, p50 int64) Target {
	t := Target{Name: name, Connections: Connections{Requested: 50, Established: 50}, TimeToHeadersUS: &Hist{Count: 50, P50: p50}, Errors: map[string]int64{}}
	if name != DirectTarget {
		t.ProxyKind = kindNginx
	}
	return t
}

// deadTarget got no head on any of its 50 streams before the run ended.
func deadTarget(name string) Target {
	t := Target{Name: name, Connections: Connections{Requested: 50, Failed: 50}, Errors: map[string]int64{loadgen.ErrNoResponseHeaders: 50}}
	if name != DirectTarget {
		t.ProxyKind = kindNginx
	}
	return t
}

func withHead(t Target, head map[string]string) Target { t.ResponseHead = head; return t }

func withLatency(t Target, h Hist) Target { t.LatencyUS = &h; return t }

func withKind(t Target, kind string) Target { t.ProxyKind = kind; return t }

func nginxHeld(ev string) Diagnosis {
	return Diagnosis{Target: "nginx-stock", Symptom: heldSym, Directive: nginxBuffering, Fix: nginxBufferingFix, Evidence: ev}
}

func nginxGzip(ev string) Diagnosis {
	return Diagnosis{Target: "nginx-stock", Symptom: gzipSym,
		Directive: "gzip with text/event-stream in gzip_types: small events wait in the compressor",
		Fix:       "keep text/event-stream out of gzip_types", Evidence: ev}
}

// TestDiagnose covers the held-headers, dead-stream and compression rules
// for nginx, with the thresholds at their edges.
func TestDiagnose(t *testing.T) {
	dead := Diagnosis{Target: "nginx-stock", Symptom: deadSym,
		Directive: nginxBuffering + " holds back the head of a stream that never ends", Fix: nginxBufferingFix,
		Evidence: "50 no_response_headers, 0 of 50 established"}
	gz := nginxGzip("Content-Encoding: gzip, direct is not compressed")
	runDiagnoseCases(t, []diagnoseCase{
		{"healthy", []Target{withHeaders("direct", 1_500), withHeaders("nginx-sse", 3_000)}, nil},
		{"buffered headers", []Target{withHeaders("direct", 1_500), withHeaders("nginx-stock", 30_000_000)},
			[]Diagnosis{nginxHeld("time_to_headers p50 30.0s vs direct 1.50ms")}},
		{"seed at 500 ms: head at the stream's end", []Target{withHeaders("direct", 503_800), withHeaders("nginx-stock", 3_010_000)},
			[]Diagnosis{nginxHeld("time_to_headers p50 3.01s vs direct 503.8ms")}},
		// The origin flushes its head at once; stock nginx holds it anyway
		// (measured: seed --interval 500ms).
		{"seed at 500 ms, head flushed by the origin", []Target{withHeaders("direct", 12_500), withHeaders("nginx-sse", 12_500), withHeaders("nginx-stock", 3_010_000)},
			[]Diagnosis{nginxHeld("time_to_headers p50 3.01s vs direct 12.5ms")}},
		{"exactly 2x and +500 ms", []Target{withHeaders("direct", 500_000), withHeaders("nginx-stock", 1_000_000)},
			[]Diagnosis{nginxHeld("time_to_headers p50 1.00s vs direct 500.0ms")}},
		{"under 2x", []Target{withHeaders("direct", 600_000), withHeaders("nginx-stock", 1_199_999)}, nil},
		{"2x but under +500 ms", []Target{withHeaders("direct", 1_500), withHeaders("nginx-stock", 499_999)}, nil},
		{"no direct, exactly 1 s", []Target{withHeaders("nginx-stock", 1_000_000)},
			[]Diagnosis{nginxHeld("time_to_headers p50 1.00s, no direct target to compare")}},
		{"no direct, just under 1 s", []Target{withHeaders("nginx-stock", 999_999)}, nil},
		{"no direct target", []Target{withHeaders("nginx-stock", 6_000_000)},
			[]Diagnosis{nginxHeld("time_to_headers p50 6.00s, no direct target to compare")}},
		{"direct slow too: the origin", []Target{withHeaders("direct", 6_000_000), withHeaders("nginx-stock", 6_000_000)}, nil},
		{"direct without headers", []Target{deadTarget("direct"), withHeaders("nginx-stock", 6_000_000)}, nil},
		{"direct alone, slow", []Target{withHeaders("direct", 6_000_000)}, nil},
		{"dead stream", []Target{withHeaders("direct", 1_500), deadTarget("nginx-stock")}, []Diagnosis{dead}},
		{"dead stream, no direct", []Target{deadTarget("nginx-stock")}, []Diagnosis{dead}},
		{"dead everywhere: the origin", []Target{deadTarget("direct"), deadTarget("nginx-stock")}, nil},
		{"dead but nothing requested", []Target{withHeaders("direct", 1_500), {Name: "nginx-stock", Errors: map[string]int64{loadgen.ErrNoResponseHeaders: 1}}}, nil},
		{"refused, not dead", []Target{withHeaders("direct", 1_500), {Name: "nginx-stock", Connections: Connections{Requested: 5, Failed: 5}, Errors: map[string]int64{loadgen.ErrConnectRefused: 5}}}, nil},
		{"compressed by the proxy", []Target{
			withHead(withHeaders("direct", 1_500), map[string]string{"status": "200"}),
			withHead(withHeaders("nginx-stock", 2_000), map[string]string{"status": "200", "Content-Encoding": "gzip"}),
		}, []Diagnosis{gz}},
		{"identity is not compression", []Target{
			withHead(withHeaders("direct", 1_500), map[string]string{"status": "200"}),
			withHead(withHeaders("nginx-stock", 2_000), map[string]string{"content-encoding": "identity"}),
		}, nil},
		{"direct's head unknown", []Target{
			withHeaders("direct", 1_500),
			withHead(withHeaders("nginx-stock", 2_000), map[string]string{"content-encoding": "gzip"}),
		}, nil},
		{"compressed at the origin too", []Target{
			withHead(withHeaders("direct", 1_500), map[string]string{"content-encoding": "gzip"}),
			withHead(withHeaders("nginx-stock", 2_000), map[string]string{"content-encoding": "gzip"}),
		}, nil},
		{"buffered and compressed", []Target{
			withHead(withHeaders("direct", 1_500), map[string]string{"status": "200"}),
			withHead(withHeaders("nginx-stock", 6_000_000), map[string]string{"content-encoding": "gzip"}),
		}, []Diagnosis{nginxHeld("time_to_headers p50 6.00s vs direct 1.50ms"), gz}},
	})
	if got := Diagnose(Summary{}); got != nil {
		t.Errorf("empty summary: %q", got)
	}
}

// The seed's direct latency (README: p50 730µs, p99 5.5 ms) and, from an
// origin that sends its head with the first event (head_with_first_event),
// heads after one 500 ms interval. (sseload's origin sends it at once by
// default: TestDiagnose's "head flushed by the origin" case.)
var (
	seedDirectLatency = Hist{Count: 120, Min: 150, P50: 730, P90: 2_260, P99: 5_500, P999: 5_550, Max: 5_550}
	staircase         = Hist{Count: 120, Min: 2_000, P50: 1_000_000, P90: 2_500_000, P99: 2_500_000, P999: 2_500_000, Max: 2_500_000}
)

func seedDirect() Target { return withLatency(withHeaders("direct", 503_800), seedDirectLatency) }

// TestDiagnoseBatchedEvents: the staircase of events released together is
// its own diagnosis only when the head came on time and nothing compresses;
// otherwise its figures join the diagnosis that names the cause.
func TestDiagnoseBatchedEvents(t *testing.T) {
	const stairs = "latency min 2.00ms, p50 1.00s, max 2.50s vs direct p99 5.50ms"
	batch := func(target, directive, fix, ev string) Diagnosis {
		return Diagnosis{Target: target, Symptom: batchSym, Directive: directive, Fix: fix, Evidence: ev}
	}
	onTime := func(h Hist) Target { return withLatency(withHeaders("nginx-stock", 506_900), h) }
	with := func(h Hist, f func(*Hist)) Hist { f(&h); return h }
	nginxBatch := func(ev string) Diagnosis {
		return batch("nginx-stock", "output held in nginx's buffers (proxy_buffering on, or a filter such as gzip)", nginxBufferingFix, ev)
	}
	plain := map[string]string{"status": "200"}
	gzipped := map[string]string{"status": "200", "content-encoding": "gzip"}
	runDiagnoseCases(t, []diagnoseCase{
		// README's seed: nginx-stock's head at 3.01 s, latency p50 1.00 s, max 2.50 s.
		{"seed: folded into held headers", []Target{seedDirect(), withLatency(withHeaders("nginx-stock", 3_010_000), staircase)},
			[]Diagnosis{nginxHeld("time_to_headers p50 3.01s vs direct 503.8ms; " + stairs)}},
		{"head on time", []Target{seedDirect(), onTime(staircase)}, []Diagnosis{nginxBatch(stairs)}},
		{"p90 exactly direct p99 + 500 ms", []Target{seedDirect(), onTime(with(staircase, func(h *Hist) { h.P90 = 505_500 }))},
			[]Diagnosis{nginxBatch(stairs)}},
		{"p90 just under", []Target{seedDirect(), onTime(with(staircase, func(h *Hist) { h.P50, h.P90 = 300_000, 505_499 }))}, nil},
		{"fastest event just on time", []Target{seedDirect(), onTime(with(staircase, func(h *Hist) { h.Min = 100_729 }))},
			[]Diagnosis{nginxBatch("latency min 100.7ms, p50 1.00s, max 2.50s vs direct p99 5.50ms")}},
		{"no event on time: not a staircase", []Target{seedDirect(), onTime(with(staircase, func(h *Hist) { h.Min = 100_730 }))}, nil},
		{"two samples", []Target{seedDirect(), onTime(with(staircase, func(h *Hist) { h.Count = 2 }))}, nil},
		{"no direct", []Target{onTime(staircase)}, nil},
		{"direct without latency", []Target{withHeaders("direct", 503_800), onTime(staircase)}, nil},
		{"on the direct target itself", []Target{withLatency(withHeaders("direct", 503_800), staircase)}, nil},
		{"compressed: folded into compression", []Target{withHead(seedDirect(), plain), withHead(onTime(staircase), gzipped)},
			[]Diagnosis{nginxGzip("Content-Encoding: gzip, direct is not compressed; " + stairs)}},
		{"held and compressed: folded into held headers only", []Target{withHead(seedDirect(), plain), withHead(withLatency(withHeaders("nginx-stock", 3_010_000), staircase), gzipped)},
			[]Diagnosis{nginxHeld("time_to_headers p50 3.01s vs direct 503.8ms; " + stairs), nginxGzip("Content-Encoding: gzip, direct is not compressed")}},
		{"external target", []Target{seedDirect(), withKind(onTime(staircase), "")},
			[]Diagnosis{batch("nginx-stock", "events held in a buffer on the path (a proxy's response buffering or a compressor)",
				"make every layer flush each text/event-stream write (nginx: proxy_buffering off or X-Accel-Buffering: no)", stairs)}},
	})
}

// TestDiagnoseAddedDelay: HAProxy 2.6 without option http-no-delay holds
// every event ~200 ms (measured p50 ≈ 205 ms beside direct's ≈ 1 ms).
func TestDiagnoseAddedDelay(t *testing.T) {
	direct := withLatency(withHeaders("direct", 503_800), Hist{Count: 12, Min: 400, P50: 1_000, P90: 2_000, P99: 5_500, Max: 5_500})
	late := Hist{Count: 12, Min: 200_000, P50: 205_000, P90: 210_000, P99: 215_000, Max: 215_000}
	haproxy := func(headersP50 int64, h Hist) Target {
		return withKind(withLatency(withHeaders("haproxy", headersP50), h), kindHAProxy)
	}
	with := func(h Hist, f func(*Hist)) Hist { f(&h); return h }
	delayed := func(directive, fix, ev string) Diagnosis {
		return Diagnosis{Target: "haproxy", Symptom: delaySym, Directive: directive, Fix: fix, Evidence: ev}
	}
	const ev = "latency p50 205.0ms, p90 210.0ms vs direct p50 1.00ms"
	haproxyDelay := func(ev string) Diagnosis {
		return delayed("no option http-no-delay (HAProxy's 200 ms network optimisation)",
			"option http-no-delay in the frontend and backend (or defaults)", ev)
	}
	generic := "a constant delay added by the proxy"
	genericFix := "find the setting that holds small writes back (a send delay or flush interval) and turn it off for text/event-stream"
	runDiagnoseCases(t, []diagnoseCase{
		{"haproxy 200 ms", []Target{direct, haproxy(505_000, late)}, []Diagnosis{haproxyDelay(ev)}},
		// Per-connection streams through haproxy-stock, measured: the last
		// event of each stream is flushed with the stream's end, on time.
		{"last event on time", []Target{direct, haproxy(705_500, Hist{Count: 120, Min: 159, P50: 205_951, P90: 210_047, P99: 211_583, Max: 211_839})},
			[]Diagnosis{haproxyDelay("latency p50 206.0ms, p90 210.0ms vs direct p50 1.00ms")}},
		{"headers held: buffering, not a delay", []Target{direct, haproxy(3_010_000, late)},
			[]Diagnosis{{Target: "haproxy", Symptom: heldSym, Directive: "response buffering at the proxy",
				Fix: "turn response buffering off for text/event-stream at the proxy", Evidence: "time_to_headers p50 3.01s vs direct 503.8ms"}}},
		// The origin flushes its head at once, and HAProxy delays it too
		// (measured: direct 12.5 ms, haproxy-stock 219.4 ms): a delay, not
		// held headers.
		{"head at once, 200 ms late through haproxy", []Target{withLatency(withHeaders("direct", 12_500), *direct.LatencyUS), haproxy(219_400, late)},
			[]Diagnosis{haproxyDelay(ev)}},
		{"on the direct target itself", []Target{withLatency(withHeaders("direct", 503_800), late)}, nil},
		{"no direct", []Target{haproxy(505_000, late)}, nil},
		{"direct without latency", []Target{withHeaders("direct", 503_800), haproxy(505_000, late)}, nil},
		{"two samples", []Target{direct, haproxy(505_000, with(late, func(h *Hist) { h.Count = 2 }))}, nil},
		{"p50 exactly direct p50 + 100 ms", []Target{direct, haproxy(505_000, Hist{Count: 12, Min: 50_000, P50: 101_000, P90: 150_000, Max: 210_000})},
			[]Diagnosis{haproxyDelay("latency p50 101.0ms, p90 150.0ms vs direct p50 1.00ms")}},
		{"p50 just under", []Target{direct, haproxy(505_000, Hist{Count: 12, Min: 50_000, P50: 100_999, P90: 150_000, Max: 210_000})}, nil},
		{"p90 1.5 times p50: still one delay", []Target{direct, haproxy(505_000, with(late, func(h *Hist) { h.P90 = 307_500 }))},
			[]Diagnosis{haproxyDelay("latency p50 205.0ms, p90 307.5ms vs direct p50 1.00ms")}},
		{"spread wider: a queue, not a timer", []Target{direct, haproxy(505_000, with(late, func(h *Hist) { h.P90 = 307_501 }))}, nil},
		{"caddy", []Target{direct, withKind(haproxy(505_000, late), kindCaddy)}, []Diagnosis{delayed(generic, genericFix, ev)}},
		{"external", []Target{direct, withKind(haproxy(505_000, late), "")},
			[]Diagnosis{delayed(generic, genericFix+" (HAProxy: option http-no-delay)", ev)}},
	})
}

func TestDiagnoseIdleTimeout(t *testing.T) {
	cut := &Hist{Count: 150, Min: 4_990_000, P50: 5_000_000, P90: 5_001_000, P99: 5_002_000, Max: 5_003_000}
	spread := &Hist{Count: 150, Min: 10_000, P50: 2_000_000, P90: 9_000_000, Max: 9_500_000}
	edge := &Hist{Count: 3, Min: 900_000, P50: 950_000, P90: 1_000_000, Max: 1_000_000} // min exactly 10 % under p90
	for _, tc := range []struct {
		name   string
		quiet  *Hist
		direct *Hist
		want   string // the diagnosis line, "" for none
	}{
		{"uniform cut", cut, nil, "nginx-sse: 150 streams cut after 5.00s without a byte (quiet_before_drop min 4.99s, p50 5.00s, p90 5.00s) — an idle timeout on the path: nginx's proxy_read_timeout (default 60 s); fix: a heartbeat comment from the origin more often than that (sseload origin --heartbeat), or a longer proxy_read_timeout"},
		{"edges: three drops, 10 % spread", edge, nil, "nginx-sse: 3 streams cut after 950.0ms without a byte (quiet_before_drop min 900.0ms, p50 950.0ms, p90 1.00s) — an idle timeout on the path: nginx's proxy_read_timeout (default 60 s); fix: a heartbeat comment from the origin more often than that (sseload origin --heartbeat), or a longer proxy_read_timeout"},
		{"two drops", &Hist{Count: 2, Min: 900_000, P50: 950_000, P90: 1_000_000}, nil, ""},
		{"spread over 10 %", &Hist{Count: 3, Min: 899_999, P50: 950_000, P90: 1_000_000}, nil, ""},
		{"quiet under 0.5 s", &Hist{Count: 3, Min: 499_000, P50: 499_999, P90: 500_000}, nil, ""},
		{"spread drops", spread, nil, ""},
		{"direct dropped too", cut, cut, ""},
		{"no drops", nil, nil, ""},
	} {
		s := Summary{Targets: []Target{
			{Name: DirectTarget, QuietBeforeDropUS: tc.direct, Connections: Connections{Requested: 50, Established: 50}},
			{Name: "nginx-sse", ProxyKind: kindNginx, QuietBeforeDropUS: tc.quiet, Connections: Connections{Requested: 50, Established: 50}},
		}}
		var got []string
		for _, d := range Diagnose(s) {
			got = append(got, d.String())
		}
		var want []string
		if tc.want != "" {
			want = []string{tc.want}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: diagnoses\n%q\nwant\n%q", tc.name, got, want)
		}
	}
}

// TestDiagnoseConnectionLimit: measured, nginx with Debian's 768
// worker_connections carried 766 of 800 streams and closed 34 (29 EOF,
// 5 reset).
func TestDiagnoseConnectionLimit(t *testing.T) {
	direct := Target{Name: "direct", Connections: Connections{Requested: 800, Established: 800}, Errors: map[string]int64{}}
	stock := func(established int64, errs map[string]int64) Target {
		return Target{Name: "nginx-stock", ProxyKind: kindNginx, Errors: errs,
			Connections: Connections{Requested: 800, Established: established, Failed: 800 - established}}
	}
	limit := func(ev string) Diagnosis {
		return Diagnosis{Target: "nginx-stock", Symptom: limitSym,
			Directive: "nginx's worker_connections (768 per worker in Debian's nginx.conf; each proxied stream takes two) or its open-file limit",
			Fix:       "raise worker_connections and worker_rlimit_nofile (and the container's nofile ulimit)", Evidence: ev}
	}
	measured := stock(766, map[string]int64{loadgen.ErrEOFBeforeHeaders: 29, loadgen.ErrReset: 5})
	directWith := func(f func(*Target)) Target {
		d := direct
		d.Errors = map[string]int64{}
		f(&d)
		return d
	}
	scaled := func(requested, established, resets int64) []Target {
		return []Target{
			{Name: "direct", Connections: Connections{Requested: requested, Established: requested}, Errors: map[string]int64{}},
			{Name: "nginx-stock", ProxyKind: kindNginx, Errors: map[string]int64{loadgen.ErrReset: resets},
				Connections: Connections{Requested: requested, Established: established}},
		}
	}
	runDiagnoseCases(t, []diagnoseCase{
		{"measured knee", []Target{direct, measured},
			[]Diagnosis{limit("34 of 800 streams without a head (eof_before_headers ×29, reset_by_peer ×5); direct 800/800")}},
		{"refused at the backlog", []Target{direct, stock(766, map[string]int64{loadgen.ErrConnectRefused: 34})},
			[]Diagnosis{limit("34 of 800 streams without a head (connect_refused ×34); direct 800/800")}},
		{"ten streams", scaled(800, 790, 10), []Diagnosis{limit("10 of 800 streams without a head (reset_by_peer ×10); direct 800/800")}},
		{"nine streams", scaled(800, 791, 9), nil},
		{"1 % of 2000 is 20", scaled(2000, 1980, 20), []Diagnosis{limit("20 of 2000 streams without a head (reset_by_peer ×20); direct 2000/2000")}},
		{"under 1 % of 2000", scaled(2000, 1981, 19), nil},
		{"1 % of 2050, rounded up, is 21", scaled(2050, 2030, 20), nil},
		{"fewer errors than streams without a head", []Target{direct, stock(766, map[string]int64{loadgen.ErrReset: 9, loadgen.ErrHTTPStatus: 25})}, nil},
		{"resets after the head", scaled(800, 800, 34), nil},
		{"other error kinds", []Target{direct, stock(766, map[string]int64{loadgen.ErrHTTPStatus: 34})}, nil},
		{"proxy down: nothing carried", []Target{direct, stock(0, map[string]int64{loadgen.ErrConnectRefused: 800})}, nil},
		{"direct short of streams", []Target{directWith(func(d *Target) { d.Connections.Established = 799 }), measured}, nil},
		{"direct reset too", []Target{directWith(func(d *Target) { d.Errors[loadgen.ErrReset] = 1 }), measured}, nil},
		{"no direct", []Target{measured}, nil},
	})
	faulted := Summary{Targets: []Target{direct, measured}, Faults: []Fault{{Name: "origin-restart"}}}
	if got := Diagnose(faulted); got != nil {
		t.Errorf("faults injected: %s", diagLines(got))
	}
}

// TestDiagnoseSlowTwins: a runner's "<name>~slow" twin is compared with
// "direct~slow", which is a baseline and never diagnosed.
func TestDiagnoseSlowTwins(t *testing.T) {
	slowLate := Hist{Count: 60, Min: 400_000, P50: 450_000, P90: 500_000, P99: 520_000, Max: 520_000}
	runDiagnoseCases(t, []diagnoseCase{
		{"slow readers late everywhere", []Target{
			seedDirect(), withLatency(withHeaders("direct~slow", 503_800), slowLate),
			withLatency(withHeaders("nginx-sse", 506_900), seedDirectLatency), withLatency(withHeaders("nginx-sse~slow", 506_900), slowLate),
		}, nil},
		{"a twin's held head names its baseline", []Target{
			seedDirect(), withHeaders("direct~slow", 503_800), withHeaders("nginx-stock~slow", 3_010_000),
		}, []Diagnosis{{Target: "nginx-stock~slow", Symptom: heldSym, Directive: nginxBuffering, Fix: nginxBufferingFix,
			Evidence: "time_to_headers p50 3.01s vs direct~slow 503.8ms"}}},
	})
}

// TestDiagnoseWordingPerKind fires every rule for every proxy kind: the
// symptom and evidence do not depend on the kind; the directive and fix
// name the kind's own setting and no other proxy's.
func TestDiagnoseWordingPerKind(t *testing.T) {
	const p = "proxied"
	plain := map[string]string{"status": "200"}
	rules := []struct {
		rule    string
		targets []Target // the proxied target is named p
		want    map[string][]string
	}{
		{"held headers", []Target{withHeaders("direct", 1_500), withHeaders(p, 30_000_000)}, map[string][]string{
			kindNginx:   {"response buffering (proxy_buffering on)", "proxy_buffering off or X-Accel-Buffering: no"},
			kindHAProxy: {"response buffering at the proxy"},
			kindCaddy:   {"response buffering at the proxy"},
			"":          {"response buffering at the proxy", "nginx: proxy_buffering off"},
		}},
		{"batched events", []Target{seedDirect(), withLatency(withHeaders(p, 506_900), staircase)}, map[string][]string{
			kindNginx:   {"proxy_buffering on", "proxy_buffering off"},
			kindHAProxy: {"HAProxy forwards a stream as it reads it", "flush"},
			kindCaddy:   {"flushes text/event-stream at once", "encode", "flush"},
			"":          {"buffer on the path", "proxy_buffering off"},
		}},
		{"added delay", []Target{seedDirect(), withLatency(withHeaders(p, 506_900), Hist{Count: 12, Min: 200_000, P50: 205_000, P90: 210_000, Max: 215_000})}, map[string][]string{
			kindNginx:   {"a constant delay added by the proxy"},
			kindHAProxy: {"no option http-no-delay (HAProxy's 200 ms network optimisation)", "option http-no-delay in the frontend and backend (or defaults)"},
			kindCaddy:   {"a constant delay added by the proxy"},
			"":          {"a constant delay added by the proxy", "HAProxy: option http-no-delay"},
		}},
		{"dead stream", []Target{withHeaders("direct", 1_500), deadTarget(p)}, map[string][]string{
			kindNginx:   {"proxy_buffering on", "holds back the head of a stream that never ends"},
			kindHAProxy: {"response buffering at the proxy holds back the head of a stream that never ends"},
			kindCaddy:   {"response buffering at the proxy holds back the head of a stream that never ends"},
			"":          {"response buffering at the proxy holds back the head", "proxy_buffering off"},
		}},
		{"idle timeout", []Target{withHeaders("direct", 1_500), func() Target {
			t := withHeaders(p, 3_000)
			t.QuietBeforeDropUS = &Hist{Count: 20, Min: 59_900_000, P50: 60_000_000, P90: 60_010_000}
			return t
		}()}, map[string][]string{
			kindNginx:   {"an idle timeout on the path", "proxy_read_timeout (default 60 s)"},
			kindHAProxy: {"an idle timeout on the path", "timeout server (50 s in Debian", "longer timeout server"},
			kindCaddy:   {"an idle timeout on the path", "none by default"},
			"":          {"an idle timeout on the path", "proxy_read_timeout", "timeout server"},
		}},
		{"connection limit", []Target{
			{Name: "direct", Connections: Connections{Requested: 800, Established: 800}, Errors: map[string]int64{}},
			{Name: p, Connections: Connections{Requested: 800, Established: 766}, Errors: map[string]int64{loadgen.ErrReset: 34}},
		}, map[string][]string{
			kindNginx:   {"worker_connections", "worker_rlimit_nofile"},
			kindHAProxy: {"maxconn", "hard open-file limit", "logs nothing"},
			kindCaddy:   {"open-file limit", "too many open files"},
			"":          {"worker_connections", "maxconn", "file-descriptor limit"},
		}},
		{"compression", []Target{withHead(withHeaders("direct", 1_500), plain), withHead(withHeaders(p, 3_000), map[string]string{"content-encoding": "br"})}, map[string][]string{
			kindNginx:   {"gzip_types"},
			kindHAProxy: {"compression type"},
			kindCaddy:   {"encode"},
			"":          {"gzip_types", "encode"},
		}},
	}
	// Another proxy's words in a kind's directive or fix.
	foreign := map[string][]string{
		kindNginx:   {"HAProxy", "Caddy", "maxconn", "http-no-delay"},
		kindHAProxy: {"nginx", "Caddy", "proxy_", "gzip_types", "worker_"},
		kindCaddy:   {"nginx", "HAProxy", "proxy_", "gzip_types", "worker_", "maxconn"},
	}
	for _, r := range rules {
		var ref Diagnosis
		for _, kind := range []string{kindNginx, kindHAProxy, kindCaddy, "", "traefik"} {
			ts := slices.Clone(r.targets)
			ts[1].ProxyKind = kind
			got := Diagnose(Summary{Targets: ts})
			if len(got) != 1 {
				t.Errorf("%s, kind %q: want one diagnosis, got\n%s", r.rule, kind, diagLines(got))
				continue
			}
			d := got[0]
			if kind == kindNginx {
				ref = d
			} else if d.Symptom != ref.Symptom || d.Evidence != ref.Evidence || d.Target != p {
				t.Errorf("%s, kind %q: symptom/evidence %q / %q differ from nginx's %q / %q", r.rule, kind, d.Symptom, d.Evidence, ref.Symptom, ref.Evidence)
			}
			want := r.want[kind]
			if kind == "traefik" { // a kind without wording of its own: the generic one
				want = r.want[""]
			}
			cause := d.Directive + " | " + d.Fix
			for _, w := range want {
				if !strings.Contains(cause, w) {
					t.Errorf("%s, kind %q: %q lacks %q", r.rule, kind, cause, w)
				}
			}
			for _, f := range foreign[kind] {
				if strings.Contains(cause, f) {
					t.Errorf("%s, kind %q: %q names another proxy's %q", r.rule, kind, cause, f)
				}
			}
			if d.Directive == "" || d.Fix == "" || d.Evidence == "" {
				t.Errorf("%s, kind %q: empty field in %#v", r.rule, kind, d)
			}
		}
	}
}

func TestDiagnosisString(t *testing.T) {
	d := Diagnosis{Target: "nginx-stock", Symptom: heldSym, Directive: nginxBuffering, Fix: nginxBufferingFix, Evidence: "time_to_headers p50 3.01s vs direct 503.8ms"}
	want := "nginx-stock: response headers held back until the stream ends or the first event arrives (time_to_headers p50 3.01s vs direct 503.8ms) — response buffering (proxy_buffering on); fix: proxy_buffering off or X-Accel-Buffering: no"
	if got := d.String(); got != want {
		t.Errorf("String =\n%s\nwant\n%s", got, want)
	}
	d.Evidence, d.Fix = "", ""
	if got, want := d.String(), "nginx-stock: "+heldSym+" — "+nginxBuffering; got != want {
		t.Errorf("without evidence and fix: %q, want %q", got, want)
	}
}

// TestDiagnosesJSON: diagnoses[] and proxy_kind keep their names through
// summary.json, and are absent when empty.
func TestDiagnosesJSON(t *testing.T) {
	s := Summary{
		SchemaVersion: SchemaVersion, Thresholds: []ThresholdResult{}, Faults: []Fault{},
		Targets: []Target{
			{Name: "direct", Errors: map[string]int64{}, ErrorValues: map[string]map[string]int64{}},
			{Name: "haproxy", ProxyKind: kindHAProxy, Errors: map[string]int64{}, ErrorValues: map[string]map[string]int64{}},
		},
		Diagnoses: []Diagnosis{{Target: "haproxy", Symptom: delaySym, Directive: "no option http-no-delay (HAProxy's 200 ms network optimisation)",
			Fix: "option http-no-delay in the frontend and backend (or defaults)", Evidence: "latency min 200.0ms, p50 205.0ms, p90 210.0ms vs direct p50 1.00ms"}},
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Targets   []map[string]any    `json:"targets"`
		Diagnoses []map[string]string `json:"diagnoses"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"target": s.Diagnoses[0].Target, "symptom": s.Diagnoses[0].Symptom, "directive": s.Diagnoses[0].Directive,
		"fix": s.Diagnoses[0].Fix, "evidence": s.Diagnoses[0].Evidence}
	if len(doc.Diagnoses) != 1 || !reflect.DeepEqual(doc.Diagnoses[0], want) {
		t.Errorf("diagnoses = %v, want [%v]", doc.Diagnoses, want)
	}
	if _, ok := doc.Targets[0]["proxy_kind"]; ok || doc.Targets[1]["proxy_kind"] != kindHAProxy {
		t.Errorf("proxy_kind: direct %v, haproxy %v; want absent and haproxy", doc.Targets[0]["proxy_kind"], doc.Targets[1]["proxy_kind"])
	}

	dir := t.TempDir()
	if err := WriteSummary(dir, s); err != nil {
		t.Fatal(err)
	}
	got, err := ReadSummary(filepath.Join(dir, SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, s) {
		t.Errorf("round trip differs:\n got %+v\nwant %+v", got, s)
	}

	s.Diagnoses = nil
	b, err = json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), `"diagnoses"`) {
		t.Errorf("no diagnoses, but the key is there: %s", b)
	}
}

// TestDiagnoseHeadWithFirstEvent: a head held until the first event while
// every event is on time is no buffering (nginx over HTTP/2, measured: head
// at the first event, events on time); a head held with late events stays
// the held-headers diagnosis.
func TestDiagnoseHeadWithFirstEvent(t *testing.T) {
	const sym = "response headers held back until the first event, every event on time"
	const fix = "have the origin write a comment line (`: ok`) or a `retry:` line as soon as it accepts the stream, so the head goes out at once"
	direct := withLatency(withHeaders("direct", 7_580), seedDirectLatency)
	onTime := Hist{Count: 120, Min: 300, P50: 890, P90: 1_900, P99: 105_499, Max: 105_499}
	h2 := func(kind string, lat Hist) Target {
		return withKind(withLatency(withHeaders("nginx-sse-h2", 5_010_000), lat), kind)
	}
	ev := "time_to_headers p50 5.01s vs direct 7.58ms; latency p99 105.5ms vs direct p99 5.50ms"
	with := func(kind, directive, fix string) Diagnosis {
		return Diagnosis{Target: "nginx-sse-h2", Symptom: sym, Directive: directive, Fix: fix, Evidence: ev}
	}
	late := onTime
	late.P99 = 105_500
	runDiagnoseCases(t, []diagnoseCase{
		{"nginx over h2", []Target{direct, h2(kindNginx, onTime)},
			[]Diagnosis{with(kindNginx, "nginx's HTTP/2 (listen … http2) sends the response head with the first DATA frame; proxy_buffering off does not change that", fix)}},
		{"caddy", []Target{direct, h2(kindCaddy, onTime)},
			[]Diagnosis{with(kindCaddy, "Caddy's encode holds the response head until the first write decides on compression", "no encode on the SSE path, or "+fix)}},
		{"external", []Target{direct, h2("", onTime)},
			[]Diagnosis{with("", "a layer on the path sends the response head only with the first body bytes (nginx over HTTP/2 does)", fix)}},
		{"p99 at direct p99 + 100 ms: late, held headers", []Target{direct, h2(kindNginx, late)},
			[]Diagnosis{{Target: "nginx-sse-h2", Symptom: heldSym, Directive: nginxBuffering, Fix: nginxBufferingFix, Evidence: "time_to_headers p50 5.01s vs direct 7.58ms"}}},
		{"no latency to compare: held headers", []Target{withHeaders("direct", 7_580), withHeaders("nginx-sse-h2", 5_010_000)},
			[]Diagnosis{{Target: "nginx-sse-h2", Symptom: heldSym, Directive: nginxBuffering, Fix: nginxBufferingFix, Evidence: "time_to_headers p50 5.01s vs direct 7.58ms"}}},
	})
}
