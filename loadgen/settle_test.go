package loadgen

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// TestHoldEndsAfterThePublishInFlight: a broadcast origin whose publishes
// take 200 ms to reach its ten streams (stream j gets publish k at
// k×600 ms + j×20 ms), and a hold that ends 50 ms into the fan-out of
// publish 3. Stopping then would charge the seven streams still waiting
// for it with a lost event; the engine settles first and loses nothing.
func TestHoldEndsAfterThePublishInFlight(t *testing.T) {
	for _, tc := range []struct {
		name          string
		every, spread time.Duration
		hold          time.Duration
		wantMax       int64 // the last publish counted; 0: any
	}{
		// Publish 3 starts at 1800 ms and reaches the last stream at 1980 ms.
		{"slow publishes", 600 * time.Millisecond, 20 * time.Millisecond, 1850 * time.Millisecond, 3},
		// A publish every 10 ms takes 30 ms to reach every stream: the
		// hold always ends inside one or more fan-outs.
		{"overlapping publishes", 10 * time.Millisecond, 3 * time.Millisecond, 500 * time.Millisecond, 0},
	} {
		t.Run(tc.name, func(t *testing.T) { holdEndsAfterPublish(t, tc.every, tc.spread, tc.hold, tc.wantMax) })
	}
}

func holdEndsAfterPublish(t *testing.T, every, spread, hold time.Duration, wantMax int64) {
	const streams = 10
	// The schedule's origin, set before the server's goroutines exist; the
	// run starts a moment later.
	t0 := time.Now()
	var next atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		j := next.Add(1) - 1
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		fl := w.(http.Flusher)
		fl.Flush()
		for k := 1; ; k++ {
			sched := t0.Add(time.Duration(k) * every)
			timer := time.NewTimer(time.Until(sched.Add(time.Duration(j) * spread)))
			select {
			case <-r.Context().Done():
				timer.Stop()
				return
			case <-timer.C:
			}
			fmt.Fprintf(w, "data: {\"seq\":%d,\"sched\":%d}\n\n", k, sched.UnixNano())
			fl.Flush()
		}
	}))
	defer srv.Close()
	e, err := New(context.Background(), Config{
		Targets:     []Target{{Name: "a", URL: srv.URL}},
		Connections: streams, Ramp: 10_000,
		Hold:           hold,
		TimestampField: "sched", SequenceField: "seq",
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	tr := res.Targets[0]
	d := tr.Delivery
	if tr.Established != streams || d.Lost != 0 || d.Expected != d.MaxSeq*streams || tr.EventsReceived != d.Expected {
		t.Errorf("established %d, received %d, delivery %+v: want publishes 1-%d on all %d streams, none lost", tr.Established, tr.EventsReceived, d, d.MaxSeq, streams)
	}
	if wantMax > 0 && d.MaxSeq != wantMax {
		t.Errorf("last publish counted %d, want %d", d.MaxSeq, wantMax)
	}
}
