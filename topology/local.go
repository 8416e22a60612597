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
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/sseload/sseload/docker"
)

// LocalConfig says what StartLocal puts in front of a running origin.
type LocalConfig struct {
	OriginAddr string   // host:port of the running origin (its /events and /healthz)
	Names      []string // which targets, subset of direct, nginx-stock, nginx-sse, in this order of appearance
	NginxPath  string   // "" = look up "nginx" in PATH, then /usr/sbin/nginx
	WorkDir    string   // "" = a new temp dir, removed by Stop
	// ProxyReadTimeout, when > 0, replaces every nginx config's
	// proxy_read_timeout (idle-timeout scenario); the configs' sha256 in the
	// results is that of the config as run.
	ProxyReadTimeout time.Duration
	// OriginShards are more origins serving the same schedule as
	// OriginAddr (host:port each, one process may hold only so many
	// streams): every nginx balances over all of them (round robin). The
	// direct target's URL is OriginAddr's.
	OriginShards []string
}

// Local is the local topology: the origin measured directly and through
// real nginx processes on loopback, one per proxied target.
type Local struct {
	targets []Target
	procs   map[string]*nginxProc
	workDir string
	ownDir  bool // workDir was created by StartLocal and is removed by Stop

	mu      sync.Mutex
	stopped bool
	stopErr error
	logs    map[string]string // error logs kept by Stop before it removes workDir
}

// StartLocal starts one real nginx process per proxied target (own prefix
// dir with conf/, logs/, temp dirs; `-p prefix -c conf/nginx.conf -g
// "daemon off; pid ...; error_log ...;"`), each listening on a free loopback
// port, proxying to OriginAddr, and waits until each answers GET /healthz
// with 200 through the proxy (polled with short backoff, bounded by ctx and
// 10 s per target). On any failure it stops what it started and returns an
// error naming the target and the last lines of that nginx's error log.
//
// The nginx processes cannot outlive the calling process, even if it is
// killed: each runs in its own process group, the master with Pdeathsig
// SIGKILL, and the whole group is tethered to a pipe whose closing kills it
// (see tether). Call Stop to end them gracefully.
func StartLocal(ctx context.Context, cfg LocalConfig) (*Local, error) {
	if err := validateNames(cfg.Names); err != nil {
		return nil, err
	}
	origin, err := OriginHostPort(cfg.OriginAddr)
	if err != nil {
		return nil, err
	}

	proxied := false
	for _, name := range cfg.Names {
		proxied = proxied || name != Direct
	}
	l := &Local{procs: make(map[string]*nginxProc)}
	var bin, version string
	if proxied {
		if bin, err = FindNginx(cfg.NginxPath); err != nil {
			return nil, err
		}
		if version, err = NginxVersion(bin); err != nil {
			return nil, err
		}
		if cfg.WorkDir == "" {
			l.workDir, err = os.MkdirTemp("", "sseload-topology-")
			if err != nil {
				return nil, fmt.Errorf("work dir: %w", err)
			}
			l.ownDir = true
		} else if err := os.MkdirAll(cfg.WorkDir, 0o755); err != nil {
			return nil, fmt.Errorf("work dir %s: %w", cfg.WorkDir, err)
		} else {
			l.workDir = cfg.WorkDir
		}
		// nginx wants an absolute prefix; the pid and log paths given with -g
		// must not depend on its working directory.
		abs, err := filepath.Abs(l.workDir)
		if err != nil {
			_ = l.Stop()
			return nil, fmt.Errorf("work dir %s: %w", l.workDir, err)
		}
		l.workDir = abs
	}

	for _, name := range cfg.Names {
		if name == Direct {
			l.targets = append(l.targets, Target{Name: Direct, URL: "http://" + origin + "/events"})
			continue
		}
		file, _ := configFile(name)
		conf, err := docker.NginxConfigs.ReadFile(file)
		if err != nil {
			_ = l.Stop()
			return nil, fmt.Errorf("%s: embedded config %s: %w", name, file, err)
		}
		if cfg.ProxyReadTimeout > 0 {
			if conf, err = withReadTimeout(conf, cfg.ProxyReadTimeout); err != nil {
				_ = l.Stop()
				return nil, fmt.Errorf("%s: %w", name, err)
			}
		}
		p, err := startNginx(ctx, bin, name, filepath.Join(l.workDir, name), conf, append([]string{origin}, cfg.OriginShards...)...)
		if err != nil {
			_ = l.Stop()
			return nil, err
		}
		l.procs[name] = p
		sum := sha256.Sum256(conf)
		l.targets = append(l.targets, Target{
			Name:         name,
			URL:          p.url("/events"),
			Proxy:        version,
			ConfigSHA256: hex.EncodeToString(sum[:]),
		})
	}
	return l, nil
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

// Targets returns the targets in the order of LocalConfig.Names.
func (l *Local) Targets() []Target {
	return append([]Target(nil), l.targets...)
}

// ErrorLog returns that target's nginx error log content (diagnosis:
// "worker_connections are not enough"). After Stop it returns the content
// as it was when Stop ran (at most the last MiB).
func (l *Local) ErrorLog(name string) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s, ok := l.logs[name]; ok {
		return s, nil
	}
	p, ok := l.procs[name]
	if !ok {
		if name == Direct {
			return "", errors.New("target direct has no proxy, so no error log")
		}
		return "", fmt.Errorf("no nginx target %q in this topology", name)
	}
	return p.readErrorLog()
}

// Reload reloads target name's nginx as `nginx -s reload` does (SIGHUP to
// the master): it starts new workers with the config and tells the old ones
// to finish their connections and exit.
func (l *Local) Reload(name string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	p, ok := l.procs[name]
	if !ok || l.stopped {
		return fmt.Errorf("reload %s: no running nginx for that target", name)
	}
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		return fmt.Errorf("reload %s: %w", name, err)
	}
	return nil
}

// Processes returns how many processes target name's nginx has now (its
// master and workers, old workers still finishing after a reload included),
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

// Stop stops every nginx (SIGQUIT, then SIGKILL after 5 s), waits for the
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
