// Package procs runs one load over several generator processes. One
// process may hold only so many open files (and one source address reaches
// only so many streams per server port), so a large run is split: the
// parent (Generator) gives every child a share of each target's
// connections and of the ramp, starts the children, merges their interval
// histograms into one stream of intervals and their results into one
// loadgen.Result. The child (Serve) runs one loadgen.Engine for its share.
//
// Parent and child talk in JSON lines over the child's stdin and stdout:
// the worker protocol, specified in docs/worker-protocol.md. Nothing in it
// assumes the processes share a machine except the start time (wall clock).
package procs

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/sseload/sseload/loadgen"
)

// Version is the worker protocol's version. Parent and child must speak the
// same one: each side checks the other's (hello, start) and refuses a
// mismatch. Bump it for any change an older peer would misread.
const Version = 1

// Message types. Parent to child: auth (remote workers only, first),
// start, fault, stop. Child to parent: hello, interval, warn, result,
// error.
const (
	TypeAuth     = "auth"
	TypeStart    = "start"
	TypeFault    = "fault"
	TypeStop     = "stop"
	TypeHello    = "hello"
	TypeInterval = "interval"
	TypeWarn     = "warn"
	TypeResult   = "result"
	TypeError    = "error"
)

// Message is one line of the protocol in either direction; Type says which
// other fields it carries.
type Message struct {
	Type string `json:"type"`
	// Version: auth, hello, start.
	Version int `json:"version,omitempty"`
	// Token: auth, the shared token a remote worker requires (remote.go).
	Token string `json:"token,omitempty"`
	// PID: hello, the child's process id (for messages that name it).
	PID int `json:"pid,omitempty"`
	// Capacity: hello, what the child can take on (capacity.go); absent
	// from a child of an older sseload, whose share is then an equal one.
	Capacity *Capacity `json:"capacity,omitempty"`

	// Index and Count: start, the child's place among its siblings.
	Index int `json:"index,omitempty"`
	Count int `json:"count,omitempty"`
	// StartAt: start, the wall-clock time at which every child starts its
	// engine, so that their ramps and intervals line up.
	StartAt *time.Time `json:"start_at,omitempty"`
	// InsecureTLS: start, skip certificate verification for https targets
	// (loadgen.Config.TLSConfig does not travel).
	InsecureTLS bool `json:"insecure_tls,omitempty"`
	// RootCAs: start, the CAs (PEM) https targets' certificates must chain
	// to; empty: the system's (Options.RootCAs).
	RootCAs []byte `json:"root_cas,omitempty"`
	// Config: start, the child's share of the run, as loadgen.Config
	// encodes in JSON (Go field names, durations in nanoseconds).
	Config *loadgen.Config `json:"config,omitempty"`
	// TimeURL: start, the time source the child measures its clock
	// offset against (clock.go); absent: none. NoClockCorrection: start,
	// measure and report the offset but do not correct receipt times by
	// it (for testing the correction).
	TimeURL           string `json:"time_url,omitempty"`
	NoClockCorrection bool   `json:"no_clock_correction,omitempty"`
	// Clock: result, the child's clock offset estimate when it had a
	// TimeURL.
	Clock *WireClock `json:"clock,omitempty"`

	// Name: fault, the fault's name (loadgen.Engine.MarkFault).
	Name string `json:"name,omitempty"`
	// Message: warn and error.
	Message string `json:"message,omitempty"`

	Interval *WireInterval `json:"interval,omitempty"`
	Result   *WireResult   `json:"result,omitempty"`
}

// WireInterval is one engine interval of one child: every target's
// histograms for it, and the child's counters at its end.
type WireInterval struct {
	// Seq numbers the child's intervals 0, 1, 2, … without gaps.
	Seq     int                  `json:"seq"`
	Start   time.Time            `json:"start"`
	End     time.Time            `json:"end"`
	Targets []WireIntervalTarget `json:"targets"`
	// Snapshot is the child engine's loadgen.Snapshot when the interval
	// was sent, for progress displays.
	Snapshot loadgen.Snapshot `json:"snapshot"`
	// Lag is the child's scheduling lag samples of the interval
	// (loadgen.GeneratorInterval), encoded as Hist's histograms are; absent
	// when it took none.
	Lag string `json:"lag,omitempty"`
	// BusyMax and MachineCPU are the child's loadgen.GeneratorInterval
	// figures.
	BusyMax    float64 `json:"busy_max,omitempty"`
	MachineCPU float64 `json:"machine_cpu,omitempty"`
}

// WireIntervalTarget is one target's part of an interval.
type WireIntervalTarget struct {
	Name        string `json:"name"`
	Established int64  `json:"established"`
	// Hist maps metric names (loadgen.Metric.String) to histograms in the
	// HdrHistogram V2 compressed, base64 encoding (the one .hlog lines
	// carry). A metric with nothing recorded is left out.
	Hist map[string]string `json:"hist,omitempty"`
	// The child's counters for the target at the interval's end
	// (loadgen.Interval): open streams, and running totals.
	Open           int64               `json:"open,omitempty"`
	Failed         int64               `json:"failed,omitempty"`
	Reconnects     int64               `json:"reconnects,omitempty"`
	EventsReceived int64               `json:"events,omitempty"`
	Errors         map[string]int64    `json:"errors,omitempty"`
	ErrorValues    loadgen.ErrorValues `json:"error_values,omitempty"`
}

// encodeInterval is the wire form of one of a child engine's intervals.
func encodeInterval(seq int, r loadgen.IntervalReport) (*WireInterval, error) {
	wi := &WireInterval{Seq: seq, Start: r.Start, End: r.End, BusyMax: r.Generator.BusyMax, MachineCPU: r.Generator.MachineCPU}
	if h := r.Generator.Lag; h != nil && h.TotalCount() > 0 {
		enc, err := h.EncodeV2()
		if err != nil {
			return nil, fmt.Errorf("interval %d: encode lag histogram: %w", seq, err)
		}
		wi.Lag = string(enc)
	}
	for _, t := range r.Targets {
		h, err := encodeHists(&t.Hist)
		if err != nil {
			return nil, fmt.Errorf("interval %d: %s: %w", seq, t.Name, err)
		}
		wi.Targets = append(wi.Targets, WireIntervalTarget{
			Name: t.Name, Established: t.Established, Hist: h,
			Open: t.Open, Failed: t.Failed, Reconnects: t.Reconnects, EventsReceived: t.EventsReceived,
			Errors: t.Errors, ErrorValues: t.ErrorValues,
		})
	}
	return wi, nil
}

// totals is the target's counters of a wire interval, as loadgen.Interval
// holds them (no histograms).
func (t *WireIntervalTarget) totals() loadgen.Interval {
	return loadgen.Interval{
		Established: t.Established, Open: t.Open, Failed: t.Failed, Reconnects: t.Reconnects,
		EventsReceived: t.EventsReceived, Errors: t.Errors, ErrorValues: t.ErrorValues,
	}
}

// WireResult is a loadgen.Result on the wire: every field as encoding/json
// writes it, except that each target's histograms are encoded (see
// WireTarget).
type WireResult struct {
	loadgen.Result
	Targets []WireTarget `json:"Targets"`
}

// WireTarget is a loadgen.TargetResult on the wire: Hist maps metric
// names to V2 compressed base64 histograms. (Intervals travel as interval
// messages while the run goes on, not in the result.)
type WireTarget struct {
	loadgen.TargetResult
	Hist map[string]string `json:"Hist,omitempty"`
}

// metricByName maps loadgen.Metric.String back to the metric.
var metricByName = func() map[string]loadgen.Metric {
	m := make(map[string]loadgen.Metric, len(loadgen.Metrics))
	for _, x := range loadgen.Metrics {
		m[x.String()] = x
	}
	return m
}()

// encodeHists encodes a histogram per metric; empty and nil ones are left
// out, so an idle interval costs a few bytes.
func encodeHists(hs *[len(loadgen.Metrics)]*hdrhistogram.Histogram) (map[string]string, error) {
	var out map[string]string
	for _, m := range loadgen.Metrics {
		h := hs[m]
		if h == nil || h.TotalCount() == 0 {
			continue
		}
		enc, err := h.EncodeV2()
		if err != nil {
			return nil, fmt.Errorf("encode %s histogram: %w", m, err)
		}
		if out == nil {
			out = make(map[string]string, len(loadgen.Metrics))
		}
		out[m.String()] = string(enc)
	}
	return out, nil
}

// packedHists is one target's decoded histograms: sparse, so a child's
// interval costs what it recorded, not 144 KiB per metric.
type packedHists [len(loadgen.Metrics)]*hdrhistogram.PackedHistogram

// decodePacked decodes the wire map; absent metrics stay nil.
func decodePacked(enc map[string]string) (packedHists, error) {
	var out packedHists
	for name, s := range enc {
		m, ok := metricByName[name]
		if !ok {
			return out, fmt.Errorf("histogram of unknown metric %q", name)
		}
		p, err := hdrhistogram.DecodePacked([]byte(s))
		if err != nil {
			return out, fmt.Errorf("decode %s histogram: %w", name, err)
		}
		out[m] = p
	}
	return out, nil
}

// mergeInto adds every histogram of p to the dense histograms of dst.
func (p *packedHists) mergeInto(dst *[len(loadgen.Metrics)]*hdrhistogram.Histogram) error {
	for m, h := range p {
		if h == nil {
			continue
		}
		if dst[m] == nil {
			dst[m] = loadgen.NewHistogram()
		}
		if dropped := h.MergeInto(dst[m]); dropped > 0 {
			return fmt.Errorf("%s histogram: %d values outside 1 µs to 1 h", loadgen.Metric(m), dropped)
		}
	}
	return nil
}

// decodeHists decodes the wire map into dense histograms with the shared
// bounds; every metric gets one, empty when absent.
func decodeHists(enc map[string]string) ([len(loadgen.Metrics)]*hdrhistogram.Histogram, error) {
	var out [len(loadgen.Metrics)]*hdrhistogram.Histogram
	for m := range out {
		out[m] = loadgen.NewHistogram()
	}
	p, err := decodePacked(enc)
	if err != nil {
		return out, err
	}
	return out, p.mergeInto(&out)
}

// EncodeResult turns a result into its wire form.
func EncodeResult(res *loadgen.Result) (*WireResult, error) {
	w := &WireResult{Result: *res}
	w.Result.Targets = nil
	for _, tr := range res.Targets {
		if tr == nil {
			return nil, errors.New("encode result: nil target")
		}
		wt := WireTarget{TargetResult: *tr}
		wt.TargetResult.Hist = [len(loadgen.Metrics)]*hdrhistogram.Histogram{}
		var err error
		if wt.Hist, err = encodeHists(&tr.Hist); err != nil {
			return nil, fmt.Errorf("encode result: %s: %w", tr.Name, err)
		}
		w.Targets = append(w.Targets, wt)
	}
	return w, nil
}

// Decode turns the wire form back into a loadgen.Result; every target gets
// a histogram for every metric.
func (w *WireResult) Decode() (*loadgen.Result, error) {
	res := w.Result
	res.Targets = nil
	for _, wt := range w.Targets {
		tr := wt.TargetResult
		var err error
		if tr.Hist, err = decodeHists(wt.Hist); err != nil {
			return nil, fmt.Errorf("result: target %s: %w", tr.Name, err)
		}
		if tr.Errors == nil {
			tr.Errors = map[string]int64{}
		}
		if tr.ErrorValues == nil { // a peer from before ErrorValues
			tr.ErrorValues = loadgen.ErrorValues{}
		}
		res.Targets = append(res.Targets, &tr)
	}
	return &res, nil
}

// maxLine bounds one protocol line. A result line carries a few compressed
// histograms per target, far below this; a peer writing something else
// without a newline is cut off here rather than exhausting memory.
const maxLine = 64 << 20

// maxControlLine bounds one line a remote worker reads from its
// coordinator (auth, start, fault, stop: a start message with a few
// targets is a few KiB): a peer sending more is cut off before it costs
// memory.
const maxControlLine = 1 << 20

// reader reads protocol lines.
type reader struct {
	sc *bufio.Scanner
}

// newReader reads lines of at most maxLine bytes.
func newReader(r io.Reader) *reader { return newReaderMax(r, maxLine) }

// newReaderMax reads lines of at most max bytes; a longer one is an error
// (bufio.ErrTooLong).
func newReaderMax(r io.Reader, max int) *reader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, min(64<<10, max)), max)
	return &reader{sc: sc}
}

// next returns the next message; io.EOF at a clean end of input. A line
// that is not a protocol message is an error quoting its start.
func (r *reader) next() (Message, error) {
	var m Message
	if !r.sc.Scan() {
		if err := r.sc.Err(); err != nil {
			return m, fmt.Errorf("read message: %w", err)
		}
		return m, io.EOF
	}
	return decodeFrame(r.sc.Bytes())
}

// decodeFrame decodes one protocol line (without its newline). A line that
// is not a protocol message is an error quoting its start; it never
// panics, whatever the bytes (FuzzDecodeFrame).
func decodeFrame(line []byte) (Message, error) {
	var m Message
	if err := json.Unmarshal(line, &m); err != nil {
		return m, fmt.Errorf("not a protocol message (%v): %q", err, clip(line))
	}
	if m.Type == "" {
		return m, fmt.Errorf("message without a type: %q", clip(line))
	}
	return m, nil
}

// clip shortens a bad line for an error message.
func clip(b []byte) string {
	const n = 120
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// writer writes protocol lines; safe for concurrent use, one line per
// Write so that lines never interleave.
type writer struct {
	mu sync.Mutex
	w  io.Writer
}

func newWriter(w io.Writer) *writer { return &writer{w: w} }

func (w *writer) send(m Message) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode %s message: %w", m.Type, err)
	}
	b = append(b, '\n')
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, err := w.w.Write(b); err != nil {
		return fmt.Errorf("send %s message: %w", m.Type, err)
	}
	return nil
}

// checkVersion refuses a peer speaking another protocol version.
func checkVersion(peer int, who string) error {
	if peer != Version {
		return fmt.Errorf("%s speaks worker protocol version %d, this sseload speaks version %d: run the same sseload build on both sides", who, peer, Version)
	}
	return nil
}
