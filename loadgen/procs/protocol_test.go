package procs

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/sseload/sseload/loadgen"
)

// filled returns a histogram with n values spread over 1 µs to 10 s.
func filled(r *rand.Rand, n int) *hdrhistogram.Histogram {
	h := loadgen.NewHistogram()
	for range n {
		_ = h.RecordValue(1 + r.Int64N(10_000_000))
	}
	return h
}

func TestResultRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
	tr := &loadgen.TargetResult{
		Name: "direct", URL: "http://127.0.0.1:1/events",
		Requested: 10, Established: 9, Failed: 1, Reconnects: 2,
		EventsReceived: 100, EventsTimed: 99, ClockSkewed: 1,
		Delivery: loadgen.Delivery{Accounted: true, Expected: 101, Sequenced: 100, Lost: 2, Duplicated: 1, OutOfOrder: 3, Replayed: 4, Streams: 9, MaxSeq: 12},
		Errors:   map[string]int64{"connect: refused": 1, loadgen.ErrHTTPStatus: 2},
		// The values of the errors that carry one travel too.
		ErrorValues: loadgen.ErrorValues{loadgen.ErrHTTPStatus: {"404": 1, "502": 1}},
		Head:        map[string]string{"status": "200"},
	}
	tr.Hist[loadgen.Latency] = filled(r, 1000)
	tr.Hist[loadgen.TimeToHeaders] = filled(r, 9)
	tr.Hist[loadgen.TimeToFirstEvent] = loadgen.NewHistogram() // empty: left out on the wire
	// Disconnected nil: comes back empty.
	res := &loadgen.Result{
		Started: t0, Ended: t0.Add(2 * time.Second), Targets: []*loadgen.TargetResult{tr},
		Harness: loadgen.Harness{LagP99US: 5, LagMaxUS: 9, BusyMax: 0.5, MachineCPUMax: 0.7, Reliable: false, Note: "why",
			Notes: []loadgen.HarnessNote{{Kind: loadgen.NoteLag, Value: 12000, Text: "why"}}},
		Interrupted: true,
		Faults:      []loadgen.Fault{{Name: "restart", At: t0.Add(time.Second), Targets: []loadgen.FaultTarget{{Name: "direct", Streams: 9, Recovered: 8, RecoveryUS: -1, Reconnects: 3, Lost: 4}}}},
	}

	w, err := EncodeResult(res)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(Message{Type: TypeResult, Result: w})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "time_to_first_event") || strings.Contains(string(b), "disconnected") {
		t.Errorf("empty histograms on the wire: %s", b)
	}
	var m Message
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	got, err := m.Result.Decode()
	if err != nil {
		t.Fatal(err)
	}
	gt := got.Targets[0]
	for _, mt := range loadgen.Metrics {
		want := tr.Hist[mt]
		if want == nil {
			want = loadgen.NewHistogram()
		}
		if gt.Hist[mt] == nil || !gt.Hist[mt].Equals(want) {
			t.Errorf("%s histogram changed on the way", mt)
		}
	}
	// Everything else comes back as it was.
	strip := func(tr loadgen.TargetResult) loadgen.TargetResult {
		tr.Hist = [len(loadgen.Metrics)]*hdrhistogram.Histogram{}
		return tr
	}
	if a, b := strip(*gt), strip(*tr); !reflect.DeepEqual(a, b) {
		t.Errorf("target result:\n got %+v\nwant %+v", a, b)
	}
	got.Targets, res.Targets = nil, nil
	if !got.Started.Equal(res.Started) || !got.Ended.Equal(res.Ended) {
		t.Errorf("times %v–%v, want %v–%v", got.Started, got.Ended, res.Started, res.Ended)
	}
	got.Started, got.Ended, res.Started, res.Ended = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	got.Faults[0].At, res.Faults[0].At = time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, res) {
		t.Errorf("result:\n got %+v\nwant %+v", got, res)
	}
}

func TestDecodeRejects(t *testing.T) {
	for _, tc := range []struct {
		hist map[string]string
		want string
	}{
		{map[string]string{"latency": "not base64!"}, "decode latency histogram"},
		{map[string]string{"latency": "SGVsbG8="}, "decode latency histogram"},
		{map[string]string{"bogus": "x"}, `unknown metric "bogus"`},
	} {
		w := &WireResult{Targets: []WireTarget{{TargetResult: loadgen.TargetResult{Name: "a"}, Hist: tc.hist}}}
		if _, err := w.Decode(); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "target a") {
			t.Errorf("Decode(%v) = %v, want an error naming target a and %q", tc.hist, err, tc.want)
		}
	}
}

func TestReaderRejectsNonMessages(t *testing.T) {
	r := newReader(strings.NewReader("{\"type\":\"warn\",\"message\":\"x\"}\n{}\npanic: boom\n"))
	if m, err := r.next(); err != nil || m.Type != TypeWarn || m.Message != "x" {
		t.Fatalf("first line: %+v, %v", m, err)
	}
	if _, err := r.next(); err == nil || !strings.Contains(err.Error(), "without a type") {
		t.Errorf("{}: %v, want a message without a type", err)
	}
	if _, err := r.next(); err == nil || !strings.Contains(err.Error(), `"panic: boom"`) {
		t.Errorf("panic line: %v, want it quoted", err)
	}
}
