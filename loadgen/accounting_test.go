package loadgen

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// feed accounts seqs on one fresh stream and returns the target's delivery
// as a broadcast (perStream 0) or per-connection origin would give it.
func feed(seqs []int64, perStream int64) (Delivery, seqTrack) {
	var st seqCounters
	c := &conn{}
	for _, v := range seqs {
		c.account(&st, v)
	}
	var d deliverySum
	d.add(&st)
	return d.delivery(perStream, 1), c.seq
}

func TestAccountClassifiesEachArrival(t *testing.T) {
	for _, tc := range []struct {
		name                      string
		seqs                      []int64
		perStream                 int64
		expected, lost, dup, ooo  int64
		wantFirst, wantLast, gaps int64
	}{
		{name: "in order", seqs: []int64{1, 2, 3, 4}, expected: 4},
		{name: "joined mid-broadcast", seqs: []int64{7, 8, 9}, expected: 3},
		{name: "gap", seqs: []int64{1, 2, 5}, expected: 5, lost: 2},
		{name: "gap filled late", seqs: []int64{1, 3, 2, 4}, expected: 4, ooo: 1},
		{name: "repeat of last", seqs: []int64{1, 2, 2, 3}, expected: 3, dup: 1},
		{name: "repeat of older, no gap", seqs: []int64{1, 2, 3, 1}, expected: 3, dup: 1},
		{name: "before the first", seqs: []int64{3, 4, 1}, expected: 4, lost: 1, ooo: 1},
		{name: "per-connection tail lost", seqs: []int64{1, 2}, perStream: 4, expected: 4, lost: 2},
		{name: "per-connection complete", seqs: []int64{1, 2, 3, 4}, perStream: 4, expected: 4},
		{name: "nothing received", perStream: 4, expected: 4, lost: 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, _ := feed(tc.seqs, tc.perStream)
			if d.Expected != tc.expected || d.Lost != tc.lost || d.Duplicated != tc.dup || d.OutOfOrder != tc.ooo ||
				d.Sequenced != int64(len(tc.seqs)) || !d.Accounted || d.Replayed != 0 {
				t.Errorf("seqs %v: got %+v; want expected %d lost %d duplicated %d out_of_order %d sequenced %d",
					tc.seqs, d, tc.expected, tc.lost, tc.dup, tc.ooo, len(tc.seqs))
			}
		})
	}
}

func TestAccountKeepsConstantState(t *testing.T) {
	var st seqCounters
	c := &conn{}
	// A million events with every tenth one missing: the stream's state
	// stays three numbers, and the missing ones are counted.
	for v := int64(1); v <= 1_000_000; v++ {
		if v%10 != 0 {
			c.account(&st, v)
		}
	}
	var d deliverySum
	d.add(&st)
	got := d.delivery(0, 1)
	if got.Expected != 999_999 || got.Lost != 99_999 {
		t.Errorf("got %+v, want expected 999999 lost 99999", got)
	}
	if allocs := testing.AllocsPerRun(1000, func() { c.account(&st, 5) }); allocs != 0 {
		t.Errorf("account allocates %.1f times per event, want 0", allocs)
	}
}

func TestSubscribeGivesSilentBroadcastStreamsAnExpectation(t *testing.T) {
	e := &Engine{}
	w := &worker{e: e, stats: make([]counters, 1)}
	e.workers = []*worker{w}
	tg := &target{index: 0}
	st := &w.stats[0].seq

	// One stream has seen 1..5 when a second stream's head arrives; the
	// second never gets an event, the first goes on to 8.
	a, silent := &conn{w: w, t: tg}, &conn{w: w, t: tg}
	for v := int64(1); v <= 5; v++ {
		a.account(st, v)
	}
	silent.subscribe(st)
	// A third stream subscribes at the same point and then receives 6..8:
	// its real first number replaces the provisional one.
	late := &conn{w: w, t: tg}
	late.subscribe(st)
	for v := int64(6); v <= 8; v++ {
		a.account(st, v)
		late.account(st, v)
	}
	var d deliverySum
	d.add(st)
	got := d.delivery(0, 3)
	// a expects 8, silent expects 6..8 = 3, late expects 6..8 = 3.
	if got.Expected != 14 || got.Lost != 3 || got.Sequenced != 11 {
		t.Errorf("got %+v, want expected 14, lost 3 (the silent stream's), sequenced 11", got)
	}
}

func TestEngineAccountsDelivery(t *testing.T) {
	const conns = 6
	// Every stream of a per-connection origin gets seqs 1..6, minus one
	// event, plus a duplicate and an out-of-order pair: 1 2 2 4 3 6.
	perConn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for _, s := range []int{1, 2, 2, 4, 3, 6} {
			fmt.Fprintf(w, "data: {\"seq\":%d,\"sched\":%d}\n\n", s, time.Now().UnixNano())
		}
	}))
	defer perConn.Close()
	// A broadcast origin whose streams all join at seq 3; every other
	// stream misses seq 4.
	var arrivals atomic.Int64
	broadcast := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		skip := arrivals.Add(1)%2 == 0
		for s := 3; s <= 5; s++ {
			if s == 4 && skip {
				continue
			}
			fmt.Fprintf(w, "data: {\"meta\":{\"n\":%d}}\n\n", s)
		}
	}))
	defer broadcast.Close()

	res := runEngine(t, context.Background(), Config{
		Targets:         []Target{{Name: "p", URL: perConn.URL + "/events"}},
		Connections:     conns,
		SequenceField:   "seq",
		EventsPerStream: 6,
	})
	want := Delivery{Accounted: true, Expected: 6 * conns, Sequenced: 6 * conns, Lost: conns, Duplicated: conns, OutOfOrder: conns, Streams: conns, MaxSeq: 6}
	if got := res.Targets[0].Delivery; got != want {
		t.Errorf("per-connection: delivery %+v, want %+v", got, want)
	}

	res = runEngine(t, context.Background(), Config{
		Targets:       []Target{{Name: "b", URL: broadcast.URL + "/events"}},
		Connections:   conns,
		SequenceField: "meta.n",
	})
	want = Delivery{Accounted: true, Expected: 3 * conns, Sequenced: 3*conns - conns/2, Lost: conns / 2, Streams: conns, MaxSeq: 5}
	if got := res.Targets[0].Delivery; got != want {
		t.Errorf("broadcast: delivery %+v, want %+v", got, want)
	}

	// Without a sequence field, events are counted only.
	res = runEngine(t, context.Background(), Config{
		Targets:     []Target{{Name: "p", URL: perConn.URL + "/events"}},
		Connections: 2,
	})
	if tr := res.Targets[0]; tr.Delivery != (Delivery{}) || tr.EventsReceived != 12 {
		t.Errorf("no sequence field: delivery %+v received %d, want zero delivery and 12 received", tr.Delivery, tr.EventsReceived)
	}
}

func TestSequenceFieldErrorNamesTheInput(t *testing.T) {
	_, err := New(context.Background(), Config{
		Targets: []Target{{Name: "a", URL: "http://127.0.0.1:1/"}}, Connections: 1, Ramp: 1, SequenceField: "a..b",
	})
	if err == nil || !strings.Contains(err.Error(), "sequence field") {
		t.Errorf("New with sequence field a..b: %v, want an error naming the sequence field", err)
	}
}
