package render

import (
	"strings"
	"testing"

	"github.com/sseload/sseload/reports/internal/testsummary"
)

// TestReportsSayErrorValues: the text table's errors line, report.md and
// report.html carry each kind's values.
func TestReportsSayErrorValues(t *testing.T) {
	s := testsummary.Text()
	s.Targets[1].Errors = map[string]int64{"http_status": 5, "wrong_content_type": 5}
	s.Targets[1].ErrorValues = map[string]map[string]int64{"http_status": {"404": 5}, "wrong_content_type": {"text/html": 5}}
	const want = "http_status 404 ×5, wrong_content_type text/html ×5"
	var text, md strings.Builder
	if err := WriteText(&text, s); err != nil {
		t.Fatal(err)
	}
	if err := WriteMarkdown(&md, s); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "errors: nginx-stock: "+want+"\n") {
		t.Errorf("text report lacks %q:\n%s", want, text.String())
	}
	if !strings.Contains(md.String(), "- nginx-stock: "+want+"\n") {
		t.Errorf("report.md lacks %q:\n%s", want, md.String())
	}
	var h strings.Builder
	writeHTMLErrors(&h, s)
	for _, cell := range []string{"<td>5 (404 ×5)</td>", "<td>5 (text/html ×5)</td>"} {
		if !strings.Contains(h.String(), cell) {
			t.Errorf("report.html's errors table lacks %s:\n%s", cell, h.String())
		}
	}
}
