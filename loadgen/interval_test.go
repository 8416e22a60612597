package loadgen

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestIntervalTotals: every interval report carries each target's counters
// at its end, and the last one agrees with the result. Half of target a's
// streams get a 404 (failed, http_status 404), half a stream that stays
// open until an interval has shown all of them open (a signal from the
// engine, not a timer), then ends: none is open in the last interval.
// Target idle (one 404) checks that every target is in every report.
func TestIntervalTotals(t *testing.T) {
	const conns = 6
	var requests atomic.Int64
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/events" || requests.Add(1)%2 == 0 {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprintf(w, "data: {\"sched\":%d}\n\n", time.Now().UnixNano())
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()

	var (
		mu      sync.Mutex
		last    Interval
		reports int
		sawOpen int64
		order   []string
	)
	var once sync.Once
	res := runEngine(t, context.Background(), Config{
		Targets:     []Target{{Name: "a", URL: srv.URL + "/events"}, {Name: "idle", URL: srv.URL + "/idle", Connections: 1}},
		Connections: conns,
		Workers:     2,
		Interval:    20 * time.Millisecond,
		MaxDuration: 20 * time.Second,
		OnInterval: func(r IntervalReport) {
			mu.Lock()
			defer mu.Unlock()
			reports++
			order = order[:0]
			for _, tg := range r.Targets {
				order = append(order, tg.Name)
			}
			if r.Generator.Lag == nil || !r.Start.Equal(r.Targets[0].Start) || !r.End.Equal(r.Targets[0].End) {
				t.Errorf("report %d: lag %v, start/end %v–%v vs the target's %v–%v", reports, r.Generator.Lag, r.Start, r.End, r.Targets[0].Start, r.Targets[0].End)
			}
			a := r.Targets[0]
			sawOpen = max(sawOpen, a.Open)
			// The maps are the engine's: copy them (AddTotals does).
			last = Interval{}
			last.AddTotals(&a.Interval)
			if a.Open == conns/2 {
				once.Do(func() { close(release) })
			}
		},
	})
	tr := res.Targets[0]
	if !reflect.DeepEqual(order, []string{"a", "idle"}) {
		t.Errorf("targets in the report: %v, want a, idle in the run's order", order)
	}
	if sawOpen != conns/2 {
		t.Errorf("most streams open in an interval: %d, want %d", sawOpen, conns/2)
	}
	if last.Open != 0 {
		t.Errorf("last interval: %d streams open, want 0 (every stream ended)", last.Open)
	}
	if last.Established != tr.Established || last.Failed != tr.Failed || last.Reconnects != tr.Reconnects || last.EventsReceived != tr.EventsReceived {
		t.Errorf("last interval: established %d failed %d reconnects %d events %d; result: %d, %d, %d, %d",
			last.Established, last.Failed, last.Reconnects, last.EventsReceived, tr.Established, tr.Failed, tr.Reconnects, tr.EventsReceived)
	}
	if tr.Failed == 0 || !reflect.DeepEqual(last.Errors, tr.Errors) || !reflect.DeepEqual(last.ErrorValues, tr.ErrorValues) {
		t.Errorf("last interval: errors %v %v; result: %d failed, %v %v", last.Errors, last.ErrorValues, tr.Failed, tr.Errors, tr.ErrorValues)
	}
	if got := last.ErrorValues[ErrHTTPStatus]["404"]; got != tr.Errors[ErrHTTPStatus] || got == 0 {
		t.Errorf("http_status 404 counted %d times, of %d http_status errors", got, tr.Errors[ErrHTTPStatus])
	}
}
