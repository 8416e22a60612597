package targets

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPresetsHaveTheirFiles: every proxied preset's config is embedded,
// and direct has none.
func TestPresetsHaveTheirFiles(t *testing.T) {
	for _, p := range Presets() {
		if !p.Proxied() {
			if p.Name != Direct {
				t.Errorf("preset %s has no kind", p.Name)
			}
			continue
		}
		b, err := p.ConfigBytes()
		if err != nil || len(b) == 0 {
			t.Errorf("preset %s: config %v (%d bytes)", p.Name, err, len(b))
		}
		if !strings.HasPrefix(p.ConfigName(), "docker/"+p.Kind+"/") {
			t.Errorf("preset %s: config name %s not under docker/%s/", p.Name, p.ConfigName(), p.Kind)
		}
	}
	for _, n := range DefaultNames() {
		if _, ok := Preset(n); !ok {
			t.Errorf("default target %s is no preset", n)
		}
	}
}

func TestPresetsIsACopy(t *testing.T) {
	a := Presets()
	a[0].Name = "changed"
	if Presets()[0].Name != Direct {
		t.Error("changing the returned slice changed the presets")
	}
}

func TestParseProxy(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "edge.cfg")
	if err := os.WriteFile(conf, []byte("global\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := ParseProxy("edge=haproxy:" + conf)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Spec{Name: "edge", Kind: HAProxy, Config: conf}); got != want {
		t.Errorf("ParseProxy = %+v, want %+v", got, want)
	}
	for in, want := range map[string]string{
		"edge":                          "expected NAME=KIND:PATH",
		"edge=haproxy":                  "expected NAME=KIND:PATH",
		"edge=envoy:" + conf:            `unknown proxy kind "envoy" (valid: nginx, haproxy, caddy)`,
		"Edge=nginx:" + conf:            `target name "Edge": use lower-case letters`,
		"nginx-sse=nginx:" + conf:       "is a built-in target",
		"origin=nginx:" + conf:          "one of sseload's own compose services",
		"edge=nginx:" + dir:             "is a directory",
		"edge=nginx:" + dir + "/no.cfg": "does not exist",
	} {
		if _, err := ParseProxy(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseProxy(%q) = %v, want an error containing %q", in, err, want)
		}
	}
}

// TestCustomRelativePath: a relative path is taken from base and kept
// absolute.
func TestCustomRelativePath(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Caddyfile"), []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Custom("mine", Caddy, "Caddyfile", dir)
	if err != nil {
		t.Fatal(err)
	}
	if s.Config != filepath.Join(dir, "Caddyfile") || s.ConfigName() != s.Config {
		t.Errorf("spec %+v", s)
	}
}

func TestUnknownPresetSuggests(t *testing.T) {
	if err := UnknownPreset("haproxy-stok"); !strings.Contains(err.Error(), `did you mean "haproxy-stock"`) {
		t.Errorf("%v", err)
	}
	if err := UnknownPreset("squid"); strings.Contains(err.Error(), "did you mean") || !strings.Contains(err.Error(), "caddy-stock") {
		t.Errorf("%v", err)
	}
}
