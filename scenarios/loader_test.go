package scenarios

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sseload/sseload/targets"
)

// validKeys is the list every unknown-key error must show.
const validKeys = "valid keys: body, connections, description, duration, events, fault_down, faults, head_with_first_event, headers, heartbeat, interval, max_event_bytes, max_failed, method, mode, name, payload, proxy_read_timeout, ramp, reconnect, reconnect_delay, retry_ms, slow_read_rate, slow_share, targets, thresholds, x_accel"

// TestParseErrors feeds one mistake per case and checks that the error names
// the file and line, the key, and the valid choices or the fix.
func TestParseErrors(t *testing.T) {
	const file = "scenarios/foo.yaml"
	cases := []struct {
		name string
		in   string
		want []string // each must appear in the error
	}{
		{"unknown key", "name: foo\nmode: broadcast\ninterval: 1s\nevents: 0\npayload: 0\nramp: 10\nconections: 5\n",
			[]string{file + `:7: unknown key "conections": did you mean "connections"? (` + validKeys + ")"}},
		{"unknown key far from any", "burst: 5\n", []string{file + `:1: unknown key "burst" (` + validKeys + ")"}},
		{"key case matters", "Connections: 5\n", []string{file + `:1: unknown key "Connections"`, validKeys}},
		{"bad duration", "mode: broadcast\ninterval: 1s\nconnections: 5\nramp: 10\nduration: 5x\n",
			[]string{file + `:5: duration "5x": not a duration (use Go durations such as 500ms, 5s, 1m)`}},
		{"bad interval", "interval: soon\n", []string{file + `:1: interval "soon": not a duration (use Go durations such as 500ms, 5s, 1m)`}},
		{"bare integer duration", "duration: 60\n", []string{file + `:1: duration "60": a duration needs a unit (write 60s or 60ms)`}},
		{"bare float interval", "interval: 1.5\n", []string{file + `:1: interval "1.5": a duration needs a unit (write 1.5s or 1.5ms)`}},
		{"quoted bare number", "interval: \"5\"\n", []string{file + `:1: interval "5": a duration needs a unit`}},
		{"duration list", "duration: [1s]\n", []string{file + ":1: duration: expected a duration such as 5s, got a list"}},
		{"unknown target", "mode: broadcast\n\n\n\n\n\n\ntargets:\n  - nginx\n",
			[]string{file + `:9: targets: unknown target "nginx" (built-in: direct, nginx-stock, nginx-sse, haproxy-stock, haproxy-sse, caddy-stock, caddy-sse, nginx-stock-h2, nginx-sse-h2, haproxy-stock-h2, haproxy-sse-h2, caddy-stock-h2, caddy-sse-h2; your own proxy: NAME=KIND:PATH`}},
		{"unknown target flow", "targets: [direct, nginx-ssе]\n", // Cyrillic е
			[]string{file + `:1: targets: unknown target "nginx-ssе": did you mean "nginx-sse"?`}},
		{"duplicate target", "targets:\n  - direct\n  - nginx-sse\n  - direct\n",
			[]string{file + `:4: targets: duplicate target "direct" (list each target once)`}},
		{"empty targets", "mode: broadcast\ntargets: []\n",
			[]string{file + ":2: targets: empty: list at least one target (built-in: direct, nginx-stock"}},
		{"targets not a list", "targets: direct\n",
			[]string{file + `:1: targets: expected a list such as [direct, nginx-sse, {name: mine, proxy: nginx, config: ./nginx.conf}], got the value "direct"`}},
		{"own target without config", "targets:\n  - {name: mine, proxy: nginx}\n", []string{file + ":2: targets: a target of your own needs config"}},
		{"own target unknown kind", "targets:\n  - {name: mine, proxy: envoy, config: x.conf}\n", []string{file + `:2: targets: target mine: unknown proxy kind "envoy" (valid: nginx, haproxy, caddy)`}},
		{"own target missing file", "targets:\n  - {name: mine, proxy: nginx, config: no-such.conf}\n", []string{file + ":2: targets: target mine: config ", "no-such.conf does not exist"}},
		{"own target named like a preset", "targets:\n  - {name: nginx-sse, proxy: nginx, config: x.conf}\n", []string{file + `:2: targets: target name "nginx-sse" is a built-in target`}},
		{"target item a mapping", "targets:\n  - direct\n  - {a: b}\n", []string{file + `:3: targets: unknown key "a" in a target (valid: name, proxy, config, tls, http2)`}},
		{"target key misspelt", "targets:\n  - {name: mine, proxi: nginx, config: x.conf}\n", []string{file + `:2: targets: unknown key "proxi" in a target: did you mean "proxy"? (valid: name, proxy, config, tls, http2)`}},
		{"wrong type", "connections: many\n",
			[]string{file + `:1: connections "many": not a whole number (write digits, such as connections: 100)`}},
		{"float for int", "events: 2.5\n", []string{file + `:1: events "2.5": not a whole number`}},
		{"int too large", "payload: 99999999999999999999999\n", []string{file + `:1: payload "99999999999999999999999": too large`}},
		{"wrong type bool", "x_accel: maybe\n", []string{file + `:1: x_accel "maybe": not true or false`}},
		{"wrong type ramp", "ramp: fast\n", []string{file + `:1: ramp "fast": not a number (write one such as ramp: 1000 or ramp: 2.5)`}},
		{"mapping for text", "description:\n  a: b\n", []string{file + ":2: description: expected text, got a mapping"}},
		{"null value", "mode: broadcast\nconnections:\n",
			[]string{file + ":2: connections: no value (give one, or remove the key to use the default)"}},
		{"negative connections", "connections: -5\n",
			[]string{file + ":1: connections: -5 is below 1 (open at least 1 stream per target; default 100)"}},
		{"zero connections", "connections: 0\n", []string{file + ":1: connections: 0 is below 1"}},
		{"negative payload", "payload: -1\n", []string{file + ":1: payload: -1 is negative (use 0 for no padding"}},
		{"negative retry", "retry_ms: -3\n", []string{file + ":1: retry_ms: -3 is negative (use 0 to send no retry field"}},
		{"negative heartbeat", "mode: broadcast\nheartbeat: -5s\n", []string{file + ":2: heartbeat: -5s is negative (use 0 for no heartbeats, or a duration such as 15s)"}},
		{"bare heartbeat", "heartbeat: 15\n", []string{file + `:1: heartbeat "15": a duration needs a unit (write 15s or 15ms)`}},
		{"bad heartbeat", "heartbeat: often\n", []string{file + `:1: heartbeat "often": not a duration`}},
		{"negative events", "events: -1\n", []string{file + ":1: events: -1 is negative"}},
		{"negative interval", "interval: -1s\n", []string{file + ":1: interval: -1s is not greater than 0 (use a duration such as 500ms or 1s)"}},
		{"zero interval", "interval: 0s\n", []string{file + ":1: interval: 0s is not greater than 0"}},
		{"negative duration", "duration: -5s\n", []string{file + ":1: duration: -5s is negative (use a duration such as 60s)"}},
		{"zero ramp", "ramp: 0\n", []string{file + ":1: ramp: 0 is not a finite number greater than 0"}},
		{"infinite ramp", "ramp: .inf\n", []string{file + ":1: ramp: +Inf is not a finite number greater than 0"}},
		{"nan ramp", "ramp: .nan\n", []string{file + ":1: ramp: NaN is not a finite number greater than 0"}},
		{"zero max_event_bytes", "max_event_bytes: 0\n", []string{file + ":1: max_event_bytes: 0 is below 1"}},
		{"payload over max", "payload: 2048\nmax_event_bytes: 1024\n",
			[]string{file + ":1: payload: 2048 bytes does not fit in max_event_bytes 1024 (lower payload or raise max_event_bytes)"}},
		{"bad mode", "name: x\nmode: burst\n",
			[]string{file + `:2: mode: "burst" is not a mode (valid: broadcast, per-connection)`}},
		{"duration 0 with broadcast", "mode: broadcast\nduration: 0s\n",
			[]string{file + ":2: duration: 0 is only valid for mode per-connection", "(use a duration such as 60s)"}},
		{"duration 0 with default mode", "connections: 5\nduration: 0\n",
			[]string{file + ":2: duration: 0 is only valid for mode per-connection"}},
		{"per-connection zero events", "mode: per-connection\nevents: 0\n",
			[]string{file + ":2: events: 0 is too few for per-connection"}},
		{"empty threshold", "thresholds:\n  - \"nginx-sse:latency.p99 < 50ms\"\n  - \"  \"\n",
			[]string{file + `:3: thresholds: empty expression (write one such as "nginx-sse:latency.p99 < 50ms", or remove it)`}},
		{"empty name", "name: \"\"\n", []string{file + ":1: name: empty"}},
		{"duplicate key", "connections: 1\nmode: broadcast\nconnections: 2\n",
			[]string{file + `:3: duplicate key "connections" (first set on line 1; keep one)`}},
		{"empty file", "", []string{file + ": empty scenario file (write a mapping of keys such as mode, interval, connections, targets)"}},
		{"comments only", "# nothing here\n\n", []string{file + ": empty scenario file"}},
		{"bare document marker", "---\n", []string{file + ": empty scenario file"}},
		{"syntax error", "mode: broadcast\ninterval: 1s\nconnections: [1,\n", []string{file + ":3: invalid YAML: did not find expected node content"}},
		{"syntax error indentation", "mode: broadcast\n  interval: 1s\n", []string{file + ":2: invalid YAML: mapping values are not allowed in this context"}},
		{"syntax error unterminated", "mode: broadcast\n\nname: \"open\n", []string{file + ":3: invalid YAML: found unexpected end of stream"}},
		{"not a mapping list", "- mode: broadcast\n", []string{file + `:1: a scenario must be a mapping of keys (such as "mode: broadcast"), not a list`}},
		{"not a mapping scalar", "\nbroadcast\n", []string{file + `:2: a scenario must be a mapping of keys (such as "mode: broadcast"), not the value "broadcast"`}},
		{"two documents", "mode: broadcast\n---\nmode: per-connection\n", []string{file + ":2: more than one YAML document"}},
		{"unknown anchor", "connections: *n\n", []string{file + ": invalid YAML: unknown anchor 'n' referenced"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := Parse(file, []byte(c.in))
			if err == nil {
				t.Fatalf("Parse(%q) = %+v, want an error", c.in, s)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Parse(%q) error:\n  %v\nwant it to contain:\n  %s", c.in, err, w)
				}
			}
			if !reflect.DeepEqual(s, Scenario{}) {
				t.Errorf("Parse returned %+v with an error, want the zero Scenario", s)
			}
		})
	}
}

// TestParseReportsAllProblemsInFileOrder checks that several mistakes come
// back together, one per line, ordered by line.
func TestParseReportsAllProblemsInFileOrder(t *testing.T) {
	in := "connections: -5\npayload: -1\nretry_ms: -3\ninterval: -1s\n"
	_, err := Parse("f.yaml", []byte(in))
	if err == nil {
		t.Fatal("want an error")
	}
	lines := strings.Split(err.Error(), "\n")
	want := []string{"f.yaml:1: connections:", "f.yaml:2: payload:", "f.yaml:3: retry_ms:", "f.yaml:4: interval:"}
	if len(lines) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(lines), len(want), err)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("problem %d = %q, want prefix %q", i, lines[i], w)
		}
	}

	// Decoding errors are collected the same way.
	_, err = Parse("f.yaml", []byte("duration: 5x\ninterval: 5\nevents: many\nbogus: 1\n"))
	if err == nil {
		t.Fatal("want an error")
	}
	if got := strings.Count(err.Error(), "\n") + 1; got != 4 {
		t.Errorf("got %d decoding problems, want 4:\n%v", got, err)
	}
}

func TestParseDefaults(t *testing.T) {
	t.Run("broadcast", func(t *testing.T) {
		s, err := Parse("some/dir/my-load.yml", []byte("connections: 5\n"))
		if err != nil {
			t.Fatal(err)
		}
		want := Scenario{
			Name: "my-load", Mode: "broadcast", Interval: time.Second, Events: 0, Payload: 0,
			Connections: 5, Ramp: 1000, Duration: 60 * time.Second,
			Targets: presets("direct", "nginx-stock", "nginx-sse"), MaxEventBytes: 1 << 20,
			Reconnect: "never", ReconnectDelay: 3 * time.Second, FaultDown: 2 * time.Second,
			Source: "some/dir/my-load.yml",
		}
		if !reflect.DeepEqual(s, want) {
			t.Errorf("got  %+v\nwant %+v", s, want)
		}
	})
	t.Run("per-connection", func(t *testing.T) {
		s, err := Parse("pc.yaml", []byte("mode: per-connection\n"))
		if err != nil {
			t.Fatal(err)
		}
		if s.Events != 6 || s.Duration != 0 || s.Connections != 100 || s.Name != "pc" {
			t.Errorf("per-connection defaults: events %d, duration %v, connections %d, name %q; want 6, 0s, 100, pc",
				s.Events, s.Duration, s.Connections, s.Name)
		}
	})
	t.Run("empty mapping", func(t *testing.T) {
		s, err := Parse("e.yaml", []byte("{}\n"))
		if err != nil {
			t.Fatal(err)
		}
		if s.Mode != ModeBroadcast || s.Interval != time.Second || len(s.Targets) != 3 {
			t.Errorf("empty mapping did not take defaults: %+v", s)
		}
	})
	t.Run("bare zero duration", func(t *testing.T) {
		// 0 is unambiguous without a unit, as in time.ParseDuration.
		s, err := Parse("z.yaml", []byte("mode: per-connection\nduration: 0\n"))
		if err != nil {
			t.Fatal(err)
		}
		if s.Duration != 0 {
			t.Errorf("duration = %v, want 0", s.Duration)
		}
	})
}

// TestParseEveryKey sets every key to a value other than its default and
// checks each lands in its field.
func TestParseEveryKey(t *testing.T) {
	in := `
name: custom
description: all keys set
mode: per-connection
interval: 250ms
events: 12
payload: 4096
x_accel: true
retry_ms: 3000
head_with_first_event: true
heartbeat: 15s
connections: 7
ramp: 2.5
duration: 1m30s
targets: [nginx-sse, direct]
max_event_bytes: 65536
thresholds:
  - "nginx-sse:latency.p99 < 50ms"
  - "direct:errors == 0"
reconnect: persistent
reconnect_delay: 500ms
faults: [proxy-reload@20s, origin-restart@10s]
fault_down: 1s
proxy_read_timeout: 5s
slow_share: 0.5
slow_read_rate: 300
`
	s, err := Parse("in.yaml", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := Scenario{
		Name: "custom", Description: "all keys set", Mode: "per-connection",
		Interval: 250 * time.Millisecond, Events: 12, Payload: 4096, XAccel: true, RetryMS: 3000, HeadWithFirstEvent: true, Heartbeat: 15 * time.Second,
		Connections: 7, Ramp: 2.5, Duration: 90 * time.Second,
		Targets: presets("nginx-sse", "direct"), MaxEventBytes: 65536,
		Thresholds: []string{"nginx-sse:latency.p99 < 50ms", "direct:errors == 0"},
		Reconnect:  "persistent", ReconnectDelay: 500 * time.Millisecond,
		Faults: []string{"proxy-reload@20s", "origin-restart@10s"}, FaultDown: time.Second,
		ProxyReadTimeout: 5 * time.Second, SlowShare: 0.5, SlowReadRate: 300,
		Source: "in.yaml",
	}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("got  %+v\nwant %+v", s, want)
	}
	if err := s.Validate(); err != nil {
		t.Errorf("Validate of a parsed scenario: %v", err)
	}
}

// TestEmbedded pins the shipped scenarios to their exact values.
func TestEmbedded(t *testing.T) {
	if got, want := Names(), []string{"devices", "idle-timeout", "origin-restart", "proxy-reload", "seed", "slow-consumer", "steady"}; !slices.Equal(got, want) {
		t.Fatalf("Names() = %v, want %v", got, want)
	}
	all := presets("direct", "nginx-stock", "nginx-sse")
	cases := map[string]Scenario{
		"seed": {
			Name: "seed", Mode: "per-connection", Interval: 5 * time.Second, Events: 6,
			Connections: 20, Ramp: 1000, Duration: 0, Targets: all, MaxEventBytes: 1 << 20,
			Reconnect: "never", ReconnectDelay: 3 * time.Second, FaultDown: 2 * time.Second,
			Source: "embedded:seed",
		},
		"steady": {
			Name: "steady", Mode: "broadcast", Interval: time.Second, Events: 0,
			Connections: 1000, Ramp: 1000, Duration: 60 * time.Second, Targets: all, MaxEventBytes: 1 << 20,
			Reconnect: "never", ReconnectDelay: 3 * time.Second, FaultDown: 2 * time.Second,
			Source: "embedded:steady",
		},
	}
	cases["devices"] = Scenario{
		Name: "devices", Mode: "broadcast", Interval: 5 * time.Minute, XAccel: true, RetryMS: 3000,
		Connections: 100, Ramp: 100, Duration: 15 * time.Minute,
		Targets:       presets("direct", "nginx-stock", "nginx-sse", "haproxy-stock", "haproxy-sse", "caddy-stock"),
		MaxEventBytes: 1 << 20, Reconnect: "spec", ReconnectDelay: 3 * time.Second, FaultDown: 2 * time.Second,
		Source: "embedded:devices",
	}
	descWords := map[string][]string{
		"devices": {"five minutes", "idle timeout", "proxy_read_timeout", "Last-Event-ID", "--heartbeat"},
		"seed":    {"bug report", "Vue", "EventSource", "stock nginx", "30 s", "six events", "HTTP/1.0", "headers"},
		"steady":  {"Steady-state latency", "broadcast", "many devices"},
	}
	for name, want := range cases {
		t.Run(name, func(t *testing.T) {
			s, err := Load(name)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range descWords[name] {
				if !strings.Contains(s.Description, w) {
					t.Errorf("description %q does not mention %q", s.Description, w)
				}
			}
			s.Description = ""
			if !reflect.DeepEqual(s, want) {
				t.Errorf("got  %+v\nwant %+v", s, want)
			}
			if err := s.Validate(); err != nil {
				t.Errorf("Validate: %v", err)
			}
		})
	}
}

// TestEmbeddedFilesDocumentEveryKey keeps the shipped files useful as
// templates: each sets every key under a comment.
func TestEmbeddedFilesDocumentEveryKey(t *testing.T) {
	for _, name := range Names() {
		data, err := embedded.ReadFile(name + ".yaml")
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(data), "\n")
		for _, f := range fields() {
			i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, f.key+":") })
			if i < 0 {
				t.Errorf("%s.yaml does not set %s", name, f.key)
				continue
			}
			if i == 0 || !strings.HasPrefix(lines[i-1], "#") {
				t.Errorf("%s.yaml: key %s has no comment above it", name, f.key)
			}
		}
	}
}

func TestLoadPath(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "burst.yml")
	if err := os.WriteFile(path, []byte("mode: per-connection\nevents: 3\nconnections: 2\ntargets: [direct]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "burst" || s.Source != path || s.Events != 3 || s.Connections != 2 || !reflect.DeepEqual(s.Targets, presets("direct")) {
		t.Errorf("Load(%s) = %+v", path, s)
	}

	// Errors from a file carry its path and line.
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("mode: broadcast\nconections: 5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Load(bad)
	if err == nil || !strings.HasPrefix(err.Error(), bad+`:2: unknown key "conections"`) {
		t.Errorf("Load(%s) error = %v, want it to start with %s:2: unknown key", bad, err, bad)
	}
}

func TestLoadUnknown(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.yaml")
	cases := []struct {
		ref  string
		want []string
	}{
		{"stedy", []string{`unknown scenario "stedy": did you mean "steady"?`, "embedded scenarios: devices, idle-timeout, origin-restart, proxy-reload, seed, slow-consumer, steady"}},
		{"idle", []string{`unknown scenario "idle": did you mean "idle-timeout"?`}},
		{"burst", []string{`unknown scenario "burst": not an embedded name or a .yaml/.yml path`}},
		{"sead", []string{`unknown scenario "sead": did you mean "seed"?`, "embedded scenarios: devices, idle-timeout, origin-restart, proxy-reload, seed, slow-consumer, steady", ".yaml"}},
		{"Seed", []string{`unknown scenario "Seed"`, "embedded scenarios: devices, idle-timeout, origin-restart, proxy-reload, seed, slow-consumer, steady"}},
		{"", []string{"no scenario given", "embedded scenarios: devices, idle-timeout, origin-restart, proxy-reload, seed, slow-consumer, steady"}},
		{"scenarios/seed.txt", []string{`unknown scenario "scenarios/seed.txt"`, ".yaml/.yml"}},
		{missing, []string{"read scenario: open " + missing, "no such file", "embedded scenarios: devices, idle-timeout, origin-restart, proxy-reload, seed, slow-consumer, steady"}},
	}
	for _, c := range cases {
		_, err := Load(c.ref)
		if err == nil {
			t.Errorf("Load(%q): want an error", c.ref)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Load(%q) error %q does not contain %q", c.ref, err, w)
			}
		}
	}
}

// TestDocsListEveryKey keeps docs/scenarios.md in step with the decoder:
// its key table has a row for every key fields() decodes and for no other,
// and the "valid keys" its error example shows are the loader's.
func TestDocsListEveryKey(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "docs", "scenarios.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	var keys []string
	for _, f := range fields() {
		keys = append(keys, f.key)
	}
	var rows []string
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z_]+)` \\|").FindAllStringSubmatch(doc, -1) {
		rows = append(rows, m[1])
	}
	for _, k := range keys {
		if !slices.Contains(rows, k) {
			t.Errorf("docs/scenarios.md: no row for key %s in the key table", k)
		}
	}
	for _, r := range rows {
		if !slices.Contains(keys, r) {
			t.Errorf("docs/scenarios.md: the key table has a row for %s, which the loader does not know", r)
		}
	}
	if want := "(" + validKeys + ")"; !strings.Contains(doc, want) {
		t.Errorf("docs/scenarios.md: the unknown-key example should list %s", want)
	}
}

// TestDocsListEveryScenario: docs/scenarios.md names how many scenarios are
// embedded and describes each under "Embedded scenarios".
func TestDocsListEveryScenario(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "docs", "scenarios.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	names := Names()
	count := []string{"", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten", "Eleven", "Twelve"}
	flat := strings.Join(strings.Fields(doc), " ")
	if len(names) < len(count) && !strings.Contains(flat, count[len(names)]+" are built into the binary") {
		t.Errorf("docs/scenarios.md should say %q are built into the binary (%s)", count[len(names)], strings.Join(names, ", "))
	}
	_, embedded, ok := strings.Cut(doc, "\n## Embedded scenarios\n")
	if !ok {
		t.Fatal(`docs/scenarios.md has no "## Embedded scenarios" section`)
	}
	for _, n := range names {
		if !strings.Contains(embedded, "\n### `"+n+"`") && !strings.Contains(embedded, "\n- `"+n+"`:") {
			t.Errorf("docs/scenarios.md: embedded scenario %s has no section (### `%s`) or item (- `%s`:)", n, n, n)
		}
	}
}

// TestOwnTargetPathRelativeToFile: a target's config path in a scenario
// file is relative to that file, wherever sseload runs from.
func TestOwnTargetPathRelativeToFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "edge.cfg"), []byte("# haproxy\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "mine.yaml")
	if err := os.WriteFile(path, []byte("targets:\n  - direct\n  - {name: edge, proxy: haproxy, config: edge.cfg}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	want := append(presets("direct"), targets.Spec{Name: "edge", Kind: targets.HAProxy, Config: filepath.Join(dir, "edge.cfg")})
	if !reflect.DeepEqual(s.Targets, want) {
		t.Errorf("targets %+v, want %+v", s.Targets, want)
	}
}

// TestOwnTargetTLS reads a target's tls and http2 keys (http2 implies tls),
// writes them back, and refuses a value that is no boolean.
func TestOwnTargetTLS(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "edge.cfg"), []byte("# haproxy\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "mine.yaml")
	body := "targets:\n  - nginx-sse-h2\n  - {name: a, proxy: haproxy, config: edge.cfg, tls: true}\n  - {name: b, proxy: haproxy, config: edge.cfg, http2: true}\n"
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "edge.cfg")
	want := append(presets("nginx-sse-h2"),
		targets.Spec{Name: "a", Kind: targets.HAProxy, Config: conf, TLS: true},
		targets.Spec{Name: "b", Kind: targets.HAProxy, Config: conf, TLS: true, HTTP2: true})
	if !reflect.DeepEqual(s.Targets, want) {
		t.Fatalf("targets %+v, want %+v", s.Targets, want)
	}
	b, err := Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse("marshalled", b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Targets, want) {
		t.Errorf("marshalled and read back: %+v, want %+v", back.Targets, want)
	}
	if err := os.WriteFile(path, []byte("targets:\n  - {name: a, proxy: haproxy, config: edge.cfg, tls: yes please}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "tls: expected true or false") {
		t.Errorf("tls: yes please: %v, want an error naming tls", err)
	}
}

// TestAdhoc: the scenario of a run that names none is valid, named
// adhoc, at the defaults, and no embedded name or Load resolves to it.
func TestAdhoc(t *testing.T) {
	s := Adhoc()
	if s.Name != AdhocName || s.Description != "" || s.Source != "" {
		t.Errorf("Adhoc() = name %q, description %q, source %q; want %q and nothing else", s.Name, s.Description, s.Source, AdhocName)
	}
	if err := s.Validate(); err != nil {
		t.Errorf("Adhoc() is invalid: %v", err)
	}
	if s.Mode != DefaultMode || s.Connections != DefaultConnections || s.Duration != DefaultDuration || s.Reconnect != DefaultReconnect || len(s.Thresholds) != 0 {
		t.Errorf("Adhoc() = %+v, want every key at its default", s)
	}
	if !slices.Contains(Names(), DefaultName) {
		t.Errorf("the default scenario %s is not embedded (%v)", DefaultName, Names())
	}
	if slices.Contains(Names(), AdhocName) {
		t.Errorf("an embedded scenario is named %s", AdhocName)
	}
	if _, err := Load(AdhocName); err == nil {
		t.Errorf("Load(%q) resolved a scenario; the name is not a file", AdhocName)
	}
}
