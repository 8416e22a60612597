package scenarios

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/sseload/sseload/targets"
)

func valid() Scenario {
	return Scenario{
		Name: "v", Mode: ModeBroadcast, Interval: time.Second, Connections: 1, Ramp: 1,
		Duration: time.Second, Targets: presets("direct", "nginx-stock", "nginx-sse"), MaxEventBytes: DefaultMaxEventBytes,
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
		{"no targets", func(s *Scenario) { s.Targets = nil }, "targets: empty: list at least one target (built-in: direct, nginx-stock, nginx-sse, haproxy-stock, haproxy-sse, caddy-stock, caddy-sse, nginx-stock-h2, nginx-sse-h2, haproxy-stock-h2, haproxy-sse-h2, caddy-stock-h2, caddy-sse-h2)"},
		{"duplicate target", func(s *Scenario) { s.Targets = presets("nginx-sse", "nginx-sse") }, `targets: duplicate target "nginx-sse"`},
		{"max_event_bytes", func(s *Scenario) { s.MaxEventBytes = -1 }, "max_event_bytes: -1 is below 1"},
		{"payload", func(s *Scenario) { s.Payload = DefaultMaxEventBytes }, "payload: 1048576 bytes does not fit in max_event_bytes 1048576"},
		{"retry", func(s *Scenario) { s.RetryMS = -1 }, "retry_ms: -1 is negative"},
		{"heartbeat", func(s *Scenario) { s.Heartbeat = -time.Second }, "heartbeat: -1s is negative (use 0 for no heartbeats, or a duration such as 15s)"},
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

// presets returns the built-in targets named.
func presets(names ...string) []targets.Spec {
	var out []targets.Spec
	for _, n := range names {
		t, ok := targets.Preset(n)
		if !ok {
			panic("no preset " + n)
		}
		out = append(out, t)
	}
	return out
}

func TestParseFault(t *testing.T) {
	for in, want := range map[string]Fault{
		"origin-restart@10s":  {Kind: FaultOriginRestart, At: 10 * time.Second},
		" proxy-reload@1m30s": {Kind: FaultProxyReload, At: 90 * time.Second},
	} {
		if got, err := ParseFault(in); err != nil || got != want {
			t.Errorf("ParseFault(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for in, wantErr := range map[string]string{
		"origin-restart":      "write KIND@TIME",
		"reboot@10s":          `unknown fault "reboot"`,
		"proxy-reload@soon":   "not a duration",
		"proxy-reload@-1s":    "greater than 0",
		"origin-restart@10":   "not a duration",
		"@10s":                "unknown fault",
		"proxy-reload@0s":     "greater than 0",
		"origin-restart@10s@": "not a duration",
	} {
		if _, err := ParseFault(in); err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("ParseFault(%q) error %v, want one containing %q", in, err, wantErr)
		}
	}
}

func TestValidateReconnectAndFaultKeys(t *testing.T) {
	base, err := Load("steady")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		change func(*Scenario)
		want   string
	}{
		{func(s *Scenario) { s.Reconnect = "always" }, `reconnect: "always" is not a policy`},
		{func(s *Scenario) { s.ReconnectDelay = -time.Second }, "reconnect_delay: -1s is negative"},
		{func(s *Scenario) { s.Faults = []string{"origin-restart@5s", "x@1s"} }, `unknown fault "x"`},
		{func(s *Scenario) { s.SlowShare = 1.5 }, "slow_share: 1.5 is not between 0 and 1"},
		{func(s *Scenario) { s.SlowShare = 0.1 }, "slow_read_rate: 0: slow_share needs a read rate"},
		{func(s *Scenario) { s.SlowShare, s.SlowReadRate, s.Connections = 0.1, 100, 5 }, "less than one connection"},
		{func(s *Scenario) { s.ProxyReadTimeout = -time.Second }, "proxy_read_timeout: -1s"},
	} {
		s := base
		tc.change(&s)
		if err := s.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate: %v, want an error containing %q", err, tc.want)
		}
	}
	s := base
	s.Faults = []string{"proxy-reload@20s", "origin-restart@10s"}
	if got := s.ParsedFaults(); len(got) != 2 || got[0].Kind != FaultOriginRestart || got[1].At != 20*time.Second {
		t.Errorf("ParsedFaults = %+v, want origin-restart@10s then proxy-reload@20s", got)
	}
}
