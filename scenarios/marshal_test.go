package scenarios

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sseload/sseload/targets"
)

// everyField is a scenario with every field set to a value other than its
// zero and its default, so a field Marshal forgot cannot round-trip by
// luck.
func everyField(t *testing.T) Scenario {
	t.Helper()
	conf := filepath.Join(t.TempDir(), "my nginx.conf")
	if err := os.WriteFile(conf, []byte("http {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mine, err := targets.Custom("mine", targets.Nginx, conf, "")
	if err != nil {
		t.Fatal(err)
	}
	direct, _ := targets.Preset(targets.Direct)
	haproxy, _ := targets.Preset("haproxy-sse")
	return Scenario{
		Name:               "123",
		Description:        "two lines:\n  the second: \"quoted\" # not a comment",
		Mode:               ModePerConnection,
		Interval:           1500 * time.Millisecond,
		Events:             7,
		Payload:            300,
		XAccel:             true,
		RetryMS:            2500,
		HeadWithFirstEvent: true,
		Heartbeat:          15 * time.Second,
		Connections:        42,
		Ramp:               12.5,
		Duration:           90 * time.Second,
		Targets:            []targets.Spec{direct, haproxy, mine},
		MaxEventBytes:      4096,
		Thresholds:         []string{"nginx-sse:latency.p99 < 50ms", "connections.failed == 0"},
		Reconnect:          "persistent",
		ReconnectDelay:     750 * time.Millisecond,
		Faults:             []string{"origin-restart@10s", "proxy-reload@20s"},
		FaultDown:          3 * time.Second,
		ProxyReadTimeout:   5 * time.Second,
		SlowShare:          0.1,
		SlowReadRate:       2000,
		MaxFailed:          MaxFailed{Percent: 2.5, IsPercent: true},
		Method:             "PUT",
		Body:               `{"prompt": "hi: there"}`,
		Headers:            [][2]string{{"Authorization", "Bearer a:b"}, {"X-Two", ""}, {"X-Two", "2"}},
		TargetHeaders:      map[string][][2]string{"mine": {{"Cookie", "s=1"}}, "haproxy-sse": {{"X-Tenant", "7"}}},
		Source:             "every-field.yaml",
	}
}

func TestMarshalRoundTripsEveryField(t *testing.T) {
	sc := everyField(t)
	v := reflect.ValueOf(sc)
	for i := range v.NumField() {
		if v.Field(i).IsZero() {
			t.Fatalf("everyField leaves %s zero: set it, and make Marshal write it", v.Type().Field(i).Name)
		}
	}
	b, err := Marshal(sc)
	if err != nil {
		t.Fatal(err)
	}
	// Read from another directory: the custom target's path is absolute.
	file := filepath.Join(t.TempDir(), "elsewhere.yaml")
	got, err := Parse(file, b)
	if err != nil {
		t.Fatalf("Parse(Marshal(sc)): %v\n%s", err, b)
	}
	got.Source = sc.Source
	if !reflect.DeepEqual(got, sc) {
		t.Fatalf("round trip changed the scenario:\n got %+v\nwant %+v\nfile:\n%s", got, sc, b)
	}
}

// TestMarshalRoundTripsZeros: zero values where the defaults are not zero
// (events of a per-connection scenario, an unset reconnect) must be written,
// not left to the reader's defaults.
func TestMarshalRoundTripsZeros(t *testing.T) {
	sc := everyField(t)
	sc.Mode, sc.Events, sc.Duration = ModeBroadcast, 0, time.Minute
	sc.Reconnect, sc.ReconnectDelay, sc.FaultDown = "", 0, 0
	sc.Thresholds, sc.Faults, sc.Description = nil, nil, ""
	b, err := Marshal(sc)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse("zeros.yaml", b)
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, b)
	}
	got.Source = sc.Source
	if !reflect.DeepEqual(got, sc) {
		t.Fatalf("round trip changed the scenario:\n got %+v\nwant %+v\nfile:\n%s", got, sc, b)
	}
}

func TestMarshalRoundTripsEmbeddedScenarios(t *testing.T) {
	for _, name := range Names() {
		sc, err := Load(name)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Marshal(sc)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := Parse(name+".yaml", b)
		if err != nil {
			t.Fatalf("%s: Parse(Marshal): %v\n%s", name, err, b)
		}
		got.Source = sc.Source
		if !reflect.DeepEqual(got, sc) {
			t.Errorf("%s: round trip changed the scenario:\n got %+v\nwant %+v", name, got, sc)
		}
	}
}

// TestMarshalWithoutTargets: the compose topology's generator measures the
// --target URLs it is given; its file leaves targets out and the reader's
// defaults stand in.
func TestMarshalWithoutTargets(t *testing.T) {
	sc := everyField(t)
	sc.Targets = nil
	b, err := Marshal(sc)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "targets:") {
		t.Fatalf("targets written:\n%s", b)
	}
	got, err := Parse("no-targets.yaml", b)
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, b)
	}
	if names := strings.Join(targets.Names(got.Targets), ","); names != strings.Join(targets.DefaultNames(), ",") {
		t.Fatalf("targets read back %s, want the defaults", names)
	}
}

func TestMarshalMakesConfigPathsAbsolute(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "edge.cfg"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	sc := everyField(t)
	sc.Targets = []targets.Spec{{Name: "edge", Kind: targets.HAProxy, Config: "edge.cfg"}}
	b, err := Marshal(sc)
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(dir, "edge.cfg")
	if !strings.Contains(string(b), want) {
		t.Fatalf("config path not made absolute (%s):\n%s", want, b)
	}
	got, err := Parse(filepath.Join(t.TempDir(), "s.yaml"), b)
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, b)
	}
	if got.Targets[0].Config != want {
		t.Fatalf("config read back as %q, want %q", got.Targets[0].Config, want)
	}
}

func TestMarshalRefusesAPresetNameWithAnotherConfig(t *testing.T) {
	sc := everyField(t)
	sc.Targets = []targets.Spec{{Name: "nginx-sse", Kind: targets.Nginx, Config: "/etc/nginx/nginx.conf"}}
	if _, err := Marshal(sc); err == nil || !strings.Contains(err.Error(), "nginx-sse") {
		t.Fatalf("Marshal error = %v, want one naming nginx-sse", err)
	}
}
