package loadgen

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/sseload/sseload/loadgen/httpstream"
	"github.com/sseload/sseload/loadgen/jsonfield"
	"github.com/sseload/sseload/loadgen/sse"
)

// Target is one endpoint to measure.
type Target struct {
	Name string
	URL  string
	// Connections, when not zero, replaces Config.Connections for this
	// target (a share of slow consumers beside the normal streams).
	Connections int `json:",omitempty"`
	// ReadBytesPerSec, when not zero, limits how fast each of the target's
	// streams reads: a slow consumer (a device on a poor link). Its socket
	// receive buffer is kept small so the backpressure reaches the server.
	ReadBytesPerSec int `json:",omitempty"`
	// Headers are the target's own request fields, added to
	// Config.Request's; a field of the same name replaces the run's.
	Headers [][2]string `json:",omitempty"`
	// HTTP2 asks an https target for HTTP/2 by ALPN (net/http's client:
	// tls.go); the server may still answer HTTP/1.1. Without it an https
	// target is HTTP/1.1 in the epoll workers (tlsconn_linux.go) or the
	// portable engine's goroutines (portable.go).
	HTTP2 bool `json:",omitempty"`
}

// Config describes one run of the engine.
type Config struct {
	Targets []Target
	// Connections is the number of streams opened to each target.
	Connections int
	// Ramp is the number of connections opened per second, per target. All
	// targets ramp at the same time, so one publish is measured on every path.
	Ramp float64
	// Hold is how long every connection is held after the ramp ends. Zero
	// means until every stream has ended by itself (per-connection origins),
	// bounded by MaxDuration.
	Hold time.Duration
	// MaxDuration bounds the whole run (ramp + hold); zero means no bound.
	MaxDuration time.Duration
	// MaxEventBytes bounds one line or one event's data (default 1 MiB).
	MaxEventBytes int
	// TimestampField is the JSON path of the publish time in an event's data
	// ("sched" for sseload's origin). Events without it are counted but not
	// timed.
	TimestampField string
	TimestampUnit  jsonfield.Unit
	// SequenceField is the JSON path of the event's sequence number ("seq"
	// for sseload's origin). When set, every target gets delivery
	// accounting (TargetResult.Delivery); when empty, events are counted
	// only.
	SequenceField string
	// SentField is the JSON path of the time the origin wrote the event
	// ("sent" for sseload's origin, in TimestampUnit), beside
	// TimestampField's scheduled publish time. When set, latency is split
	// per event into OriginDelay (sent − scheduled: the origin's own
	// lateness) and PathLatency (receipt − sent: the network, the proxy,
	// the receiving side). Empty for origins that are not sseload's: the
	// split is then not reported, never guessed. It needs TimestampField.
	SentField string `json:",omitempty"`
	// EventsPerStream is the number of events the origin schedules for each
	// stream (a per-connection origin); it is each stream's expected count.
	// Zero means a broadcast origin or an unknown one: expected is then
	// derived from the sequence numbers seen (accounting.go).
	EventsPerStream int
	// EndlessStreams says the origin never ends a stream (sseload's
	// broadcast origin): a response that ends cleanly was ended by
	// something in between — Caddy's read_timeout ends a quiet response
	// with its terminating chunk — so it counts as a drop for
	// QuietBeforeDrop like a cut one.
	EndlessStreams bool
	// ConnectTimeout bounds TCP connect (default 10 s).
	ConnectTimeout time.Duration
	// Engine is how streams are served: EngineEpoll (Linux only) or
	// EnginePortable; empty means $SSELOAD_ENGINE (EngineEnv), else the
	// best this system has (DefaultEngine).
	// It changes the generator's cost per stream, never what is measured.
	Engine EngineName `json:",omitempty"`
	// Workers is the number of workers (default GOMAXPROCS): epoll sets,
	// or for the portable engine, shares of the streams with their own
	// histograms.
	Workers int
	// Interval is the reporting interval (default 1 s).
	Interval time.Duration
	// SourceAddrs, when set, are the local addresses connections are bound
	// to, in turn (more addresses, more source ports). When empty, streams
	// to a loopback IPv4 target spread over 127.0.0.1, 127.0.0.2, … as
	// needed: one source address reaches only about 28,000 streams to one
	// server address:port (the ephemeral port range).
	SourceAddrs []netip.Addr
	// OnInterval receives each target's merged interval histograms, in time
	// order, from the collector goroutine. It must not retain them.
	OnInterval func(IntervalReport) `json:"-"`
	// TLSConfig configures https targets (nil: the system's roots).
	TLSConfig *tls.Config `json:"-"`
	// Warn receives rare messages about the generator itself (a machine
	// limit was reached), once per kind per worker. Nil discards them.
	Warn func(string) `json:"-"`
	// Reconnect is what a stream does after it ends or drops
	// (ReconnectNever, the default, ReconnectSpec or ReconnectPersistent).
	Reconnect ReconnectPolicy `json:",omitempty"`
	// StreamsPerConn is how many streams of an HTTP/2 target (Target.HTTP2)
	// share one connection, in the order they open: 1 (the default, 0 too)
	// is one connection per stream, as devices; more is browser tabs
	// multiplexed on one connection. Only HTTP/2 targets take it.
	StreamsPerConn int `json:",omitempty"`
	// Retry is the reconnection time until the server sets one with a
	// retry: field (EventSource's default is implementation-defined; 3 s
	// here, as in browsers).
	Retry time.Duration `json:",omitempty"`
	// Request shapes every stream's request: method, header fields and
	// body (the zero value: EventSource's GET). It is the same on every
	// path: the epoll workers' raw requests, net/http's, reconnections
	// (Last-Event-ID added) and redirects (redirect.go).
	Request httpstream.Shape `json:",omitempty"`
}

// ReconnectPolicy says when a stream that ended or dropped is reopened.
type ReconnectPolicy string

const (
	// ReconnectNever: every stream is one connection; its end is final.
	ReconnectNever ReconnectPolicy = "never"
	// ReconnectSpec: as WHATWG EventSource. After a stream ends or its
	// connection fails, reconnect after the reconnection time with
	// Last-Event-ID; a response other than 200 text/event-stream (204
	// included) ends the stream for good.
	ReconnectSpec ReconnectPolicy = "spec"
	// ReconnectPersistent: as production clients that wrap EventSource:
	// also retry after HTTP errors and refused connections, with
	// full-jitter exponential backoff from the reconnection time, capped at
	// 30 s.
	ReconnectPersistent ReconnectPolicy = "persistent"
)

// EngineName names how the generator serves its streams.
type EngineName string

const (
	// EngineEpoll: a few epoll workers (one per core) hold every
	// connection; a stream costs a socket and a few hundred bytes of
	// decoder state. Linux only (worker_linux.go).
	EngineEpoll EngineName = "epoll"
	// EnginePortable: one goroutine per stream over net.Conn, through the
	// same decoder, parser and recorders (portable.go). Every system Go
	// runs on; costs a goroutine stack and a pooled read buffer per open
	// stream (docs/benchmarks.md).
	EnginePortable EngineName = "portable"
)

// Engines lists the engine names, in the order help texts give them.
var Engines = []EngineName{EngineEpoll, EnginePortable}

// EngineEnv names the environment variable that chooses the engine when
// Config.Engine (--engine) does not: a setting of the machine, not of a
// scenario. Test suites run with it set to run once more on the portable
// engine (.ci/run).
const EngineEnv = "SSELOAD_ENGINE"

// EngineFromEnv is the engine $SSELOAD_ENGINE names, checked; "" when it
// is unset.
func EngineFromEnv() (EngineName, error) {
	v := os.Getenv(EngineEnv)
	if v == "" {
		return "", nil
	}
	n, err := ParseEngine(v)
	if err != nil {
		return "", fmt.Errorf("$%s: %w", EngineEnv, err)
	}
	return n, nil
}

// DefaultEngine is the best engine this system has: epoll on Linux, else
// portable.
func DefaultEngine() EngineName {
	if epollAvailable {
		return EngineEpoll
	}
	return EnginePortable
}

// ParseEngine checks an --engine value: a known name that this system
// can run; "" is DefaultEngine.
func ParseEngine(s string) (EngineName, error) {
	switch n := EngineName(s); n {
	case "":
		return DefaultEngine(), nil
	case EngineEpoll:
		if !epollAvailable {
			return "", fmt.Errorf("engine %q: %w", s, errNoEpoll)
		}
		return n, nil
	case EnginePortable:
		return n, nil
	}
	return "", fmt.Errorf("engine %q: unknown (valid: %s, %s)", s, EngineEpoll, EnginePortable)
}

// errNoEpoll says why the epoll engine is refused off Linux, and what to
// use instead.
var errNoEpoll = fmt.Errorf("the epoll engine runs on Linux only (this system is %s): use the %s engine", runtime.GOOS, EnginePortable)

// ParseReconnectPolicy checks a --reconnect value.
func ParseReconnectPolicy(s string) (ReconnectPolicy, error) {
	switch p := ReconnectPolicy(s); p {
	case ReconnectNever, ReconnectSpec, ReconnectPersistent:
		return p, nil
	case "":
		return ReconnectNever, nil
	}
	return "", fmt.Errorf("reconnect policy %q: unknown (valid: never, spec, persistent)", s)
}

func (c *Config) setDefaults() {
	if c.MaxEventBytes <= 0 {
		c.MaxEventBytes = sse.DefaultMaxEventBytes
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = 10 * time.Second
	}
	if c.Workers <= 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	if c.Interval <= 0 {
		c.Interval = time.Second
	}
	if c.Reconnect == "" {
		c.Reconnect = ReconnectNever
	}
	if c.Engine == "" {
		c.Engine = DefaultEngine() // after New's EngineFromEnv
	}
	if c.Retry <= 0 {
		c.Retry = defaultRetry
	}
}

// connections returns the number of streams to open to t.
func (c *Config) connections(t Target) int {
	if t.Connections > 0 {
		return t.Connections
	}
	return c.Connections
}

// totalConnections is the number of streams of the whole run.
func (c *Config) totalConnections() int {
	n := 0
	for _, t := range c.Targets {
		n += c.connections(t)
	}
	return n
}

func (c *Config) validate() error {
	if len(c.Targets) == 0 {
		return errors.New("no targets: name at least one")
	}
	if c.Connections < 1 {
		return fmt.Errorf("connections %d: must be at least 1", c.Connections)
	}
	if c.Ramp <= 0 {
		return fmt.Errorf("ramp %g: must be > 0 connections per second", c.Ramp)
	}
	if c.Hold < 0 {
		return fmt.Errorf("duration %s: must not be negative", c.Hold)
	}
	if _, err := ParseReconnectPolicy(string(c.Reconnect)); err != nil {
		return err
	}
	if _, err := ParseEngine(string(c.Engine)); err != nil {
		return err
	}
	if c.SentField != "" && c.TimestampField == "" {
		return fmt.Errorf("sent field %q without a timestamp field: the write time splits the latency measured from the publish time, so it needs both", c.SentField)
	}
	if err := c.Request.Check(); err != nil {
		return fmt.Errorf("request: %w", err)
	}
	if c.StreamsPerConn < 0 {
		return fmt.Errorf("streams per connection %d: must not be negative", c.StreamsPerConn)
	}
	h2 := false
	seen := map[string]bool{}
	for _, t := range c.Targets {
		if err := c.Request.With(t.Headers).Check(); err != nil {
			return fmt.Errorf("target %q: request: %w", t.Name, err)
		}
		if t.HTTP2 && !strings.HasPrefix(t.URL, "https://") {
			return fmt.Errorf("target %q: HTTP/2 is negotiated by ALPN over TLS, and %q is not https://: use an https URL, or leave HTTP/2 out", t.Name, t.URL)
		}
		h2 = h2 || t.HTTP2
		if t.Connections < 0 || t.ReadBytesPerSec < 0 {
			return fmt.Errorf("target %q: connections %d, read rate %d B/s: must not be negative", t.Name, t.Connections, t.ReadBytesPerSec)
		}
		if seen[t.Name] {
			return fmt.Errorf("target %q named twice", t.Name)
		}
		seen[t.Name] = true
	}
	if c.StreamsPerConn > 1 && !h2 {
		return fmt.Errorf("streams per connection %d: only HTTP/2 targets share connections (an HTTP/1.1 connection carries one stream): ask for HTTP/2, or leave it out", c.StreamsPerConn)
	}
	return nil
}
