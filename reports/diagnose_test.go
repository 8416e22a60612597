package reports

import (
	"slices"
	"strings"
	"testing"

	"github.com/sseload/sseload/loadgen"
)

func TestDiagnose(t *testing.T) {
	const (
		buffering = "nginx-stock: response headers held back until the stream ends or the first event arrives — response buffering (proxy_buffering on); fix: proxy_buffering off or X-Accel-Buffering: no"
		dead      = "nginx-stock: no stream got response headers (50 no_response_headers) — the stream looks dead"
		gzip      = "nginx-stock: the proxy compresses the stream (Content-Encoding: gzip"
	)
	headers := func(name string, p50 int64) Target {
		return Target{Name: name, Connections: Connections{Requested: 50, Established: 50}, TimeToHeadersUS: &Hist{Count: 50, P50: p50}}
	}
	deadT := func(name string) Target {
		return Target{Name: name, Connections: Connections{Requested: 50, Failed: 50}, Errors: map[string]int64{loadgen.ErrNoResponseHeaders: 50}}
	}
	withHead := func(t Target, head map[string]string) Target { t.ResponseHead = head; return t }

	tests := []struct {
		name    string
		targets []Target
		want    []string // prefixes of the expected lines, in order
	}{
		{"healthy", []Target{headers("direct", 1_500), headers("nginx-sse", 3_000)}, nil},
		{"buffered headers", []Target{headers("direct", 1_500), headers("nginx-stock", 30_000_000)}, []string{buffering}},
		{"seed at 500 ms: head at the stream's end", []Target{headers("direct", 504_000), headers("nginx-stock", 3_010_000)}, []string{buffering}},
		{"exactly 2x and +500 ms", []Target{headers("direct", 500_000), headers("nginx-stock", 1_000_000)}, []string{buffering}},
		{"under 2x", []Target{headers("direct", 600_000), headers("nginx-stock", 1_199_999)}, nil},
		{"2x but under +500 ms", []Target{headers("direct", 1_500), headers("nginx-stock", 499_999)}, nil},
		{"no direct, exactly 1 s", []Target{headers("nginx-stock", 1_000_000)}, []string{buffering}},
		{"no direct, just under 1 s", []Target{headers("nginx-stock", 999_999)}, nil},
		{"no direct target", []Target{headers("nginx-stock", 6_000_000)}, []string{buffering}},
		{"direct slow too: the origin", []Target{headers("direct", 6_000_000), headers("nginx-stock", 6_000_000)}, nil},
		{"direct without headers", []Target{deadT("direct"), headers("nginx-stock", 6_000_000)}, nil},
		{"direct alone, slow", []Target{headers("direct", 6_000_000)}, nil},
		{"dead stream", []Target{headers("direct", 1_500), deadT("nginx-stock")}, []string{dead}},
		{"dead stream, no direct", []Target{deadT("nginx-stock")}, []string{dead}},
		{"dead everywhere: the origin", []Target{deadT("direct"), deadT("nginx-stock")}, nil},
		{"dead but nothing requested", []Target{headers("direct", 1_500), {Name: "nginx-stock", Errors: map[string]int64{loadgen.ErrNoResponseHeaders: 1}}}, nil},
		{"refused, not dead", []Target{headers("direct", 1_500), {Name: "nginx-stock", Connections: Connections{Requested: 5, Failed: 5}, Errors: map[string]int64{loadgen.ErrConnectRefused: 5}}}, nil},
		{"compressed by the proxy", []Target{
			withHead(headers("direct", 1_500), map[string]string{"status": "200"}),
			withHead(headers("nginx-stock", 2_000), map[string]string{"status": "200", "Content-Encoding": "gzip"}),
		}, []string{gzip}},
		{"compressed at the origin too", []Target{
			withHead(headers("direct", 1_500), map[string]string{"content-encoding": "gzip"}),
			withHead(headers("nginx-stock", 2_000), map[string]string{"content-encoding": "gzip"}),
		}, nil},
		{"buffered and compressed", []Target{
			withHead(headers("direct", 1_500), map[string]string{"status": "200"}),
			withHead(headers("nginx-stock", 6_000_000), map[string]string{"content-encoding": "gzip"}),
		}, []string{buffering, gzip}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Diagnose(Summary{Targets: tt.targets})
			ok := len(got) == len(tt.want)
			for i := 0; ok && i < len(got); i++ {
				ok = strings.HasPrefix(got[i], tt.want[i])
			}
			if !ok {
				t.Errorf("Diagnose =\n%s\nwant lines starting with\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
	if got := Diagnose(Summary{}); !slices.Equal(got, nil) {
		t.Errorf("empty summary: %q", got)
	}
}

func TestDiagnoseIdleTimeout(t *testing.T) {
	cut := &Hist{Count: 150, Min: 4_990_000, P50: 5_000_000, P90: 5_001_000, P99: 5_002_000, Max: 5_003_000}
	spread := &Hist{Count: 150, Min: 10_000, P50: 2_000_000, P90: 9_000_000, Max: 9_500_000}
	for _, tc := range []struct {
		name   string
		quiet  *Hist
		direct *Hist
		want   bool
	}{
		{"uniform cut", cut, nil, true},
		{"spread drops", spread, nil, false},
		{"direct dropped too", cut, cut, false},
		{"no drops", nil, nil, false},
	} {
		s := Summary{Targets: []Target{
			{Name: DirectTarget, QuietBeforeDropUS: tc.direct, Connections: Connections{Requested: 50, Established: 50}},
			{Name: "nginx-sse", QuietBeforeDropUS: tc.quiet, Connections: Connections{Requested: 50, Established: 50}},
		}}
		got := strings.Join(Diagnose(s), "\n")
		if has := strings.Contains(got, "idle timeout"); has != tc.want {
			t.Errorf("%s: diagnosis %q, want an idle-timeout line: %v", tc.name, got, tc.want)
		}
		if tc.want && !strings.Contains(got, "150 streams cut after 5.00s") {
			t.Errorf("%s: diagnosis %q does not name the count and the timeout", tc.name, got)
		}
	}
}
