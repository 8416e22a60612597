package loadgen

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestEngineCountsEventsWithInvalidUTF8 serves events whose data holds
// bytes that are not UTF-8 (a lone continuation byte, a truncated sequence,
// an overlong form). The spec replaces them with U+FFFD and dispatches the
// events as usual: nothing fails, every event is counted, and the sequence
// and timestamp fields around the bad bytes are still read.
func TestEngineCountsEventsWithInvalidUTF8(t *testing.T) {
	const conns, events = 5, 3
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := 1; i <= events; i++ {
			fmt.Fprintf(w, "id: \x80%d\ndata: {\"seq\":%d,\"x\":\"\xe2\x82\xc0\xaf\",\"sched\":%d}\n\n", i, i, time.Now().UnixNano())
		}
	}))
	defer srv.Close()
	res := runEngine(t, context.Background(), Config{
		Targets:         []Target{{Name: "a", URL: srv.URL + "/events"}},
		Connections:     conns,
		SequenceField:   "seq",
		EventsPerStream: events,
	})
	tr := res.Targets[0]
	if tr.Failed != 0 || tr.EventsReceived != conns*events || tr.EventsTimed != conns*events {
		t.Fatalf("failed %d (%v), received %d, timed %d; want 0 failed and %d events, all timed", tr.Failed, tr.Errors, tr.EventsReceived, tr.EventsTimed, conns*events)
	}
	if d := tr.Delivery; d.Sequenced != conns*events || d.Lost != 0 || d.Expected != conns*events {
		t.Errorf("delivery %+v, want every event sequenced and none lost", d)
	}
}
