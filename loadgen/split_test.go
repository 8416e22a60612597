package loadgen

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestEngineSplitsLatencyAtTheWriteTime serves, on every stream, events
// whose scheduled and write times are set relative to the moment they are
// written, so that the origin delay is known exactly and the path latency
// has a known floor:
//
//  1. sched 80 ms ago, sent 30 ms ago: origin delay 50 ms, path ≥ 30 ms;
//  2. no "sent": timed, not split;
//  3. sent 10 s ahead of our clock: clock-skewed, not timed at all;
//  4. sent 5 ms before sched: origin delay clamped to 1 µs, path ≥ 35 ms.
//
// Without a sent field the same events are timed and never split, and
// event 3 is not skewed (its publish time is in the past).
func TestEngineSplitsLatencyAtTheWriteTime(t *testing.T) {
	const conns = 10
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go serveRaw(ln, func(c net.Conn) {
		now := time.Now()
		ms := func(d int) int64 { return now.Add(time.Duration(d) * time.Millisecond).UnixNano() }
		fmt.Fprint(c, "HTTP/1.0 200 OK\r\nContent-Type: text/event-stream\r\n\r\n")
		fmt.Fprintf(c, "data: {\"seq\":1,\"sched\":%d,\"sent\":%d}\n\n", ms(-80), ms(-30))
		fmt.Fprintf(c, "data: {\"seq\":2,\"sched\":%d}\n\n", ms(-80))
		fmt.Fprintf(c, "data: {\"seq\":3,\"sched\":%d,\"sent\":%d}\n\n", ms(-80), ms(10_000))
		fmt.Fprintf(c, "data: {\"seq\":4,\"sched\":%d,\"sent\":%d}\n\n", ms(-30), ms(-35))
	})
	url := "http://" + ln.Addr().String() + "/events"

	t.Run("split", func(t *testing.T) {
		var ivOrigin, ivPath atomic.Int64
		res := runEngine(t, context.Background(), Config{
			Targets:     []Target{{Name: "a", URL: url}},
			Connections: conns,
			SentField:   "sent",
			OnInterval: func(r IntervalReport) {
				ivOrigin.Add(r.Targets[0].Hist[OriginDelay].TotalCount())
				ivPath.Add(r.Targets[0].Hist[PathLatency].TotalCount())
			},
		})
		tr := res.Targets[0]
		if tr.EventsReceived != 4*conns || tr.EventsTimed != 3*conns || tr.ClockSkewed != conns {
			t.Fatalf("events %d timed %d skewed %d (errors %v); want %d, %d, %d",
				tr.EventsReceived, tr.EventsTimed, tr.ClockSkewed, tr.Errors, 4*conns, 3*conns, conns)
		}
		lat, od, pl := tr.Hist[Latency], tr.Hist[OriginDelay], tr.Hist[PathLatency]
		if lat.TotalCount() != 3*conns || od.TotalCount() != 2*conns || pl.TotalCount() != 2*conns {
			t.Fatalf("counts: latency %d origin delay %d path latency %d; want %d, %d, %d",
				lat.TotalCount(), od.TotalCount(), pl.TotalCount(), 3*conns, 2*conns, 2*conns)
		}
		if ivOrigin.Load() != 2*conns || ivPath.Load() != 2*conns {
			t.Errorf("intervals carried %d origin delays and %d path latencies, want %d each", ivOrigin.Load(), ivPath.Load(), 2*conns)
		}
		// Event 1's origin delay is exactly 50 ms (sent − sched, both
		// written by the server); event 4's is negative, clamped to 1 µs.
		if od.Min() != HistMinUS || !od.ValuesAreEquivalent(od.Max(), 50_000) {
			t.Errorf("origin delay min %d max %d µs, want %d and 50000", od.Min(), od.Max(), HistMinUS)
		}
		// Receipt follows the write: path latency is at least how long
		// before the write the server set "sent".
		if pl.Min() < 30_000 || lat.Min() < 30_000 {
			t.Errorf("path latency min %d µs, latency min %d µs; want >= 30000 each", pl.Min(), lat.Min())
		}
		if res.Harness.Reliable || !strings.Contains(res.Harness.Note, "a: 10 events arrived before their publish time") {
			t.Errorf("harness reliable %v note %q: want the clock-skewed events named", res.Harness.Reliable, res.Harness.Note)
		}
	})

	t.Run("no sent field", func(t *testing.T) {
		res := runEngine(t, context.Background(), Config{
			Targets:     []Target{{Name: "a", URL: url}},
			Connections: conns,
		})
		tr := res.Targets[0]
		if tr.EventsTimed != 4*conns || tr.ClockSkewed != 0 || tr.Hist[Latency].TotalCount() != 4*conns {
			t.Errorf("timed %d skewed %d latency count %d (errors %v); want %d, 0, %d",
				tr.EventsTimed, tr.ClockSkewed, tr.Hist[Latency].TotalCount(), tr.Errors, 4*conns, 4*conns)
		}
		if n, m := tr.Hist[OriginDelay].TotalCount(), tr.Hist[PathLatency].TotalCount(); n != 0 || m != 0 {
			t.Errorf("origin delay %d, path latency %d samples without a sent field; want none", n, m)
		}
	})
}

func TestSentFieldNeedsATimestampField(t *testing.T) {
	target := []Target{{Name: "a", URL: "http://127.0.0.1:1/"}}
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Targets: target, Connections: 1, Ramp: 1, SentField: "sent"}, `sent field "sent" without a timestamp field`},
		{Config{Targets: target, Connections: 1, Ramp: 1, TimestampField: "sched", SentField: "a..b"}, "sent field"},
	} {
		if _, err := New(context.Background(), tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v) = %v, want error containing %q", tc.cfg, err, tc.want)
		}
	}
}
