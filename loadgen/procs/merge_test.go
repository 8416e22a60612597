package procs

import (
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/sseload/sseload/loadgen"
)

func TestSplitConfig(t *testing.T) {
	cfg := loadgen.Config{
		Targets: []loadgen.Target{
			{Name: "direct", URL: "http://127.0.0.1:8080/events"},
			{Name: "slow", URL: "http://127.0.0.1:8081/events", Connections: 10},
		},
		Connections: 40_001,
		Ramp:        4000,
		Hold:        time.Minute,
	}
	shard := func(i int, t loadgen.Target) string {
		if t.Name == "direct" {
			return []string{"http://127.0.0.1:9000/events", "http://127.0.0.1:9001/events"}[i%2]
		}
		return ""
	}
	parts := splitConfig(cfg, 3, shard)
	var conns, slow int
	var ramp float64
	used := map[netip.Addr]int{}
	for i, p := range parts {
		conns += p.Connections
		slow += p.Targets[1].Connections
		ramp += p.Ramp
		if p.Hold != time.Minute {
			t.Errorf("child %d: hold %v, want the plan's", i, p.Hold)
		}
		// The ramp ends when the plan's does.
		if d := float64(p.Connections)/p.Ramp - float64(cfg.Connections)/cfg.Ramp; math.Abs(d) > 1e-9 {
			t.Errorf("child %d: ramp of %d at %g/s ends %gs off the plan's", i, p.Connections, p.Ramp, d)
		}
		if want := []string{"http://127.0.0.1:9000/events", "http://127.0.0.1:9001/events", "http://127.0.0.1:9000/events"}[i]; p.Targets[0].URL != want {
			t.Errorf("child %d: direct URL %s, want %s", i, p.Targets[0].URL, want)
		}
		if p.Targets[1].URL != cfg.Targets[1].URL {
			t.Errorf("child %d: slow URL %s changed", i, p.Targets[1].URL)
		}
		// One source address per 25,000 streams of the child to one target.
		if len(p.SourceAddrs) != 1 {
			t.Errorf("child %d: source addresses %v, want one of its own", i, p.SourceAddrs)
		}
		for _, a := range p.SourceAddrs {
			used[a]++
		}
	}
	if parts[0].Connections != 13_334 || parts[1].Connections != 13_334 || parts[2].Connections != 13_333 {
		t.Errorf("connections %d %d %d, want the remainder spread over the first", parts[0].Connections, parts[1].Connections, parts[2].Connections)
	}
	if conns != cfg.Connections || slow != 10 || math.Abs(ramp-cfg.Ramp) > 1e-9 {
		t.Errorf("shares add up to %d connections, %d slow, ramp %g; want %d, 10, %g", conns, slow, ramp, cfg.Connections, cfg.Ramp)
	}
	if len(used) != 3 {
		t.Errorf("source addresses %v: want a different one per child", used)
	}
	if cfg.Targets[0].URL != "http://127.0.0.1:8080/events" {
		t.Error("splitConfig changed the plan's targets")
	}

	// A child with 60,000 streams to one target needs three addresses.
	big := cfg
	big.Connections = 120_000
	parts = splitConfig(big, 2, nil)
	if len(parts[0].SourceAddrs) != 3 || parts[1].SourceAddrs[0] != netip.MustParseAddr("127.0.0.4") {
		t.Errorf("120,000 streams over 2 children: sources %v and %v, want 127.0.0.1-3 and 127.0.0.4-6", parts[0].SourceAddrs, parts[1].SourceAddrs)
	}

	// Not loopback: the kernel chooses, as the engine would.
	remote := cfg
	remote.Targets = []loadgen.Target{{Name: "x", URL: "http://10.0.0.1/events"}}
	if p := splitConfig(remote, 2, nil); p[0].SourceAddrs != nil {
		t.Errorf("remote target: source addresses %v, want none", p[0].SourceAddrs)
	}
	// Given addresses are dealt out.
	given := cfg
	given.SourceAddrs = []netip.Addr{netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("10.0.0.3")}
	p := splitConfig(given, 2, nil)
	if len(p[0].SourceAddrs) != 2 || len(p[1].SourceAddrs) != 1 || p[1].SourceAddrs[0] != given.SourceAddrs[1] {
		t.Errorf("given sources dealt as %v and %v", p[0].SourceAddrs, p[1].SourceAddrs)
	}
}

// TestMergeDeliveryAddsTheParts checks the merge: each part expected what
// was published up to its own line (loadgen/settle.go), so the parts add up.
func TestMergeDeliveryAddsTheParts(t *testing.T) {
	// Child A: streams from 3 and 5, its line at 10; child B: one from 4,
	// its line at 11: (10−3+1) + (10−5+1) + (11−4+1) = 22.
	a := loadgen.Delivery{Accounted: true, Streams: 2, MaxSeq: 10, Expected: (10 - 3 + 1) + (10 - 5 + 1), Sequenced: 14, Duplicated: 1, OutOfOrder: 2, Replayed: 1}
	b := loadgen.Delivery{Accounted: true, Streams: 1, MaxSeq: 11, Expected: 11 - 4 + 1, Sequenced: 7}
	got := mergeDelivery([]loadgen.Delivery{a, b}, 0)
	want := loadgen.Delivery{Accounted: true, Streams: 3, MaxSeq: 11, Expected: 22, Sequenced: 21, Duplicated: 1, OutOfOrder: 2, Replayed: 1, Lost: 22 - 20}
	if got != want {
		t.Errorf("broadcast:\n got %+v\nwant %+v", got, want)
	}
	// Per-connection: every stream expects the same count; sums.
	got = mergeDelivery([]loadgen.Delivery{{Accounted: true, Expected: 12, Sequenced: 12}, {Accounted: true, Expected: 6, Sequenced: 5}}, 6)
	if got.Expected != 18 || got.Lost != 1 {
		t.Errorf("per-connection: %+v, want expected 18, lost 1", got)
	}
	if got := mergeDelivery([]loadgen.Delivery{{}, {}}, 0); got != (loadgen.Delivery{}) {
		t.Errorf("unaccounted: %+v, want zero", got)
	}
}

func TestMergeFaults(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r1 := &loadgen.Result{Faults: []loadgen.Fault{{Name: "f", At: at, Targets: []loadgen.FaultTarget{{Name: "a", Streams: 3, Recovered: 3, RecoveryUS: 1000, Reconnects: 3, Lost: 2}}}}}
	// Child 2 marked 5 ms later and recovered 500 µs after its own mark.
	r2 := &loadgen.Result{Faults: []loadgen.Fault{{Name: "f", At: at.Add(5 * time.Millisecond), Targets: []loadgen.FaultTarget{{Name: "a", Streams: 2, Recovered: 2, RecoveryUS: 500, Reconnects: 1}}}}}
	got := mergeFaults([]*loadgen.Result{r1, r2})
	want := loadgen.FaultTarget{Name: "a", Streams: 5, Recovered: 5, RecoveryUS: 5500, Reconnects: 4, Lost: 2}
	if len(got) != 1 || !got[0].At.Equal(at) || got[0].Targets[0] != want {
		t.Errorf("faults %+v, want one at %v with %+v", got, at, want)
	}
	r2.Faults[0].Targets[0].RecoveryUS, r2.Faults[0].Targets[0].Recovered = -1, 1
	if got := mergeFaults([]*loadgen.Result{r1, r2}); got[0].Targets[0].RecoveryUS != -1 || got[0].Targets[0].Recovered != 4 {
		t.Errorf("one child not recovered: %+v, want recovery -1", got[0].Targets[0])
	}
}

func TestMergeHarness(t *testing.T) {
	lag := func(ms float64) loadgen.HarnessNote {
		return loadgen.HarnessNote{Kind: loadgen.NoteLag, Value: ms * 1000,
			Text: fmt.Sprintf("the generator's scheduling lag p99 was %.1f ms (limit 10 ms): it was short of CPU", ms)}
	}
	cpu := loadgen.HarnessNote{Kind: loadgen.NoteMachineCPU, Value: 0.97, Text: "the machine was 97% busy"}
	skew := loadgen.HarnessNote{Kind: loadgen.NoteClockSkew, Target: "direct", Value: 3, Text: "direct: 3 events arrived before their publish time"}
	// A note with more digits in its sentence but a lower figure is not
	// the worse one: merging compares Value, never the prose.
	got := mergeHarness([]loadgen.Harness{
		{LagP99US: 10, LagMaxUS: 90, BusyMax: 0.2, MachineCPUMax: 0.97, Notes: []loadgen.HarnessNote{lag(30.2), cpu}},
		{LagP99US: 20, LagMaxUS: 30, BusyMax: 0.4, MachineCPUMax: 0.5, Reliable: true},
		{Notes: []loadgen.HarnessNote{lag(35.0), skew}},
		{Notes: []loadgen.HarnessNote{lag(9.75)}},
	})
	worstLag := lag(35.0)
	worstLag.Text += " (the worst of 3 generator processes)"
	wantNotes := []loadgen.HarnessNote{worstLag, cpu, skew}
	if !reflect.DeepEqual(got.Notes, wantNotes) {
		t.Errorf("notes:\n got %+v\nwant %+v", got.Notes, wantNotes)
	}
	wantNote := worstLag.Text + "; the machine was 97% busy; direct: 3 events arrived before their publish time"
	if got.LagP99US != 20 || got.LagMaxUS != 90 || got.BusyMax != 0.4 || got.MachineCPUMax != 0.97 || got.Reliable || got.Note != wantNote {
		t.Errorf("harness %+v\nwant note %q", got, wantNote)
	}
	if got := mergeHarness([]loadgen.Harness{{Reliable: true}, {Reliable: true}}); !got.Reliable || got.Note != "" || got.Notes != nil {
		t.Errorf("all reliable: %+v", got)
	}
}

func TestMergeResults(t *testing.T) {
	plan := loadgen.Config{Targets: []loadgen.Target{{Name: "a", URL: "http://plan/"}}, Connections: 10}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	part := func(est, lat int64, started time.Time, interrupted bool) *loadgen.Result {
		tr := &loadgen.TargetResult{Name: "a", URL: "http://shard/", Requested: 5, Established: est, EventsReceived: 2 * est,
			Errors:      map[string]int64{"eof": 1, loadgen.ErrHTTPStatus: 2},
			ErrorValues: loadgen.ErrorValues{loadgen.ErrHTTPStatus: {"404": 1, strconv.FormatInt(500+lat%7, 10): 1}}}
		for m := range tr.Hist {
			tr.Hist[m] = loadgen.NewHistogram()
		}
		_ = tr.Hist[loadgen.Latency].RecordValue(lat)
		return &loadgen.Result{Started: started, Ended: started.Add(time.Second), Targets: []*loadgen.TargetResult{tr}, Interrupted: interrupted, Harness: loadgen.Harness{Reliable: true}}
	}
	got, err := mergeResults(plan, []*loadgen.Result{part(5, 100, t0.Add(time.Millisecond), false), nil, part(4, 9000, t0, true)})
	if err != nil {
		t.Fatal(err)
	}
	a := got.Targets[0]
	if a.URL != "http://plan/" || a.Requested != 10 || a.Established != 9 || a.EventsReceived != 18 || a.Errors["eof"] != 2 {
		t.Errorf("target %+v: want the plan's URL and 10 requested, counters summed", a)
	}
	// Error values merge by value: 404 from both, 502 and 505 from one each.
	if want := (loadgen.ErrorValues{loadgen.ErrHTTPStatus: {"404": 2, "502": 1, "505": 1}}); !reflect.DeepEqual(a.ErrorValues, want) || a.Errors[loadgen.ErrHTTPStatus] != 4 {
		t.Errorf("error values %v (http_status %d), want %v (4)", a.ErrorValues, a.Errors[loadgen.ErrHTTPStatus], want)
	}
	if h := a.Hist[loadgen.Latency]; h.TotalCount() != 2 || h.Min() != 100 || h.Max() < 9000 {
		t.Errorf("latency histogram count %d min %d max %d: want both values", h.TotalCount(), h.Min(), h.Max())
	}
	if !got.Started.Equal(t0) || !got.Ended.Equal(t0.Add(time.Second+time.Millisecond)) || !got.Interrupted || !got.Harness.Reliable {
		t.Errorf("result %v–%v interrupted %v reliable %v", got.Started, got.Ended, got.Interrupted, got.Harness.Reliable)
	}
	bad := part(1, 1, t0, false)
	bad.Targets[0].Name = "b"
	if _, err := mergeResults(plan, []*loadgen.Result{bad}); err == nil || !strings.Contains(err.Error(), `"b"`) {
		t.Errorf("mismatched target: %v", err)
	}
	if _, err := mergeResults(plan, []*loadgen.Result{nil}); err == nil {
		t.Error("no results merged without an error")
	}
}

// TestLoopMergesUnevenChildren: interval k is passed on only once every
// child sent it or finished; a finished child's last established count
// stays in the total.
func TestLoopMergesUnevenChildren(t *testing.T) {
	var got []loadgen.Interval
	g := &Generator{plan: loadgen.Config{Targets: []loadgen.Target{{Name: "a"}}, OnInterval: func(r loadgen.IntervalReport) {
		iv := r.Targets[0].Interval
		h := loadgen.NewHistogram()
		h.Merge(iv.Hist[loadgen.Latency]) // the Generator reuses its own
		iv.Hist[loadgen.Latency] = h
		got = append(got, iv)
	}}}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	kid := func(i int) *kidState {
		return &kidState{child: &child{index: i, label: "test child", kill: func() {}, wait: func() error { return nil }}, last: make([]loadgen.Interval, 1)}
	}
	l := &loop{g: g, kids: []*kidState{kid(0), kid(1)}}
	l.prepare()
	push := func(k *kidState, seq int, est, lat int64) {
		h := loadgen.NewHistogram()
		_ = h.RecordValue(lat)
		enc, err := encodeHists(&[len(loadgen.Metrics)]*hdrhistogram.Histogram{loadgen.Latency: h})
		if err != nil {
			t.Fatal(err)
		}
		p, err := decodePacked(enc)
		if err != nil {
			t.Fatal(err)
		}
		start := t0.Add(time.Duration(seq) * time.Second).Add(time.Duration(k.index) * time.Millisecond)
		k.queue = append(k.queue, queued{
			wire:  &WireInterval{Seq: seq, Start: start, End: start.Add(time.Second), Targets: []WireIntervalTarget{{Name: "a", Established: est}}},
			hists: []packedHists{p},
		})
		l.merge()
	}
	push(l.kids[0], 0, 3, 10)
	if len(got) != 0 {
		t.Fatal("interval 0 passed on before child 1 sent it")
	}
	push(l.kids[1], 0, 2, 20)
	push(l.kids[1], 1, 2, 30)
	if len(got) != 1 || got[0].Established != 5 || got[0].Hist[loadgen.Latency].TotalCount() != 2 || !got[0].Start.Equal(t0) || !got[0].End.Equal(t0.Add(time.Second+time.Millisecond)) {
		t.Fatalf("after interval 0 of both: %+v", got)
	}
	// Child 0 finishes without an interval 1: child 1's interval 1 goes
	// out alone, with child 0's last established count.
	l.kids[0].done = true
	l.merge()
	if len(got) != 2 || got[1].Established != 5 || got[1].Hist[loadgen.Latency].TotalCount() != 1 || got[1].Hist[loadgen.Latency].Max() < 30 {
		t.Fatalf("after child 0 finished: %+v", got)
	}
	if g.liveP99.Load() < 30 {
		t.Errorf("live p99 %d, want the last interval's", g.liveP99.Load())
	}
}

// TestSplitConfigKeepsProtocol: what a target asks of the protocol (HTTP/2,
// streams per connection) reaches every child, through the JSON of the
// start message, and the merged result keeps the protocol a child saw.
func TestSplitConfigKeepsProtocol(t *testing.T) {
	cfg := loadgen.Config{
		Targets:     []loadgen.Target{{Name: "edge", URL: "https://127.0.0.1:8443/events", HTTP2: true}},
		Connections: 10, Ramp: 10, StreamsPerConn: 5,
	}
	for i, c := range splitConfig(cfg, 2, nil) {
		raw, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		var back loadgen.Config
		if err := json.Unmarshal(raw, &back); err != nil {
			t.Fatal(err)
		}
		if !back.Targets[0].HTTP2 || back.StreamsPerConn != 5 {
			t.Errorf("child %d: HTTP2 %v, streams per conn %d; want true, 5", i, back.Targets[0].HTTP2, back.StreamsPerConn)
		}
	}
	parts := []*loadgen.TargetResult{
		{Name: "edge", Errors: map[string]int64{}, ErrorValues: loadgen.ErrorValues{}},
		{Name: "edge", Protocol: loadgen.ProtoH2, TLSVersion: "TLS 1.3", Errors: map[string]int64{}, ErrorValues: loadgen.ErrorValues{}},
	}
	got, err := mergeTarget(parts, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got.Protocol != loadgen.ProtoH2 || got.TLSVersion != "TLS 1.3" {
		t.Errorf("merged protocol %q %q, want h2 TLS 1.3", got.Protocol, got.TLSVersion)
	}
}
