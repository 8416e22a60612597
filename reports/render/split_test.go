package render

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sseload/sseload/reports"
	"github.com/sseload/sseload/reports/internal/testsummary"
)

func TestWriteTextSplit(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteText(&buf, testsummary.Split()); err != nil {
		t.Fatal(err)
	}
	goldenCompare(t, "TestWriteText_split", buf.Bytes())
	out := buf.String()
	for _, want := range []string{
		"origin delay p50",
		"path latency p50",
		"latency split: direct: the origin dominates: of latency p99 67.0ms, 52.0ms is the origin's fan-out on this machine (path latency p99 15.0ms); compare targets by path latency\n",
		"latency split: nginx-stock: the path dominates: latency p99 2.50s, path latency p99 2.48s, origin delay p99 53.0ms\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "latency split: app") {
		t.Errorf("the unsplit target has a split verdict:\n%s", out)
	}
	// Both tables fit 120 columns.
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "latency split:") || strings.HasPrefix(l, "harness:") {
			continue
		}
		if n := utf8.RuneCountInString(l); n > 120 {
			t.Errorf("line is %d columns: %q", n, l)
		}
	}

	// Without a split the table and the line are absent.
	buf.Reset()
	if err := WriteText(&buf, testsummary.Text()); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "origin delay") || strings.Contains(buf.String(), "latency split") {
		t.Errorf("a run without a split shows one:\n%s", buf.String())
	}
}

func TestMarkdownAndHTMLShowTheSplit(t *testing.T) {
	s := testsummary.Split()
	var md bytes.Buffer
	if err := WriteMarkdown(&md, s); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| target | latency p50 | p99 | origin delay p50 | p99 | path latency p50 | p99 |",
		"| direct | 21.0ms | 67.0ms | 18.0ms | 52.0ms | 2.10ms | 15.0ms |",
		"| app | 3.00ms | 9.00ms | — | — | — | — |",
		"- direct: the origin dominates: of latency p99 67.0ms, 52.0ms is the origin's fan-out on this machine",
	} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("report.md lacks %q:\n%s", want, md.String())
		}
	}
	var h strings.Builder
	if err := WriteHTML(&h, &reports.RunData{Summary: s}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"<th>origin delay p50</th>",
		"<tr><td>direct</td><td>21.0ms</td><td>67.0ms</td><td>18.0ms</td><td>52.0ms</td><td>2.10ms</td><td>15.0ms</td></tr>",
		"<p>direct: the origin dominates: of latency p99 67.0ms, 52.0ms is the origin&#39;s fan-out on this machine",
	} {
		if !strings.Contains(h.String(), want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
}
