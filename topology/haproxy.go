package topology

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sseload/sseload/targets"
)

// haproxyKind runs HAProxy in master-worker mode in the foreground
// (`haproxy -W -db -f FILE`). Its config learns the machine's addresses from
// two environment variables, which HAProxy expands inside double quotes:
//
//	bind "${SSELOAD_LISTEN}"           (in the frontend)
//	server origin "${SSELOAD_ORIGIN}"  (in the backend)
//
// For a TLS target sseload adds TLS to that bind line, unless it already
// has `ssl` (then it is the user's own, and should read the certificate
// from "${SSELOAD_CERT}"):
//
//	bind "${SSELOAD_LISTEN}" ssl crt "${SSELOAD_CERT}" alpn h2,http/1.1
//
// (alpn http/1.1 without HTTP/2). SSELOAD_CERT holds the certificate and
// its key, as crt wants; SSELOAD_KEY the key alone.
//
// HAProxy has no include directive, so the origin is one address: a run
// whose origin is sharded (many streams) is refused for HAProxy targets.
type haproxyKind struct{}

var _ Kind = haproxyKind{}

// Environment variables of the HAProxy and Caddy config contract.
const (
	EnvListen = "SSELOAD_LISTEN"
	EnvOrigin = "SSELOAD_ORIGIN"
)

func (haproxyKind) Name() string          { return targets.HAProxy }
func (haproxyKind) Package() string       { return "haproxy" }
func (haproxyKind) Binary() string        { return "haproxy" }
func (haproxyKind) VersionArgs() []string { return []string{"-v"} }

// ParseVersion reads "HAProxy version 2.6.12-1+deb12u4 2026/10/17 - …" as
// "HAProxy/2.6.12-1+deb12u4".
func (haproxyKind) ParseVersion(out string) (string, error) {
	_, v, ok := strings.Cut(out, "HAProxy version ")
	f := strings.Fields(v)
	if !ok || len(f) == 0 {
		return "", fmt.Errorf("haproxy -v: no version in output %q", out)
	}
	return "HAProxy/" + f[0], nil
}

// CheckConfig wants both placeholders, each in double quotes (HAProxy
// expands environment variables only there).
func (haproxyKind) CheckConfig(conf []byte) error {
	var missing []string
	for _, want := range []struct{ env, line string }{
		{EnvListen, `bind "${SSELOAD_LISTEN}" in your frontend`},
		{EnvOrigin, `server origin "${SSELOAD_ORIGIN}" in your backend`},
	} {
		if !bytes.Contains(conf, []byte(`"${`+want.env+`}"`)) {
			missing = append(missing, want.line)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("the config does not learn its addresses from sseload: write %s", strings.Join(missing, " and "))
	}
	return nil
}

// haproxyTimeout matches `timeout client|server VALUE` lines.
var haproxyTimeout = regexp.MustCompile(`(?m)^([ \t]*)timeout[ \t]+(client|server)[ \t]+\S+`)

// WithIdleTimeout sets `timeout client` and `timeout server`: the time a
// side may stay silent while a response streams (HAProxy's `timeout
// tunnel` does not apply to SSE, which is an ordinary HTTP response). Every
// existing line is rewritten; a config without them gets both at the top of
// its defaults section.
func (haproxyKind) WithIdleTimeout(conf []byte, d time.Duration) ([]byte, error) {
	v := durationWord(d)
	if haproxyTimeout.Match(conf) {
		return haproxyTimeout.ReplaceAll(conf, []byte("${1}timeout ${2} "+v)), nil
	}
	loc := regexp.MustCompile(`(?m)^defaults\b[^\n]*\n`).FindIndex(conf)
	if loc == nil {
		return nil, fmt.Errorf("timeout client/server %s: the config has no defaults section to add them to", v)
	}
	out := append([]byte(nil), conf[:loc[1]]...)
	out = append(out, "\t# Set by sseload (proxy_read_timeout in the scenario).\n\ttimeout client "+v+"\n\ttimeout server "+v+"\n"...)
	return append(out, conf[loc[1]:]...), nil
}

// haproxyBind matches the contract's bind lines: the bind and its
// address, then the rest of the line.
var haproxyBind = regexp.MustCompile(`(?m)^([ \t]*bind[ \t]+"\$\{` + EnvListen + `\}")([^\n]*)$`)

// haproxySSL matches an ssl keyword among a bind line's options.
var haproxySSL = regexp.MustCompile(`(^|[ \t])ssl([ \t]|$)`)

// WithTLS adds `ssl crt "${SSELOAD_CERT}" alpn …` to every bind
// "${SSELOAD_LISTEN}" line that has no ssl of its own.
func (haproxyKind) WithTLS(conf []byte, http2 bool) ([]byte, error) {
	if !haproxyBind.Match(conf) {
		return nil, fmt.Errorf(`tls: no bind "${%s}" line to serve TLS on`, EnvListen)
	}
	opts := (&TLS{HTTP2: http2}).alpn()
	return haproxyBind.ReplaceAllFunc(conf, func(line []byte) []byte {
		m := haproxyBind.FindSubmatch(line)
		if haproxySSL.Match(m[2]) {
			return line
		}
		return []byte(string(m[1]) + ` ssl crt "${` + EnvCert + `}" alpn ` + opts + string(m[2]))
	}), nil
}

func (haproxyKind) Prepare(p Placement) (Command, error) {
	if len(p.Upstreams) != 1 {
		return Command{}, fmt.Errorf("%w: an HAProxy config proxies to one origin address (\"${%s}\"), and this run's origin has %d shards; measure fewer streams per HAProxy target", ErrConfig, EnvOrigin, len(p.Upstreams))
	}
	file := filepath.Join(p.Prefix, "haproxy.cfg")
	if err := os.WriteFile(file, p.Conf, 0o644); err != nil {
		return Command{}, fmt.Errorf("haproxy config: %w", err)
	}
	return Command{
		// -W: master-worker, so SIGUSR2 reloads; -db: foreground, and
		// alerts go to stderr (the log file); -p: the master's pid.
		Args: []string{p.Bin, "-W", "-db", "-f", file, "-p", filepath.Join(p.Prefix, "haproxy.pid")},
		Env:  append([]string{EnvListen + "=" + p.Listen, EnvOrigin + "=" + p.Upstreams[0]}, envList(p.TLS.env())...),
		// SIGUSR1: soft stop, the workers finish their connections.
		Stop: sigUSR1,
		// SIGUSR2 to the master: new workers with the config re-read; the
		// old ones finish their connections (a soft stop).
		Reload: func(pid int) error { return haproxyReload(pid, readyLimit) },
	}, nil
}

// haproxyReload sends SIGUSR2 to the master pid when it can take it, and
// returns once a new worker runs and the master can take the next one.
//
// Why wait: the master (HAProxy 2.6, -W) catches SIGUSR2 only in its
// polling loop. While it loads a config (at start, and at every reload,
// which re-executes it) the signal is at its default action, which kills
// the master, or ignored, which loses the reload; after forking the
// workers it blocks the signal and re-executes itself into "wait mode",
// which keeps a blocked signal pending until its loop catches it.
// Measured: a SIGUSR2 sent within about a millisecond of "Loading
// success." — that is, as soon as the proxy answers — was lost. So it is
// sent only while SIGUSR2 is caught or blocked (/proc/PID/status), and the
// reload counts as done when the group has a process it did not have
// before (the new worker) and the master is back in that state.
func haproxyReload(pid int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	wait := func(what string, done func() (bool, error)) error {
		for {
			ok, err := done()
			if err != nil || ok {
				return err
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("haproxy reload: %s after %v", what, limit)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	if err := wait("the master does not take SIGUSR2", func() (bool, error) { return takesSignal(pid, sigUSR2) }); err != nil {
		return err
	}
	before := groupPIDs(pid)
	if err := signalProcess(pid, sigUSR2); err != nil {
		return fmt.Errorf("haproxy reload: %w", err)
	}
	return wait("no new worker", func() (bool, error) {
		for _, p := range groupPIDs(pid) {
			if !slices.Contains(before, p) {
				return takesSignal(pid, sigUSR2)
			}
		}
		return false, nil
	})
}

// takesSignal reports whether process pid now catches or blocks sig (so a
// sig sent now is handled, at once or when unblocked), from the SigCgt and
// SigBlk masks in /proc/PID/status.
func takesSignal(pid int, sig syscall.Signal) (bool, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return false, fmt.Errorf("process %d: %w", pid, err)
	}
	bit := uint64(1) << (uint(sig) - 1)
	for _, line := range strings.Split(string(b), "\n") {
		name, v, ok := strings.Cut(line, ":")
		if !ok || (name != "SigCgt" && name != "SigBlk") {
			continue
		}
		mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		if err != nil {
			return false, fmt.Errorf("process %d: %s: %w", pid, name, err)
		}
		if mask&bit != 0 {
			return true, nil
		}
	}
	return false, nil
}

func (haproxyKind) Container(t *TLS) Container {
	env := map[string]string{EnvListen: ContainerListenOf(t), EnvOrigin: ContainerOrigin}
	maps.Copy(env, t.env())
	return Container{
		ConfigPath:   "/etc/sseload/haproxy.cfg",
		Command:      []string{"haproxy", "-W", "-db", "-f", "/etc/sseload/haproxy.cfg"},
		Env:          env,
		ReloadSignal: "USR2",
	}
}
