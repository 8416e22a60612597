package loadgen

import (
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram bounds shared by every recorder: microsecond resolution from 1 µs
// to one hour, three significant digits. Values outside are clamped before
// recording (an out-of-range RecordValue would allocate an error).
const (
	HistMinUS  = 1
	HistMaxUS  = int64(time.Hour / time.Microsecond)
	HistDigits = 3
)

// NewHistogram returns an empty histogram with the shared bounds.
func NewHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(HistMinUS, HistMaxUS, HistDigits)
}

// Metric names one of the histograms kept per target. The names are used in
// file names (<target>.<metric>.hlog) and in summary.json keys (<metric>_us).
type Metric int

const (
	// Latency is receipt time minus the event's scheduled publish time.
	Latency Metric = iota
	// TimeToHeaders is from the connection's start (before connect) until the
	// response head has been parsed: the moment EventSource fires onopen.
	TimeToHeaders
	// TimeToFirstEvent is from the connection's start until the first event
	// is dispatched.
	TimeToFirstEvent
	// Disconnected is, for a stream that came back after a drop, the time
	// from the drop (the end or failure of its connection) to the response
	// head of the stream that replaced it (a 200 text/event-stream; error
	// responses in between do not end it): what a device spends without a
	// stream.
	Disconnected
	// QuietBeforeDrop is, for an open stream whose connection failed or was
	// cut (its response unfinished), the time since its last byte: a
	// proxy's idle timeout shows as a peak at that timeout. Responses that
	// end cleanly are the server's doing and are not counted, unless
	// Config.EndlessStreams says the server never ends one.
	QuietBeforeDrop
	// OriginDelay is the event's write time, as the origin stamped it
	// (Config.SentField), minus its scheduled publish time: how late the
	// origin itself wrote it (with sseload's origin, its own fan-out).
	// Recorded only when Config.SentField is set.
	OriginDelay
	// PathLatency is receipt time minus the event's write time: what the
	// network, the proxy and the receiving side add. Latency is OriginDelay
	// plus PathLatency for every event (before each is clamped to the
	// histograms' range). Recorded only when Config.SentField is set.
	PathLatency
	numMetrics
)

// Metrics lists every metric in a stable order.
var Metrics = [numMetrics]Metric{Latency, TimeToHeaders, TimeToFirstEvent, Disconnected, QuietBeforeDrop, OriginDelay, PathLatency}

// String returns the metric's file and key name.
func (m Metric) String() string {
	switch m {
	case Latency:
		return "latency"
	case TimeToHeaders:
		return "time_to_headers"
	case TimeToFirstEvent:
		return "time_to_first_event"
	case Disconnected:
		return "disconnected"
	case QuietBeforeDrop:
		return "quiet_before_drop"
	case OriginDelay:
		return "origin_delay"
	case PathLatency:
		return "path_latency"
	}
	return "unknown"
}

// Interval holds the histograms recorded during one reporting interval
// (normally one second) for one target.
type Interval struct {
	Start, End time.Time
	Hist       [numMetrics]*hdrhistogram.Histogram
	// Established is the number of connections with response headers at End.
	Established int64
	// The target's counters as the interval is merged (just after End),
	// as TargetResult has them at the end of the run: Open is the streams
	// whose response is open (a gauge; a stream waiting to reconnect is
	// not open), the others are running totals since the start. The error
	// maps are nil when there were none yet. In the last interval they
	// are the result's.
	Open           int64
	Failed         int64
	Reconnects     int64
	EventsReceived int64
	Errors         map[string]int64
	ErrorValues    ErrorValues
}

// TargetResult is everything measured for one target. Results from several
// workers or processes merge by Merge: histograms by value, counters summed.
type TargetResult struct {
	Name string
	URL  string

	Requested   int64 // connections the plan asked for
	Established int64 // connections that received a 200 text/event-stream head
	Failed      int64 // streams that ended for good with an error (no reconnect followed)
	// Reconnects counts new connections opened for streams that had
	// dropped or ended (Config.Reconnect); zero with ReconnectNever.
	Reconnects int64

	EventsReceived int64 // dispatched events (any event type)
	// EventsTimed counts events whose publish time could be read; latency is
	// absent when it is zero.
	EventsTimed int64
	// ClockSkewed counts events that arrived before their publish time, or
	// before their write time when Config.SentField is set (by more than
	// 1 ms): the origin's clock and ours disagree. Such events are not
	// timed: none of latency, origin delay and path latency is recorded.
	ClockSkewed int64
	// Delivery is the accounting from the events' sequence numbers:
	// expected, lost, duplicated, out of order (accounting.go). Zero, with
	// Accounted false, when the run had no sequence field.
	Delivery Delivery

	Hist   [numMetrics]*hdrhistogram.Histogram // cumulative over the run
	Errors map[string]int64                    // error kind -> count
	// ErrorValues counts the values of the errors that carry one, per
	// kind: http_status by status, wrong_content_type by media type.
	ErrorValues ErrorValues

	// Head is the first response head seen (status, selected headers), for
	// diagnosis: differences between direct and proxied heads point at a layer.
	Head map[string]string
	// Protocol is the HTTP version of the first response head seen:
	// ProtoH1 or ProtoH2 ("" when no head arrived). TLSVersion is that
	// connection's TLS version ("TLS 1.3"; "" for plain HTTP).
	Protocol   string `json:",omitempty"`
	TLSVersion string `json:",omitempty"`
}

// The negotiated protocols TargetResult.Protocol names.
const (
	ProtoH1 = "h1"
	ProtoH2 = "h2"
)

// Delivery is one target's delivery accounting, from the sequence number in
// each event's data (Config.SequenceField). How each figure is derived, and
// where O(1) state per stream limits it, is in accounting.go.
type Delivery struct {
	// Accounted is true when the run read sequence numbers at all.
	Accounted bool
	// Expected is what the origin scheduled for the streams' lifetimes:
	// per-connection, Config.EventsPerStream per stream with a response
	// head; broadcast, every publish from each stream's first sequence
	// number up to the highest any stream of the target received.
	Expected int64
	// Sequenced counts events whose sequence number could be read.
	Sequenced int64
	// Lost is Expected minus the distinct events received (never negative).
	Lost       int64
	Duplicated int64
	OutOfOrder int64
	// Replayed counts events received after a reconnect that were published
	// while the stream was disconnected (read from their publish time, so
	// only counted when events are timed).
	Replayed int64
	// Streams and MaxSeq are the raw figures Expected is derived from for a
	// broadcast origin (the streams with a first sequence number, and the
	// highest number received), kept so that results of several generator
	// processes can be merged exactly.
	Streams int64
	MaxSeq  int64
}

// Result is the outcome of one run of the engine.
type Result struct {
	Started     time.Time
	Ended       time.Time
	Targets     []*TargetResult
	Harness     Harness
	Interrupted bool
	// Faults are the faults marked during the run (Engine.MarkFault), in
	// time order, with what each cost every target.
	Faults []Fault
	// Workers reports each remote worker of a distributed run
	// (loadgen/procs with Options.Workers), in the order named; nil
	// otherwise.
	Workers []WorkerReport
}

// WorkerReport is one remote worker's part of a distributed run, as
// summary.json's workers[] holds it (docs/summary.md).
type WorkerReport struct {
	Address     string `json:"address"`
	Streams     int64  `json:"streams"`     // its share of the plan, all targets
	Established int64  `json:"established"` // of them, streams that got a head
	// CapacityStreams is the most streams the worker said it holds (its
	// open file limit FileLimit less what it keeps for itself), CPUs the
	// CPUs it schedules on: what its share was weighed by
	// (loadgen/procs). 0 when it reported none (an older sseload).
	CapacityStreams int64 `json:"capacity_streams,omitempty"`
	FileLimit       int64 `json:"file_limit,omitempty"`
	CPUs            int   `json:"cpus,omitempty"`
	// ClockOffsetUS is the worker's clock minus the time source's
	// (the origin's), µs, as last estimated; ClockUncertaintyUS bounds
	// its error (half the best sample's round trip). Both 0 when not
	// measured (no time source, or ClockError).
	ClockOffsetUS      int64 `json:"clock_offset_us"`
	ClockUncertaintyUS int64 `json:"clock_uncertainty_us"`
	// ClockError says why the offset could not be measured.
	ClockError string `json:"clock_error,omitempty"`
	// Reliable is false when the worker failed, disconnected, or its own
	// harness verdict was unreliable.
	Reliable bool   `json:"reliable"`
	Error    string `json:"error,omitempty"`
}

// Fault is one fault injected during a run (an origin restart, a proxy
// reload) and its cost per target.
type Fault struct {
	Name    string
	At      time.Time
	Targets []FaultTarget // in target order
}

// FaultTarget is what one fault cost one target.
type FaultTarget struct {
	Name string
	// Streams is the number of the target's streams alive (open, or
	// waiting to reconnect) when the fault was marked.
	Streams int64
	// Recovered is how many of them received an event after the fault.
	Recovered int64
	// RecoveryUS is the time from the fault until the last of Streams
	// received an event, in µs; -1 when not all of them did (before the next
	// fault or the end of the run).
	RecoveryUS int64
	// Reconnects counts the reconnections between this fault and the next
	// one (or the end of the run).
	Reconnects int64
	// Lost counts the sequence numbers skipped across those reconnections:
	// events the streams never received because they were disconnected and
	// the origin (or proxy) did not replay them.
	Lost int64
}

// Harness is the generator's verdict on its own measurements.
type Harness struct {
	// LagP99US is the 99th percentile of the generator's scheduling lag:
	// how late a 10 ms timer fired, in microseconds.
	LagP99US int64
	LagMaxUS int64
	// BusyMax is the largest share (0..1) of one second that any engine
	// worker spent working rather than waiting for sockets.
	BusyMax float64
	// MachineCPUMax is the busiest one-second share (0..1) of the whole
	// machine's CPU time (all processes), from /proc/stat.
	MachineCPUMax float64
	Reliable      bool
	// Notes say why the harness doubts its numbers, one per reason;
	// Note is their sentences joined with "; " (summary.json's "note").
	// Set both with AddNote.
	Notes []HarnessNote
	Note  string
}

// HarnessNote is one reason the harness doubts its numbers. Merging the
// verdicts of several generator processes keeps one note per Kind and
// Target, the one with the highest Value, without reading the sentence.
type HarnessNote struct {
	Kind   string  // NoteLag, NoteBusy, NoteMachineCPU, NoteClockSkew, NoteGenerator, NoteUnchecked
	Target string  // the target a NoteClockSkew is about; "" otherwise
	Value  float64 // the figure that crossed its limit: higher is worse
	Text   string  // the sentence, with the figure and the limit
}

// Kinds of HarnessNote.
const (
	NoteLag        = "lag"         // scheduling lag p99 over its limit
	NoteBusy       = "busy"        // an engine worker saturated
	NoteMachineCPU = "machine_cpu" // the whole machine without idle CPU
	NoteClockSkew  = "clock_skew"  // events before their publish time
	NoteGenerator  = "generator"   // a generator process failed
	NoteClock      = "clock"       // a worker's clock offset not measured well enough
	// NoteUnchecked: a check the harness could not make here (Target
	// names the check: "machine_cpu" off Linux, "busy" with the portable
	// engine). It does not make the run unreliable; it says what the
	// verdict does not cover.
	NoteUnchecked = "unchecked"
)

// AddUnchecked says, in one more note, a check the harness could not make,
// without marking it unreliable.
func (h *Harness) AddUnchecked(n HarnessNote) {
	reliable := h.Reliable
	h.AddNote(n)
	h.Reliable = reliable
}

// AddNote marks the harness unreliable with one more note.
func (h *Harness) AddNote(n HarnessNote) {
	h.Reliable = false
	h.Notes = append(h.Notes, n)
	if h.Note != "" {
		h.Note += "; "
	}
	h.Note += n.Text
}
