package compose

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/sseload/sseload/internal/certs"
	"github.com/sseload/sseload/targets"
	"github.com/sseload/sseload/topology"
)

// Services every project has besides one per proxied target.
const (
	// ServiceOrigin runs `sseload origin`. It shares the network namespace
	// of ServiceOriginNet, which carries the name "origin" on the compose
	// network: killing the origin's container (the origin-restart fault)
	// then ends the process as a crash would — its sockets reset, later
	// connections refused — while its address stays. A container of its
	// own would leave the network on SIGKILL and could come back on another
	// address, which nginx and HAProxy, having resolved "origin" once at
	// start, would never learn.
	ServiceOrigin = "origin"
	// ServiceOriginNet holds the origin's network namespace and address. Its
	// name has an underscore, which no target's name can have
	// (targets.CheckName), so it never collides with one.
	ServiceOriginNet = "origin_net"
	// ServiceLoadgen runs the load generator, and `sseload probe` before it.
	ServiceLoadgen = "loadgen"
)

// Paths inside the load generator's container.
const (
	// ResultsMount is where the load generator sees Config.ResultsDir.
	ResultsMount = "/results"
	// ScenarioMount is where the load generator reads Config.Scenario.
	ScenarioMount = "/etc/sseload/scenario.yaml"
)

// OriginURL is the origin's base URL on the compose network.
const OriginURL = "http://" + topology.ContainerOrigin

// ServiceURL is the base URL of a service on the compose network: the
// origin's, or a proxy's (listening on topology.ContainerListen).
func ServiceURL(service string) string {
	if service == ServiceOrigin {
		return OriginURL
	}
	if _, port, _ := strings.Cut(topology.ContainerListen, ":"); port != "80" {
		return "http://" + service + ":" + port
	}
	return "http://" + service
}

// TargetURL is the base URL of target t on the compose network: the
// origin's for the direct target, else its proxy service's, https on
// topology.ContainerListenTLS for a TLS target.
func TargetURL(t targets.Spec) string {
	if !t.Proxied() {
		return OriginURL
	}
	if !t.TLS {
		return ServiceURL(t.Name)
	}
	if _, port, _ := strings.Cut(topology.ContainerListenTLS, ":"); port != "443" {
		return "https://" + t.Name + ":" + port
	}
	return "https://" + t.Name
}

// CAFile is where the load generator's container (and `sseload probe` in
// it) finds the run's CA, for TLS targets: `--ca-cert CAFile`.
const CAFile = topology.ContainerTLSDir + "/" + certs.CAFile

// HasTLS reports whether any of specs is a TLS target.
func HasTLS(specs []targets.Spec) bool {
	return slices.ContainsFunc(specs, func(s targets.Spec) bool { return s.TLS })
}

// originListen is the origin's listen address inside its container: the
// port of topology.ContainerOrigin on every interface.
func originListen() string {
	return topology.ContainerOrigin[strings.LastIndexByte(topology.ContainerOrigin, ':'):]
}

// Project files in the work dir.
const (
	projectFile  = "compose.json"  // the compose file: JSON is YAML
	tlsDir       = "tls"           // the run's CA and server certificate (internal/certs)
	scenarioFile = "scenario.yaml" // Config.Scenario
	proxiesDir   = "proxies"       // proxies/<target>/: its config and Container.Files
)

// stockSoftNofile is the soft descriptor limit of the as-shipped presets
// (targets.Spec.AsShipped): what
// a Debian host gives a service (systemd's default soft limit, which
// Debian's nginx.conf does not raise: it has no worker_rlimit_nofile), so
// nginx-stock keeps its real knee (worker_connections 768). See
// proxyService for the hard limit.
const stockSoftNofile = 1024

// composeFile is the part of the compose file format the project uses.
// It is written as JSON; the yaml tags read it back as compose does.
type composeFile struct {
	Services map[string]composeService `json:"services" yaml:"services"`
}

type composeService struct {
	Image       string                    `json:"image" yaml:"image"`
	Command     []string                  `json:"command,omitempty" yaml:"command,omitempty"`
	Environment map[string]string         `json:"environment,omitempty" yaml:"environment,omitempty"`
	User        string                    `json:"user,omitempty" yaml:"user,omitempty"`
	Volumes     []string                  `json:"volumes,omitempty" yaml:"volumes,omitempty"`
	Ulimits     map[string]ulimit         `json:"ulimits,omitempty" yaml:"ulimits,omitempty"`
	NetworkMode string                    `json:"network_mode,omitempty" yaml:"network_mode,omitempty"`
	Networks    map[string]composeNetwork `json:"networks,omitempty" yaml:"networks,omitempty"`
	DependsOn   []string                  `json:"depends_on,omitempty" yaml:"depends_on,omitempty"`
}

type ulimit struct {
	Soft int `json:"soft" yaml:"soft"`
	Hard int `json:"hard" yaml:"hard"`
}

type composeNetwork struct {
	Aliases []string `json:"aliases,omitempty" yaml:"aliases,omitempty"`
}

// validService is what a proxy's service name may be: a target's name
// (targets.CheckName allows no more).
var validService = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// checkProxies says whether every proxy can be a service of its own: a
// valid, unique name that is none of sseload's services, a kind, and an
// image for that kind.
func checkProxies(proxies []topology.Prepared, imgs Images) error {
	seen := map[string]bool{}
	for _, pr := range proxies {
		name := pr.Spec.Name
		switch {
		case !validService.MatchString(name):
			return fmt.Errorf("compose: target %q cannot name a service: use lower-case letters, digits and dashes", name)
		case name == ServiceOrigin || name == ServiceLoadgen:
			return fmt.Errorf("compose: target %q is one of sseload's own services: choose another name", name)
		case seen[name]:
			return fmt.Errorf("compose: target %q named twice", name)
		case pr.Kind == nil:
			return fmt.Errorf("compose: target %s has no proxy kind", name)
		case imgs.Proxies[pr.Kind.Name()] == "":
			return fmt.Errorf("compose: target %s: no %s image", name, pr.Kind.Name())
		}
		seen[name] = true
	}
	return nil
}

// writeFiles lays out the work dir: each proxy's prepared config and the
// files its kind wants beside it, the scenario, and the compose file that
// mounts them by absolute path.
func (p *Project) writeFiles() error {
	if p.hasTLS() {
		// One CA and server certificate for the run, valid for every
		// proxy service's name; only the run's work dir holds them.
		names := make([]string, len(p.cfg.Proxies))
		for i, pr := range p.cfg.Proxies {
			names[i] = pr.Spec.Name
		}
		set, err := certs.New(names...)
		if err != nil {
			return err
		}
		if _, err := set.Write(filepath.Join(p.dir, tlsDir)); err != nil {
			return fmt.Errorf("compose work dir: %w", err)
		}
	}
	for _, pr := range p.cfg.Proxies {
		c := pr.Kind.Container(pr.ContainerTLS())
		dir := filepath.Join(p.dir, proxiesDir, pr.Spec.Name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("compose work dir: %w", err)
		}
		files := map[string][]byte{path.Base(c.ConfigPath): pr.Conf}
		for name, content := range c.Files {
			files[name] = []byte(content)
		}
		for name, b := range files {
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				return fmt.Errorf("compose work dir: target %s: %w", pr.Spec.Name, err)
			}
		}
	}
	if err := os.WriteFile(filepath.Join(p.dir, scenarioFile), p.cfg.Scenario, 0o644); err != nil {
		return fmt.Errorf("compose work dir: %w", err)
	}
	b, err := json.MarshalIndent(p.project(), "", "  ")
	if err != nil {
		return fmt.Errorf("compose file: %w", err)
	}
	if err := os.WriteFile(filepath.Join(p.dir, projectFile), b, 0o644); err != nil {
		return fmt.Errorf("compose file: %w", err)
	}
	return nil
}

// hasTLS reports whether a proxy of the run serves TLS.
func (p *Project) hasTLS() bool {
	return slices.ContainsFunc(p.cfg.Proxies, func(pr topology.Prepared) bool { return pr.Spec.TLS })
}

// tlsVolume mounts the run's TLS files read-only at topology.ContainerTLSDir.
func (p *Project) tlsVolume() string {
	return esc(filepath.Join(p.dir, tlsDir)) + ":" + topology.ContainerTLSDir + ":ro"
}

// project is the compose file of this run: the origin (and the holder of
// its network), one service per proxied target, and the load generator.
// docker/compose.yaml is the same topology written by hand for the preset
// nginx targets.
func (p *Project) project() composeFile {
	cfg := p.cfg
	nofile := map[string]ulimit{"nofile": {Soft: cfg.Nofile, Hard: cfg.Nofile}}
	services := map[string]composeService{
		ServiceOriginNet: {
			Image: esc(cfg.Images.SSELoad),
			// Something must run for the namespace to live; an origin on
			// a loopback port of its own costs nothing and is never asked.
			Command:  []string{"origin", "--listen", "127.0.0.1:0"},
			Networks: map[string]composeNetwork{"default": {Aliases: []string{ServiceOrigin}}},
		},
		ServiceOrigin: {
			Image:       esc(cfg.Images.SSELoad),
			Command:     escAll(append([]string{"origin", "--listen", originListen()}, cfg.OriginArgs...)),
			NetworkMode: "service:" + ServiceOriginNet,
			Ulimits:     nofile,
			DependsOn:   []string{ServiceOriginNet},
		},
	}
	loadgenDeps := []string{ServiceOrigin}
	for _, pr := range cfg.Proxies {
		services[pr.Spec.Name] = p.proxyService(pr)
		loadgenDeps = append(loadgenDeps, pr.Spec.Name)
	}
	loadgenVols := []string{
		esc(cfg.ResultsDir) + ":" + ResultsMount,
		esc(filepath.Join(p.dir, scenarioFile)) + ":" + ScenarioMount + ":ro",
	}
	if p.hasTLS() {
		loadgenVols = append(loadgenVols, p.tlsVolume())
	}
	services[ServiceLoadgen] = composeService{
		Image:   esc(cfg.Images.SSELoad),
		User:    esc(cfg.User),
		Volumes: loadgenVols,
		Ulimits: nofile,
		// By hand, depends_on orders the starts; sseload itself starts the
		// generator with --no-deps once every service answers /healthz.
		DependsOn: loadgenDeps,
	}
	return composeFile{Services: services}
}

// proxyService runs one proxied target as its kind says (Kind.Container):
// the prepared config mounted read-only at ConfigPath and the kind's files
// beside it, its command and environment.
func (p *Project) proxyService(pr topology.Prepared) composeService {
	c := pr.Kind.Container(pr.ContainerTLS())
	dir := filepath.Join(p.dir, proxiesDir, pr.Spec.Name)
	vols := []string{esc(filepath.Join(dir, path.Base(c.ConfigPath))) + ":" + esc(c.ConfigPath) + ":ro"}
	names := make([]string, 0, len(c.Files))
	for name := range c.Files {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		vols = append(vols, esc(filepath.Join(dir, name))+":"+esc(path.Join(path.Dir(c.ConfigPath), name))+":ro")
	}
	if pr.Spec.TLS {
		vols = append(vols, p.tlsVolume())
	}
	var env map[string]string
	if len(c.Env) > 0 {
		env = make(map[string]string, len(c.Env))
		for k, v := range c.Env {
			env[k] = esc(v)
		}
	}
	soft := p.cfg.Nofile
	if pr.Spec.AsShipped {
		// Debian's soft limit (stockSoftNofile). The hard limit stays
		// high, as on Debian (systemd: 524288): nginx never raises its
		// soft limit without worker_rlimit_nofile, while HAProxy and Caddy
		// (a Go program) raise theirs to the hard limit as they start, as
		// they do on a Debian host. A container cannot have more than the
		// engine, so Nofile stands for Debian's hard limit.
		soft = stockSoftNofile
	}
	return composeService{
		Image:       esc(p.cfg.Images.Proxies[pr.Kind.Name()]),
		Command:     escAll(c.Command),
		Environment: env,
		Volumes:     vols,
		Ulimits:     map[string]ulimit{"nofile": {Soft: soft, Hard: p.cfg.Nofile}},
		DependsOn:   []string{ServiceOrigin},
	}
}

// esc escapes s for the compose file, where "$" starts a variable.
func esc(s string) string { return strings.ReplaceAll(s, "$", "$$") }

func escAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = esc(s)
	}
	return out
}

// services are the project's long-running services in start order: the
// origin's network, the origin, then the proxies.
func (p *Project) services() []string {
	out := []string{ServiceOriginNet, ServiceOrigin}
	for _, pr := range p.cfg.Proxies {
		out = append(out, pr.Spec.Name)
	}
	return out
}

// proxy returns the prepared proxy of service, if it is one.
func (p *Project) proxy(service string) (topology.Prepared, error) {
	i := slices.IndexFunc(p.cfg.Proxies, func(pr topology.Prepared) bool { return pr.Spec.Name == service })
	if i < 0 {
		return topology.Prepared{}, errors.New("compose: no proxy service " + service)
	}
	return p.cfg.Proxies[i], nil
}
