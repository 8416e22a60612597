package reports

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCapacityTextAndJSON(t *testing.T) {
	p99 := int64(3210)
	ff := 800
	c := Capacity{
		Target: "nginx-stock", MaxOK: 766, FirstFailed: &ff, Reason: "connections closed", Answer: "nginx-stock carries 766 streams",
		SLOs: []string{"latency.p99 < 100ms"},
		Steps: []CapacityStep{
			{Connections: 766, OK: true, Established: 766, P99US: &p99, Errors: map[string]int64{}, Reliable: true, Dir: "step-766"},
			{Connections: 800, Established: 766, Errors: map[string]int64{"reset_by_peer": 5, "eof_before_headers": 29}, Failed: []string{"34 of 800 connections failed"}, Dir: "step-800"},
		},
	}
	var b bytes.Buffer
	if err := WriteCapacityText(&b, c); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")
	for i, want := range []string{
		"step  streams  result             established  latency p99  errors",
		"   1      766  ok                     766/766       3.21ms  —",
		"   2      800  FAIL (unreliable)      766/800            —  29 eof_before_headers, 5 reset_by_peer",
		"",
		"nginx-stock carries 766 streams",
	} {
		if i >= len(lines) || lines[i] != want {
			t.Errorf("line %d:\n got %q\nwant %q\n%s", i, lines[min(i, len(lines)-1)], want, b.String())
		}
	}

	dir := t.TempDir()
	s := Summary{SchemaVersion: SchemaVersion, Targets: []Target{}, Thresholds: []ThresholdResult{}}
	if err := WriteSummary(dir, s); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(`"capacity"`)) {
		t.Errorf("a plain run's summary.json has a capacity key:\n%s", raw)
	}
	s.Capacity = &c
	if err := WriteSummary(dir, s); err != nil {
		t.Fatal(err)
	}
	got, err := ReadSummary(filepath.Join(dir, SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	if got.Capacity == nil || got.Capacity.MaxOK != 766 || *got.Capacity.FirstFailed != 800 || len(got.Capacity.Steps) != 2 ||
		got.Capacity.Steps[1].Errors["eof_before_headers"] != 29 || *got.Capacity.Steps[0].P99US != p99 {
		t.Errorf("capacity read back as %+v", got.Capacity)
	}
}
