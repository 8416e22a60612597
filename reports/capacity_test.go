package reports

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestCapacityJSON(t *testing.T) {
	p99 := int64(3210)
	ff := 800
	c := Capacity{
		Target: "nginx-stock", MaxOK: 766, FirstFailed: &ff, Reason: "connections closed", Answer: "nginx-stock carries 766 streams",
		SLOs: []string{"latency.p99 < 100ms"},
		Steps: []CapacityStep{
			{Connections: 766, OK: true, Established: 766, P99US: &p99, Errors: map[string]int64{}, Reliable: true, Dir: "step-766"},
			{Connections: 800, Established: 766, Errors: map[string]int64{"reset_by_peer": 5, "http_status": 29}, ErrorValues: map[string]map[string]int64{"http_status": {"503": 29}}, Failed: []string{"34 of 800 connections failed"}, Dir: "step-800"},
		},
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
		got.Capacity.Steps[1].Errors["http_status"] != 29 || got.Capacity.Steps[1].ErrorValues["http_status"]["503"] != 29 || *got.Capacity.Steps[0].P99US != p99 {
		t.Errorf("capacity read back as %+v", got.Capacity)
	}
}
