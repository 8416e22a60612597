// Package scenarios holds the load shapes sseload runs: YAML files embedded in
// the binary (seed, steady) or read from a path, decoded strictly and
// validated so that every mistake is reported with the file, the line, the key
// and the fix.
//
// A scenario file is a single YAML mapping. Every key is optional; an absent
// key takes the default listed on the Scenario field. The key names are the
// user-facing contract and do not change; docs/scenarios.md documents them for
// users.
package scenarios

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/sseload/sseload/loadgen/httpstream"
	"github.com/sseload/sseload/targets"
)

// Modes a scenario may run in.
const (
	// ModeBroadcast: the origin publishes one event every Interval to every
	// open stream (a hub), the way a live feed reaches many devices. Latency
	// is comparable across streams because they all share one schedule.
	ModeBroadcast = "broadcast"
	// ModePerConnection: each stream gets its own schedule of Events events,
	// Interval apart, starting when the request arrives, and then the origin
	// ends the response. This reproduces request-scoped streams such as the
	// founding bug report.
	ModePerConnection = "per-connection"
)

// Defaults for absent keys. Events and Duration depend on the mode.
const (
	DefaultMode           = ModeBroadcast
	DefaultInterval       = time.Second
	DefaultEventsPerConn  = 6 // per-connection; broadcast defaults to 0 (unlimited)
	DefaultConnections    = 100
	DefaultRamp           = 1000.0
	DefaultDuration       = 60 * time.Second // broadcast; per-connection defaults to 0
	DefaultMaxEventBytes  = 1 << 20
	DefaultReconnect      = "never"
	DefaultReconnectDelay = 3 * time.Second
	DefaultFaultDown      = 2 * time.Second
)

// Scenario is one load shape: what the origin publishes, how many streams
// the load generator opens against which targets, and for how long.
//
// The CLI applies flag overrides on top of a loaded Scenario and then calls
// Validate again; for that logic a zero value means "not set" where a field
// says so.
type Scenario struct {
	// Name is yaml key "name". It labels reports and output files. Default:
	// the file's base name without extension ("seed" for seed.yaml).
	Name string
	// Description is yaml key "description": free text shown in reports,
	// saying what the scenario reproduces and why.
	Description string
	// Mode is yaml key "mode": "broadcast" (one shared publish schedule for
	// all streams, the default) or "per-connection" (each stream gets its
	// own schedule of Events events, then the response ends).
	Mode string
	// Interval is yaml key "interval": time between publishes, as a Go
	// duration such as 1s or 500ms. Must be > 0. Default 1s.
	Interval time.Duration
	// Events is yaml key "events": per-connection, the events per stream
	// (>= 1, default 6); broadcast, the events published in total, 0 meaning
	// unlimited until Duration ends (the default).
	Events int
	// Payload is yaml key "payload": bytes of padding added to each event's
	// data (>= 0, default 0), to see where proxy buffers fill. It must be
	// below MaxEventBytes.
	Payload int
	// XAccel is yaml key "x_accel": the origin sends "X-Accel-Buffering: no",
	// which turns nginx's response buffering off for that response (the
	// origin-side fix). Default false, so a stock proxy shows its buffering.
	XAccel bool
	// RetryMS is yaml key "retry_ms": the origin sends "retry: N" at the
	// start of each stream, setting the client's reconnection delay in
	// milliseconds. 0 (the default) sends no retry field.
	RetryMS int
	// HeadWithFirstEvent is yaml key "head_with_first_event": the origin
	// holds the response head until its first event (or retry line), as
	// net/http and Express do when the handler never flushes, instead of
	// sending it as soon as it accepts the stream. Default false: the head
	// at once, so time to headers (EventSource's onopen) measures the path,
	// not the origin's wait for its first publish. True reproduces an
	// origin that does not flush (the seed scenario's).
	HeadWithFirstEvent bool
	// Heartbeat is yaml key "heartbeat": the origin writes the SSE comment
	// ": heartbeat" to a stream that has had nothing written to it for
	// this long (a Go duration such as 15s), so that idle timeouts along
	// the path (proxy_read_timeout, a load balancer's) keep it open. 0 (the
	// default) sends none.
	Heartbeat time.Duration
	// Connections is yaml key "connections": streams opened per target
	// (>= 1, default 100).
	Connections int
	// Ramp is yaml key "ramp": connections opened per second per target
	// (> 0, default 1000). Connections/Ramp is how long the ramp takes.
	Ramp float64
	// Duration is yaml key "duration": how long all connections are held
	// once the ramp is done, as a Go duration. 0 means "until the
	// per-connection streams end" and is only valid for per-connection,
	// because a broadcast stream never ends by itself. Default 60s for
	// broadcast, 0 for per-connection.
	Duration time.Duration
	// Targets is yaml key "targets": what to measure, at least one, no
	// name twice. Each item is a built-in target's name
	// (targets.PresetNames) or the user's own proxy, {name, proxy (its
	// kind), config (a path relative to the scenario file)}. Default:
	// targets.DefaultNames (direct, nginx-stock, nginx-sse).
	Targets []targets.Spec
	// MaxEventBytes is yaml key "max_event_bytes": the largest event the
	// client accepts before it fails the stream (default 1 MiB, >= 1). It
	// bounds per-connection memory when a proxy misbehaves.
	MaxEventBytes int
	// Thresholds is yaml key "thresholds": pass/fail expressions such as
	// "nginx-sse:latency.p99 < 50ms". They are kept as strings here and
	// parsed by the reports package; this package only rejects empty ones.
	Thresholds []string
	// Reconnect is yaml key "reconnect": what a stream does after it ends
	// or drops. "never" (the default: one connection per stream, so every
	// failure is counted once), "spec" (as WHATWG EventSource: after the
	// reconnection time, with Last-Event-ID; a non-200 or wrong
	// Content-Type ends the stream) or "persistent" (also after HTTP errors
	// and refused connections, with full-jitter exponential backoff capped
	// at 30 s, as production clients do).
	Reconnect string
	// ReconnectDelay is yaml key "reconnect_delay": the client's
	// reconnection time until the server sends retry: (default 3s, as
	// browsers).
	ReconnectDelay time.Duration
	// Faults is yaml key "faults": faults to inject during the hold, each
	// "KIND@TIME" with TIME since the run's start, such as
	// "origin-restart@10s" (SIGKILL the origin process, start it again
	// after FaultDown) or "proxy-reload@15s" (a graceful reload of every
	// proxied target, each its kind's way). Local and compose topologies.
	Faults []string
	// FaultDown is yaml key "fault_down": how long a killed origin stays
	// down before it is started again (default 2s).
	FaultDown time.Duration
	// ProxyReadTimeout is yaml key "proxy_read_timeout": when set, every
	// proxy target's idle timeout (nginx's proxy_read_timeout, HAProxy's
	// timeout client/server, Caddy's transport read_timeout): a quiet
	// stream is cut after it.
	// Default 0: each config's own.
	ProxyReadTimeout time.Duration
	// SlowShare is yaml key "slow_share": the share (0 to 1) of each
	// target's connections that are slow consumers, reading at most
	// SlowReadRate bytes a second. They are reported as a target of their
	// own, "<target>~slow". Default 0.
	SlowShare float64
	// SlowReadRate is yaml key "slow_read_rate": bytes per second a slow
	// consumer reads (required when slow_share is set).
	SlowReadRate int
	// MaxFailed is yaml key "max_failed": the failed streams each target
	// may have, a count (3) or a share of its requested streams (5%),
	// before junit.xml's "<target>: connections" case fails. Default 0.
	MaxFailed MaxFailed
	// Method is yaml key "method": the request method of every stream
	// (httpstream.Methods). Default "": GET, or POST with a body, as curl.
	Method string
	// Body is yaml key "body": the request body every stream sends, such
	// as a JSON prompt. Default none. No Content-Type is added: name it in
	// headers.
	Body string
	// Headers is yaml key "headers": request header fields of every
	// stream, a mapping {Authorization: Bearer TOKEN} or a list of
	// "Name: value" strings, in order. A target entry's own headers key
	// adds to them (TargetHeaders), replacing a field of the same name.
	Headers [][2]string
	// TargetHeaders holds each target entry's "headers" key, by target
	// name ({name: nginx-sse, headers: {...}} in targets).
	TargetHeaders map[string][][2]string
	// Source says where the scenario came from: "embedded:<name>" or the
	// file path it was loaded from. It is not a yaml key.
	Source string
}

// Fault kinds a scenario may inject.
const (
	FaultOriginRestart = "origin-restart"
	FaultProxyReload   = "proxy-reload"
)

// Fault is one parsed entry of Scenario.Faults.
type Fault struct {
	Kind string
	At   time.Duration
}

// ParseFault parses "KIND@TIME", such as "origin-restart@10s".
func ParseFault(s string) (Fault, error) {
	kind, at, ok := strings.Cut(strings.TrimSpace(s), "@")
	if !ok {
		return Fault{}, fmt.Errorf("%q: write KIND@TIME, such as %s@10s", s, FaultOriginRestart)
	}
	if kind != FaultOriginRestart && kind != FaultProxyReload {
		return Fault{}, fmt.Errorf("%q: unknown fault %q (valid: %s, %s)", s, kind, FaultOriginRestart, FaultProxyReload)
	}
	d, err := time.ParseDuration(at)
	if err != nil || d <= 0 {
		return Fault{}, fmt.Errorf("%q: time %q is not a duration greater than 0 since the run's start (such as 10s)", s, at)
	}
	return Fault{Kind: kind, At: d}, nil
}

// ParsedFaults returns Faults parsed, in time order. Validate has checked
// them.
func (s Scenario) ParsedFaults() []Fault {
	var out []Fault
	for _, f := range s.Faults {
		if pf, err := ParseFault(f); err == nil {
			out = append(out, pf)
		}
	}
	slices.SortStableFunc(out, func(a, b Fault) int { return int(a.At - b.At) })
	return out
}

// problem is one validation failure. key is the yaml key at fault; index is
// the item within a list key (targets, thresholds), or -1. Parse maps the key
// and index back to a line in the file; Validate prints them without lines.
type problem struct {
	key   string
	index int
	msg   string
}

// String formats the problem without a line: the message quotes the bad
// value, which identifies a list item well enough.
func (p problem) String() string { return p.key + ": " + p.msg }

// Validate checks ranges and cross-field rules. Parse calls it after applying
// defaults and the CLI calls it again after flag overrides, so it does not
// fill in defaults itself: a zero where a value is required is an error. Each
// problem names the key and the fix; all problems are reported, one per line.
func (s Scenario) Validate() error {
	ps := s.problems()
	if len(ps) == 0 {
		return nil
	}
	errs := make([]error, len(ps))
	for i, p := range ps {
		errs[i] = errors.New(p.String())
	}
	return errors.Join(errs...)
}

func (s Scenario) problems() []problem {
	var ps []problem
	add := func(key, format string, args ...any) {
		ps = append(ps, problem{key: key, index: -1, msg: fmt.Sprintf(format, args...)})
	}
	if strings.TrimSpace(s.Name) == "" {
		add("name", "empty (set name: or give the file a name)")
	}
	perConn := s.Mode == ModePerConnection
	if s.Mode != ModeBroadcast && !perConn {
		add("mode", "%q is not a mode (valid: %s, %s)", s.Mode, ModeBroadcast, ModePerConnection)
	}
	if s.Interval <= 0 {
		add("interval", "%s is not greater than 0 (use a duration such as 500ms or 1s)", s.Interval)
	}
	switch {
	case s.Events < 0:
		add("events", "%d is negative (use 0 for unlimited in broadcast, or a count)", s.Events)
	case s.Events == 0 && perConn:
		add("events", "0 is too few for per-connection: each stream needs at least 1 event (default %d)", DefaultEventsPerConn)
	}
	if s.Payload < 0 {
		add("payload", "%d is negative (use 0 for no padding, or a size in bytes)", s.Payload)
	}
	if s.MaxEventBytes < 1 {
		add("max_event_bytes", "%d is below 1 (use a size in bytes; default %d, 1 MiB)", s.MaxEventBytes, DefaultMaxEventBytes)
	} else if s.Payload >= s.MaxEventBytes {
		add("payload", "%d bytes does not fit in max_event_bytes %d (lower payload or raise max_event_bytes)", s.Payload, s.MaxEventBytes)
	}
	if s.RetryMS < 0 {
		add("retry_ms", "%d is negative (use 0 to send no retry field, or milliseconds such as 3000)", s.RetryMS)
	}
	if s.Heartbeat < 0 {
		add("heartbeat", "%s is negative (use 0 for no heartbeats, or a duration such as 15s)", s.Heartbeat)
	}
	if s.Connections < 1 {
		add("connections", "%d is below 1 (open at least 1 stream per target; default %d)", s.Connections, DefaultConnections)
	}
	if !(s.Ramp > 0) || math.IsInf(s.Ramp, 0) {
		add("ramp", "%v is not a finite number greater than 0 (use connections opened per second, such as %v)", s.Ramp, DefaultRamp)
	}
	switch {
	case s.Duration < 0:
		add("duration", "%s is negative (use a duration such as 60s)", s.Duration)
	case s.Duration == 0 && s.Mode == ModeBroadcast:
		add("duration", "0 is only valid for mode per-connection; a broadcast stream never ends by itself (use a duration such as 60s)")
	}
	if len(s.Targets) == 0 {
		add("targets", "empty: list at least one target (built-in: %s)", strings.Join(targets.PresetNames(), ", "))
	}
	names := targets.Names(s.Targets)
	for i, t := range s.Targets {
		if slices.Index(names, t.Name) < i {
			ps = append(ps, problem{"targets", i, fmt.Sprintf("duplicate target %q (list each target once)", t.Name)})
		}
	}
	switch s.Reconnect {
	case "", "never", "spec", "persistent": // "": not set, never
	default:
		add("reconnect", "%q is not a policy (valid: never, spec, persistent)", s.Reconnect)
	}
	if s.ReconnectDelay < 0 {
		add("reconnect_delay", "%s is negative (use a duration such as 3s)", s.ReconnectDelay)
	}
	for i, f := range s.Faults {
		if _, err := ParseFault(f); err != nil {
			ps = append(ps, problem{"faults", i, err.Error()})
		}
	}
	if s.FaultDown < 0 {
		add("fault_down", "%s is negative (use a duration such as 2s)", s.FaultDown)
	}
	if s.ProxyReadTimeout < 0 || (s.ProxyReadTimeout > 0 && s.ProxyReadTimeout < time.Millisecond) {
		add("proxy_read_timeout", "%s: use 0 (the configs' own) or a duration of at least 1ms such as 5s", s.ProxyReadTimeout)
	}
	switch {
	case !(s.SlowShare >= 0 && s.SlowShare <= 1):
		add("slow_share", "%v is not between 0 and 1 (such as 0.1 for a tenth of the connections)", s.SlowShare)
	case s.SlowShare > 0 && s.SlowReadRate <= 0:
		add("slow_read_rate", "%d: slow_share needs a read rate in bytes per second greater than 0 (such as 200)", s.SlowReadRate)
	case s.SlowShare > 0 && int(s.SlowShare*float64(s.Connections)) < 1:
		add("slow_share", "%v of %d connections is less than one connection (raise slow_share or connections)", s.SlowShare, s.Connections)
	}
	if s.SlowReadRate < 0 {
		add("slow_read_rate", "%d is negative (use bytes per second, such as 200)", s.SlowReadRate)
	}
	if msg := s.MaxFailed.problem(); msg != "" {
		add("max_failed", "%s", msg)
	}
	if s.Method != "" {
		if _, err := httpstream.ParseMethod(s.Method); err != nil {
			add("method", "%v", err)
		}
	}
	for _, f := range s.Headers {
		if err := httpstream.CheckField(f); err != nil {
			add("headers", "%v", err)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(s.TargetHeaders)) {
		for _, f := range s.TargetHeaders[name] {
			if err := httpstream.CheckField(f); err != nil {
				add("targets", "target %s: headers: %v", name, err)
			}
		}
	}
	for i, th := range s.Thresholds {
		if strings.TrimSpace(th) == "" {
			ps = append(ps, problem{"thresholds", i, `empty expression (write one such as "nginx-sse:latency.p99 < 50ms", or remove it)`})
		}
	}
	return ps
}

// Request is the shape of every stream's request: Method, Headers and
// Body (the zero Shape when none is set: EventSource's GET).
func (s Scenario) Request() httpstream.Shape {
	sh := httpstream.Shape{Method: s.Method, Header: s.Headers}
	if s.Body != "" {
		sh.Body = []byte(s.Body)
	}
	return sh
}
