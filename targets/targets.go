// Package targets names what sseload measures: the origin itself (direct)
// and reverse proxies in front of it. A proxied target is data — a name, a
// kind (nginx, haproxy, caddy) and a config file, either a built-in preset
// from docker/ or the user's own file — so the local and the compose
// topologies, the scenario loader and the CLI all read one list. This is the
// one place target names, kinds and preset files are spelled.
package targets

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/sseload/sseload/docker"
	"github.com/sseload/sseload/internal/suggest"
)

// Direct is the target that reaches the origin without a proxy: the
// baseline every proxied target is compared with.
const Direct = "direct"

// Proxy kinds.
const (
	Nginx   = "nginx"
	HAProxy = "haproxy"
	Caddy   = "caddy"
)

// Kinds lists the proxy kinds sseload can run, in display order.
func Kinds() []string { return []string{Nginx, HAProxy, Caddy} }

// Spec is one measured target.
type Spec struct {
	// Name labels the target in every output; for the compose topology it
	// is also the service name. Unique in a run; see CheckName.
	Name string
	// Kind is the proxy kind (Nginx, HAProxy, Caddy); "" for Direct.
	Kind string
	// Config is the path of the user's config file; "" for a preset, whose
	// file is embedded (docker.Configs, at PresetFile).
	Config string
	// PresetFile is the preset's file in docker.Configs, such as
	// "nginx/nginx-stock.conf"; "" for the user's own config and Direct.
	PresetFile string
	// AsShipped marks the presets that are a distribution's defaults (the
	// -stock ones): they run with its process limits too, such as Debian's
	// soft open-file limit of 1024, so their knees are the real ones.
	AsShipped bool
	// TLS makes the proxy terminate TLS on its listen port, with the run's
	// certificate (package internal/certs); the target's URL is https.
	TLS bool
	// HTTP2 offers HTTP/2 by ALPN as well as HTTP/1.1 on that TLS
	// listener. It implies TLS (browsers speak HTTP/2 only over TLS):
	// every constructor here sets both.
	HTTP2 bool
}

// H2Suffix ends the name of a built-in target's TLS + HTTP/2 variant:
// nginx-sse-h2 is nginx-sse's config behind TLS with HTTP/2 offered.
const H2Suffix = "-h2"

// Protocols names what the target's listener offers: "http" (plaintext
// HTTP/1.1), "https" (TLS, HTTP/1.1) or "https+h2" (TLS, HTTP/2 or
// HTTP/1.1 by ALPN).
func (s Spec) Protocols() string {
	switch {
	case s.HTTP2:
		return "https+h2"
	case s.TLS:
		return "https"
	}
	return "http"
}

// Proxied reports whether a proxy stands between the client and the origin.
func (s Spec) Proxied() bool { return s.Kind != "" }

// ConfigName names the config in messages and reports: the preset's path
// in the repository ("docker/nginx/nginx-stock.conf") or the user's path.
func (s Spec) ConfigName() string {
	if s.PresetFile != "" {
		return "docker/" + s.PresetFile
	}
	return s.Config
}

// ConfigBytes returns the config as the proxy will run it (before the
// topology's overrides): the embedded preset or the user's file.
func (s Spec) ConfigBytes() ([]byte, error) {
	switch {
	case s.PresetFile != "":
		b, err := docker.Configs.ReadFile(s.PresetFile)
		if err != nil {
			return nil, fmt.Errorf("target %s: embedded config %s: %w", s.Name, s.PresetFile, err)
		}
		return b, nil
	case s.Config != "":
		b, err := os.ReadFile(s.Config)
		if err != nil {
			return nil, fmt.Errorf("target %s: config %s: %w", s.Name, s.Config, err)
		}
		return b, nil
	}
	return nil, fmt.Errorf("target %s has no config (it is not proxied)", s.Name)
}

// presets is the built-in target list, in display order.
// Every proxied preset has a TLS + HTTP/2 twin, "<name>-h2", listed after
// the plaintext ones: the same config file, served over TLS with HTTP/2
// offered by ALPN (the production path: a browser's EventSource to the
// edge proxy).
func presets() []Spec {
	plain := []Spec{
		{Name: Direct},
		{Name: "nginx-stock", Kind: Nginx, PresetFile: "nginx/nginx-stock.conf", AsShipped: true},
		{Name: "nginx-sse", Kind: Nginx, PresetFile: "nginx/nginx-sse.conf"},
		{Name: "haproxy-stock", Kind: HAProxy, PresetFile: "haproxy/haproxy-stock.cfg", AsShipped: true},
		{Name: "haproxy-sse", Kind: HAProxy, PresetFile: "haproxy/haproxy-sse.cfg"},
		{Name: "caddy-stock", Kind: Caddy, PresetFile: "caddy/caddy-stock.Caddyfile", AsShipped: true},
		{Name: "caddy-sse", Kind: Caddy, PresetFile: "caddy/caddy-sse.Caddyfile"},
	}
	out := plain
	for _, p := range plain {
		if p.Proxied() {
			p.Name += H2Suffix
			p.TLS, p.HTTP2 = true, true
			out = append(out, p)
		}
	}
	return out
}

// Presets returns the built-in targets in display order. Each call returns
// a fresh slice.
func Presets() []Spec { return presets() }

// PresetNames returns the built-in target names in display order.
func PresetNames() []string {
	ps := presets()
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name
	}
	return names
}

// DefaultNames are the targets a scenario without a targets key runs: the
// founding comparison, the origin against stock and SSE-tuned nginx.
func DefaultNames() []string { return []string{Direct, "nginx-stock", "nginx-sse"} }

// Preset looks up a built-in target by name.
func Preset(name string) (Spec, bool) {
	i := slices.IndexFunc(presets(), func(s Spec) bool { return s.Name == name })
	if i < 0 {
		return Spec{}, false
	}
	return presets()[i], true
}

// UnknownPreset is the error for a name that is no built-in target, listing
// the valid ones and, when one is close, suggesting it.
func UnknownPreset(name string) error {
	msg := fmt.Sprintf("unknown target %q (built-in: %s; your own proxy: NAME=KIND:PATH with KIND %s)",
		name, strings.Join(PresetNames(), ", "), strings.Join(Kinds(), ", "))
	if s := suggest.Closest(name, PresetNames()); s != "" {
		msg = fmt.Sprintf("unknown target %q: did you mean %q? (built-in: %s)", name, s, strings.Join(PresetNames(), ", "))
	}
	return errors.New(msg)
}

// reserved names are compose services of sseload's own, and "~" marks the
// slow-consumer twin of a target.
var validName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// CheckName says whether name can name a user's target: lower-case
// letters, digits and dashes (a compose service name and a file name in
// the results), not a built-in's name or one of sseload's own services.
func CheckName(name string) error {
	if !validName.MatchString(name) {
		return fmt.Errorf("target name %q: use lower-case letters, digits and dashes, starting with a letter or digit (such as edge or my-nginx)", name)
	}
	if _, ok := Preset(name); ok {
		return fmt.Errorf("target name %q is a built-in target: give your config another name", name)
	}
	if name == "origin" || name == "loadgen" {
		return fmt.Errorf("target name %q is one of sseload's own compose services: choose another", name)
	}
	return nil
}

// Custom builds the spec of the user's own proxy config and checks it: the
// name, the kind, and that the file is readable. A relative path is taken
// relative to base ("" = the working directory) and made absolute, so it
// stays right wherever the topology runs it.
func Custom(name, kind, path, base string) (Spec, error) {
	return CustomTLS(name, kind, path, base, false, false)
}

// CustomTLS is Custom with the listener's protocols: tls, and http2
// (which implies tls).
func CustomTLS(name, kind, path, base string, tls, http2 bool) (Spec, error) {
	if err := CheckName(name); err != nil {
		return Spec{}, err
	}
	if !slices.Contains(Kinds(), kind) {
		return Spec{}, fmt.Errorf("target %s: unknown proxy kind %q (valid: %s)", name, kind, strings.Join(Kinds(), ", "))
	}
	if path == "" {
		return Spec{}, fmt.Errorf("target %s: no config file (give the path of your %s config)", name, kind)
	}
	if !filepath.IsAbs(path) && base != "" {
		path = filepath.Join(base, path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return Spec{}, fmt.Errorf("target %s: config %s: %w", name, path, err)
	}
	fi, err := os.Stat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return Spec{}, fmt.Errorf("target %s: config %s does not exist", name, path)
	case err != nil:
		return Spec{}, fmt.Errorf("target %s: config %s: %w", name, path, err)
	case fi.IsDir():
		return Spec{}, fmt.Errorf("target %s: config %s is a directory: name the config file itself", name, path)
	}
	f, err := os.Open(abs)
	if err != nil {
		return Spec{}, fmt.Errorf("target %s: config %s: %w", name, path, err)
	}
	f.Close()
	return Spec{Name: name, Kind: kind, Config: abs, TLS: tls || http2, HTTP2: http2}, nil
}

// Options of a --proxy value, after its path: ",tls" serves the target
// over TLS, ",h2" over TLS with HTTP/2 offered as well.
const (
	OptionTLS = "tls"
	OptionH2  = "h2"
)

// ParseProxy parses a --proxy value, NAME=KIND:PATH[,tls|,h2], such as
// mine=nginx:./deploy/nginx.conf or mine=nginx:./deploy/nginx.conf,h2.
// Only a trailing ",tls" or ",h2" is an option: a path with other commas
// stays whole.
func ParseProxy(s string) (Spec, error) {
	name, rest, ok := strings.Cut(s, "=")
	kind, path, ok2 := strings.Cut(rest, ":")
	if !ok || !ok2 || name == "" || kind == "" || path == "" {
		return Spec{}, fmt.Errorf("--proxy %q: expected NAME=KIND:PATH[,tls|,h2], such as mine=nginx:./deploy/nginx.conf or mine=nginx:./deploy/nginx.conf,h2 (KIND: %s)", s, strings.Join(Kinds(), ", "))
	}
	var tls, h2 bool
	for {
		i := strings.LastIndexByte(path, ',')
		if i < 0 {
			break
		}
		switch path[i+1:] {
		case OptionTLS:
			tls = true
		case OptionH2:
			h2 = true
		default:
			i = -1
		}
		if i < 0 {
			break
		}
		path = path[:i]
	}
	spec, err := CustomTLS(name, kind, path, "", tls, h2)
	if err != nil {
		return Spec{}, fmt.Errorf("--proxy %q: %w", s, err)
	}
	return spec, nil
}

// Names returns the specs' names in order.
func Names(specs []Spec) []string {
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.Name
	}
	return names
}

// Find returns the spec named name.
func Find(specs []Spec, name string) (Spec, bool) {
	i := slices.IndexFunc(specs, func(s Spec) bool { return s.Name == name })
	if i < 0 {
		return Spec{}, false
	}
	return specs[i], true
}
