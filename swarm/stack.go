// Package swarm runs the swarm topology: the compose topology's origin and
// proxies, plus N generator workers (`sseload worker --listen`), deployed as
// one stack on an attachable overlay network of the current Docker swarm
// (stack.go), and the coordinator (`sseload run --workers
// dns:tasks.worker:PORT`) in a container attached to that network, its
// results bind-mounted to the caller's directory (deploy.go). The stack is
// always removed: on every return path, on cancellation, and by a janitor
// process if sseload itself dies.
//
// Like package compose it drives the docker CLI, and it runs the images
// compose.BuildImages makes. On a single-node swarm those local images are
// enough; a multi-node swarm starts tasks on every node, so the images must
// come from a registry every node can pull from: SSELOAD_IMAGE and
// NGINX_IMAGE (HAPROXY_IMAGE, CADDY_IMAGE) name them (docs/distributed.md).
package swarm

import (
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/sseload/sseload/compose"
	"github.com/sseload/sseload/loadgen/procs"
	"github.com/sseload/sseload/topology"
)

// Services of every stack besides one per proxied target. The origin and
// the proxies keep the compose topology's names (compose.ServiceOrigin, the
// target's name), so the prepared proxy configs, which reach the origin as
// topology.ContainerOrigin, and the generator's target URLs
// (compose.ServiceURL) are the same on both.
const (
	// ServiceWorker runs the generator workers, Config.Workers replicas.
	ServiceWorker = "worker"
)

// WorkerPort is the TCP port each worker listens on for its coordinator.
const WorkerPort = 7070

// WorkerListen is the workers' --listen address: WorkerPort on every
// interface of the task (a non-loopback address, so a token is required).
var WorkerListen = fmt.Sprintf(":%d", WorkerPort)

// WorkersDNS is the coordinator's --workers value: every address of the
// worker service's tasks, which the swarm's DNS serves as
// tasks.<service> on the stack's network.
var WorkersDNS = fmt.Sprintf("dns:tasks.%s:%d", ServiceWorker, WorkerPort)

// EnvToken is the environment variable that carries the shared token to
// the workers and the coordinator (`sseload worker` and `sseload run` read
// it), so it appears in no command line.
const EnvToken = procs.TokenEnv

// Config is one stack.
type Config struct {
	Images compose.Images
	// Proxies are the run's proxied targets, one service each, as on the
	// compose topology; their config files travel as swarm configs, which
	// reach every node (a bind mount would name a path on one).
	Proxies []topology.Prepared
	// OriginArgs are the origin's flags after `origin --listen :8080`.
	OriginArgs []string
	// Workers is the number of worker replicas (at least 1).
	Workers int
	// Token is the shared secret of workers and coordinator.
	Token string
}

// stackFile is the part of the compose file format (version 3, what
// `docker stack deploy` reads) a stack uses. It is written as JSON.
type stackFile struct {
	Version  string                `json:"version"`
	Services map[string]service    `json:"services"`
	Networks map[string]network    `json:"networks"`
	Configs  map[string]configFile `json:"configs,omitempty"`
}

type service struct {
	Image       string            `json:"image"`
	Command     []string          `json:"command,omitempty"`
	Environment map[string]string `json:"environment,omitempty"`
	Configs     []configMount     `json:"configs,omitempty"`
	Deploy      deploy            `json:"deploy"`
}

type deploy struct {
	Replicas int `json:"replicas"`
	// EndpointMode dnsrr: a service's name resolves to its tasks'
	// addresses, with no virtual IP and no IPVS balancer on the measured
	// path, as on the compose topology's bridge network.
	EndpointMode  string        `json:"endpoint_mode"`
	RestartPolicy restartPolicy `json:"restart_policy"`
}

// restartPolicy "none": a task that exits stays down, and the run says so,
// rather than a restarted origin or worker silently starting over.
type restartPolicy struct {
	Condition string `json:"condition"`
}

type configMount struct {
	Source string `json:"source"`
	Target string `json:"target"`
	Mode   uint32 `json:"mode"`
}

type configFile struct {
	File string `json:"file"`
}

type network struct {
	Driver string `json:"driver"`
	// Attachable lets the coordinator, a plain container (docker run),
	// join the stack's network.
	Attachable bool `json:"attachable"`
}

// validService is what a proxy's service name may be (as on the compose
// topology: a target's name).
var validService = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// check says whether cfg can be deployed.
func (cfg Config) check() error {
	if cfg.Images.SSELoad == "" {
		return errors.New("swarm: no sseload image")
	}
	if cfg.Workers < 1 {
		return fmt.Errorf("swarm: %d workers: want at least 1", cfg.Workers)
	}
	if cfg.Token == "" {
		return errors.New("swarm: no token for the workers")
	}
	seen := map[string]bool{}
	for _, pr := range cfg.Proxies {
		name := pr.Spec.Name
		switch {
		case !validService.MatchString(name):
			return fmt.Errorf("swarm: target %q cannot name a service: use lower-case letters, digits and dashes", name)
		case name == compose.ServiceOrigin || name == ServiceWorker:
			return fmt.Errorf("swarm: target %q is one of sseload's own services: choose another name", name)
		case seen[name]:
			return fmt.Errorf("swarm: target %q named twice", name)
		case pr.Kind == nil:
			return fmt.Errorf("swarm: target %s has no proxy kind", name)
		case cfg.Images.Proxies[pr.Kind.Name()] == "":
			return fmt.Errorf("swarm: target %s: no %s image", name, pr.Kind.Name())
		}
		seen[name] = true
	}
	return nil
}

// file is one file the stack file refers to, written to the work dir.
type file struct {
	name    string // relative to the work dir
	content []byte
}

// stack returns the stack file of cfg, with or without the proxies, and
// the files its configs name (relative to the work dir, where the stack
// file is deployed from).
func (cfg Config) stack(withProxies bool) (stackFile, []file) {
	dep := func(replicas int) deploy {
		return deploy{Replicas: replicas, EndpointMode: "dnsrr", RestartPolicy: restartPolicy{Condition: "none"}}
	}
	sf := stackFile{
		Version: "3.8",
		Services: map[string]service{
			compose.ServiceOrigin: {
				Image:   esc(cfg.Images.SSELoad),
				Command: escAll(append([]string{"origin", "--listen", ":" + originPort()}, cfg.OriginArgs...)),
				Deploy:  dep(1),
			},
			ServiceWorker: {
				Image:       esc(cfg.Images.SSELoad),
				Command:     []string{"worker", "--listen", WorkerListen},
				Environment: map[string]string{EnvToken: esc(cfg.Token)},
				Deploy:      dep(cfg.Workers),
			},
		},
		Networks: map[string]network{"default": {Driver: "overlay", Attachable: true}},
		Configs:  map[string]configFile{},
	}
	var files []file
	if !withProxies {
		return sf, nil
	}
	for _, pr := range cfg.Proxies {
		c := pr.Kind.Container(nil) // TLS targets are refused before (runner.CheckSwarm)
		contents := map[string][]byte{path.Base(c.ConfigPath): pr.Conf}
		for name, content := range c.Files {
			contents[name] = []byte(content)
		}
		names := make([]string, 0, len(contents))
		for name := range contents {
			names = append(names, name)
		}
		slices.Sort(names)
		var mounts []configMount
		for i, name := range names {
			key := fmt.Sprintf("%s-%d", pr.Spec.Name, i)
			rel := path.Join("proxies", pr.Spec.Name, name)
			files = append(files, file{name: rel, content: contents[name]})
			sf.Configs[key] = configFile{File: esc("./" + rel)}
			mounts = append(mounts, configMount{Source: key, Target: esc(path.Join(path.Dir(c.ConfigPath), name)), Mode: 0o444})
		}
		var env map[string]string
		if len(c.Env) > 0 {
			env = make(map[string]string, len(c.Env))
			for k, v := range c.Env {
				env[k] = esc(v)
			}
		}
		sf.Services[pr.Spec.Name] = service{
			Image:       esc(cfg.Images.Proxies[pr.Kind.Name()]),
			Command:     escAll(c.Command),
			Environment: env,
			Configs:     mounts,
			Deploy:      dep(1),
		}
	}
	return sf, files
}

// marshal is the stack file's bytes.
func (sf stackFile) marshal() ([]byte, error) {
	b, err := json.MarshalIndent(sf, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("stack file: %w", err)
	}
	return b, nil
}

// originPort is the port of topology.ContainerOrigin.
func originPort() string {
	return topology.ContainerOrigin[strings.LastIndexByte(topology.ContainerOrigin, ':')+1:]
}

// esc escapes s for the stack file, where "$" starts a variable.
func esc(s string) string { return strings.ReplaceAll(s, "$", "$$") }

func escAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = esc(s)
	}
	return out
}
