// Package origin is the measurement SSE server sseload embeds (and runs as
// `sseload origin`). Every event carries its *scheduled* publish time, so a
// client measures latency from the schedule, not from the moment the origin
// got round to writing: a late writer, a buffering proxy or a stalled
// connection cannot hide its delay, because the schedule never moves.
//
// Two modes:
//
//   - broadcast: one schedule for everybody. Publish k (k = 1, 2, …) is due
//     at Epoch + k×Interval; every subscriber receives every publish
//     scheduled after it subscribed. This is the shape of a live feed and of
//     a capacity test.
//   - per-connection: each request gets its own schedule from its own start
//     t0: event k (k = 1..Events) at t0 + k×Interval, then the response ends.
//     With Events 6 and Interval 5 s this is the founding bug report's
//     Express handler, which behind a buffering nginx delivers all six events
//     at once when the stream ends.
//
// A request with "Last-Event-ID: n" (what an EventSource sends when it
// reconnects) resumes after event n: broadcast, it is sent every due publish
// from n+1 (at most maxReplay of them) at once and then continues live;
// per-connection, it gets events n+1..Events, and 204 No Content once n >=
// Events. Since events are computed, not stored, a restarted origin with
// the same Epoch replays exactly what the old one published.
//
// The response head is sent as soon as a stream is accepted (flushed on its
// own, with the "retry:" line when there is one), as SSE servers that flush
// their headers do: EventSource's onopen then measures the path, not how
// long the origin waits for its first publish. With HeadWithFirstEvent the
// origin writes nothing before the first event (except the optional retry
// line, or a heartbeat comment once Heartbeat has passed), and the head
// travels with the first event's bytes: what net/http and Express do when
// the handler never flushes, and what the founding bug report's origin did.
// That is how a scenario reproduces a proxy that passes a flushed head on
// but would otherwise hide its header buffering behind the origin's own
// delay.
package origin

import (
	"errors"
	"fmt"
	"time"
)

// Mode selects how publishes are scheduled.
type Mode string

const (
	// Broadcast publishes on one shared schedule to every subscriber.
	Broadcast Mode = "broadcast"
	// PerConnection gives every request its own schedule from its start.
	PerConnection Mode = "per-connection"
)

// MaxPayload caps Config.Payload. Every event is built in memory, so an
// absurd padding (a typo with three extra zeros) would exhaust memory rather
// than measure anything; 16 MiB per event is far beyond any realistic SSE
// message.
const MaxPayload = 16 << 20

// Config describes an origin. The zero value is not valid: Mode and Interval
// must be set.
type Config struct {
	Mode Mode
	// Interval is the time between publishes; must be > 0.
	Interval time.Duration
	// Events: per-connection, the events per stream, after which the
	// response ends (>= 1). Broadcast: 0 publishes forever, N > 0 stops after
	// publish N and ends every stream once it has written publish N.
	Events int
	// Payload is the number of padding bytes added to each event's JSON as
	// "pad":"xxx…" (0..MaxPayload).
	Payload int
	// XAccel sends "X-Accel-Buffering: no", nginx's per-response switch that
	// turns proxy buffering off: the origin-side fix for SSE behind nginx.
	XAccel bool
	// RetryMS > 0 sends "retry: RetryMS" once at stream start (and flushes
	// it together with the response head).
	RetryMS int
	// HeadWithFirstEvent holds the response head back until the first
	// event (or the retry line, or a heartbeat) is written, instead of
	// flushing it as soon as the stream is accepted: the habit of servers
	// that never flush before their first write (net/http, Express). The
	// zero value, false, sends the head at once.
	HeadWithFirstEvent bool
	// Epoch is the broadcast schedule's origin; the zero value means the
	// time New is called. Giving several origins the same Epoch makes their
	// schedules identical.
	Epoch time.Time
	// Heartbeat > 0 writes the SSE comment line ": heartbeat" to a stream
	// that has had nothing written to it for that long (broadcast: no
	// publish for that long), between events, never inside one, so that
	// proxies and clients with an idle timeout keep it open. A comment
	// dispatches nothing. 0, the default, sends none, and costs nothing.
	Heartbeat time.Duration
	// ClockSkew shifts the origin's clock by that much: every "sched" and
	// "sent" it writes, and GET /time, read the shifted clock; the
	// schedule itself runs on the real one. A harness self-test: a run
	// against a skewed origin shows whether the generator's clock offset
	// correction works (docs/distributed.md).
	ClockSkew time.Duration
}

// Validate reports every invalid field; each error names the field, its
// value and the valid range.
func (c Config) Validate() error {
	var errs []error
	switch c.Mode {
	case Broadcast, PerConnection:
	default:
		errs = append(errs, fmt.Errorf("origin mode %q: must be %q or %q", c.Mode, Broadcast, PerConnection))
	}
	if c.Interval <= 0 {
		errs = append(errs, fmt.Errorf("origin interval %s: must be > 0 (e.g. 1s)", c.Interval))
	}
	switch {
	case c.Mode == PerConnection && c.Events < 1:
		errs = append(errs, fmt.Errorf("origin events %d: must be >= 1 in per-connection mode (events per stream, e.g. 6)", c.Events))
	case c.Events < 0:
		errs = append(errs, fmt.Errorf("origin events %d: must be >= 0 in broadcast mode (0 = publish forever)", c.Events))
	}
	if c.Payload < 0 || c.Payload > MaxPayload {
		errs = append(errs, fmt.Errorf("origin payload %d: must be between 0 and %d bytes", c.Payload, MaxPayload))
	}
	if c.RetryMS < 0 {
		errs = append(errs, fmt.Errorf("origin retry %d ms: must be >= 0 (0 = no retry line)", c.RetryMS))
	}
	if c.Heartbeat < 0 {
		errs = append(errs, fmt.Errorf("origin heartbeat %s: must be >= 0 (0 = no heartbeats, e.g. 15s)", c.Heartbeat))
	}
	return errors.Join(errs...)
}
