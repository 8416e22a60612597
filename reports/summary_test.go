package reports

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/sseload/sseload/loadgen"
	"github.com/sseload/sseload/reports/hlog"
	"github.com/sseload/sseload/reports/internal/testrun"
)

// writeResults writes a results directory the way a run does: the
// intervals streamed through an hlog.Set, then summary.json.
func writeResults(t testing.TB, dir string, res *loadgen.Result, s Summary) error {
	t.Helper()
	var names []string
	for _, tr := range res.Targets {
		names = append(names, tr.Name)
	}
	hl, err := hlog.NewSet(dir, names)
	if err != nil {
		return err
	}
	for _, r := range testrun.Reports(t) {
		hl.Add(r)
	}
	if err := hl.Commit(); err != nil {
		return err
	}
	return WriteSummary(dir, s)
}

func testMeta() Meta {
	return Meta{
		Scenario: "seed", Topology: "local", Version: "0.1.0",
		Command: []string{"sseload", "run", "seed"},
		Config:  RunConfig{Mode: "broadcast", IntervalMS: 1000, Events: 6, Payload: 64, Connections: 20, Ramp: 100, DurationS: 7},
		Targets: map[string]TargetMeta{"nginx-stock": {Proxy: "nginx/1.22.1", ProxyKind: "nginx", ConfigSHA256: "abc123"}},
	}
}

func TestSummarize(t *testing.T) {
	s := Summarize(testrun.Result(t), testMeta())

	if s.SchemaVersion != SchemaVersion || s.Scenario != "seed" || s.Topology != "local" || s.SSELoadVersion != "0.1.0" {
		t.Errorf("header fields: %+v", s)
	}
	if want := testrun.Start.Truncate(time.Millisecond); !s.Started.Equal(want) {
		t.Errorf("started = %v, want %v", s.Started, want)
	}
	if s.DurationS != 7.2 {
		t.Errorf("duration_s = %v, want 7.2", s.DurationS)
	}
	if len(s.Targets) != 2 {
		t.Fatalf("%d targets, want 2", len(s.Targets))
	}
	d, st := s.Targets[0], s.Targets[1]

	want := Hist{Count: 1000, Min: 1, Mean: 500.5, P50: 500, P90: 900, P99: 990, P999: 999, Max: 1000}
	if d.LatencyUS == nil || *d.LatencyUS != want {
		t.Errorf("direct latency = %+v, want %+v", d.LatencyUS, want)
	}
	if h := d.TimeToHeadersUS; h == nil || h.Count != 3 || h.P50 != 1300 {
		t.Errorf("direct time_to_headers = %+v, want count 3, p50 1300", h)
	}
	// 5 s is above 2048, so HdrHistogram reports the top of its 3-digit bucket.
	if h := d.TimeToFirstEventUS; h == nil || h.Count != 1 || math.Abs(float64(h.P50-5_000_000)) > 5_000 {
		t.Errorf("direct time_to_first_event = %+v, want count 1, p50 ≈ 5 s", h)
	}
	if d.Proxy != "" || d.ResponseHead["content-type"] != "text/event-stream" {
		t.Errorf("direct meta/head: proxy %q head %v", d.Proxy, d.ResponseHead)
	}

	if st.LatencyUS != nil {
		t.Errorf("nginx-stock latency = %+v, want nil (empty histogram)", st.LatencyUS)
	}
	if st.TimeToFirstEventUS != nil {
		t.Errorf("nginx-stock time_to_first_event = %+v, want nil (nil histogram)", st.TimeToFirstEventUS)
	}
	if st.Proxy != "nginx/1.22.1" || st.ProxyKind != "nginx" || st.ConfigSHA256 != "abc123" {
		t.Errorf("nginx-stock meta: %q %q %q", st.Proxy, st.ProxyKind, st.ConfigSHA256)
	}
	if d.ProxyKind != "" {
		t.Errorf("direct proxy_kind = %q, want none", d.ProxyKind)
	}
	// nginx-stock's head took 30 s beside direct's 1.3 ms: Summarize
	// diagnoses buffering, in nginx's words.
	want0 := Diagnosis{
		Target:    "nginx-stock",
		Symptom:   "response headers held back until the stream ends or the first event arrives",
		Directive: "response buffering (proxy_buffering on)",
		Fix:       "proxy_buffering off or X-Accel-Buffering: no",
		Evidence:  "time_to_headers p50 30.0s vs direct 1.30ms",
	}
	if len(s.Diagnoses) != 1 || s.Diagnoses[0] != want0 {
		t.Errorf("diagnoses = %+v, want [%+v]", s.Diagnoses, want0)
	}
	if st.Connections != (Connections{Requested: 20, Established: 17, Failed: 3}) {
		t.Errorf("nginx-stock connections = %+v", st.Connections)
	}
	if st.Events != (Events{Received: 120}) {
		t.Errorf("nginx-stock events = %+v", st.Events)
	}
	if st.Errors[loadgen.ErrReset] != 3 {
		t.Errorf("nginx-stock errors = %v", st.Errors)
	}
	if st.ResponseHead != nil {
		t.Errorf("nginx-stock response_head = %v, want nil", st.ResponseHead)
	}
}

func TestSummarizeCopies(t *testing.T) {
	res := testrun.Result(t)
	meta := testMeta()
	s := Summarize(res, meta)
	res.Targets[1].Errors[loadgen.ErrReset] = 99
	res.Targets[0].Head["status"] = "500"
	meta.Command[0] = "changed"
	if s.Targets[1].Errors[loadgen.ErrReset] != 3 || s.Targets[0].ResponseHead["status"] != "200" || s.Command[0] != "sseload" {
		t.Error("summary shares maps or slices with its inputs")
	}
}

// TestSummaryJSONShape checks the public field names and the null/{} rules
// on the encoded document itself.
func TestSummaryJSONShape(t *testing.T) {
	res := testrun.Result(t)
	res.Targets[1].Errors = nil // no error map at all still encodes as {}
	b, err := json.Marshal(Summarize(res, testMeta()))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"schema_version", "scenario", "topology", "started", "ended", "duration_s", "sseload_version", "command", "interrupted", "config", "targets", "harness"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("missing top-level %q", k)
		}
	}
	if doc["started"] != "2025-01-02T03:04:05.123Z" {
		t.Errorf("started = %v", doc["started"])
	}
	cfg := doc["config"].(map[string]any)
	for _, k := range []string{"mode", "interval_ms", "events", "payload", "x_accel", "connections", "ramp", "duration_s"} {
		if _, ok := cfg[k]; !ok {
			t.Errorf("missing config.%q", k)
		}
	}
	harness := doc["harness"].(map[string]any)
	for _, k := range []string{"lag_p99_us", "lag_max_us", "busy_max", "machine_cpu_max", "reliable", "note"} {
		if _, ok := harness[k]; !ok {
			t.Errorf("missing harness.%q", k)
		}
	}
	targets := doc["targets"].([]any)
	d := targets[0].(map[string]any)
	for _, k := range []string{"proxy", "proxy_kind"} {
		if _, ok := d[k]; ok {
			t.Errorf("direct has a %s field; want it omitted when empty", k)
		}
	}
	lat := d["latency_us"].(map[string]any)
	for _, k := range []string{"count", "min", "mean", "p50", "p90", "p99", "p999", "max"} {
		if _, ok := lat[k]; !ok {
			t.Errorf("missing latency_us.%q", k)
		}
	}
	st := targets[1].(map[string]any)
	if st["proxy_kind"] != "nginx" {
		t.Errorf("nginx-stock proxy_kind = %v, want nginx", st["proxy_kind"])
	}
	ds, ok := doc["diagnoses"].([]any)
	if !ok || len(ds) != 1 {
		t.Fatalf("diagnoses = %#v, want one", doc["diagnoses"])
	}
	for _, k := range []string{"target", "symptom", "directive", "fix", "evidence"} {
		if v, ok := ds[0].(map[string]any)[k].(string); !ok || v == "" {
			t.Errorf("diagnoses[0].%s = %#v, want a string", k, ds[0].(map[string]any)[k])
		}
	}
	for _, k := range []string{"latency_us", "time_to_first_event_us"} {
		if v, ok := st[k]; !ok || v != nil {
			t.Errorf("nginx-stock %s = %v (present %v), want null", k, v, ok)
		}
	}
	if e, ok := st["errors"].(map[string]any); !ok || len(e) != 0 {
		t.Errorf("nginx-stock errors = %#v, want {}", st["errors"])
	}
	if _, ok := st["response_head"]; ok {
		t.Error("nginx-stock has response_head; want it omitted when empty")
	}
	for _, k := range []string{"requested", "established", "failed"} {
		if _, ok := st["connections"].(map[string]any)[k]; !ok {
			t.Errorf("missing connections.%q", k)
		}
	}
	for _, k := range []string{"received", "timed", "clock_skewed"} {
		if _, ok := st["events"].(map[string]any)[k]; !ok {
			t.Errorf("missing events.%q", k)
		}
	}
}

func TestReadSummaryRoundTrip(t *testing.T) {
	res := testrun.Result(t)
	s := Summarize(res, testMeta())
	dir := t.TempDir()
	if err := WriteSummary(dir, s); err != nil {
		t.Fatal(err)
	}
	got, err := ReadSummary(filepath.Join(dir, SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, s) {
		t.Errorf("round trip differs:\n got %+v\nwant %+v", got, s)
	}
}

func TestReadSummaryRejects(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"newer.json":   `{"schema_version": 2}`,
		"foreign.json": `{"hello": 1}`,
		"broken.json":  `{"schema_version": 1,`,
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadSummary(p); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := ReadSummary(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("missing file: no error")
	}
}
