package reports

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sseload/sseload/loadgen"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// textSummary is the seed scenario's typical outcome: direct is healthy,
// nginx-stock buffers (headers after 30 s), nginx-sse streams. Its
// diagnoses are Diagnose's, as Summarize would fill them.
func textSummary() Summary {
	s := Summary{
		SchemaVersion: SchemaVersion, Scenario: "seed", Topology: "local", DurationS: 7.2,
		Targets: []Target{
			{
				Name: "direct", Connections: Connections{Requested: 20, Established: 20}, Events: Events{Received: 120, Timed: 120},
				TimeToHeadersUS:    &Hist{Count: 20, P50: 1200},
				TimeToFirstEventUS: &Hist{Count: 20, P50: 5_000_000},
				LatencyUS:          &Hist{Count: 120, Min: 150, P50: 410, P90: 800, P99: 1_530, P999: 2_010, Max: 2_010},
				Errors:             map[string]int64{},
			},
			{
				Name: "nginx-stock", ProxyKind: "nginx", Connections: Connections{Requested: 20, Established: 20, Failed: 4}, Events: Events{Received: 120, Timed: 120},
				TimeToHeadersUS:    &Hist{Count: 20, P50: 30_015_000},
				TimeToFirstEventUS: &Hist{Count: 20, P50: 30_015_000},
				LatencyUS:          &Hist{Count: 120, Min: 10, P50: 15_007_000, P90: 27_000_000, P99: 29_900_000, P999: 30_010_000, Max: 30_015_000},
				Errors:             map[string]int64{loadgen.ErrReset: 3, loadgen.ErrNoResponseHeaders: 1},
			},
			{
				Name: "nginx-sse", ProxyKind: "nginx", Connections: Connections{Requested: 20, Established: 20}, Events: Events{Received: 120},
				TimeToHeadersUS:    &Hist{Count: 20, P50: 3_100},
				TimeToFirstEventUS: &Hist{Count: 20, P50: 13_000},
				Errors:             map[string]int64{},
			},
		},
		Harness: Harness{LagP99US: 300, LagMaxUS: 1200, BusyMax: 0.1, Reliable: true},
	}
	s.Diagnoses = Diagnose(s)
	return s
}

func TestWriteText(t *testing.T) {
	unreliable := textSummary()
	unreliable.Interrupted = true
	unreliable.Harness = Harness{LagP99US: 25_000, Reliable: false, Note: "scheduling lag p99 25 ms > 10 ms"}
	unreliable.Targets = unreliable.Targets[1:] // no direct target
	unreliable.Diagnoses = Diagnose(unreliable)

	for name, s := range map[string]Summary{"seed": textSummary(), "unreliable": unreliable} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteText(&buf, s); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "TestWriteText_"+name+".golden")
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if buf.String() != string(want) {
				t.Errorf("output differs from %s (go test -update rewrites it):\n--- got\n%s--- want\n%s", golden, buf.String(), want)
			}
			// The table (up to the first blank line after it) fits 120 columns.
			lines := strings.Split(buf.String(), "\n")
			for _, l := range lines[2:] {
				if l == "" {
					break
				}
				if n := utf8.RuneCountInString(l); n > 120 {
					t.Errorf("table line is %d columns: %q", n, l)
				}
			}
		})
	}
}

func TestFormatMicros(t *testing.T) {
	for us, want := range map[int64]string{
		1:             "1µs",
		999:           "999µs",
		1000:          "1.00ms",
		1234:          "1.23ms",
		9_996:         "10.0ms",
		12_345:        "12.3ms",
		999_949:       "999.9ms",
		999_960:       "1.00s",
		5_000_000:     "5.00s",
		9_996_000:     "10.0s",
		30_015_000:    "30.0s",
		3_600_000_000: "3600.0s",
	} {
		if got := formatMicros(us); got != want {
			t.Errorf("formatMicros(%d) = %q, want %q", us, got, want)
		}
	}
}

func TestTextNamesFaultsAndReconnects(t *testing.T) {
	rec := 3.25
	s := Summary{
		Scenario: "origin-restart", Topology: "local",
		Targets: []Target{
			{Name: "direct", Connections: Connections{Requested: 50, Established: 50, Reconnects: 50},
				Events:         Events{Replayed: 100},
				DisconnectedUS: &Hist{Count: 50, P50: 2_500_000, P99: 3_100_000}, Errors: map[string]int64{}},
			{Name: "nginx-sse", Connections: Connections{Requested: 50, Established: 50}, Errors: map[string]int64{}},
		},
		Faults: []Fault{{Name: "origin-restart", AtS: 10, Targets: []FaultTarget{
			{Name: "direct", Streams: 50, Recovered: 50, RecoveryS: &rec, Reconnects: 50},
			{Name: "nginx-sse", Streams: 50, Recovered: 49, Reconnects: 50, Lost: 2},
		}}},
		Harness: Harness{Reliable: true},
	}
	var b strings.Builder
	if err := WriteText(&b, s); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"reconnects: direct: 50 (disconnected p50 2.50s p99 3.10s; 100 events replayed)",
		"fault origin-restart at 10.0 s: direct: all 50 streams receiving again after 3.25 s, 50 reconnects, 0 events lost; nginx-sse: 49/50 streams receiving again, 50 reconnects, 2 events lost",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, b.String())
		}
	}
	if strings.Contains(b.String(), "reconnects: nginx-sse") {
		t.Errorf("a target that never reconnected gets a reconnect line:\n%s", b.String())
	}
}

// TestTextProtocolColumn: a run with a TLS or HTTP/2 target shows each
// target's protocol after its name; a plaintext run has no such column.
func TestTextProtocolColumn(t *testing.T) {
	s := Summary{Targets: []Target{
		{Name: "edge", Protocol: "h2", TLSVersion: "TLS 1.3", Errors: map[string]int64{}},
		{Name: "direct", Protocol: "h1", Errors: map[string]int64{}},
	}}
	var b strings.Builder
	if err := WriteText(&b, s); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")
	if !strings.HasPrefix(strings.Join(strings.Fields(lines[2]), " "), "target protocol conns") ||
		!strings.Contains(b.String(), "h2 TLS 1.3") || !strings.HasPrefix(strings.Join(strings.Fields(lines[4]), " "), "direct h1 ") {
		t.Errorf("table:\n%s", b.String())
	}
	var mb strings.Builder
	if err := WriteMarkdown(&mb, s); err != nil {
		t.Fatal(err)
	}
	md := mb.String()
	if !strings.Contains(md, "| target | protocol | conns ok/req") || !strings.Contains(md, "| edge | h2 TLS 1.3 |") {
		t.Errorf("markdown:\n%s", md)
	}
	s.Targets = s.Targets[1:]
	b.Reset()
	WriteText(&b, s)
	if strings.Contains(b.String(), "protocol") {
		t.Errorf("plaintext run with a protocol column:\n%s", b.String())
	}
}
