package topology

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/sseload/sseload/targets"
)

// Kind is one reverse proxy program: how to find it, how to run a config in
// front of the origin, how to reload and stop it, and how to change its idle
// timeout. Nothing outside a Kind's implementation knows the program's
// command line, config syntax or signals; the local topology (processes)
// and the compose topology (containers) both ask it.
type Kind interface {
	// Name is the kind's name, one of targets.Kinds().
	Name() string
	// Package is the Debian package that installs the program, for the
	// error that says it is missing.
	Package() string
	// Binary is the program's file name, looked up in PATH and then in
	// /usr/sbin (Debian's place, often missing from a user's PATH).
	Binary() string
	// VersionArgs are the arguments that make the program print its
	// version, and ParseVersion reads it from that output as
	// "nginx/1.22.1" (locally and inside a container alike).
	VersionArgs() []string
	ParseVersion(out string) (string, error)
	// CheckConfig says whether conf keeps the contract by which the
	// topology tells it its listen address and the origin's address; the
	// error names what is missing and the line to write.
	CheckConfig(conf []byte) error
	// WithIdleTimeout returns conf with the timeout after which the proxy
	// cuts a quiet stream set to d, or an error saying why it cannot.
	WithIdleTimeout(conf []byte, d time.Duration) ([]byte, error)
	// WithTLS returns conf made to terminate TLS on its listener with the
	// certificate the topology provides (the kind's TLS contract: see each
	// kind), offering HTTP/2 by ALPN when http2, or an error saying what
	// to write instead. A kind whose contract needs no change to the file
	// (nginx: the listen include carries it) returns conf as it is.
	WithTLS(conf []byte, http2 bool) ([]byte, error)
	// Prepare lays out prefix for conf and returns the foreground command
	// that serves on listen (host:port) in front of upstreams (host:port
	// each, balanced round robin where the kind can).
	Prepare(p Placement) (Command, error)
	// Container is how the compose topology runs the kind; tls is nil
	// for a plaintext target, else the certificate's paths inside the
	// container (ContainerTLS).
	Container(tls *TLS) Container
}

// TLS is a TLS target's listener: where its proxy finds the run's
// certificate (package internal/certs) and whether it offers HTTP/2.
type TLS struct {
	// CertFile holds the server certificate followed by its key (HAProxy's
	// crt form; nginx and Caddy read the certificate from it).
	CertFile string
	// KeyFile holds the key alone.
	KeyFile string
	// HTTP2 offers h2 by ALPN as well as http/1.1.
	HTTP2 bool
}

// Environment variables that carry TLS to HAProxy and Caddy configs (and
// which nginx's listen include spells out as paths): the certificate file
// and the key file of TLS.
const (
	EnvCert = "SSELOAD_CERT"
	EnvKey  = "SSELOAD_KEY"
)

// env is t's environment for a config: SSELOAD_CERT and SSELOAD_KEY; none
// for plaintext.
func (t *TLS) env() map[string]string {
	if t == nil {
		return nil
	}
	return map[string]string{EnvCert: t.CertFile, EnvKey: t.KeyFile}
}

// alpn is the ALPN list of t's listener, in preference order.
func (t *TLS) alpn() string {
	if t.HTTP2 {
		return "h2,http/1.1"
	}
	return "http/1.1"
}

// scheme is the URL scheme of a listener with t.
func (t *TLS) scheme() string {
	if t == nil {
		return "http"
	}
	return "https"
}

// ContainerTLSDir is where the compose topology mounts the run's TLS files
// (read-only) in each TLS target's proxy container, and in the load
// generator's (its CA).
const ContainerTLSDir = "/etc/sseload/tls"

// Placement is where one proxy process runs.
type Placement struct {
	Bin       string
	Prefix    string // absolute; the kind's own directory
	Conf      []byte
	Listen    string   // host:port
	Upstreams []string // host:port each; at least one
	TLS       *TLS     // nil: plaintext HTTP/1.1
}

// Command is one prepared proxy process.
type Command struct {
	Args []string // Args[0] is the binary
	Env  []string // KEY=VALUE, added to sseload's environment
	// Stop is the signal for a graceful stop, sent to the process group;
	// SIGKILL follows after quitGrace.
	Stop syscall.Signal
	// Reload reloads the running process (pid: the main process) with
	// its config, keeping open streams where the kind can.
	Reload func(pid int) error
}

// Container says how the compose topology runs a kind: the config is
// mounted read-only at ConfigPath (and Files beside it), the container runs
// Command with Env, and a reload is the signal ReloadSignal sent to the
// container's main process or, when that is "", ReloadExec run inside it.
type Container struct {
	ConfigPath   string
	Files        map[string]string // file name beside ConfigPath → content
	Command      []string
	Env          map[string]string
	ReloadSignal string
	ReloadExec   []string
}

// Compose addresses: every proxy listens on port 80 of its container (443
// for a TLS target: Caddy refuses https on port 80), and the origin
// service listens on origin:8080.
const (
	ContainerListen    = ":80"
	ContainerListenTLS = ":443"
	ContainerOrigin    = "origin:8080"
)

// ContainerListenOf is where a proxy listens in its container: t nil for
// plaintext.
func ContainerListenOf(t *TLS) string {
	if t == nil {
		return ContainerListen
	}
	return ContainerListenTLS
}

// KindOf returns the Kind named name.
func KindOf(name string) (Kind, error) {
	switch name {
	case targets.Nginx:
		return nginxKind{}, nil
	case targets.HAProxy:
		return haproxyKind{}, nil
	case targets.Caddy:
		return caddyKind{}, nil
	}
	return nil, fmt.Errorf("unknown proxy kind %q (valid: %s)", name, strings.Join(targets.Kinds(), ", "))
}

// ErrMissing is returned (wrapped) when a proxy's program is not installed.
var ErrMissing = errors.New("proxy program not found")

// ErrConfig marks a proxy that did not start with its config (a syntax
// error, a missing placeholder, a port it cannot bind): the user's input
// is at fault, and the error quotes the proxy's own lines.
var ErrConfig = errors.New("proxy config does not start")

// Find finds k's program: path itself if given, else the binary in PATH,
// else /usr/sbin/<binary>.
func Find(k Kind, path string) (string, error) {
	missing := missingErr(k)
	if path != "" {
		fi, err := os.Stat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("%s: %w", path, missing)
		}
		if err != nil {
			return "", fmt.Errorf("%s binary %s: %w", k.Name(), path, err)
		}
		if fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
			return "", fmt.Errorf("%s binary %s is not an executable file: point it at %s itself", k.Name(), path, k.Binary())
		}
		return path, nil
	}
	if p, err := exec.LookPath(k.Binary()); err == nil {
		return p, nil
	}
	sbin := "/usr/sbin/" + k.Binary()
	if fi, err := os.Stat(sbin); err == nil && !fi.IsDir() && fi.Mode().Perm()&0o111 != 0 {
		return sbin, nil
	}
	return "", missing
}

// missingErr is Find's error when k's program is not installed.
func missingErr(k Kind) error {
	return fmt.Errorf("%w: %s: install it with `apt-get install %s` (Debian/Ubuntu), or leave out the %s targets with --only", ErrMissing, k.Binary(), k.Package(), k.Name())
}

// Version runs k's program bin and returns its version, such as
// "nginx/1.22.1". A bin that does not exist is ErrMissing, as from Find.
func Version(k Kind, bin string) (string, error) {
	args := k.VersionArgs()
	out, err := exec.Command(bin, args...).CombinedOutput()
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%s: %w", bin, missingErr(k))
	}
	if err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", bin, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return k.ParseVersion(string(out))
}

// durationWord writes d for a proxy config: whole seconds as "5s", else
// milliseconds ("1500ms"); nginx, HAProxy and Caddy all read both.
func durationWord(d time.Duration) string {
	if d%time.Second == 0 {
		return fmt.Sprintf("%ds", int64(d/time.Second))
	}
	return fmt.Sprintf("%dms", d.Milliseconds())
}

// envList is env as KEY=VALUE lines, sorted.
func envList(env map[string]string) []string {
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return out
}
