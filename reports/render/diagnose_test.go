package render

import (
	"strings"
	"testing"

	"github.com/sseload/sseload/reports"
)

// TestReportsShowSummaryDiagnoses: the text, Markdown and HTML reports show
// s.Diagnoses, the list summary.json holds, and never diagnose again.
func TestReportsShowSummaryDiagnoses(t *testing.T) {
	heads := func(name string, p50 int64) reports.Target {
		t := reports.Target{Name: name, Connections: reports.Connections{Requested: 50, Established: 50},
			TimeToHeadersUS: &reports.Hist{Count: 50, P50: p50}, Errors: map[string]int64{}}
		if name != reports.DirectTarget {
			t.ProxyKind = "nginx"
		}
		return t
	}
	held := []reports.Target{heads("direct", 1_500), heads("nginx-stock", 30_000_000)}
	// What diagnosing again would say: the reports must not.
	again := reports.Diagnose(reports.Summary{Targets: held})
	if len(again) != 1 {
		t.Fatalf("the held-headers fixture diagnoses as %+v, want one diagnosis", again)
	}
	heldSym := again[0].Symptom
	d := reports.Diagnosis{Target: "nginx-stock", Symptom: "custom symptom", Directive: "custom <cause>", Fix: "custom fix", Evidence: "custom evidence"}
	for _, tc := range []struct {
		name      string
		diagnoses []reports.Diagnosis
		want      []string // in text, Markdown, HTML
		wantNot   []string
	}{
		{"stored list", []reports.Diagnosis{d},
			[]string{d.String(), "- " + mdEscape(d.String()), "<td>nginx-stock</td><td class=\"wrap\">custom symptom</td><td class=\"wrap\">custom &lt;cause&gt;</td><td class=\"wrap\">custom fix</td><td class=\"wrap\">custom evidence</td>"},
			[]string{heldSym, heldSym, heldSym}},
		{"none stored", nil, nil, []string{heldSym, "**Diagnosis**", "<b>Diagnosis</b>"}},
	} {
		s := reports.Summary{Scenario: "x", Targets: held, Diagnoses: tc.diagnoses, Harness: reports.Harness{Reliable: true}}
		var text, md, page strings.Builder
		if err := WriteText(&text, s); err != nil {
			t.Fatal(err)
		}
		if err := WriteMarkdown(&md, s); err != nil {
			t.Fatal(err)
		}
		if err := WriteHTML(&page, &reports.RunData{Summary: s}); err != nil {
			t.Fatal(err)
		}
		outs := []string{text.String(), md.String(), page.String()}
		for i, out := range outs {
			if i < len(tc.want) && !strings.Contains(out, tc.want[i]) {
				t.Errorf("%s: report %d lacks %q:\n%s", tc.name, i, tc.want[i], out)
			}
			if i < len(tc.wantNot) && strings.Contains(out, tc.wantNot[i]) {
				t.Errorf("%s: report %d has %q:\n%s", tc.name, i, tc.wantNot[i], out)
			}
		}
	}
}
