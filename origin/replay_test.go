package origin

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

// transports are the two ways a broadcast stream is served: hijacked by the
// fan-out (HTTP/1.1) and from its handler (HTTP/2, which cannot be
// hijacked).
var transports = []struct {
	name  string
	start func(testing.TB, Config) (*Server, *httptest.Server)
	proto int // the response's ProtoMajor, to be sure of the path taken
}{
	{"http1", newTestServer, 1},
	{"http2", newH2Server, 2},
}

// newH2Server serves s over TLS with HTTP/2; ts.Client() speaks it.
func newH2Server(t testing.TB, cfg Config) (*Server, *httptest.Server) {
	t.Helper()
	s := mustNew(t, cfg)
	ts := httptest.NewUnstartedServer(s)
	ts.EnableHTTP2 = true
	ts.StartTLS()
	t.Cleanup(ts.Close)
	return s, ts
}

// resumeGet opens GET /events with "Last-Event-ID: id" (none for "") and
// returns the response whatever its status.
func resumeGet(t testing.TB, ctx context.Context, ts *httptest.Server, id string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+"/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	if id != "" {
		req.Header.Set("Last-Event-ID", id)
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatalf("GET /events (Last-Event-ID %q): %v", id, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// resume is resumeGet for a stream that must be a 200, read for at most
// testDeadline.
func resume(t testing.TB, ts *httptest.Server, id string, proto int) *sseReader {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), testDeadline)
	t.Cleanup(cancel)
	resp := resumeGet(t, ctx, ts, id)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /events (Last-Event-ID %q): %s, want 200", id, resp.Status)
	}
	if resp.ProtoMajor != proto {
		t.Fatalf("response over HTTP/%d, want HTTP/%d", resp.ProtoMajor, proto)
	}
	return newSSEReader(resp.Body)
}

// readSeqs reads events until one satisfies stop (inclusive), checking that
// they are from, from+1, … without gap or duplicate, each with its
// scheduled time on the broadcast schedule (epoch, iv). It returns them.
func readSeqs(t *testing.T, r *sseReader, from int64, epoch time.Time, iv time.Duration, stop func(event) bool) []event {
	t.Helper()
	var evs []event
	for want := from; ; want++ {
		ev := mustNext(t, r)
		if ev.Seq != want {
			t.Fatalf("seq %d, want %d (a gap or a duplicate)", ev.Seq, want)
		}
		if s := epoch.UnixNano() + ev.Seq*int64(iv); ev.Sched != s {
			t.Fatalf("seq %d: sched %d, want epoch + seq×interval = %d", ev.Seq, ev.Sched, s)
		}
		evs = append(evs, ev)
		if stop(ev) {
			return evs
		}
	}
}

// TestBroadcastReplay: Last-Event-ID n starts the stream at n+1, sends every
// due publish from there at once and continues live, with no gap or
// duplicate at the seam.
func TestBroadcastReplay(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			const iv = 5 * time.Millisecond
			epoch := time.Now().Add(-100 * iv)
			_, ts := tr.start(t, Config{Mode: Broadcast, Interval: iv, Epoch: epoch})
			// Five publishes ago (or more, by the time the request arrives).
			n := int64(time.Since(epoch)/iv) - 5
			start := time.Now()
			r := resume(t, ts, strconv.FormatInt(n, 10), tr.proto)
			// Until an event scheduled after the request started: that one
			// was published live.
			readSeqs(t, r, n+1, epoch, iv, func(ev event) bool { return ev.Sched > start.UnixNano() })
		})
	}
}

// TestBroadcastReplayIgnored: a Last-Event-ID that is not a non-negative
// decimal integer, or that is not behind the schedule, is a live join: the
// first event is the first publish scheduled after the request.
func TestBroadcastReplayIgnored(t *testing.T) {
	const iv = 5 * time.Millisecond
	epoch := time.Now().Add(-100 * iv)
	_, ts := newTestServer(t, Config{Mode: Broadcast, Interval: iv, Epoch: epoch})
	for _, id := range []string{"x", "-3", "+3", "3.0", "0x10", "1e3", "99999999999999999999", "4000000000000"} {
		t.Run(id, func(t *testing.T) {
			start := time.Now()
			ev := mustNext(t, resume(t, ts, id, 1))
			if ev.Sched <= start.UnixNano() {
				t.Errorf("Last-Event-ID %q: first seq %d, scheduled before the request: replayed, want a live join", id, ev.Seq)
			}
		})
	}
}

// TestBroadcastReplayAfterRestart: an origin process started afresh with the
// same Epoch (a restart after SIGKILL: no state at all) replays exactly the
// events the first one published, and continues live.
func TestBroadcastReplayAfterRestart(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			const iv, pad = 5 * time.Millisecond, 16
			epoch := time.Now().Add(-50 * iv)
			cfg := Config{Mode: Broadcast, Interval: iv, Payload: pad, Epoch: epoch}

			ctx, cancel := context.WithCancel(t.Context())
			_, first := tr.start(t, cfg)
			resp := resumeGet(t, ctx, first, "")
			r := newSSEReader(resp.Body)
			var seen []event
			for range 5 {
				seen = append(seen, mustNext(t, r))
			}
			cancel()
			first.Close()

			_, second := tr.start(t, cfg)
			start := time.Now()
			r = resume(t, second, strconv.FormatInt(seen[0].Seq-1, 10), tr.proto)
			evs := readSeqs(t, r, seen[0].Seq, epoch, iv, func(ev event) bool {
				return ev.Seq >= seen[len(seen)-1].Seq && ev.Sched > start.UnixNano()
			})
			for i, want := range seen {
				if got := evs[i]; got.Seq != want.Seq || got.Sched != want.Sched || got.Pad != want.Pad {
					t.Errorf("restarted origin's seq %d: %+v, the first origin sent %+v", want.Seq, got, want)
				}
			}
		})
	}
}

// TestBroadcastReplayBound: a client resuming from further back than
// maxReplay publishes is sent the latest maxReplay, contiguous, ending at
// the latest due publish. The schedule is an hour per publish with the
// next one half an hour away, so the latest due publish is known exactly.
func TestBroadcastReplayBound(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			const iv = time.Hour
			const latest = maxReplay + 50
			epoch := time.Now().Add(-latest*iv - iv/2)
			_, ts := tr.start(t, Config{Mode: Broadcast, Interval: iv, Epoch: epoch})
			for _, id := range []int64{0, 5, latest - maxReplay - 1} {
				r := resume(t, ts, strconv.FormatInt(id, 10), tr.proto)
				evs := readSeqs(t, r, latest-maxReplay+1, epoch, iv, func(ev event) bool { return ev.Seq == latest })
				if len(evs) != maxReplay {
					t.Errorf("Last-Event-ID %d: %d events replayed, want %d", id, len(evs), maxReplay)
				}
			}
			// Within the bound: exactly what was missed.
			r := resume(t, ts, strconv.FormatInt(latest-3, 10), tr.proto)
			readSeqs(t, r, latest-2, epoch, iv, func(ev event) bool { return ev.Seq == latest })
		})
	}
}

// TestBroadcastReplayBounded: a bounded broadcast that is over answers 204
// to a client that has had every publish (or says nothing), and sends one
// that missed the end the rest, then ends the stream. The origin is fresh:
// its hub never ran.
func TestBroadcastReplayBounded(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			const n, iv = 3, time.Millisecond
			epoch := time.Now().Add(-time.Hour)
			_, ts := tr.start(t, Config{Mode: Broadcast, Interval: iv, Events: n, Epoch: epoch})
			for _, id := range []string{"", "3", "4", "junk"} {
				resp := resumeGet(t, t.Context(), ts, id)
				if resp.StatusCode != http.StatusNoContent {
					t.Errorf("Last-Event-ID %q after the final publish: %s, want 204", id, resp.Status)
				}
			}
			r := resume(t, ts, "1", tr.proto)
			readSeqs(t, r, 2, epoch, iv, func(ev event) bool { return ev.Seq == n })
			if ev, err := r.next(); err != io.EOF {
				t.Errorf("after the final publish: %+v, %v; want the end of the stream", ev, err)
			}
		})
	}
}

// TestPerConnectionResume: Last-Event-ID n continues a per-connection
// stream with events n+1..Events, one Interval apart from the new request's
// start, and answers 204 once n >= Events.
func TestPerConnectionResume(t *testing.T) {
	const events, iv = 5, 5 * time.Millisecond
	_, ts := newTestServer(t, Config{Mode: PerConnection, Interval: iv, Events: events})
	for _, tc := range []struct {
		id   string
		want string // the seqs, or "204"
	}{
		{"2", "[3 4 5]"},
		{"0", "[1 2 3 4 5]"},
		{"4", "[5]"},
		{"junk", "[1 2 3 4 5]"},
		{"-1", "[1 2 3 4 5]"},
		{"5", "204"},
		{"9", "204"},
		{"99999999999999999999", "[1 2 3 4 5]"}, // not an int64: ignored
	} {
		t.Run(tc.id, func(t *testing.T) {
			before := time.Now().UnixNano()
			resp := resumeGet(t, t.Context(), ts, tc.id)
			if tc.want == "204" {
				if resp.StatusCode != http.StatusNoContent {
					t.Errorf("status %s, want 204", resp.Status)
				}
				return
			}
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %s, want 200", resp.Status)
			}
			r := newSSEReader(resp.Body)
			evs := r.rest(t)
			seqs := seqsOf(evs)
			if got := fmt.Sprint(seqs); got != tc.want {
				t.Fatalf("seqs %s, want %s", got, tc.want)
			}
			for i := 1; i < len(evs); i++ {
				if d := evs[i].Sched - evs[i-1].Sched; d != int64(iv) {
					t.Errorf("seq %d: sched step %d ns, want %d", evs[i].Seq, d, int64(iv))
				}
			}
			if t0 := evs[0].Sched - int64(iv); t0 < before {
				t.Errorf("first event seq %d scheduled at %d, less than one interval after the request (%d)", evs[0].Seq, evs[0].Sched, before)
			}
		})
	}
}

// TestReplayBypassesShards: a long replay is written by catchUp, in pieces,
// and never built by a shard, whose frames every subscriber of the shard
// shares. The origin is fresh (as after a restart), so its hub publishes
// the whole due range at its first tick: a replaying stream handed to a
// shard would have the shard build all maxReplay events.
func TestReplayBypassesShards(t *testing.T) {
	const iv = time.Hour
	const latest = maxReplay + 50
	epoch := time.Now().Add(-latest*iv - iv/2)
	s := mustNew(t, Config{Mode: Broadcast, Interval: iv, Epoch: epoch})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()
	rctx, rcancel := context.WithTimeout(ctx, testDeadline)
	defer rcancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, "http://"+ln.Addr().String()+"/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Last-Event-ID", "0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	readSeqs(t, newSSEReader(resp.Body), latest-maxReplay+1, epoch, iv, func(ev event) bool { return ev.Seq == latest })
	cancel()
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	for i, sh := range s.shards {
		waitFor(t, "the shard to stop", func() bool {
			sh.mu.Lock()
			defer sh.mu.Unlock()
			return !sh.running
		})
		sh.mu.Lock() // orders the shard goroutine's last writes before these reads
		built := cap(sh.frames[0]) + cap(sh.frames[1])
		sh.mu.Unlock()
		if built > catchUpBytes {
			t.Errorf("shard %d built %d bytes of frames for a replay", i, built)
		}
	}
}
