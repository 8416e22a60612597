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

// TestParseProxyTLS reads the trailing ,tls and ,h2 options; h2 implies
// TLS, and a path with other commas stays whole.
func TestParseProxyTLS(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "a,b.cfg")
	if err := os.WriteFile(conf, []byte("global\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]Spec{
		"edge=haproxy:" + conf:             {Name: "edge", Kind: HAProxy, Config: conf},
		"edge=haproxy:" + conf + ",tls":    {Name: "edge", Kind: HAProxy, Config: conf, TLS: true},
		"edge=haproxy:" + conf + ",h2":     {Name: "edge", Kind: HAProxy, Config: conf, TLS: true, HTTP2: true},
		"edge=haproxy:" + conf + ",tls,h2": {Name: "edge", Kind: HAProxy, Config: conf, TLS: true, HTTP2: true},
	} {
		got, err := ParseProxy(in)
		if err != nil || got != want {
			t.Errorf("ParseProxy(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	if _, err := ParseProxy("edge=haproxy:" + conf + ",h3"); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("an unknown option is part of the path: %v, want the file not found", err)
	}
}

// TestH2Presets: every proxied preset has an -h2 twin with the same config,
// TLS and HTTP/2 on; the plaintext presets are neither.
func TestH2Presets(t *testing.T) {
	n := 0
	for _, p := range Presets() {
		if p.HTTP2 {
			continue
		}
		if p.TLS {
			t.Errorf("preset %s: TLS without HTTP/2", p.Name)
		}
		if !p.Proxied() {
			continue
		}
		h2, ok := Preset(p.Name + H2Suffix)
		want := p
		want.Name, want.TLS, want.HTTP2 = p.Name+H2Suffix, true, true
		if !ok || h2 != want {
			t.Errorf("preset %s%s = %+v, %v; want %+v", p.Name, H2Suffix, h2, ok, want)
		}
		if h2.Protocols() != "https+h2" || p.Protocols() != "http" {
			t.Errorf("Protocols: %s %s", h2.Protocols(), p.Protocols())
		}
		n++
	}
	if n != 6 {
		t.Errorf("%d proxied presets, want 6 (nginx, haproxy, caddy; stock and sse)", n)
	}
}
