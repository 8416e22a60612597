package render

import (
	"bytes"
	"strings"
	"testing"

	"github.com/sseload/sseload/reports"
)

// TestCapacityText: the steps table in the order measured, error kinds
// with their values the way the run's table says them (reports.ErrorList),
// then the answer.
func TestCapacityText(t *testing.T) {
	p99 := int64(3210)
	ff := 800
	c := reports.Capacity{
		Target: "nginx-stock", MaxOK: 766, FirstFailed: &ff, Reason: "connections closed", Answer: "nginx-stock carries 766 streams",
		SLOs: []string{"latency.p99 < 100ms"},
		Steps: []reports.CapacityStep{
			{Connections: 766, OK: true, Established: 766, P99US: &p99, Errors: map[string]int64{}, Reliable: true, Dir: "step-766"},
			{Connections: 800, Established: 766, Errors: map[string]int64{"reset_by_peer": 5, "eof_before_headers": 24, "http_status": 5},
				ErrorValues: map[string]map[string]int64{"http_status": {"503": 5}}, Failed: []string{"34 of 800 connections failed"}, Dir: "step-800"},
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
		"   2      800  FAIL (unreliable)      766/800            —  eof_before_headers ×24, http_status 503 ×5, reset_by_peer ×5",
		"",
		"nginx-stock carries 766 streams",
	} {
		if i >= len(lines) || lines[i] != want {
			t.Errorf("line %d:\n got %q\nwant %q\n%s", i, lines[min(i, len(lines)-1)], want, b.String())
		}
	}
}
