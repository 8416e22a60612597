package capacity

import (
	"strings"
	"testing"

	"github.com/sseload/sseload/loadgen"
	"github.com/sseload/sseload/reports"
	"github.com/sseload/sseload/targets"
)

// fakeStep builds a step as evaluate would from a summary of one target.
func fakeStep(n int, established, failed int64, errs map[string]int64, p99us int64, slos ...string) *step {
	t := reports.Target{
		Name:        "nginx-stock",
		Connections: reports.Connections{Requested: int64(n), Established: established, Failed: failed},
		Errors:      errs,
	}
	if p99us > 0 {
		t.LatencyUS = &reports.Hist{Count: 10, P99: p99us}
	}
	sum := reports.Summary{
		Config:  reports.RunConfig{Mode: "broadcast", IntervalMS: 1000},
		Targets: []reports.Target{t},
		Harness: reports.Harness{Reliable: true},
	}
	ths, err := reports.ParseThresholds(slos)
	if err != nil {
		panic(err)
	}
	sum.Thresholds = reports.EvaluateThresholds(sum, ths)
	return evaluate(n, sum, "nginx-stock")
}

func TestExplainNamesTheSymptom(t *testing.T) {
	slo := "latency.p99 < 100ms"
	limited := fakeStep(800, 766, 34, map[string]int64{"eof_before_headers": 29, "reset_by_peer": 5}, 3000, slo)
	limited.proxyLimit, limited.proxyLimitCount, limited.proxyKind = "768 worker_connections are not enough", 34, targets.Nginx
	for _, tc := range []struct {
		name   string
		found  Found
		steps  []*step
		reason []string // substrings of the reason
		answer string   // prefix of the answer
	}{
		{
			name:   "connection limit with nginx's log line",
			found:  Found{766, 800},
			steps:  []*step{fakeStep(766, 766, 0, nil, 3000, slo), limited},
			reason: []string{"34 connections failed (eof_before_headers ×29, reset_by_peer ×5)", "connections reset or closed without a response: a connection limit such as nginx's worker_connections", `"768 worker_connections are not enough", 34 times`},
			answer: "nginx-stock carries 766 streams at 1 event/s with latency.p99 < 100ms; at 800, 34 connections failed",
		},
		{
			name:   "latency SLO",
			found:  Found{400, 800},
			steps:  []*step{fakeStep(400, 400, 0, nil, 3000, slo), fakeStep(800, 800, 0, nil, 230000, slo)},
			reason: []string{"latency SLO latency.p99 < 100ms failed: measured 230.0ms, not < 100ms"},
			answer: "nginx-stock carries 400 streams at 1 event/s with latency.p99 < 100ms; at 800, latency SLO",
		},
		{
			name:   "buffering at every size",
			found:  Found{0, 1},
			steps:  []*step{fakeStep(100, 0, 100, map[string]int64{"no_response_headers": 100}, 0, slo), fakeStep(1, 0, 1, map[string]int64{"no_response_headers": 1}, 0, slo)},
			reason: []string{BufferingReason},
			answer: "nginx-stock: no events delivered at any size: response buffering",
		},
		{
			name:   "generator's own limit",
			found:  Found{200, 400},
			steps:  []*step{fakeStep(200, 200, 0, nil, 3000), fakeStep(400, 390, 10, map[string]int64{"too_many_open_files": 10}, 3000)},
			reason: []string{"the generator's own limit (too_many_open_files), not the target's"},
			answer: "nginx-stock carries 200 streams at 1 event/s with every connection established; at 400",
		},
		{
			name:   "max reached",
			found:  Found{500, 0},
			steps:  []*step{fakeStep(500, 500, 0, nil, 3000, slo)},
			answer: "nginx-stock carries at least 500 streams at 1 event/s with latency.p99 < 100ms (every step held; --max 500 reached",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var slos []string
			for _, r := range tc.steps[0].sum.Thresholds {
				slos = append(slos, r.Expression)
			}
			reason, answer := explain("nginx-stock", tc.found, tc.steps, slos, Plan{Max: 500}, false)
			for _, want := range tc.reason {
				if !strings.Contains(reason, want) {
					t.Errorf("reason %q lacks %q", reason, want)
				}
			}
			if !strings.HasPrefix(answer, tc.answer) {
				t.Errorf("answer %q\nwant prefix %q", answer, tc.answer)
			}
		})
	}
}

func TestWorkerConnectionsLogLine(t *testing.T) {
	log := "2026/11/25 02:19:02 [alert] 4242#4242: *1533 768 worker_connections are not enough while connecting to upstream, client: 127.0.0.1\n" +
		"2026/11/25 02:19:02 [alert] 4243#4243: 768 worker_connections are not enough\n"
	m := proxyLimitRE.FindAllString(log, -1)
	if len(m) != 2 || m[0] != "768 worker_connections are not enough" {
		t.Errorf("matches %q", m)
	}
}

func TestRateText(t *testing.T) {
	for ms, want := range map[float64]string{1000: "1 event/s", 500: "2 events/s", 400: "2.5 events/s", 5000: "1 event every 5s"} {
		if got := rateText(reports.RunConfig{Mode: "broadcast", IntervalMS: ms}); got != want {
			t.Errorf("interval %vms: %q, want %q", ms, got, want)
		}
	}
	if got := rateText(reports.RunConfig{}); got != "" {
		t.Errorf("unknown origin: %q, want none", got)
	}
}

func TestExplainInterruptedDoesNotClaimMax(t *testing.T) {
	_, answer := explain("direct", Found{100, 0}, []*step{fakeStep(100, 100, 0, nil, 3000)}, nil, Plan{}, true)
	if !strings.Contains(answer, "carries at least 100 streams") || !strings.Contains(answer, "interrupted") || strings.Contains(answer, "--max") {
		t.Errorf("answer %q", answer)
	}
}

// TestEvaluateKeepsErrorValues: a step keeps the values its errors carried
// and says them the way run's table does ("http_status 503 ×3").
func TestEvaluateKeepsErrorValues(t *testing.T) {
	sum := reports.Summary{Harness: reports.Harness{Reliable: true}, Targets: []reports.Target{{
		Name:        "app",
		Connections: reports.Connections{Requested: 10, Established: 7, Failed: 3},
		Errors:      map[string]int64{loadgen.ErrHTTPStatus: 3},
		ErrorValues: map[string]map[string]int64{loadgen.ErrHTTPStatus: {"503": 3}},
	}}}
	st := evaluate(10, sum, "app")
	if got := st.rep.ErrorValues[loadgen.ErrHTTPStatus]["503"]; got != 3 {
		t.Errorf("step error_values = %v, want http_status 503: 3", st.rep.ErrorValues)
	}
	if want := "3 of 10 connections failed (http_status 503 ×3)"; st.rep.OK || len(st.rep.Failed) != 1 || st.rep.Failed[0] != want {
		t.Errorf("step ok %v, failed %q, want [%q]", st.rep.OK, st.rep.Failed, want)
	}
	// The step's copy is its own: the run's summary may be reused.
	sum.Targets[0].ErrorValues[loadgen.ErrHTTPStatus]["503"] = 99
	if st.rep.ErrorValues[loadgen.ErrHTTPStatus]["503"] != 3 {
		t.Error("step error_values share the summary's maps")
	}
	if ok := evaluate(10, reports.Summary{Targets: []reports.Target{{Name: "app", Connections: reports.Connections{Requested: 10, Established: 10}}}}, "app"); ok.rep.ErrorValues != nil {
		t.Errorf("no error values: step has %v, want none (absent from summary.json)", ok.rep.ErrorValues)
	}
}
