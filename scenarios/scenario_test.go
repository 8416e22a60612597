package scenarios

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

func valid() Scenario {
	return Scenario{
		Name: "v", Mode: ModeBroadcast, Interval: time.Second, Connections: 1, Ramp: 1,
		Duration: time.Second, Targets: KnownTargets(), MaxEventBytes: DefaultMaxEventBytes,
	}
}

// TestValidate covers the checks the CLI relies on after applying flag
// overrides: messages name the key and the fix, without file or line.
func TestValidate(t *testing.T) {
	if err := valid().Validate(); err != nil {
		t.Fatalf("valid scenario: %v", err)
	}
	cases := []struct {
		name   string
		modify func(*Scenario)
		want   string
	}{
		{"override mode to broadcast with duration 0", func(s *Scenario) { s.Duration = 0 },
			"duration: 0 is only valid for mode per-connection"},
		{"mode", func(s *Scenario) { s.Mode = "Broadcast" }, `mode: "Broadcast" is not a mode (valid: broadcast, per-connection)`},
		{"empty mode", func(s *Scenario) { s.Mode = "" }, `mode: "" is not a mode (valid: broadcast, per-connection)`},
		{"interval", func(s *Scenario) { s.Interval = 0 }, "interval: 0s is not greater than 0"},
		{"per-connection events", func(s *Scenario) { s.Mode = ModePerConnection; s.Events = 0 }, "events: 0 is too few for per-connection"},
		{"connections", func(s *Scenario) { s.Connections = 0 }, "connections: 0 is below 1"},
		{"ramp", func(s *Scenario) { s.Ramp = math.Inf(1) }, "ramp: +Inf is not a finite number greater than 0"},
		{"ramp negative", func(s *Scenario) { s.Ramp = -1 }, "ramp: -1 is not a finite number greater than 0"},
		{"targets", func(s *Scenario) { s.Targets = []string{"direct", "nginx"} }, `targets: unknown target "nginx" (valid: direct, nginx-stock, nginx-sse)`},
		{"no targets", func(s *Scenario) { s.Targets = nil }, "targets: empty: list at least one target (valid: direct, nginx-stock, nginx-sse)"},
		{"duplicate target", func(s *Scenario) { s.Targets = []string{"nginx-sse", "nginx-sse"} }, `targets: duplicate target "nginx-sse"`},
		{"max_event_bytes", func(s *Scenario) { s.MaxEventBytes = -1 }, "max_event_bytes: -1 is below 1"},
		{"payload", func(s *Scenario) { s.Payload = DefaultMaxEventBytes }, "payload: 1048576 bytes does not fit in max_event_bytes 1048576"},
		{"retry", func(s *Scenario) { s.RetryMS = -1 }, "retry_ms: -1 is negative"},
		{"threshold", func(s *Scenario) { s.Thresholds = []string{""} }, "thresholds: empty expression"},
		{"name", func(s *Scenario) { s.Name = " " }, "name: empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := valid()
			c.modify(&s)
			err := s.Validate()
			if err == nil {
				t.Fatalf("Validate(%+v) = nil, want %q", s, c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("Validate error %q does not contain %q", err, c.want)
			}
		})
	}
}

// TestValidateZero reports every required key at once.
func TestValidateZero(t *testing.T) {
	err := Scenario{}.Validate()
	if err == nil {
		t.Fatal("zero Scenario validated")
	}
	for _, key := range []string{"name:", "mode:", "interval:", "connections:", "ramp:", "targets:", "max_event_bytes:"} {
		if !strings.Contains(err.Error(), "\n"+key) && !strings.HasPrefix(err.Error(), key) {
			t.Errorf("zero Scenario error does not report %s:\n%v", key, err)
		}
	}
}

// TestSeedOverrideToBroadcast is the CLI flow: load, override, revalidate.
func TestSeedOverrideToBroadcast(t *testing.T) {
	s, err := Load("seed")
	if err != nil {
		t.Fatal(err)
	}
	s.Mode = ModeBroadcast // --mode broadcast, no --duration
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "duration: 0 is only valid for mode per-connection") {
		t.Errorf("Validate after overriding seed to broadcast = %v, want the duration 0 error", err)
	}
}

func TestKnownTargetsIsACopy(t *testing.T) {
	a := KnownTargets()
	if want := []string{"direct", "nginx-stock", "nginx-sse"}; !slices.Equal(a, want) {
		t.Fatalf("KnownTargets() = %v, want %v", a, want)
	}
	a[0] = "changed"
	if KnownTargets()[0] != "direct" {
		t.Error("changing the returned slice changed KnownTargets")
	}
}
