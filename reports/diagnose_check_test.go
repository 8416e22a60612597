package reports

import (
	"strings"
	"testing"
)

// TestDiagnoseTargetWithoutBaseline: the rules check relies on fire for one
// target without a direct one to compare: compression, held heads (by the
// absolute threshold), an idle timeout; and stay silent on a healthy one.
func TestDiagnoseTargetWithoutBaseline(t *testing.T) {
	healthy := Target{Name: "x", TimeToHeadersUS: &Hist{Count: 3, P50: 900}, ResponseHead: map[string]string{"content-type": "text/event-stream"}}
	if ds := DiagnoseTarget(&healthy, nil); len(ds) != 0 {
		t.Errorf("healthy: %+v, want none", ds)
	}
	sick := Target{Name: "x", ProxyKind: kindNginx,
		TimeToHeadersUS:   &Hist{Count: 3, P50: 3_000_000},
		QuietBeforeDropUS: &Hist{Count: 3, Min: 5_000_000, P50: 5_010_000, P90: 5_010_000},
		ResponseHead:      map[string]string{"content-encoding": "gzip"}}
	var got []string
	for _, d := range DiagnoseTarget(&sick, nil) {
		got = append(got, d.Directive)
	}
	all := strings.Join(got, " | ")
	for _, want := range []string{"proxy_buffering on", "proxy_read_timeout", "gzip"} {
		if !strings.Contains(all, want) {
			t.Errorf("directives %q lack %q", all, want)
		}
	}
	if d := BurstDiagnosis(&sick, "e"); !strings.Contains(d.Directive, "nginx's buffers") || d.Evidence != "e" {
		t.Errorf("BurstDiagnosis = %+v, want nginx's batched-events cause", d)
	}
}
