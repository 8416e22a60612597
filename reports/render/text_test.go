package render

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sseload/sseload/reports"
	"github.com/sseload/sseload/reports/internal/testsummary"
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

func TestWriteText(t *testing.T) {
	unreliable := testsummary.Text()
	unreliable.Interrupted = true
	unreliable.Harness = reports.Harness{LagP99US: 25_000, Reliable: false, Note: "scheduling lag p99 25 ms > 10 ms"}
	unreliable.Targets = unreliable.Targets[1:] // no direct target
	unreliable.Diagnoses = reports.Diagnose(unreliable)

	for name, s := range map[string]reports.Summary{"seed": testsummary.Text(), "unreliable": unreliable} {
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
		if got := reports.FormatMicros(us); got != want {
			t.Errorf("FormatMicros(%d) = %q, want %q", us, got, want)
		}
	}
}

func TestTextNamesFaultsAndReconnects(t *testing.T) {
	rec := 3.25
	s := reports.Summary{
		Scenario: "origin-restart", Topology: "local",
		Targets: []reports.Target{
			{Name: "direct", Connections: reports.Connections{Requested: 50, Established: 50, Reconnects: 50},
				Events:         reports.Events{Replayed: 100},
				DisconnectedUS: &reports.Hist{Count: 50, P50: 2_500_000, P99: 3_100_000}, Errors: map[string]int64{}},
			{Name: "nginx-sse", Connections: reports.Connections{Requested: 50, Established: 50}, Errors: map[string]int64{}},
		},
		Faults: []reports.Fault{{Name: "origin-restart", AtS: 10, Targets: []reports.FaultTarget{
			{Name: "direct", Streams: 50, Recovered: 50, RecoveryS: &rec, Reconnects: 50},
			{Name: "nginx-sse", Streams: 50, Recovered: 49, Reconnects: 50, Lost: 2},
		}}},
		Harness: reports.Harness{Reliable: true},
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

func TestTextShowsLostOnlyWhenSomethingWasLost(t *testing.T) {
	s := testsummary.Text()
	for i := range s.Targets {
		s.Targets[i].Events.Accounted = true
		s.Targets[i].Events.Expected = 120
	}
	var buf bytes.Buffer
	if err := WriteText(&buf, s); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "lost") {
		t.Errorf("nothing lost, but the table has a lost column:\n%s", buf.String())
	}

	s.Targets[1].Events.Lost = 7
	s.Targets[2].Events.Accounted = false
	buf.Reset()
	if err := WriteText(&buf, s); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(buf.String(), "\n")
	header, stock, sse := strings.Fields(lines[2]), strings.Fields(lines[4]), strings.Fields(lines[5])
	// target conns failed events lost ...: the header's "conns ok/req" is
	// two words, so lost is header word 5 and row word 4.
	if header[5] != "lost" || stock[4] != "7" || sse[4] != absent {
		t.Errorf("lost column: header %q, nginx-stock %q, nginx-sse (unaccounted) %q:\n%s", header, stock, sse, buf.String())
	}
	for _, l := range lines[2:6] {
		if n := utf8.RuneCountInString(l); n > 120 {
			t.Errorf("table line is %d columns: %q", n, l)
		}
	}
}

// TestTextProtocolColumn: a run with a TLS or HTTP/2 target shows each
// target's protocol after its name; a plaintext run has no such column.
func TestTextProtocolColumn(t *testing.T) {
	s := reports.Summary{Targets: []reports.Target{
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
