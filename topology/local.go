package topology

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/sseload/sseload/internal/certs"
	"github.com/sseload/sseload/targets"
)

// LocalConfig says what StartLocal puts in front of a running origin.
type LocalConfig struct {
	OriginAddr string         // host:port of the running origin (its /events and /healthz)
	Targets    []targets.Spec // in this order of appearance
	// Programs maps a proxy kind to its binary; absent = looked up in
	// PATH, then /usr/sbin.
	Programs map[string]string
	WorkDir  string // "" = a new temp dir, removed by Stop
	// IdleTimeout, when > 0, replaces every proxy config's idle timeout
	// (Kind.WithIdleTimeout: nginx's proxy_read_timeout, HAProxy's timeout
	// client/server, Caddy's read_timeout); the configs' sha256 in the
	// results is that of the config as run.
	IdleTimeout time.Duration
	// OriginShards are more origins serving the same schedule as
	// OriginAddr (host:port each, one process may hold only so many
	// streams): every proxy balances over all of them (round robin). The
	// direct target's URL is OriginAddr's.
	OriginShards []string
}

// Local is the local topology: the origin measured directly and through
// real proxy processes on loopback, one per proxied target.
type Local struct {
	targets []Target
	procs   map[string]*proxyProc
	workDir string
	ownDir  bool // workDir was created by StartLocal and is removed by Stop

	mu      sync.Mutex
	stopped bool
	stopErr error
	logs    map[string]string // logs kept by Stop before it removes workDir

	certs *certs.Set // the run's CA and server certificate; nil without TLS targets
}

// Prepared is a proxied target's config as it will run: checked against its
// kind's contract, with the scenario's overrides applied.
type Prepared struct {
	Spec    targets.Spec
	Kind    Kind
	Conf    []byte
	SHA256  string
	Version string // set by StartLocal; the compose topology asks its container
}

// ContainerTLS is the TLS of p's container on the compose topology (the
// run's files mounted at ContainerTLSDir); nil for a plaintext target.
func (p Prepared) ContainerTLS() *TLS {
	if !p.Spec.TLS {
		return nil
	}
	return &TLS{CertFile: ContainerTLSDir + "/" + certs.CertFile, KeyFile: ContainerTLSDir + "/" + certs.KeyFile, HTTP2: p.Spec.HTTP2}
}

// PrepareConfig reads spec's config, checks it against its kind's contract
// and applies the idle-timeout override (0: none). Errors wrap ErrConfig
// and name the file.
func PrepareConfig(spec targets.Spec, idle time.Duration) (Prepared, error) {
	kind, err := KindOf(spec.Kind)
	if err != nil {
		return Prepared{}, fmt.Errorf("target %s: %w", spec.Name, err)
	}
	conf, err := spec.ConfigBytes()
	if err != nil {
		return Prepared{}, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if err := kind.CheckConfig(conf); err != nil {
		return Prepared{}, fmt.Errorf("%w: target %s: %s: %w", ErrConfig, spec.Name, spec.ConfigName(), err)
	}
	if idle > 0 {
		if conf, err = kind.WithIdleTimeout(conf, idle); err != nil {
			return Prepared{}, fmt.Errorf("%w: target %s: %s: idle timeout: %w", ErrConfig, spec.Name, spec.ConfigName(), err)
		}
	}
	if spec.TLS {
		if conf, err = kind.WithTLS(conf, spec.HTTP2); err != nil {
			return Prepared{}, fmt.Errorf("%w: target %s: %s: %w", ErrConfig, spec.Name, spec.ConfigName(), err)
		}
	}
	sum := sha256.Sum256(conf)
	return Prepared{Spec: spec, Kind: kind, Conf: conf, SHA256: hex.EncodeToString(sum[:])}, nil
}

// StartLocal starts one real proxy process per proxied target (its own
// prefix dir; see each Kind), each listening on a free loopback port,
// proxying to OriginAddr, and waits until each answers GET /healthz with
// 200 through the proxy (polled with short backoff, bounded by ctx and 10 s
// per target). Every config is checked before anything starts. On any
// failure it stops what it started and returns an error naming the target,
// the config file and the last lines of that proxy's log; a proxy that
// does not start with its config wraps ErrConfig.
//
// The proxies cannot outlive the calling process, even if it is killed:
// each runs in its own process group, the main process with Pdeathsig
// SIGKILL, and the whole group is tethered to a pipe whose closing kills it
// (see tether). Call Stop to end them gracefully.
func StartLocal(ctx context.Context, cfg LocalConfig) (*Local, error) {
	if len(cfg.Targets) == 0 {
		return nil, errors.New("no targets: name at least one")
	}
	origin, err := OriginHostPort(cfg.OriginAddr)
	if err != nil {
		return nil, err
	}
	// Check every config and find every program before starting any.
	prepared := make([]Prepared, len(cfg.Targets))
	bins := map[string]string{}
	seen := make(map[string]bool, len(cfg.Targets))
	for i, spec := range cfg.Targets {
		// The name keys the proxy and names its prefix dir.
		if spec.Name == "" {
			return nil, errors.New("a target has no name")
		}
		if seen[spec.Name] {
			return nil, fmt.Errorf("target %q named twice", spec.Name)
		}
		seen[spec.Name] = true
		if !spec.Proxied() {
			continue
		}
		if prepared[i], err = PrepareConfig(spec, cfg.IdleTimeout); err != nil {
			return nil, err
		}
		k := prepared[i].Kind
		if _, ok := bins[k.Name()]; !ok {
			bin, err := Find(k, cfg.Programs[k.Name()])
			if err != nil {
				return nil, fmt.Errorf("target %s: %w", spec.Name, err)
			}
			bins[k.Name()] = bin
		}
	}

	l := &Local{procs: make(map[string]*proxyProc)}
	versions := map[string]string{}
	for name, bin := range bins {
		k, _ := KindOf(name)
		if versions[name], err = Version(k, bin); err != nil {
			return nil, err
		}
	}
	if len(bins) > 0 {
		if err := l.makeWorkDir(cfg.WorkDir); err != nil {
			return nil, err
		}
	}
	var tlsDir string
	if slices.ContainsFunc(cfg.Targets, func(s targets.Spec) bool { return s.TLS }) {
		if l.certs, err = certs.New(); err != nil {
			_ = l.Stop()
			return nil, err
		}
		if tlsDir, err = l.certs.Write(filepath.Join(l.workDir, "tls")); err != nil {
			_ = l.Stop()
			return nil, err
		}
	}

	for i, spec := range cfg.Targets {
		if !spec.Proxied() {
			l.targets = append(l.targets, Target{Name: spec.Name, URL: "http://" + origin + "/events"})
			continue
		}
		pr := prepared[i]
		var t *TLS
		if spec.TLS {
			t = &TLS{CertFile: filepath.Join(tlsDir, certs.CertFile), KeyFile: filepath.Join(tlsDir, certs.KeyFile), HTTP2: spec.HTTP2}
		}
		p, err := startProxy(ctx, proxySetup{
			kind: pr.Kind, bin: bins[pr.Kind.Name()], name: spec.Name, configName: spec.ConfigName(),
			prefix: filepath.Join(l.workDir, spec.Name), conf: pr.Conf,
			upstreams: append([]string{origin}, cfg.OriginShards...), tls: t, certs: l.certs,
		})
		if err != nil {
			_ = l.Stop()
			return nil, err
		}
		l.procs[spec.Name] = p
		l.targets = append(l.targets, Target{
			Name:         spec.Name,
			URL:          p.url("/events"),
			Kind:         spec.Kind,
			Proxy:        versions[pr.Kind.Name()],
			ConfigSHA256: pr.SHA256,
			ConfigName:   spec.ConfigName(),
			HTTP2:        spec.HTTP2,
		})
	}
	return l, nil
}

// makeWorkDir sets the work dir: dir, or a new temp dir that Stop removes.
func (l *Local) makeWorkDir(dir string) error {
	if dir == "" {
		d, err := os.MkdirTemp("", "sseload-topology-")
		if err != nil {
			return fmt.Errorf("work dir: %w", err)
		}
		l.workDir, l.ownDir = d, true
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("work dir %s: %w", dir, err)
	} else {
		l.workDir = dir
	}
	// Proxies want an absolute prefix; the pid and log paths given on
	// their command lines must not depend on their working directory.
	abs, err := filepath.Abs(l.workDir)
	if err != nil {
		_ = l.Stop()
		return fmt.Errorf("work dir %s: %w", l.workDir, err)
	}
	l.workDir = abs
	return nil
}

// OriginHostPort validates addr, where an origin listens, and returns it in
// a form both a client URL and an nginx `server` line accept: a wildcard
// host (":8080", "0.0.0.0", "::") becomes the loopback address.
func OriginHostPort(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("origin address %q: %w (want host:port, e.g. 127.0.0.1:8080)", addr, err)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("origin address %q: port %q is not a number from 1 to 65535", addr, port)
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return net.JoinHostPort(host, port), nil
}

// Certs returns the run's TLS material, which every TLS target's proxy
// serves and a client trusts (Set.Pool); nil when no target is TLS.
func (l *Local) Certs() *certs.Set { return l.certs }

// Targets returns the targets in the order of LocalConfig.Targets.
func (l *Local) Targets() []Target {
	return append([]Target(nil), l.targets...)
}

// ErrorLog returns that target's proxy log (nginx's error log, what
// HAProxy and Caddy print), for diagnosis: "worker_connections are not
// enough". After Stop it returns the content as it was when Stop ran (at
// most the last MiB).
func (l *Local) ErrorLog(name string) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s, ok := l.logs[name]; ok {
		return s, nil
	}
	p, ok := l.procs[name]
	if !ok {
		return "", fmt.Errorf("no proxied target %q in this topology", name)
	}
	return p.readErrorLog()
}

// Reload reloads target name's proxy the way its kind does it gracefully
// (nginx: SIGHUP; HAProxy: SIGUSR2 to the master; Caddy: `caddy reload`):
// new workers or a new config take new connections, open streams stay
// where the kind keeps them. nginx's reload goes on after Reload returns;
// HAProxy's and Caddy's have happened when it returns (HAProxy's: its new
// worker runs).
func (l *Local) Reload(name string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	p, ok := l.procs[name]
	if !ok || l.stopped {
		return fmt.Errorf("reload %s: no running proxy for that target", name)
	}
	if err := p.reload(p.cmd.Process.Pid); err != nil {
		return fmt.Errorf("reload %s: %w", name, err)
	}
	return nil
}

// Processes returns how many processes target name's proxy has now (its
// main process and workers, old workers still finishing after a reload included),
// from /proc; 0 when it has none.
func (l *Local) Processes(name string) int {
	l.mu.Lock()
	p, ok := l.procs[name]
	l.mu.Unlock()
	if !ok {
		return 0
	}
	return groupSize(p.cmd.Process.Pid)
}

// Stop stops every proxy (its graceful signal, then SIGKILL after 5 s), waits for the
// processes, and removes the work dir it created. Idempotent.
func (l *Local) Stop() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopped {
		return l.stopErr
	}
	l.stopped = true

	// Stop them all at once: each may take up to quitGrace.
	var wg sync.WaitGroup
	for _, p := range l.procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.stop()
		}()
	}
	wg.Wait()

	l.logs = make(map[string]string, len(l.procs))
	for name, p := range l.procs {
		if s, err := p.readErrorLog(); err == nil {
			l.logs[name] = s
		}
	}
	if l.ownDir {
		if err := os.RemoveAll(l.workDir); err != nil {
			l.stopErr = fmt.Errorf("remove work dir: %w", err)
		}
	}
	return l.stopErr
}
