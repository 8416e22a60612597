package runner

import (
	"context"
	"strings"
	"testing"

	"github.com/sseload/sseload/loadgen"
	"github.com/sseload/sseload/scenarios"
)

// TestTargetHeadersRefusedWhereTheyCannotApply: a target entry's own
// headers need the scenario's targets; compose and --topology none measure
// targets by URL, so they refuse them, naming the key.
func TestTargetHeadersRefusedWhereTheyCannotApply(t *testing.T) {
	sc := scenarios.Scenario{TargetHeaders: map[string][][2]string{"nginx-sse": {{"X-Tenant", "7"}}}}
	if err := CheckCompose(Options{Scenario: sc}); err == nil || !strings.Contains(err.Error(), "targets: headers of a target entry") {
		t.Errorf("CheckCompose = %v, want target headers refused", err)
	}
	_, err := startTopology(context.Background(), Options{Scenario: sc, Topology: TopologyNone, External: []loadgen.Target{{Name: "a", URL: "http://127.0.0.1:1/"}}})
	if err == nil || !strings.Contains(err.Error(), "targets: headers of a target entry") {
		t.Errorf("topology none = %v, want target headers refused", err)
	}
}

// TestGeneratorScenarioCarriesRequest: the compose generator's scenario
// keeps the run's request shape.
func TestGeneratorScenarioCarriesRequest(t *testing.T) {
	sc, err := scenarios.Load("steady")
	if err != nil {
		t.Fatal(err)
	}
	sc.Method, sc.Body, sc.Headers = "POST", `{"a":1}`, [][2]string{{"Authorization", "Bearer x"}}
	b, err := generatorScenario(sc)
	if err != nil {
		t.Fatal(err)
	}
	got, err := scenarios.Parse("gen.yaml", b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Method != "POST" || got.Body != `{"a":1}` || len(got.Headers) != 1 || got.Headers[0] != [2]string{"Authorization", "Bearer x"} {
		t.Errorf("generator scenario: method %q body %q headers %q", got.Method, got.Body, got.Headers)
	}
}
