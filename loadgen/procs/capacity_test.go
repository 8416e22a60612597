package procs

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sseload/sseload/loadgen"
)

func TestApportion(t *testing.T) {
	for _, tc := range []struct {
		total   int
		weights []int
		want    []int
	}{
		{10, []int{2, 1, 1}, []int{5, 3, 2}}, // 5, 2.5, 2.5: the tie to the earlier
		{10, []int{1, 1, 1}, []int{4, 3, 3}}, // share's split
		{7, []int{0, 3, 4}, []int{0, 3, 4}},
		{100, []int{1, 2, 3, 4}, []int{10, 20, 30, 40}},
		{5, []int{3, 3, 1}, []int{2, 2, 1}}, // 2.14, 2.14, 0.71
		{0, []int{1, 2}, []int{0, 0}},
	} {
		got := apportion(tc.total, tc.weights)
		if !slices.Equal(got, tc.want) {
			t.Errorf("apportion(%d, %v) = %v, want %v", tc.total, tc.weights, got, tc.want)
		}
	}
	// At least one each, and equal weights split as before (total/n, the
	// remainder to the first).
	if got := apportionEach(5, []int{100, 1, 1}); !slices.Equal(got, []int{3, 1, 1}) {
		t.Errorf("apportionEach(5, [100 1 1]) = %v, want [3 1 1]", got)
	}
	for total := 3; total < 40; total++ {
		got := apportionEach(total, []int{1, 1, 1})
		for i, g := range got {
			want := total / 3
			if i < total%3 {
				want++
			}
			if g != want {
				t.Fatalf("apportionEach(%d, equal) = %v: part %d is %d, want %d", total, got, i, g, want)
			}
		}
	}
}

func TestWeigh(t *testing.T) {
	c := func(streams, cpus int) *Capacity {
		return &Capacity{Streams: streams, FileLimit: uint64(streams + FileReserve), CPUs: cpus}
	}
	for _, tc := range []struct {
		name  string
		total int
		caps  []*Capacity
		want  []int
		ok    bool
	}{
		{"by CPUs", 9_000, []*Capacity{c(18_000, 4), c(18_000, 2)}, []int{6_000, 3_000}, true},
		{"capped, the rest to the others by CPUs", 30_000, []*Capacity{c(18_000, 4), c(100_000, 1), c(100_000, 1)}, []int{18_000, 6_000, 6_000}, true},
		{"exactly full", 36_000, []*Capacity{c(18_000, 8), c(18_000, 1)}, []int{18_000, 18_000}, true},
		{"one reported nothing: equal", 10, []*Capacity{c(18_000, 8), nil}, []int{5, 5}, true},
		{"more than they hold", 40_000, []*Capacity{c(18_000, 1), c(18_000, 1)}, []int{20_000, 20_000}, false},
	} {
		got, ok := weigh(tc.total, tc.caps)
		if !slices.Equal(got, tc.want) || ok != tc.ok {
			t.Errorf("%s: weigh(%d) = %v, %v; want %v, %v", tc.name, tc.total, got, ok, tc.want, tc.ok)
		}
	}
	// The split by those parts: every target's streams add up to the plan,
	// each worker at least one of each, in proportion.
	cfg := loadgen.Config{Connections: 900, Ramp: 90, Targets: []loadgen.Target{{Name: "a", URL: "http://127.0.0.1:1/"}, {Name: "b", URL: "http://127.0.0.1:1/", Connections: 3}}}
	parts, _ := weigh(903, []*Capacity{c(18_000, 4), c(18_000, 2), c(18_000, 0)})
	shares := splitWeighted(cfg, parts, nil)
	var conns, b int
	var ramp float64
	for _, s := range shares {
		conns += s.Connections
		b += s.Targets[1].Connections
		ramp += s.Ramp
		if s.Connections < 1 || s.Targets[1].Connections < 1 {
			t.Errorf("share %+v: want at least one stream of each target", s)
		}
	}
	if conns != 900 || b != 3 || ramp < 89.999 || ramp > 90.001 || shares[0].Connections != 2*shares[1].Connections {
		t.Errorf("shares %d+%d+%d of a (%d), %d of b, ramp %.3f: want 900 by 4:2:1 CPUs, 3, 90", shares[0].Connections, shares[1].Connections, shares[2].Connections, conns, b, ramp)
	}
}

func TestCheckCapacityNames(t *testing.T) {
	caps := []*Capacity{{Streams: 18_000, FileLimit: 20_000, CPUs: 2}, {Streams: 998_000, FileLimit: 1_000_000, CPUs: 2}, nil}
	err := checkCapacity([]int{20_000, 20_000, 50_000}, caps, []string{"worker 10.0.0.5:7070", "worker 10.0.0.6:7070", "worker 10.0.0.7:7070"})
	if err == nil || !strings.Contains(err.Error(), "worker 10.0.0.5:7070 was given 20000 streams but holds 18000 (open file limit 20000") || strings.Contains(err.Error(), "10.0.0.6") || strings.Contains(err.Error(), "10.0.0.7") {
		t.Errorf("checkCapacity: %v; want only worker 10.0.0.5:7070 named, with its share and capacity", err)
	}
}

// TestRemoteWorkerOverCapacity: a plan that gives real remote workers more
// streams than their open file limits allow is refused before anything
// starts, naming each worker and the figures; the target sees no request.
func TestRemoteWorkerOverCapacity(t *testing.T) {
	local := LocalCapacity()
	if local == nil {
		t.Fatal("cannot read this process's open file limit")
	}
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { requests.Add(1) }))
	defer srv.Close()
	w1, _ := startWorker(t, testToken)
	w2, _ := startWorker(t, testToken)
	cfg := loadgen.Config{Connections: 2*local.Streams + 2, Ramp: 1, Hold: 1, Targets: []loadgen.Target{{Name: "direct", URL: srv.URL + "/events"}}}
	ctx := context.Background()
	g, err := New(ctx, Options{Config: cfg, Workers: []string{w1, w2}, Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	_, err = g.Run(ctx)
	if err == nil {
		t.Fatal("a plan past both workers' capacity ran")
	}
	for _, w := range []string{w1, w2} {
		want := "worker " + w + " was given " + strconv.Itoa(local.Streams+1) + " streams but holds " + strconv.Itoa(local.Streams)
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q: want %q", err, want)
		}
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("the target got %d requests: want none, the run refused before its start", n)
	}
}
