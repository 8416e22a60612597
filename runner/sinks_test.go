package runner

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/sseload/sseload/internal/testenv"
	"github.com/sseload/sseload/loadgen"
	"github.com/sseload/sseload/origin"
	"github.com/sseload/sseload/scenarios"
)

// TestRunFeedsSinks: a sink of the caller's gets the intervals the .hlog
// files are written from; together they hold summary.json's figures.
func TestRunFeedsSinks(t *testing.T) {
	addr := testenv.ServeOrigin(t, origin.Config{Mode: origin.PerConnection, Interval: 10 * time.Millisecond, Events: 3})
	sc, err := scenarios.Load("seed")
	if err != nil {
		t.Fatal(err)
	}
	sc.Connections, sc.Events = 4, 3
	tg, err := ParseTarget("app=http://" + addr + "/events")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var latency, lastEvents, lastOpen int64
	reports := 0
	sink := loadgen.IntervalSinkFunc(func(r loadgen.IntervalReport) {
		mu.Lock()
		defer mu.Unlock()
		reports++
		latency += r.Targets[0].Hist[loadgen.Latency].TotalCount()
		lastEvents, lastOpen = r.Targets[0].EventsReceived, r.Targets[0].Open
	})
	out, err := Run(context.Background(), Options{Scenario: sc, Topology: TopologyNone, External: []loadgen.Target{tg}, OutDir: t.TempDir(), Sinks: []loadgen.IntervalSink{sink}})
	if err != nil {
		t.Fatal(err)
	}
	app := out.Summary.Targets[0]
	mu.Lock()
	defer mu.Unlock()
	if reports == 0 || app.LatencyUS == nil || latency != app.LatencyUS.Count || lastEvents != app.Events.Received || lastOpen != 0 {
		t.Errorf("the sink got %d intervals: %d latencies, %d events, %d open at the end; summary: %+v latencies, %d events",
			reports, latency, lastEvents, lastOpen, app.LatencyUS, app.Events.Received)
	}
}

// TestComposeRefusesSinks: the compose topology's generator runs in a
// container; a sink of the caller's would get nothing, so the run is
// refused before anything starts (no Docker needed to see it).
func TestComposeRefusesSinks(t *testing.T) {
	sc, err := scenarios.Load("seed")
	if err != nil {
		t.Fatal(err)
	}
	sink := loadgen.IntervalSinkFunc(func(loadgen.IntervalReport) {})
	_, err = Run(context.Background(), Options{Scenario: sc, Topology: TopologyCompose, OutDir: t.TempDir(), Sinks: []loadgen.IntervalSink{sink}})
	if !errors.Is(err, ErrComposeSinks) || !errors.Is(err, ErrSetup) {
		t.Errorf("compose run with a sink: %v, want ErrSetup and ErrComposeSinks", err)
	}
}
