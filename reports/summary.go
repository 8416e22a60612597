// Package reports turns a run's measurements (loadgen.Result) into the
// results as data, the facts every output draws from:
//
//   - summary.json's schema (Summary, documented in docs/summary.md),
//     Summarize, ReadSummary and WriteSummary;
//   - RunData: a summary with its .hlog distributions and timeline.csv
//     read back (LoadRun), and the Timeline sink that writes timeline.csv;
//   - the judgements made of it: Diagnose, thresholds (ParseThreshold,
//     EvaluateThresholds), Compare, the latency split's verdicts, whether a
//     target was usable at all (Unusable), capacity's steps;
//   - how figures and errors are spelled in the words it stores and the
//     renderers repeat (FormatMicros, FormatFigure, ErrorList).
//
// What people read (the text table, report.md, report.html, junit.xml and
// the compare, thresholds and capacity tables) is drawn by reports/render,
// from these values alone. Data flows one way: reports reads loadgen's
// types and never reaches back into the engine, and imports no renderer.
package reports

import (
	"crypto/sha256"
	"encoding/hex"
	"github.com/sseload/sseload/loadgen/httpstream"

	"encoding/json"
	"fmt"
	"maps"
	"math"
	"os"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/sseload/sseload/loadgen"
)

// SchemaVersion is summary.json's "schema_version". Fields are only ever
// added under one version; a rename, removal or change of meaning bumps it.
const SchemaVersion = 1

// Meta is what the CLI knows about the run that the engine does not.
type Meta struct {
	Scenario string
	Segment  string   // "I/N" for one segment of a scenario, else ""
	Topology string   // "local", "none" (later "compose")
	Version  string   // sseload version
	Command  []string // os.Args
	Config   RunConfig
	Targets  map[string]TargetMeta // by target name: proxy version, config sha256
}

// RunConfig is the effective load configuration after scenario and flags
// were merged; summary.json's "config" object.
type RunConfig struct {
	Mode        string  `json:"mode"`
	IntervalMS  float64 `json:"interval_ms"`
	Events      int     `json:"events"`
	Payload     int     `json:"payload"`
	XAccel      bool    `json:"x_accel"`
	Connections int     `json:"connections"`
	Ramp        float64 `json:"ramp"`
	DurationS   float64 `json:"duration_s"`
	// Reconnect is the client's reconnect policy (never, spec, persistent)
	// and ReconnectDelayMS its reconnection time before a server's retry:
	// field. Added within schema_version 1; empty in older summaries.
	Reconnect        string  `json:"reconnect,omitempty"`
	ReconnectDelayMS float64 `json:"reconnect_delay_ms,omitempty"`
	// HeartbeatMS is the origin's heartbeat comment period (0: none).
	HeartbeatMS float64 `json:"heartbeat_ms,omitempty"`
	// MaxFailed is the scenario's max_failed as written ("3", "5%");
	// absent when 0, the default. Added within schema_version 1.
	MaxFailed string `json:"max_failed,omitempty"`
	// Request is what every stream's request carried beyond EventSource's
	// GET, without its secrets; absent for a plain GET. Added within
	// schema_version 1.
	Request *RequestConfig `json:"request,omitempty"`
}

// RequestConfig describes the streams' request shape: the header names
// with every value "[redacted]", the body by its length and SHA-256 only.
type RequestConfig struct {
	Method string `json:"method"`
	// Headers maps each field name to "[redacted]".
	Headers map[string]string `json:"headers,omitempty"`
	// TargetHeaders maps a target to its own fields' names, each to
	// "[redacted]".
	TargetHeaders map[string]map[string]string `json:"target_headers,omitempty"`
	BodyBytes     int                          `json:"body_bytes,omitempty"`
	BodySHA256    string                       `json:"body_sha256,omitempty"`
}

// DescribeRequest is the summary's view of a request shape and the
// targets' own header fields; nil for EventSource's plain GET.
func DescribeRequest(s httpstream.Shape, targetHeaders map[string][][2]string) *RequestConfig {
	if s.IsZero() && len(targetHeaders) == 0 {
		return nil
	}
	names := func(h [][2]string) map[string]string {
		if len(h) == 0 {
			return nil
		}
		m := make(map[string]string, len(h))
		for _, f := range h {
			m[f[0]] = httpstream.Redacted
		}
		return m
	}
	rc := &RequestConfig{Method: s.EffectiveMethod(), Headers: names(s.Header)}
	for t, h := range targetHeaders {
		if rc.TargetHeaders == nil {
			rc.TargetHeaders = map[string]map[string]string{}
		}
		rc.TargetHeaders[t] = names(h)
	}
	if s.Body != nil {
		sum := sha256.Sum256(s.Body)
		rc.BodyBytes, rc.BodySHA256 = len(s.Body), hex.EncodeToString(sum[:])
	}
	return rc
}

// TargetMeta is what the topology knows about one target.
type TargetMeta struct {
	Proxy string // e.g. "nginx/1.22.1"; empty for a direct target
	// ProxyKind is the proxy program, one of targets.Kinds() ("nginx",
	// "haproxy", "caddy"); empty for a direct target or when unknown (an
	// external target). Diagnose words its causes and fixes by it.
	ProxyKind    string
	ConfigSHA256 string // hex sha256 of the proxy configuration file
	// ConfigFile names the configuration: the preset's file in the
	// repository (docker/nginx/nginx-stock.conf) or the user's path.
	ConfigFile string
}

// Summary is summary.json (public API, documented in docs/summary.md). Field
// names and meanings are kept across releases; new fields may appear.
type Summary struct {
	SchemaVersion int    `json:"schema_version"`
	Scenario      string `json:"scenario"`
	Topology      string `json:"topology"`
	// Started and Ended are UTC with millisecond precision; JSON carries them
	// as RFC 3339 (Go's encoding drops trailing zeros of the fraction).
	Started        time.Time `json:"started"`
	Ended          time.Time `json:"ended"`
	DurationS      float64   `json:"duration_s"`
	SSELoadVersion string    `json:"sseload_version"`
	Command        []string  `json:"command"`
	// Interrupted is true when the run was stopped (signal, cancellation)
	// before its planned end: the numbers cover a shorter run.
	Interrupted bool      `json:"interrupted"`
	Config      RunConfig `json:"config"`
	Targets     []Target  `json:"targets"`
	Harness     Harness   `json:"harness"`
	// Thresholds holds one result per threshold and target (ThresholdResult);
	// always an array, [] when the run had no thresholds. Added within
	// schema_version 1: summaries written before it read back with none.
	Thresholds []ThresholdResult `json:"thresholds"`
	// Capacity is the result of `sseload capacity` (reports/capacity.go);
	// absent from the summaries of plain runs. Added within schema_version 1.
	Capacity *Capacity `json:"capacity,omitempty"`
	// Faults are the faults injected during the run (origin restarts,
	// proxy reloads) and what each cost every target; always an array.
	// Added within schema_version 1.
	Faults []Fault `json:"faults"`
	// Diagnoses are the known proxy symptoms Diagnose found in the
	// targets' numbers, in target order; absent when none. Every report
	// (text, report.md, report.html) shows this list. Added within
	// schema_version 1: older summaries read back with none.
	Diagnoses []Diagnosis `json:"diagnoses,omitempty"`
	// Workers are the remote workers of a distributed run (`sseload run
	// --workers`), in the order named: each one's share, its clock offset
	// to the origin and whether its part can be trusted. Absent for runs
	// on one machine. Added within schema_version 1.
	Workers []Worker `json:"workers,omitempty"`
	// Segment is "I/N" for a run of one share of a scenario (`sseload run
	// --segment I/N`); Segments, in a summary written by `sseload merge`,
	// lists the merged runs' segments. Added within schema_version 1.
	Segment  string   `json:"segment,omitempty"`
	Segments []string `json:"segments,omitempty"`
}

// Worker is one remote worker's line in summary.json's workers[]; its
// fields are loadgen.WorkerReport's, documented in docs/summary.md.
type Worker loadgen.WorkerReport

// Fault is one injected fault in summary.json.
type Fault struct {
	Name string `json:"name"`
	// AtS is the fault's time in seconds since the run started.
	AtS     float64       `json:"at_s"`
	Targets []FaultTarget `json:"targets"`
}

// FaultTarget is what one fault cost one target.
type FaultTarget struct {
	Name string `json:"name"`
	// Streams were alive at the fault; Recovered of them received an event
	// after it.
	Streams   int64 `json:"streams"`
	Recovered int64 `json:"recovered"`
	// RecoveryS is the time until every one of Streams received an event
	// again; null when not all did before the next fault or the run's end.
	RecoveryS *float64 `json:"recovery_s"`
	// Reconnects and Lost count the reconnections, and the events skipped
	// across them, from this fault to the next one (or the run's end).
	Reconnects int64 `json:"reconnects"`
	Lost       int64 `json:"lost"`
}

// Target is one target's entry in summary.json.
type Target struct {
	Name  string `json:"name"`
	URL   string `json:"url"`
	Proxy string `json:"proxy,omitempty"`
	// ProxyKind is TargetMeta.ProxyKind: "nginx", "haproxy", "caddy", or
	// absent for a direct or unknown target. Added within schema_version 1.
	ProxyKind    string `json:"proxy_kind,omitempty"`
	ConfigSHA256 string `json:"config_sha256,omitempty"`
	// ConfigFile is TargetMeta.ConfigFile.
	ConfigFile  string      `json:"config_file,omitempty"`
	Connections Connections `json:"connections"`
	Events      Events      `json:"events"`
	// The three distributions are nil (JSON null) when nothing was recorded:
	// latency is absent when the origin's events carry no publish time, the
	// other two when no connection got that far.
	LatencyUS          *Hist `json:"latency_us"`
	TimeToHeadersUS    *Hist `json:"time_to_headers_us"`
	TimeToFirstEventUS *Hist `json:"time_to_first_event_us"`
	// DisconnectedUS is, per stream that came back, the time from the drop
	// to the head of the stream that replaced it; QuietBeforeDropUS, per
	// open stream cut with its response unfinished, the time since its last
	// byte (a proxy's idle timeout shows as a peak). Null when none.
	// Added within schema_version 1.
	DisconnectedUS    *Hist `json:"disconnected_us"`
	QuietBeforeDropUS *Hist `json:"quiet_before_drop_us"`
	// OriginDelayUS and PathLatencyUS split LatencyUS at the time the
	// origin wrote each event (its "sent" field): origin delay is the
	// write time minus the scheduled publish time (the origin's own
	// lateness: with sseload's origin, its fan-out), path latency the
	// receipt time minus the write time (the network, the proxy, the
	// receiving side). Absent (not null) when the run read no write time:
	// origins that are not sseload's, unless --sent-field names it.
	// Added within schema_version 1.
	OriginDelayUS *Hist `json:"origin_delay_us,omitempty"`
	PathLatencyUS *Hist `json:"path_latency_us,omitempty"`
	// Errors counts failures by kind (loadgen.Err* constants); never nil, so
	// it is always a JSON object.
	Errors map[string]int64 `json:"errors"`
	// ErrorValues counts, per error kind, the values its errors carried:
	// {"http_status": {"404": 5}, "wrong_content_type": {"text/html": 5}}
	// (loadgen.ErrorValues: at most 20 values per kind, the rest under
	// "other"). Kinds without values are absent; never nil. Added within
	// schema_version 1: older summaries read back with {}.
	ErrorValues map[string]map[string]int64 `json:"error_values"`
	// ResponseHead is the first response head seen (status and selected
	// headers) as the engine recorded it.
	ResponseHead map[string]string `json:"response_head,omitempty"`
	// Protocol is the HTTP version the target's streams negotiated, from
	// the first response head: "h1" or "h2" (loadgen.ProtoH1, ProtoH2);
	// TLSVersion that connection's TLS version ("TLS 1.3"), absent for
	// plain HTTP. Both absent when no head arrived. Added within
	// schema_version 1.
	Protocol   string `json:"protocol,omitempty"`
	TLSVersion string `json:"tls_version,omitempty"`
}

// Hist returns the target's summary of metric m (nil when absent).
func (t *Target) Hist(m loadgen.Metric) *Hist {
	switch m {
	case loadgen.Latency:
		return t.LatencyUS
	case loadgen.TimeToHeaders:
		return t.TimeToHeadersUS
	case loadgen.TimeToFirstEvent:
		return t.TimeToFirstEventUS
	case loadgen.Disconnected:
		return t.DisconnectedUS
	case loadgen.QuietBeforeDrop:
		return t.QuietBeforeDropUS
	case loadgen.OriginDelay:
		return t.OriginDelayUS
	case loadgen.PathLatency:
		return t.PathLatencyUS
	}
	return nil
}

// Connections counts connections: how many the plan asked for, how many got a
// 200 text/event-stream head, and how many ended with an error.
type Connections struct {
	Requested   int64 `json:"requested"`
	Established int64 `json:"established"`
	Failed      int64 `json:"failed"`
	// Reconnects counts connections opened again for streams that dropped
	// (0 with the never policy). Added within schema_version 1.
	Reconnects int64 `json:"reconnects"`
	// MaxFailed is how many failed streams the scenario's max_failed
	// allows this target (a share resolved against Requested); junit.xml's
	// "<target>: connections" case fails above it. Added within
	// schema_version 1; 0 (the default) allows none.
	MaxFailed int64 `json:"max_failed"`
}

// Events counts dispatched events: all of them, those whose publish time
// could be read (the latency sample count), and those that arrived before
// their publish time by more than 1 ms. The delivery fields (Accounted
// onwards, added within schema_version 1) come from the events' sequence
// numbers (loadgen.Delivery); they are zero, with Accounted false, when the
// run read none.
type Events struct {
	Received    int64 `json:"received"`
	Timed       int64 `json:"timed"`
	ClockSkewed int64 `json:"clock_skewed"`

	Accounted  bool  `json:"accounted"`
	Sequenced  int64 `json:"sequenced"`
	Expected   int64 `json:"expected"`
	Lost       int64 `json:"lost"`
	Duplicated int64 `json:"duplicated"`
	OutOfOrder int64 `json:"out_of_order"`
	// Replayed counts events received after a reconnect that were
	// published while the stream was disconnected (timed events only).
	Replayed int64 `json:"replayed"`
}

// Hist summarises one HdrHistogram. Values are microseconds; the percentiles
// are HdrHistogram's (the highest value equivalent to the one at that rank,
// within 0.1 %). Mean is rounded to one decimal.
type Hist struct {
	Count int64   `json:"count"`
	Min   int64   `json:"min"`
	Mean  float64 `json:"mean"`
	P50   int64   `json:"p50"`
	P90   int64   `json:"p90"`
	P99   int64   `json:"p99"`
	P999  int64   `json:"p999"`
	Max   int64   `json:"max"`
}

// Harness is the generator's verdict on its own measurements.
type Harness struct {
	LagP99US int64   `json:"lag_p99_us"`
	LagMaxUS int64   `json:"lag_max_us"`
	BusyMax  float64 `json:"busy_max"`
	// MachineCPUMax is the whole machine's busiest second (0..1).
	MachineCPUMax float64 `json:"machine_cpu_max"`
	Reliable      bool    `json:"reliable"`
	// Note is every reason the harness doubts its numbers, in words,
	// joined with "; "; Notes the same as a list. Notes added within
	// schema_version 1.
	Note  string        `json:"note"`
	Notes []HarnessNote `json:"notes,omitempty"`
	// LatencySplit says, per target whose latency was split (origin delay
	// and path latency measured), which part dominates its latency p99;
	// absent when no target's was. Added within schema_version 1.
	LatencySplit []LatencySplit `json:"latency_split,omitempty"`
}

// Summarize builds the summary of res, diagnoses included (Diagnose). It
// copies what it keeps, so res may be reused or discarded afterwards. A
// caller that changes the targets afterwards (their names, proxy or kind)
// sets Diagnoses = Diagnose(s) again.
func Summarize(res *loadgen.Result, meta Meta) Summary {
	s := Summary{
		SchemaVersion:  SchemaVersion,
		Scenario:       meta.Scenario,
		Topology:       meta.Topology,
		Started:        res.Started.UTC().Truncate(time.Millisecond),
		Ended:          res.Ended.UTC().Truncate(time.Millisecond),
		SSELoadVersion: meta.Version,
		Command:        append([]string{}, meta.Command...),
		Interrupted:    res.Interrupted,
		Config:         meta.Config,
		Targets:        make([]Target, 0, len(res.Targets)),
		Thresholds:     []ThresholdResult{},
		Faults:         summarizeFaults(res),
		Segment:        meta.Segment,
		Harness: Harness{
			LagP99US:      res.Harness.LagP99US,
			LagMaxUS:      res.Harness.LagMaxUS,
			BusyMax:       res.Harness.BusyMax,
			MachineCPUMax: res.Harness.MachineCPUMax,
			Reliable:      res.Harness.Reliable,
			Note:          res.Harness.Note,
			Notes:         harnessNotes(res.Harness.Notes),
		},
	}
	for _, w := range res.Workers {
		s.Workers = append(s.Workers, Worker(w))
	}
	// Duration from the engine's own clock readings (monotonic when present),
	// rounded to the millisecond like the timestamps.
	s.DurationS = float64(res.Ended.Sub(res.Started).Round(time.Millisecond)) / float64(time.Second)
	for _, tr := range res.Targets {
		if tr == nil {
			continue
		}
		tm := meta.Targets[tr.Name]
		t := Target{
			Name:         tr.Name,
			URL:          tr.URL,
			Proxy:        tm.Proxy,
			ProxyKind:    tm.ProxyKind,
			ConfigSHA256: tm.ConfigSHA256,
			ConfigFile:   tm.ConfigFile,
			Connections: Connections{
				Requested:   tr.Requested,
				Established: tr.Established,
				Failed:      tr.Failed,
				Reconnects:  tr.Reconnects,
			},
			Events: Events{
				Received:    tr.EventsReceived,
				Timed:       tr.EventsTimed,
				ClockSkewed: tr.ClockSkewed,
				Accounted:   tr.Delivery.Accounted,
				Sequenced:   tr.Delivery.Sequenced,
				Expected:    tr.Delivery.Expected,
				Lost:        tr.Delivery.Lost,
				Duplicated:  tr.Delivery.Duplicated,
				OutOfOrder:  tr.Delivery.OutOfOrder,
				Replayed:    tr.Delivery.Replayed,
			},
			LatencyUS:          summarizeHist(tr.Hist[loadgen.Latency]),
			TimeToHeadersUS:    summarizeHist(tr.Hist[loadgen.TimeToHeaders]),
			TimeToFirstEventUS: summarizeHist(tr.Hist[loadgen.TimeToFirstEvent]),
			DisconnectedUS:     summarizeHist(tr.Hist[loadgen.Disconnected]),
			QuietBeforeDropUS:  summarizeHist(tr.Hist[loadgen.QuietBeforeDrop]),
			OriginDelayUS:      summarizeHist(tr.Hist[loadgen.OriginDelay]),
			PathLatencyUS:      summarizeHist(tr.Hist[loadgen.PathLatency]),
			Errors:             make(map[string]int64, len(tr.Errors)),
		}
		maps.Copy(t.Errors, tr.Errors)
		t.ErrorValues = make(map[string]map[string]int64, len(tr.ErrorValues))
		for k, vs := range tr.ErrorValues {
			t.ErrorValues[k] = maps.Clone(vs)
		}
		if len(tr.Head) > 0 {
			t.ResponseHead = maps.Clone(tr.Head)
		}
		t.Protocol, t.TLSVersion = tr.Protocol, tr.TLSVersion
		s.Targets = append(s.Targets, t)
	}
	s.Harness.LatencySplit = SplitVerdicts(s.Targets)
	s.Diagnoses = Diagnose(s)
	return s
}

// summarizeFaults converts the engine's faults; [] when there were none.
func summarizeFaults(res *loadgen.Result) []Fault {
	out := make([]Fault, 0, len(res.Faults))
	for _, f := range res.Faults {
		sf := Fault{Name: f.Name, AtS: math.Round(f.At.Sub(res.Started).Seconds()*1000) / 1000}
		for _, t := range f.Targets {
			ft := FaultTarget{Name: t.Name, Streams: t.Streams, Recovered: t.Recovered, Reconnects: t.Reconnects, Lost: t.Lost}
			if t.RecoveryUS >= 0 {
				r := math.Round(float64(t.RecoveryUS)/1e3) / 1e3
				ft.RecoveryS = &r
			}
			sf.Targets = append(sf.Targets, ft)
		}
		out = append(out, sf)
	}
	return out
}

// HistOf summarises values (microseconds) as summary.json's histograms
// do; nil for none. For figures measured outside the engine (check).
func HistOf(values []int64) *Hist {
	if len(values) == 0 {
		return nil
	}
	h := hdrhistogram.New(1, 3_600_000_000, 3)
	for _, v := range values {
		_ = h.RecordValue(max(v, 1))
	}
	return summarizeHist(h)
}

// summarizeHist returns nil for a nil or empty histogram: "no data" must not
// read as "zero microseconds".
func summarizeHist(h *hdrhistogram.Histogram) *Hist {
	if h == nil || h.TotalCount() == 0 {
		return nil
	}
	// ValueAtQuantile takes HdrHistogram's 0–100 scale: 99.9 is p99.9.
	return &Hist{
		Count: h.TotalCount(),
		Min:   h.Min(),
		Mean:  math.Round(h.Mean()*10) / 10,
		P50:   h.ValueAtQuantile(50),
		P90:   h.ValueAtQuantile(90),
		P99:   h.ValueAtQuantile(99),
		P999:  h.ValueAtQuantile(99.9),
		Max:   h.Max(),
	}
}

// ReadSummary reads a summary.json written by WriteSummary. Unknown fields are
// ignored (newer releases only add fields); a schema_version newer than
// SchemaVersion is an error, because its fields may mean something else.
func ReadSummary(path string) (Summary, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Summary{}, fmt.Errorf("read summary: %w", err)
	}
	var s Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return Summary{}, fmt.Errorf("read summary %s: %w", path, err)
	}
	switch {
	case s.SchemaVersion == 0:
		return Summary{}, fmt.Errorf("read summary %s: no schema_version: not an sseload summary.json", path)
	case s.SchemaVersion > SchemaVersion:
		return Summary{}, fmt.Errorf("read summary %s: schema_version %d is newer than this sseload understands (%d); use a newer sseload to read it", path, s.SchemaVersion, SchemaVersion)
	}
	for i := range s.Targets {
		if s.Targets[i].Errors == nil {
			s.Targets[i].Errors = map[string]int64{}
		}
		if s.Targets[i].ErrorValues == nil {
			s.Targets[i].ErrorValues = map[string]map[string]int64{}
		}
	}
	if s.Thresholds == nil {
		s.Thresholds = []ThresholdResult{}
	}
	if s.Faults == nil {
		s.Faults = []Fault{}
	}
	return s, nil
}

// HarnessNote is one reason the harness doubts its numbers (summary.json's
// harness.notes[]): its kind ("lag", "busy", "machine_cpu", "clock_skew",
// "generator"), the target a clock_skew note is about, the figure that
// crossed its limit and the sentence.
type HarnessNote struct {
	Kind   string  `json:"kind"`
	Target string  `json:"target,omitempty"`
	Value  float64 `json:"value"`
	Text   string  `json:"text"`
}

func harnessNotes(ns []loadgen.HarnessNote) []HarnessNote {
	var out []HarnessNote
	for _, n := range ns {
		out = append(out, HarnessNote(n))
	}
	return out
}
