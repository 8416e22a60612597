package reports

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
)

// reportSummary is textSummary with thresholds evaluated on it.
func reportSummary(t *testing.T) Summary {
	t.Helper()
	s := textSummary()
	ths, err := ParseThresholds([]string{"latency.p99 < 50ms", "nginx-stock:connections.failed == 0", "direct:time_to_headers.p50 <= 1s"})
	if err != nil {
		t.Fatal(err)
	}
	s.Thresholds = EvaluateThresholds(s, ths)
	return s
}

func TestWriteMarkdown(t *testing.T) {
	unreliable := textSummary()
	unreliable.Harness = Harness{LagP99US: 25_000, Reliable: false, Note: "scheduling lag p99 25 ms > 10 ms"}
	unreliable.Targets[0].Name = "a|b" // a pipe must not break the table
	unreliable.Diagnoses = Diagnose(unreliable)
	unreliable.Thresholds = []ThresholdResult{}
	for name, s := range map[string]Summary{"thresholds": reportSummary(t), "unreliable": unreliable} {
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
	read := func(s Summary) suites {
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

	got := read(reportSummary(t))
	if got.Tests != 5 || got.Failures != 3 || len(got.Suite.Cases) != 5 {
		t.Fatalf("tests %d failures %d cases %d, want 5, 3, 5", got.Tests, got.Failures, len(got.Suite.Cases))
	}
	c := got.Suite.Cases[1]
	if c.Name != "nginx-stock: latency.p99 < 50ms" || c.Failure == nil || !strings.Contains(c.Failure.Message, "measured 29.9s") {
		t.Errorf("failed case = %+v, want nginx-stock's with the measured value", c)
	}
	if got.Suite.Cases[0].Failure != nil {
		t.Errorf("direct's case failed: %+v", got.Suite.Cases[0])
	}

	// No thresholds: one "run completed" case, failing only when interrupted.
	s := textSummary()
	got = read(s)
	if got.Tests != 1 || got.Failures != 0 || got.Suite.Cases[0].Name != RunCompletedCase {
		t.Errorf("no thresholds: %+v", got)
	}
	s.Interrupted = true
	if got = read(s); got.Failures != 1 {
		t.Errorf("interrupted: %d failures, want 1", got.Failures)
	}
}

func TestMarkdownNamesFaults(t *testing.T) {
	rec := 3.0
	s := Summary{Scenario: "origin-restart", Targets: []Target{
		{Name: "direct", Connections: Connections{Requested: 5, Established: 5, Reconnects: 5}, Errors: map[string]int64{}},
	}, Faults: []Fault{{Name: "origin-restart", AtS: 10, Targets: []FaultTarget{{Name: "direct", Streams: 5, Recovered: 5, RecoveryS: &rec, Reconnects: 5}}}}}
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
