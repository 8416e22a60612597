package procs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sseload/sseload/internal/testenv"
	"github.com/sseload/sseload/loadgen"
	"github.com/sseload/sseload/origin"
)

// childEnv makes the test binary, re-executed, act as a generator process
// (TestMain): "serve" is the real one, the others misbehave on purpose.
const childEnv = "SSELOAD_PROCS_TEST_CHILD"

func TestMain(m *testing.M) {
	mode := os.Getenv(childEnv)
	if mode == "" {
		os.Exit(m.Run())
	}
	os.Exit(testChild(mode))
}

// testChild is the child side of the tests, by mode.
func testChild(mode string) int {
	switch mode {
	case "serve":
		if err := Serve(context.Background(), os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "test child:", err)
			return 1
		}
		return 0
	case "die-after-interval":
		// A worker that crashes mid-run, right after its first interval.
		_ = Serve(context.Background(), os.Stdin, &dieAfterInterval{w: os.Stdout})
		return 1
	case "garbage":
		// A worker whose output turns into something that is not the
		// protocol mid-run: its first interval becomes a stray line.
		_ = Serve(context.Background(), os.Stdin, &garbageInterval{w: os.Stdout})
		return 0
	case "old-version":
		fmt.Printf(`{"type":"hello","version":%d,"pid":%d}`+"\n", Version+1, os.Getpid())
		_, _ = io.Copy(io.Discard, os.Stdin)
		return 0
	}
	fmt.Fprintln(os.Stderr, "test child: unknown mode", mode)
	return 2
}

// dieAfterInterval passes lines on and exits the process (code 3) once it
// has passed an interval message.
type dieAfterInterval struct{ w io.Writer }

func (d *dieAfterInterval) Write(p []byte) (int, error) {
	n, err := d.w.Write(p)
	if strings.Contains(string(p), `"type":"interval"`) {
		os.Exit(3)
	}
	return n, err
}

// garbageInterval passes lines on, except interval messages, which it
// replaces with a line that is not a message.
type garbageInterval struct{ w io.Writer }

func (g *garbageInterval) Write(p []byte) (int, error) {
	if strings.Contains(string(p), `"type":"interval"`) {
		_, err := io.WriteString(g.w, "goroutine 1 [running]: not a message\n")
		return len(p), err
	}
	return g.w.Write(p)
}

// children starts the test binary as generator processes and keeps every
// command it made, to check afterwards that each was reaped.
type children struct {
	modes map[int]string // child index -> mode; "serve" when absent

	mu   sync.Mutex
	cmds []*exec.Cmd
}

// command re-executes the test binary as child i.
func (c *children) command(i int) *exec.Cmd {
	mode := "serve"
	if m, ok := c.modes[i]; ok {
		mode = m
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+mode)
	c.mu.Lock()
	c.cmds = append(c.cmds, cmd)
	c.mu.Unlock()
	return cmd
}

// reaped fails the test for every started child not waited for.
func (c *children) reaped(t *testing.T) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.cmds) == 0 {
		t.Error("no child was started")
	}
	for i, cmd := range c.cmds {
		if cmd.Process != nil && cmd.ProcessState == nil {
			t.Errorf("child %d (pid %d) was not reaped", i, cmd.Process.Pid)
		}
	}
}

// startOrigin serves sseload's broadcast origin on loopback and returns
// its events URL. events > 0 ends every stream after that many publishes.
func startOrigin(t *testing.T, interval time.Duration, events int) string {
	t.Helper()
	addr := testenv.ServeOrigin(t, origin.Config{Mode: origin.Broadcast, Interval: interval, Events: events})
	return "http://" + addr + "/events"
}

// recorded is what OnInterval saw of one target's interval.
type recorded struct {
	target      string
	start, end  time.Time
	established int64
	open        int64
	events      int64
	counts      [len(loadgen.Metrics)]int64
}

// intervalLog collects OnInterval calls.
type intervalLog struct {
	mu   sync.Mutex
	ivs  []recorded
	lags int64 // scheduling lag samples, all intervals
}

func (l *intervalLog) add(r loadgen.IntervalReport) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, t := range r.Targets {
		rec := recorded{target: t.Name, start: t.Start, end: t.End, established: t.Established, open: t.Open, events: t.EventsReceived}
		for m, h := range t.Hist {
			if h != nil {
				rec.counts[m] = h.TotalCount()
			}
		}
		l.ivs = append(l.ivs, rec)
	}
	l.lags += r.Generator.Lag.TotalCount()
}

func baseConfig(url string) loadgen.Config {
	return loadgen.Config{
		Targets:        []loadgen.Target{{Name: "a", URL: url}, {Name: "b", URL: url, Connections: 5}},
		Connections:    7,
		Ramp:           1000,
		Interval:       100 * time.Millisecond,
		TimestampField: "sched",
		SequenceField:  "seq",
		SentField:      "sent",
		MaxDuration:    20 * time.Second,
	}
}

// TestGeneratorMergesChildren runs a two-target plan over three real child
// processes against a broadcast origin that ends every stream after its
// last publish, and checks the merged result against the plan: every
// stream established and accounted, nothing lost, the interval stream
// adding up to the cumulative histograms exactly, and a fault forwarded
// to every child.
func TestGeneratorMergesChildren(t *testing.T) {
	url := startOrigin(t, 200*time.Millisecond, 15)
	var log intervalLog
	var g *Generator
	var faultOnce sync.Once
	cfg := baseConfig(url)
	cfg.OnInterval = func(r loadgen.IntervalReport) {
		log.add(r)
		if r.Targets[1].Established == 5 {
			faultOnce.Do(func() { g.MarkFault("test-fault") })
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	kids := &children{}
	var err error
	g, err = New(ctx, Options{Config: cfg, Procs: 3, Command: kids.command})
	if err != nil {
		t.Fatal(err)
	}
	if g.Procs() != 3 {
		t.Fatalf("Procs() = %d, want 3", g.Procs())
	}
	res, err := g.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kids.reaped(t)
	if res.Interrupted {
		t.Error("result interrupted; the streams ended by themselves")
	}
	want := map[string]int64{"a": 7, "b": 5}
	for i, tr := range res.Targets {
		if tr.Name != cfg.Targets[i].Name || tr.URL != url {
			t.Errorf("target %d: %s %s, want %s %s", i, tr.Name, tr.URL, cfg.Targets[i].Name, url)
		}
		if tr.Requested != want[tr.Name] || tr.Established != want[tr.Name] || tr.Failed != 0 || len(tr.Errors) != 0 {
			t.Errorf("%s: requested %d established %d failed %d errors %v; want %d established, none failed",
				tr.Name, tr.Requested, tr.Established, tr.Failed, tr.Errors, want[tr.Name])
		}
		d := tr.Delivery
		if tr.EventsReceived == 0 || d.Sequenced != tr.EventsReceived || d.Expected != d.Sequenced || d.Lost != 0 || d.Streams != want[tr.Name] || d.MaxSeq != 15 {
			t.Errorf("%s: received %d, delivery %+v; want every event expected and received, %d streams up to seq 15", tr.Name, tr.EventsReceived, d, want[tr.Name])
		}
		if got := tr.Hist[loadgen.Latency].TotalCount(); got != tr.EventsTimed || got != tr.EventsReceived {
			t.Errorf("%s: latency count %d, events timed %d, received %d: want all equal", tr.Name, got, tr.EventsTimed, tr.EventsReceived)
		}
		// The children read the origin's write time: every timed event is
		// split into origin delay and path latency.
		if o, p := tr.Hist[loadgen.OriginDelay].TotalCount(), tr.Hist[loadgen.PathLatency].TotalCount(); o != tr.EventsTimed || p != tr.EventsTimed {
			t.Errorf("%s: origin delay count %d, path latency count %d; want the %d timed events each", tr.Name, o, p, tr.EventsTimed)
		}
		var sum [len(loadgen.Metrics)]int64
		var last recorded
		for _, iv := range log.ivs {
			if iv.target == tr.Name {
				for m := range sum {
					sum[m] += iv.counts[m]
				}
				last = iv
			}
		}
		for m := range sum {
			if c := tr.Hist[m].TotalCount(); sum[m] != c {
				t.Errorf("%s %s: intervals add up to %d values, cumulative histogram has %d", tr.Name, loadgen.Metric(m), sum[m], c)
			}
		}
		if last.established != want[tr.Name] {
			t.Errorf("%s: last interval established %d, want %d", tr.Name, last.established, want[tr.Name])
		}
		// The streams ended by themselves: none open at the end, and the
		// running event total is the result's.
		if last.open != 0 || last.events != tr.EventsReceived {
			t.Errorf("%s: last interval open %d, events %d; want 0 open and the result's %d events", tr.Name, last.open, last.events, tr.EventsReceived)
		}
	}
	if log.lags == 0 {
		t.Error("the merged intervals carry no scheduling lag sample from the children")
	}
	// Rounds come in time order, every target once per round in order.
	for i, iv := range log.ivs {
		if iv.target != cfg.Targets[i%2].Name {
			t.Fatalf("interval report %d is for %s, want %s: targets in order each round", i, iv.target, cfg.Targets[i%2].Name)
		}
		if i >= 2 && iv.start.Before(log.ivs[i-2].start) {
			t.Errorf("interval report %d starts at %v, before the previous round's %v", i, iv.start, log.ivs[i-2].start)
		}
	}
	if len(res.Faults) != 1 {
		t.Fatalf("faults %+v, want the one marked", res.Faults)
	}
	for i, ft := range res.Faults[0].Targets {
		if ft.Name != cfg.Targets[i].Name || ft.Streams != want[ft.Name] || ft.Recovered != want[ft.Name] || ft.RecoveryUS < 0 {
			t.Errorf("fault on %s: %+v; want all %d streams alive and recovered", cfg.Targets[i].Name, ft, want[cfg.Targets[i].Name])
		}
	}
	s := g.Snapshot()
	if s.Requested != 12 || s.Established != 12 || s.Events == 0 {
		t.Errorf("snapshot %+v: want 12 requested and established, events counted", s)
	}
}

// TestGeneratorStopsChildrenOnCancel cancels a run that would hold its
// streams for an hour: every child gets stop, sends its partial result,
// and the merged result is marked interrupted with every stream in it.
func TestGeneratorStopsChildrenOnCancel(t *testing.T) {
	url := startOrigin(t, 50*time.Millisecond, 0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := baseConfig(url)
	cfg.Hold, cfg.MaxDuration = time.Hour, 0
	cfg.OnInterval = func(r loadgen.IntervalReport) {
		if r.Targets[1].Established == 5 {
			cancel()
		}
	}
	kids := &children{}
	g, err := New(ctx, Options{Config: cfg, Procs: 2, Command: kids.command})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var res *loadgen.Result
	go func() {
		defer close(done)
		res, err = g.Run(ctx)
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("Run did not return within a minute of the cancel")
	}
	if err != nil {
		t.Fatal(err)
	}
	kids.reaped(t)
	if !res.Interrupted {
		t.Error("result not marked interrupted")
	}
	if res.Targets[0].Established != 7 || res.Targets[1].Established != 5 {
		t.Errorf("established %d and %d, want 7 and 5", res.Targets[0].Established, res.Targets[1].Established)
	}
}

// TestGeneratorChildDies: one child crashes after its first interval. Run
// names it, stops the others and still returns what they measured.
func TestGeneratorChildDies(t *testing.T) {
	url := startOrigin(t, 50*time.Millisecond, 0)
	cfg := baseConfig(url)
	cfg.Hold, cfg.MaxDuration = time.Hour, 0
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	kids := &children{modes: map[int]string{1: "die-after-interval"}}
	g, err := New(ctx, Options{Config: cfg, Procs: 3, Command: kids.command})
	if err != nil {
		t.Fatal(err)
	}
	res, err := g.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "generator process 1 (pid ") || !strings.Contains(err.Error(), "exited before sending its result: exit status 3") {
		t.Fatalf("Run error %v: want one naming generator process 1 and its exit", err)
	}
	if ctx.Err() != nil {
		t.Fatal("Run only returned when the test's deadline passed")
	}
	kids.reaped(t)
	if res == nil {
		t.Fatal("no result: the other children's measurements are lost")
	}
	// Children 0 and 2 hold 3+2 and 2+1 of the 7+5 streams.
	if a, b := res.Targets[0], res.Targets[1]; a.Requested != 7 || a.Established != 5 || b.Requested != 5 || b.Established != 3 {
		t.Errorf("a %d/%d, b %d/%d established/requested; want 5/7 and 3/5 from the surviving children", a.Established, a.Requested, b.Established, b.Requested)
	}
	if res.Harness.Reliable || !strings.Contains(res.Harness.Note, "generator process 1") {
		t.Errorf("harness %+v: want unreliable, naming the failed child", res.Harness)
	}
}

// TestGeneratorChildGarbage: a child that writes something other than the
// protocol is named, killed, and the other child's result still returned.
func TestGeneratorChildGarbage(t *testing.T) {
	url := startOrigin(t, 50*time.Millisecond, 0)
	cfg := baseConfig(url)
	cfg.Hold, cfg.MaxDuration = time.Hour, 0
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	kids := &children{modes: map[int]string{0: "garbage"}}
	g, err := New(ctx, Options{Config: cfg, Procs: 2, Command: kids.command})
	if err != nil {
		t.Fatal(err)
	}
	res, err := g.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "generator process 0 (pid ") || !strings.Contains(err.Error(), "not a protocol message") {
		t.Fatalf("Run error %v: want one naming generator process 0 and the bad message", err)
	}
	kids.reaped(t)
	if res == nil || res.Targets[0].Established != 3 || res.Targets[1].Established != 2 {
		t.Fatalf("result %+v: want child 1's 3+2 streams", res)
	}
}

// TestGeneratorRefusesOtherVersion: a child speaking another protocol
// version is refused before anything starts.
func TestGeneratorRefusesOtherVersion(t *testing.T) {
	url := startOrigin(t, 50*time.Millisecond, 0)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	kids := &children{modes: map[int]string{1: "old-version"}}
	g, err := New(ctx, Options{Config: baseConfig(url), Procs: 2, Command: kids.command})
	if err != nil {
		t.Fatal(err)
	}
	res, err := g.Run(ctx)
	want := fmt.Sprintf("speaks worker protocol version %d, this sseload speaks version %d", Version+1, Version)
	if res != nil || err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "generator process 1") {
		t.Fatalf("Run = %v, %v; want no result and an error naming child 1 and %q", res, err, want)
	}
	kids.reaped(t)
	if g.kids != nil {
		t.Error("children were given their start despite the refusal")
	}
}

// TestGeneratorStartFailure: a command that cannot start is an error
// naming the child; the children already started are reaped.
func TestGeneratorStartFailure(t *testing.T) {
	url := startOrigin(t, 50*time.Millisecond, 0)
	kids := &children{}
	cmd := func(i int) *exec.Cmd {
		if i == 1 {
			return exec.Command("/nonexistent/sseload", "worker")
		}
		return kids.command(i)
	}
	g, err := New(context.Background(), Options{Config: baseConfig(url), Procs: 2, Command: cmd})
	if err != nil {
		t.Fatal(err)
	}
	_, err = g.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "start generator process 1") {
		t.Fatalf("Run error %v, want one naming generator process 1", err)
	}
	kids.reaped(t)
}

func TestNewValidates(t *testing.T) {
	cfg := baseConfig("http://127.0.0.1:1/events")
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{Config: cfg, Procs: 0, Command: (&children{}).command}, "at least 1"},
		{Options{Config: cfg, Procs: 2}, "no command"},
		{Options{Config: loadgen.Config{Connections: 1, Ramp: 1}, Procs: 2, Command: (&children{}).command}, "no targets"},
		{Options{Config: cfg, Procs: 2, Command: (&children{}).command, TargetURL: func(i int, t loadgen.Target) string {
			if i == 1 {
				return "ftp://x/"
			}
			return ""
		}}, "generator process 1"},
	} {
		if _, err := New(context.Background(), tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v) = %v, want an error containing %q", tc.opts.Procs, err, tc.want)
		}
	}
	// A target with 2 connections cannot be split 5 ways.
	cfg.Targets[1].Connections = 2
	g, err := New(context.Background(), Options{Config: cfg, Procs: 5, Command: (&children{}).command})
	if err != nil || g.Procs() != 2 {
		t.Errorf("New with a 2-connection target and 5 procs: %v procs, %v; want 2", g, err)
	}
}

// TestServeStopsAtEndOfInput runs the child side in this process: the
// parent's input ending (it died or closed the pipe) stops the engine,
// which still sends its partial result.
func TestServeStopsAtEndOfInput(t *testing.T) {
	url := startOrigin(t, 50*time.Millisecond, 0)
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	served := make(chan error, 1)
	go func() {
		served <- Serve(context.Background(), inR, outW)
		outW.Close()
	}()
	r := newReader(outR)
	hello, err := r.next()
	if err != nil || hello.Type != TypeHello || hello.Version != Version || hello.PID != os.Getpid() {
		t.Fatalf("first message %+v, %v: want hello", hello, err)
	}
	cfg := baseConfig(url)
	cfg.Hold, cfg.MaxDuration = time.Hour, 0
	w := newWriter(inW)
	if err := w.send(Message{Type: TypeStart, Version: Version, Index: 0, Count: 1, Config: &cfg}); err != nil {
		t.Fatal(err)
	}
	var sawInterval bool
	for {
		m, err := r.next()
		if err != nil {
			t.Fatalf("reading the child's messages: %v", err)
		}
		if m.Type == TypeInterval && !sawInterval {
			sawInterval = true
			if m.Interval.Seq != 0 || len(m.Interval.Targets) != 2 || m.Interval.Snapshot.Requested != 12 {
				t.Errorf("first interval %+v: want seq 0, both targets, snapshot of 12 requested", m.Interval)
			}
			inW.Close()
		}
		if m.Type == TypeResult {
			res, err := m.Result.Decode()
			if err != nil {
				t.Fatal(err)
			}
			if !res.Interrupted || res.Targets[0].Established+res.Targets[1].Established != 12 {
				t.Errorf("result interrupted %v, established %d+%d: want interrupted with all 12", res.Interrupted, res.Targets[0].Established, res.Targets[1].Established)
			}
			break
		}
	}
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
}

// TestServeRefusesOtherVersion: the child refuses a start message of
// another protocol version, in an error message and its return value.
func TestServeRefusesOtherVersion(t *testing.T) {
	in := strings.NewReader(fmt.Sprintf(`{"type":"start","version":%d,"config":{}}`+"\n", Version+1))
	var out strings.Builder
	err := Serve(context.Background(), in, &out)
	want := fmt.Sprintf("the parent speaks worker protocol version %d, this sseload speaks version %d", Version+1, Version)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Serve = %v, want %q", err, want)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"type":"hello"`) || !strings.Contains(lines[1], `"type":"error"`) || !strings.Contains(lines[1], want) {
		t.Errorf("output %q: want hello, then an error message saying %q", out.String(), want)
	}
	if errors.Is(err, io.EOF) {
		t.Error("version refusal reported as end of input")
	}
}
