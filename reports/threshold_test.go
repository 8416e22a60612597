package reports

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// goldenCompare checks got against testdata/<name>.golden; go test -update
// rewrites the file.
func goldenCompare(t *testing.T, name string, got []byte) {
	t.Helper()
	golden := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("output differs from %s (go test -update rewrites it):\n--- got\n%s--- want\n%s", golden, got, want)
	}
}

// TestParseThresholdGolden parses good and bad expressions; the golden
// file shows each parse or error, so a change in wording is reviewed.
func TestParseThresholdGolden(t *testing.T) {
	exprs := []string{
		"nginx-sse:latency.p99 < 50ms",
		"time_to_headers.p50 <= 1s",
		"connections.failed == 0",
		"  latency.p99.9<250us ",
		"latency_us.p999 < 1.5s",
		"latency.mean >= 500µs",
		"time_to_first_event.max != 2m",
		"events.received > 1000",
		"events.clock_skewed == 0",
		"direct:latency.count >= 100",
		"latency.p50 < 50 ms",
		"latency.p50 < 0",
		// Malformed.
		"",
		"latency.p99 50ms",
		"latency.p99 = 50ms",
		"latency.p99 => 50ms",
		"latency.p95 < 50ms",
		"events.dropped == 0",
		"latency.p99 < 50",
		"connections.failed < 5ms",
		"latency.p99 < fast",
		"latency.p99 <",
		"< 50ms",
		":latency.p99 < 50ms",
		"0 < latency.p99 < 50ms",
	}
	var buf bytes.Buffer
	for _, e := range exprs {
		th, err := ParseThreshold(e)
		if err != nil {
			fmt.Fprintf(&buf, "%q\n\terror: %v\n", e, err)
			continue
		}
		fmt.Fprintf(&buf, "%q\n\ttarget=%q metric=%s op=%s value=%s\n", e, th.Target, th.Metric, th.Op, strconv.FormatFloat(th.Value, 'f', -1, 64))
	}
	goldenCompare(t, "TestParseThreshold", buf.Bytes())
}

func TestParseThresholdErrorsNameTheToken(t *testing.T) {
	for expr, want := range map[string][]string{
		"latency.p95 < 50ms":       {`"latency.p95"`, "latency.{count,min,mean,p50,p90,p99,p999,max}", "connections.{requested,established,failed}"},
		"events.dropped == 0":      {`"events.dropped"`, "events.{received,timed,clock_skewed,"},
		"latency.p99 < 50":         {`"50"`, "unit"},
		"latency.p99 ~ 50ms":       {"no comparison operator"},
		"connections.failed < 1s":  {`"1s"`, "plain number"},
		"latency.p99 = 50ms":       {`"="`},
		"nginx sse:latency.p99<1s": {`"nginx sse"`},
	} {
		_, err := ParseThreshold(expr)
		if err == nil {
			t.Errorf("%q: no error", expr)
			continue
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%q: error %q does not contain %q", expr, err, w)
			}
		}
	}
}

func TestThresholdMetricsAllParse(t *testing.T) {
	ms := ThresholdMetrics()
	if len(ms) != 7*8+12 {
		t.Fatalf("%d metrics, want 68 (7 histograms × 8 fields + 12 counts)", len(ms))
	}
	for _, m := range ms {
		v := "0"
		if isTimeMetric(m) {
			v = "1ms"
		}
		th, err := ParseThreshold(m + " < " + v)
		if err != nil || th.Metric != m {
			t.Errorf("%s: %+v, %v", m, th, err)
		}
	}
}

func TestThresholdOperators(t *testing.T) {
	s := Summary{Targets: []Target{{Name: "t", Connections: Connections{Failed: 5}}}}
	for expr, ok := range map[string]bool{
		"connections.failed < 5": false, "connections.failed <= 5": true,
		"connections.failed > 4": true, "connections.failed >= 6": false,
		"connections.failed == 5": true, "connections.failed != 5": false,
	} {
		th, err := ParseThreshold(expr)
		if err != nil {
			t.Fatal(err)
		}
		if r := EvaluateThresholds(s, []Threshold{th}); r[0].OK != ok {
			t.Errorf("%s: ok=%v, want %v", expr, r[0].OK, ok)
		}
	}
}

func TestCheckThresholdTargets(t *testing.T) {
	ths, err := ParseThresholds([]string{"latency.p99 < 1s", "nginx-sse:latency.p99 < 1s"})
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckThresholdTargets(ths, []string{"direct", "nginx-sse"}); err != nil {
		t.Error(err)
	}
	err = CheckThresholdTargets(ths, []string{"direct"})
	if err == nil || !strings.Contains(err.Error(), `target "nginx-sse" is not in this run (targets: direct)`) {
		t.Errorf("err = %v", err)
	}
}
