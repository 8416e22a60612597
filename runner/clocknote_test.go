package runner

import (
	"bytes"
	"strings"
	"testing"

	"github.com/sseload/sseload/loadgen"
	"github.com/sseload/sseload/reports"
	"github.com/sseload/sseload/reports/render"
)

// TestUnsyncedClocksNote: a run timing events an origin on another host
// stamped, with no time source, says its latencies assume synchronised
// clocks (a clock note in summary.json, the text report and report.md);
// one whose origin shares this machine's clock does not.
func TestUnsyncedClocksNote(t *testing.T) {
	result := func(url string, timed int64) (loadgen.Config, *loadgen.Result) {
		cfg := loadgen.Config{Targets: []loadgen.Target{{Name: "app", URL: url}}}
		res := &loadgen.Result{Harness: loadgen.Harness{Reliable: true}, Targets: []*loadgen.TargetResult{{Name: "app", URL: url, EventsTimed: timed}}}
		for m := range res.Targets[0].Hist {
			res.Targets[0].Hist[m] = loadgen.NewHistogram()
		}
		return cfg, res
	}
	none := Options{Topology: TopologyNone, TimestampField: "ts"}
	for _, tc := range []struct {
		name  string
		opts  Options
		url   string
		timed int64
		want  bool
	}{
		{"foreign origin on another host", none, "http://origin.internal:8080/events", 10, true},
		{"sseload origin on another host", Options{Topology: TopologyNone}, "https://10.0.0.5/events", 10, true},
		{"loopback origin", none, "http://127.0.0.1:8080/events", 10, false},
		{"localhost origin", none, "http://localhost:8080/events", 10, false},
		{"ipv6 loopback origin", none, "http://[::1]:8080/events", 10, false},
		{"nothing timed", none, "http://origin.internal:8080/events", 0, false},
		{"local topology", Options{Topology: TopologyLocal}, "http://origin.internal:8080/events", 10, false},
		{"compose topology", Options{Topology: TopologyCompose}, "http://origin:8080/events", 10, false},
		{"remote workers judge their own clocks", Options{Topology: TopologyNone, Workers: []string{"10.0.0.6:7070"}}, "http://origin.internal:8080/events", 10, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, res := result(tc.url, tc.timed)
			noteUnsyncedClocks(tc.opts, cfg, res)
			sum := reports.Summarize(res, reports.Meta{Topology: tc.opts.Topology})
			var clock *reports.HarnessNote
			for i, n := range sum.Harness.Notes {
				if n.Kind == loadgen.NoteUnchecked && n.Target == loadgen.NoteClock {
					clock = &sum.Harness.Notes[i]
				}
			}
			if !tc.want {
				if clock != nil || !sum.Harness.Reliable {
					t.Fatalf("harness %+v: want reliable, no clock note", sum.Harness)
				}
				return
			}
			// Said, not held against the run: without a time source there
			// is nothing to measure the offset with (issue 13's contract).
			if clock == nil || !sum.Harness.Reliable || !strings.Contains(clock.Text, "synchronised") {
				t.Fatalf("harness %+v: want reliable, with an unchecked clock note saying latencies assume synchronised clocks", sum.Harness)
			}
			var text, md bytes.Buffer
			if err := render.WriteText(&text, sum); err != nil {
				t.Fatal(err)
			}
			if err := render.WriteMarkdown(&md, sum); err != nil {
				t.Fatal(err)
			}
			for name, out := range map[string]string{"text report": text.String(), "report.md": md.String()} {
				if !strings.Contains(out, clock.Text) {
					t.Errorf("%s does not say %q:\n%s", name, clock.Text, out)
				}
			}
		})
	}
}
