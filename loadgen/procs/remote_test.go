package procs

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sseload/sseload/internal/testenv"
	"github.com/sseload/sseload/loadgen"
	"github.com/sseload/sseload/origin"
)

const testToken = "s3cret-test-token"

// workerLog collects a worker's log lines.
type workerLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *workerLog) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *workerLog) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// startWorker serves the worker protocol on a loopback port, as `sseload
// worker --listen 127.0.0.1:0 --token T` does, until the test ends.
func startWorker(t *testing.T, token string) (string, *workerLog) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	log := &workerLog{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ServeListener(ctx, ln, token, log.logf) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("worker: %v", err)
		}
	})
	return ln.Addr().String(), log
}

// runRemote runs cfg over the workers and returns the result.
func runRemote(t *testing.T, cfg loadgen.Config, opts Options) (*loadgen.Result, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	opts.Config = cfg
	g, err := New(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	return g.Run(ctx)
}

// TestRemoteWorkersMerge runs a two-target plan on two remote workers over
// TCP against a real origin: every stream established, the merged counts
// the sum of the workers', workers[] filled, the clock offset measured
// against the origin's /time, and each worker serving again afterwards.
func TestRemoteWorkersMerge(t *testing.T) {
	w1, log1 := startWorker(t, testToken)
	w2, _ := startWorker(t, testToken)
	for run := range 2 { // the workers stay up between runs
		addr := testenv.ServeOrigin(t, origin.Config{Mode: origin.Broadcast, Interval: 100 * time.Millisecond, Events: 15})
		cfg := baseConfig("http://" + addr + "/events")
		var log intervalLog
		cfg.OnInterval = log.add
		res, err := runRemote(t, cfg, Options{Workers: []string{w1, w2}, Token: testToken, TimeURL: "http://" + addr + "/time"})
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		if len(res.Workers) != 2 {
			t.Fatalf("workers %+v, want 2", res.Workers)
		}
		var est, streams int64
		for i, w := range res.Workers {
			// (Reliable also carries the worker's own harness verdict,
			// which a busy test machine may spoil.)
			if w.Address != []string{w1, w2}[i] || w.Error != "" || w.ClockError != "" {
				t.Errorf("worker %d: %+v", i, w)
			}
			// One machine, one clock: the true offset is 0, and the
			// estimate is wrong by at most its uncertainty (plus the
			// µs rounding of both).
			if w.ClockOffsetUS > w.ClockUncertaintyUS+2 || -w.ClockOffsetUS > w.ClockUncertaintyUS+2 {
				t.Errorf("worker %d: offset %d µs ± %d µs on one machine, want 0 within the uncertainty", i, w.ClockOffsetUS, w.ClockUncertaintyUS)
			}
			// Each reports its capacity (here, this process's).
			if local := LocalCapacity(); w.CapacityStreams != int64(local.Streams) || w.FileLimit != int64(local.FileLimit) || w.CPUs != local.CPUs {
				t.Errorf("worker %d: capacity %d streams, file limit %d, %d CPUs; want this process's %+v", i, w.CapacityStreams, w.FileLimit, w.CPUs, *local)
			}
			est += w.Established
			streams += w.Streams
		}
		var total int64
		for _, tr := range res.Targets {
			total += tr.Established
			if tr.Delivery.Lost != 0 || tr.Hist[loadgen.Latency].TotalCount() != tr.EventsReceived {
				t.Errorf("%s: lost %d, timed %d of %d", tr.Name, tr.Delivery.Lost, tr.Hist[loadgen.Latency].TotalCount(), tr.EventsReceived)
			}
		}
		if total != 12 || est != total || streams != 12 {
			t.Errorf("run %d: merged established %d, workers' sum %d, streams %d: want 12 each", run, total, est, streams)
		}
		// The live intervals, merged by value, add up to the result.
		var events int64
		for _, r := range log.ivs {
			events += r.counts[loadgen.Latency]
		}
		if want := res.Targets[0].EventsTimed + res.Targets[1].EventsTimed; events != want {
			t.Errorf("run %d: intervals timed %d events, the result %d", run, events, want)
		}
	}
	if !strings.Contains(log1.text(), "done") {
		t.Errorf("worker log %q: want a line per run", log1.text())
	}
}

// TestRemoteClockSkew: against an origin whose clock is 250 ms ahead, each
// worker measures an offset of −250 ms within its uncertainty and corrects
// its receipt times, so latency stays small; without the correction every
// event seems to arrive before it was published. Against an origin 250 ms
// behind, without the correction every latency grows by 250 ms: the check
// can fail.
func TestRemoteClockSkew(t *testing.T) {
	const skew = 250 * time.Millisecond
	w1, _ := startWorker(t, testToken)
	w2, _ := startWorker(t, testToken)
	run := func(skew time.Duration, correct bool) *loadgen.Result {
		addr := testenv.ServeOrigin(t, origin.Config{Mode: origin.Broadcast, Interval: 100 * time.Millisecond, Events: 10, ClockSkew: skew})
		cfg := baseConfig("http://" + addr + "/events")
		res, err := runRemote(t, cfg, Options{Workers: []string{w1, w2}, Token: testToken, TimeURL: "http://" + addr + "/time", NoClockCorrection: !correct})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	p50 := func(res *loadgen.Result) time.Duration {
		h := loadgen.NewHistogram()
		for _, tr := range res.Targets {
			h.Merge(tr.Hist[loadgen.Latency])
		}
		return time.Duration(h.ValueAtQuantile(50)) * time.Microsecond
	}

	ahead := run(skew, true)
	for i, w := range ahead.Workers {
		if d := w.ClockOffsetUS + skew.Microseconds(); d > w.ClockUncertaintyUS+2 || -d > w.ClockUncertaintyUS+2 {
			t.Errorf("worker %d: offset %d µs ± %d µs, want −%d µs within the uncertainty", i, w.ClockOffsetUS, w.ClockUncertaintyUS, skew.Microseconds())
		}
	}
	if p := p50(ahead); p >= skew/2 || ahead.Targets[0].ClockSkewed != 0 {
		t.Errorf("corrected: p50 %s, %d events before their publish; want the skew removed", p, ahead.Targets[0].ClockSkewed)
	}

	uncorrected := run(skew, false)
	if uncorrected.Targets[0].ClockSkewed == 0 {
		t.Error("uncorrected, origin ahead: no event counted as arriving before its publish time")
	}

	behind := run(-skew, false)
	if p := p50(behind); p < skew/2 {
		t.Errorf("uncorrected, origin behind: p50 %s, want it grown by about %s", p, skew)
	}
}

// TestCheckListen: a worker refuses a non-loopback address without a token.
func TestCheckListen(t *testing.T) {
	for _, tc := range []struct {
		addr, token string
		ok          bool
	}{
		{"127.0.0.1:0", "", true},
		{"[::1]:7000", "", true},
		{"localhost:7000", "", true},
		{"0.0.0.0:7000", "", false},
		{":7000", "", false},
		{"10.1.2.3:7000", "", false},
		{"0.0.0.0:7000", "t", true},
	} {
		err := CheckListen(tc.addr, tc.token)
		if (err == nil) != tc.ok {
			t.Errorf("CheckListen(%q, %q) = %v, want ok %v", tc.addr, tc.token, err, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "token") {
			t.Errorf("CheckListen(%q): %v does not name the token", tc.addr, err)
		}
	}
}

// TestRemoteWrongToken: a coordinator with the wrong token is refused
// before anything runs (no stream reaches the origin), the worker logs it
// without the token, and serves the right one afterwards.
func TestRemoteWrongToken(t *testing.T) {
	srv, err := origin.New(origin.Config{Mode: origin.Broadcast, Interval: 100 * time.Millisecond, Events: 5})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	defer func() { cancel(); <-served }()
	w, log := startWorker(t, testToken)
	cfg := baseConfig("http://" + ln.Addr().String() + "/events")
	cfg.Targets = cfg.Targets[:1]
	res, err := runRemote(t, cfg, Options{Workers: []string{w}, Token: "wrong-guess"})
	if err == nil || res != nil || !strings.Contains(err.Error(), "wrong token") {
		t.Fatalf("wrong token: result %v, error %v; want refused, naming the wrong token", res, err)
	}
	if n := srv.Subscribers(); n != 0 {
		t.Errorf("%d streams reached the origin after a refused token", n)
	}
	if l := log.text(); !strings.Contains(l, "wrong token") || strings.Contains(l, "wrong-guess") || strings.Contains(l, testToken) {
		t.Errorf("worker log %q: want the refusal, never a token", l)
	}
	if _, err := runRemote(t, cfg, Options{Workers: []string{w}, Token: testToken}); err != nil {
		t.Fatalf("right token after a wrong one: %v", err)
	}
}

// TestRemoteGarbage: connections that send garbage, an oversized line,
// another protocol version, or garbage after a good auth are closed with
// a log line each, and the worker then serves a real run.
func TestRemoteGarbage(t *testing.T) {
	w, log := startWorker(t, testToken)
	auth := func(v int, tok string) string {
		return fmt.Sprintf(`{"type":"auth","version":%d,"token":%q}`+"\n", v, tok)
	}
	for _, tc := range []struct{ name, send, logs string }{
		{"garbage", "\x00\xff not json at all\n", "not a protocol message"},
		{"oversized", strings.Repeat("x", maxAuthLine+10), "longer than"},
		{"not auth", `{"type":"start","version":1}` + "\n", "want \"auth\""},
		{"old version", auth(Version+1, testToken), "protocol version"},
		{"garbage after auth", auth(Version, testToken) + "{{{{\n", "not a protocol message"},
		{"oversized after auth", auth(Version, testToken) + strings.Repeat("y", maxControlLine+10) + "\n", "too long"},
	} {
		conn, err := net.Dial("tcp", w)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Write([]byte(tc.send)); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		// The worker closes the connection: reading ends.
		_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		sc := bufio.NewScanner(conn)
		for sc.Scan() {
		}
		if err := sc.Err(); err != nil && strings.Contains(err.Error(), "timeout") {
			t.Errorf("%s: the worker did not close the connection", tc.name)
		}
		conn.Close()
		waitFor(t, func() bool { return strings.Contains(log.text(), tc.logs) }, tc.name+": log line "+tc.logs)
	}
	addr := testenv.ServeOrigin(t, origin.Config{Mode: origin.Broadcast, Interval: 100 * time.Millisecond, Events: 5})
	cfg := baseConfig("http://" + addr + "/events")
	if _, err := runRemote(t, cfg, Options{Workers: []string{w}, Token: testToken}); err != nil {
		t.Fatalf("a run after the garbage: %v", err)
	}
}

// waitFor polls cond (the worker's log is written by its own goroutine,
// after the connection closes; there is no other signal to wait on).
func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRemoteWorkerDisconnects: a worker that accepts its share and hangs
// up once the run is under way is named in the error and in workers[];
// the other worker's streams are kept and the run is marked unreliable.
func TestRemoteWorkerDisconnects(t *testing.T) {
	srv, err := origin.New(origin.Config{Mode: origin.Broadcast, Interval: 100 * time.Millisecond, Events: 30})
	if err != nil {
		t.Fatal(err)
	}
	oln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	octx, ocancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(octx, oln) }()
	defer func() { ocancel(); <-served }()
	addr := oln.Addr().String()
	good, _ := startWorker(t, testToken)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		r := bufio.NewReader(conn)
		if _, err := r.ReadString('\n'); err != nil { // auth
			return
		}
		fmt.Fprintf(conn, `{"type":"hello","version":%d}`+"\n", Version)
		if _, err := r.ReadString('\n'); err != nil { // start
			return
		}
		// Hang up once the good worker's streams are open (the origin's
		// count is the only signal there is).
		for deadline := time.Now().Add(30 * time.Second); srv.Subscribers() == 0 && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
	}()
	bad := ln.Addr().String()
	cfg := baseConfig("http://" + addr + "/events")
	res, err := runRemote(t, cfg, Options{Workers: []string{good, bad}, Token: testToken})
	if err == nil || !strings.Contains(err.Error(), "worker "+bad+" disconnected") {
		t.Fatalf("error %v; want one naming worker %s as disconnected", err, bad)
	}
	if res == nil {
		t.Fatal("no result: the good worker's streams are lost")
	}
	if res.Harness.Reliable || len(res.Workers) != 2 || res.Workers[1].Error == "" || res.Workers[1].Reliable || res.Workers[0].Error != "" {
		t.Errorf("harness reliable %v, workers %+v; want unreliable, the bad worker named", res.Harness.Reliable, res.Workers)
	}
	var est int64
	for _, tr := range res.Targets {
		est += tr.Established
	}
	if est != res.Workers[0].Established || est == 0 {
		t.Errorf("established %d, the good worker's %d: want its streams kept", est, res.Workers[0].Established)
	}
}
