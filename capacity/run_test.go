package capacity

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sseload/sseload/internal/testenv"
	"github.com/sseload/sseload/reports"
	"github.com/sseload/sseload/runner"
	"github.com/sseload/sseload/scenarios"
)

// shortSteady is the steady scenario with events five times a second, so a
// one-second hold gives every stream events to time.
func shortSteady(t *testing.T, xaccel bool) scenarios.Scenario {
	t.Helper()
	sc, err := scenarios.Load("steady")
	if err != nil {
		t.Fatal(err)
	}
	sc.Interval = 200 * time.Millisecond
	sc.XAccel = xaccel
	return sc
}

// TestRunSearchesThroughRealNginx runs the whole search against nginx-stock
// with X-Accel-Buffering: no, through the runner and real nginx processes.
// Its real knee (~766 streams) is too big for a test, so an SLO on the
// stream count puts one at 25; "latency.count > 0" checks that every step
// really delivered events through the proxy.
func TestRunSearchesThroughRealNginx(t *testing.T) {
	testenv.RequireNginx(t)
	ths, err := reports.ParseThresholds([]string{"latency.count > 0", "connections.requested <= 25"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var done []int
	out, err := Run(context.Background(), Options{
		Base:     runner.Options{Scenario: shortSteady(t, true), Topology: runner.TopologyLocal, Version: "test"},
		Target:   "nginx-stock",
		SLOs:     ths,
		Plan:     Plan{Start: 10, Max: 40, Tolerance: 0.2},
		Hold:     time.Second,
		OutDir:   dir,
		StepDone: func(s reports.CapacityStep) { done = append(done, s.Connections) },
	})
	if err != nil {
		t.Fatal(err)
	}
	c := out.Summary.Capacity
	if c == nil {
		t.Fatal("summary has no capacity block")
	}
	// 10 ok, 20 ok, 40 ✗, then bisect: 30 ✗, 25 ok; 30−25 ≤ 20 % of 25.
	want := []int{10, 20, 40, 30, 25}
	var got []int
	for _, s := range c.Steps {
		got = append(got, s.Connections)
		ok := s.Connections <= 25
		if s.OK != ok || s.Established != int64(s.Connections) || s.P99US == nil || len(s.Errors) != 0 {
			t.Errorf("step %d: ok %v (want %v), established %d, p99 %v, errors %v, failed %q", s.Connections, s.OK, ok, s.Established, s.P99US, s.Errors, s.Failed)
		}
		if _, err := os.Stat(filepath.Join(dir, s.Dir, reports.SummaryFile)); err != nil {
			t.Errorf("step %d: %v", s.Connections, err)
		}
	}
	if !slices.Equal(got, want) || !slices.Equal(done, want) {
		t.Errorf("steps %v, reported %v; want %v", got, done, want)
	}
	if c.MaxOK != 25 || c.FirstFailed == nil || *c.FirstFailed != 30 {
		t.Errorf("max_ok %d first_failed %v, want 25 and 30", c.MaxOK, c.FirstFailed)
	}
	if !strings.Contains(c.Reason, "connections.requested <= 25 failed") ||
		!strings.HasPrefix(c.Answer, "nginx-stock carries 25 streams at 5 events/s with latency.count > 0 and connections.requested <= 25; at 30,") {
		t.Errorf("reason %q\nanswer %q", c.Reason, c.Answer)
	}

	s, err := reports.ReadSummary(filepath.Join(dir, reports.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	if s.Capacity == nil || s.Capacity.MaxOK != 25 || len(s.Capacity.Steps) != len(want) || s.Config.Connections != 25 || s.Interrupted {
		t.Errorf("summary.json: capacity %+v, config %+v, interrupted %v", s.Capacity, s.Config, s.Interrupted)
	}
}

// TestRunSaysBufferingInWords: without X-Accel-Buffering stock nginx holds
// the head of a never-ending stream, so no size carries anything, and the
// answer says why instead of a number.
func TestRunSaysBufferingInWords(t *testing.T) {
	testenv.RequireNginx(t)
	out, err := Run(context.Background(), Options{
		Base:   runner.Options{Scenario: shortSteady(t, false), Topology: runner.TopologyLocal, Version: "test"},
		Target: "nginx-stock",
		Plan:   Plan{Start: 3},
		Hold:   time.Second,
		OutDir: t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	c := out.Summary.Capacity
	if c.MaxOK != 0 || c.Reason != BufferingReason || len(c.Steps) != 2 || c.Steps[1].Connections != 1 {
		t.Errorf("capacity %+v: want max_ok 0 after steps 3 and 1, with the buffering reason", *c)
	}
	if !strings.Contains(c.Answer, "use --x-accel or proxy_buffering off") || strings.Contains(c.Answer, "carries") {
		t.Errorf("answer %q: want the buffering sentence, not a number", c.Answer)
	}
}

func TestRunRejectsSLOOnAnotherTarget(t *testing.T) {
	ths, err := reports.ParseThresholds([]string{"direct:latency.p99 < 1s"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Run(context.Background(), Options{Target: "nginx-stock", SLOs: ths, OutDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), `target "direct" is not in this run`) {
		t.Errorf("err %v, want one naming the SLO's target", err)
	}
}
