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
	const streams, every, spread = 10, 600 * time.Millisecond, 20 * time.Millisecond
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
		Hold:           3*every + 50*time.Millisecond,
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
	if d := tr.Delivery; tr.Established != streams || d.MaxSeq != 3 || d.Lost != 0 || d.Expected != 3*streams || tr.EventsReceived != 3*streams {
		t.Errorf("established %d, received %d, delivery %+v: want publishes 1-3 on all %d streams, none lost", tr.Established, tr.EventsReceived, d, streams)
	}
}
