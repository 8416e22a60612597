package render

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/sseload/sseload/reports"
	"github.com/sseload/sseload/reports/internal/testsummary"
)

// reportSummary is textSummary with thresholds evaluated on it.
func reportSummary(t *testing.T) reports.Summary {
	t.Helper()
	s := testsummary.Text()
	ths, err := reports.ParseThresholds([]string{"latency.p99 < 50ms", "nginx-stock:connections.failed == 0", "direct:time_to_headers.p50 <= 1s"})
	if err != nil {
		t.Fatal(err)
	}
	s.Thresholds = reports.EvaluateThresholds(s, ths)
	return s
}

func TestWriteMarkdown(t *testing.T) {
	unreliable := testsummary.Text()
	unreliable.Harness = reports.Harness{LagP99US: 25_000, Reliable: false, Note: "scheduling lag p99 25 ms > 10 ms"}
	unreliable.Targets[0].Name = "a|b" // a pipe must not break the table
	unreliable.Diagnoses = reports.Diagnose(unreliable)
	unreliable.Thresholds = []reports.ThresholdResult{}
	for name, s := range map[string]reports.Summary{"thresholds": reportSummary(t), "unreliable": unreliable} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteMarkdown(&buf, s); err != nil {
				t.Fatal(err)
			}
			goldenCompare(t, "TestWriteMarkdown_"+name, buf.Bytes())
			// Every table row has as many cells as its header.
			cols := -1
			for _, l := range strings.Split(buf.String(), "\n") {
				if !strings.HasPrefix(l, "|") {
					cols = -1
					continue
				}
				n := strings.Count(strings.ReplaceAll(l, `\|`, ""), "|")
				if cols < 0 {
					cols = n
				} else if n != cols {
					t.Errorf("row has %d separators, header %d: %q", n, cols, l)
				}
			}
		})
	}
}

func TestWriteJUnit(t *testing.T) {
	type tcase struct {
		Name    string `xml:"name,attr"`
		Failure *struct {
			Message string `xml:"message,attr"`
		} `xml:"failure"`
	}
	type suites struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Suite    struct {
			Tests int     `xml:"tests,attr"`
			Cases []tcase `xml:"testcase"`
		} `xml:"testsuite"`
	}
	read := func(s reports.Summary) suites {
		t.Helper()
		var buf bytes.Buffer
		if err := WriteJUnit(&buf, s); err != nil {
			t.Fatal(err)
		}
		var got suites
		if err := xml.Unmarshal(buf.Bytes(), &got); err != nil {
			t.Fatalf("junit.xml does not parse: %v\n%s", err, buf.String())
		}
		return got
	}

	// Five threshold results, then a connections case per target (3):
	// nginx-stock's fails, 4 streams failed and max_failed allows none.
	got := read(reportSummary(t))
	if got.Tests != 8 || got.Failures != 4 || len(got.Suite.Cases) != 8 {
		t.Fatalf("tests %d failures %d cases %d, want 8, 4, 8", got.Tests, got.Failures, len(got.Suite.Cases))
	}
	c := got.Suite.Cases[1]
	if c.Name != "nginx-stock: latency.p99 < 50ms" || c.Failure == nil || !strings.Contains(c.Failure.Message, "measured 29.9s") {
		t.Errorf("failed case = %+v, want nginx-stock's with the measured value", c)
	}
	if got.Suite.Cases[0].Failure != nil {
		t.Errorf("direct's case failed: %+v", got.Suite.Cases[0])
	}

	names := []string{}
	for _, c := range got.Suite.Cases[5:] {
		names = append(names, c.Name)
	}
	if want := "direct: connections, nginx-stock: connections, nginx-sse: connections"; strings.Join(names, ", ") != want {
		t.Errorf("connections cases %s, want %s", strings.Join(names, ", "), want)
	}
	if c := got.Suite.Cases[6]; c.Failure == nil || c.Failure.Message != "nginx-stock: 4 of 20 streams failed (reset_by_peer ×3, no_response_headers ×1); the scenario allows none (max_failed)" {
		t.Errorf("nginx-stock's connections case = %+v, want it failed, with the errors", c)
	}
	if got.Suite.Cases[5].Failure != nil || got.Suite.Cases[7].Failure != nil {
		t.Errorf("direct's or nginx-sse's connections case failed: %+v", got.Suite.Cases)
	}

	// No thresholds: a "run completed" case, failing only when interrupted,
	// and the connections cases.
	s := testsummary.Text()
	s.Targets[1].Connections.MaxFailed = 4 // max_failed allows nginx-stock's 4
	got = read(s)
	if got.Tests != 4 || got.Failures != 0 || got.Suite.Cases[0].Name != RunCompletedCase {
		t.Errorf("no thresholds, failures allowed: %+v", got)
	}
	s.Interrupted = true
	if got = read(s); got.Failures != 1 {
		t.Errorf("interrupted: %d failures, want 1", got.Failures)
	}
}

// TestJUnitUnusableTarget: a target without a single event stream fails
// its connections case with the errors and their values, whatever
// max_failed allows; a target whose missing heads a diagnosis explains (a
// buffering proxy) fails it as failed streams, not as unusable.
func TestJUnitUnusableTarget(t *testing.T) {
	type tcase struct {
		Name    string `xml:"name,attr"`
		Failure *struct {
			Message string `xml:"message,attr"`
			Type    string `xml:"type,attr"`
		} `xml:"failure"`
	}
	var doc struct {
		Suite struct {
			Cases []tcase `xml:"testcase"`
		} `xml:"testsuite"`
	}
	s := reports.Summary{Scenario: "steady", Thresholds: []reports.ThresholdResult{}, Targets: []reports.Target{
		{Name: "app", Connections: reports.Connections{Requested: 5, Failed: 5, MaxFailed: 5},
			Errors:      map[string]int64{"http_status": 5},
			ErrorValues: map[string]map[string]int64{"http_status": {"404": 5}}},
		{Name: "nginx-stock", Connections: reports.Connections{Requested: 5, Failed: 5},
			Errors: map[string]int64{"no_response_headers": 5}},
	}}
	s.Diagnoses = []reports.Diagnosis{{Target: "nginx-stock", Symptom: "no stream got a response head"}}
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, s); err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("junit.xml does not parse: %v\n%s", err, buf.String())
	}
	cases := map[string]tcase{}
	for _, c := range doc.Suite.Cases {
		cases[c.Name] = c
	}
	app := cases["app: connections"]
	if app.Failure == nil || app.Failure.Type != "unusable" || app.Failure.Message != "app: target unusable: none of 5 streams got an event stream (http_status 404 ×5)" {
		t.Errorf("app's case = %+v, want unusable with http_status 404 ×5", app)
	}
	ng := cases["nginx-stock: connections"]
	if ng.Failure == nil || ng.Failure.Type != "connections" {
		t.Errorf("nginx-stock's case = %+v, want failed streams (a diagnosis explains them)", ng)
	}
	if reports.Unusable(s, &s.Targets[1]) != "" {
		t.Error("nginx-stock unusable although a diagnosis explains it")
	}
}

func TestMarkdownNamesFaults(t *testing.T) {
	rec := 3.0
	s := reports.Summary{Scenario: "origin-restart", Targets: []reports.Target{
		{Name: "direct", Connections: reports.Connections{Requested: 5, Established: 5, Reconnects: 5}, Errors: map[string]int64{}},
	}, Faults: []reports.Fault{{Name: "origin-restart", AtS: 10, Targets: []reports.FaultTarget{{Name: "direct", Streams: 5, Recovered: 5, RecoveryS: &rec, Reconnects: 5}}}}}
	var b strings.Builder
	if err := WriteMarkdown(&b, s); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"**Reconnects and faults**", "- direct: 5", "- fault origin-restart at 10.0 s: direct: all 5 streams receiving again after 3.00 s"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report.md lacks %q:\n%s", want, b.String())
		}
	}
}
