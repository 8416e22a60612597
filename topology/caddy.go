package topology

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/sseload/sseload/targets"
)

// caddyKind runs Caddy 2. Its Caddyfile learns the machine's addresses from
// two environment placeholders, which Caddy substitutes before it parses
// the file (so SSELOAD_ORIGIN may hold several upstreams, space-separated):
//
//	http://{$SSELOAD_LISTEN} {
//		reverse_proxy {$SSELOAD_ORIGIN}
//	}
//
// For a TLS target sseload serves the site over TLS with the run's
// certificate, rewriting the file as it runs:
//
//	{
//		auto_https disable_redirects
//		servers {
//			protocols h1 h2        (h1 alone without HTTP/2)
//		}
//	}
//	https://{$SSELOAD_LISTEN} {
//		tls {$SSELOAD_CERT} {$SSELOAD_KEY}
//		reverse_proxy {$SSELOAD_ORIGIN}
//	}
//
// A Caddyfile that already names {$SSELOAD_CERT} keeps its own TLS setup,
// untouched; one with a global options block of its own must write those
// lines itself (sseload does not merge blocks).
//
// Locally the Caddyfile is adapted to JSON first (`caddy adapt`), and the
// JSON gets an admin endpoint on a unix socket in the prefix (Caddy's
// default, localhost:2019, would clash between two Caddy targets), storage
// in the prefix, and its listeners bound to loopback only.
type caddyKind struct{}

var _ Kind = caddyKind{}

func (caddyKind) Name() string          { return targets.Caddy }
func (caddyKind) Package() string       { return "caddy" }
func (caddyKind) Binary() string        { return "caddy" }
func (caddyKind) VersionArgs() []string { return []string{"version"} }

// ParseVersion reads `caddy version` ("2.6.2" on Debian; "v2.7.6 h1:…"
// from upstream builds) as "Caddy/2.6.2".
func (caddyKind) ParseVersion(out string) (string, error) {
	f := strings.Fields(out)
	if len(f) == 0 || !strings.ContainsAny(f[0], "0123456789") {
		return "", fmt.Errorf("caddy version: no version in output %q", out)
	}
	return "Caddy/" + strings.TrimPrefix(f[0], "v"), nil
}

// CheckConfig wants both placeholders, the site address with its scheme:
// without "http://", Caddy serves a host:port address over HTTPS with a
// certificate of its own (and, run as root, installs its CA in the
// system's trust store).
func (caddyKind) CheckConfig(conf []byte) error {
	var missing []string
	for _, want := range []struct{ text, line string }{
		{"://{$" + EnvListen + "}", "the site address http://{$SSELOAD_LISTEN}"},
		{"{$" + EnvOrigin + "}", "reverse_proxy {$SSELOAD_ORIGIN}"},
	} {
		if !bytes.Contains(conf, []byte(want.text)) {
			missing = append(missing, want.line)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("the Caddyfile does not learn its addresses from sseload: write %s", strings.Join(missing, " and "))
	}
	return nil
}

// caddyReverseProxy matches a reverse_proxy directive line, with or
// without an opening brace. Its arguments may hold placeholders in braces
// ({$SSELOAD_ORIGIN}, {env.X}); only a lone "{" at the end opens a block.
var caddyReverseProxy = regexp.MustCompile(`(?m)^([ \t]*)reverse_proxy\b((?:[^{\n]|\{[^{}\s]*\})*?)[ \t]*(\{)?[ \t]*$`)

// caddyTransport matches a transport subdirective line.
var caddyTransport = regexp.MustCompile(`(?m)^[ \t]*transport\b`)

// WithIdleTimeout sets the read_timeout of every reverse_proxy's HTTP
// transport: how long Caddy waits for the next read from the upstream
// before it ends the response. Caddy has no such limit by default.
func (caddyKind) WithIdleTimeout(conf []byte, d time.Duration) ([]byte, error) {
	if caddyTransport.Match(conf) {
		return nil, fmt.Errorf("read_timeout %s: the Caddyfile has its own transport block; set read_timeout in it yourself", durationWord(d))
	}
	if !caddyReverseProxy.Match(conf) {
		return nil, fmt.Errorf("read_timeout %s: the Caddyfile has no reverse_proxy line to set it on", durationWord(d))
	}
	v := durationWord(d)
	return caddyReverseProxy.ReplaceAllFunc(conf, func(line []byte) []byte {
		m := caddyReverseProxy.FindSubmatch(line)
		indent, args, brace := string(m[1]), string(m[2]), len(m[3]) > 0
		block := indent + "\t# Set by sseload (proxy_read_timeout in the scenario).\n" +
			indent + "\ttransport http {\n" + indent + "\t\tread_timeout " + v + "\n" + indent + "\t}"
		if brace {
			return []byte(indent + "reverse_proxy" + args + " {\n" + block)
		}
		return []byte(indent + "reverse_proxy" + args + " {\n" + block + "\n" + indent + "}")
	}), nil
}

// caddySite matches the contract's plaintext site line, which opens its
// block on the same line.
var caddySite = regexp.MustCompile(`(?m)^([ \t]*)http://\{\$` + EnvListen + `\}([^\n{]*)\{[ \t]*$`)

// caddyGlobal matches a global options block: a lone "{" as the first line
// that is neither blank nor a comment.
var caddyGlobal = regexp.MustCompile(`^(?:[ \t]*(?:#[^\n]*)?\n)*[ \t]*\{[ \t]*\n`)

// WithTLS serves the Caddyfile's site over TLS with the run's certificate
// (see caddyKind). Without HTTP/2 the server speaks h1 alone; HTTP/3 is
// never offered (it would need a UDP port, and no client here asks).
func (caddyKind) WithTLS(conf []byte, http2 bool) ([]byte, error) {
	if bytes.Contains(conf, []byte("{$"+EnvCert+"}")) {
		return conf, nil
	}
	if !caddySite.Match(conf) {
		return nil, fmt.Errorf("tls: no site line `http://{$%s} {` to serve TLS on (or write your own: https://{$%s} with tls {$%s} {$%s})", EnvListen, EnvListen, EnvCert, EnvKey)
	}
	if caddyGlobal.Match(conf) {
		return nil, fmt.Errorf("tls: the Caddyfile has a global options block; serve TLS yourself: site https://{$%s} with tls {$%s} {$%s}, and auto_https disable_redirects in the global options", EnvListen, EnvCert, EnvKey)
	}
	protocols := "h1"
	if http2 {
		protocols = "h1 h2"
	}
	out := []byte("# Set by sseload (a TLS target).\n{\n\tauto_https disable_redirects\n\tservers {\n\t\tprotocols " + protocols + "\n\t}\n}\n\n")
	return append(out, caddySite.ReplaceAllFunc(conf, func(line []byte) []byte {
		m := caddySite.FindSubmatch(line)
		indent, rest := string(m[1]), string(m[2])
		return []byte(indent + "https://{$" + EnvListen + "}" + rest + "{\n" + indent + "\ttls {$" + EnvCert + "} {$" + EnvKey + "}")
	})...), nil
}

func (k caddyKind) Prepare(p Placement) (Command, error) {
	conf := filepath.Join(p.Prefix, "Caddyfile")
	if err := os.WriteFile(conf, p.Conf, 0o644); err != nil {
		return Command{}, fmt.Errorf("caddy config: %w", err)
	}
	env := []string{
		EnvListen + "=" + p.Listen,
		EnvOrigin + "=" + strings.Join(p.Upstreams, " "),
		// Caddy keeps certificates and autosaved config under these.
		"HOME=" + p.Prefix,
		"XDG_DATA_HOME=" + filepath.Join(p.Prefix, "data"),
		"XDG_CONFIG_HOME=" + filepath.Join(p.Prefix, "config"),
	}
	env = append(env, envList(p.TLS.env())...)
	adapt := exec.Command(p.Bin, "adapt", "--config", conf, "--adapter", "caddyfile")
	adapt.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	adapt.Stderr = &stderr
	out, err := adapt.Output()
	if err != nil {
		return Command{}, fmt.Errorf("%w: caddy adapt: %v\n%s", ErrConfig, err, strings.TrimSpace(stderr.String()))
	}
	sock := filepath.Join(p.Prefix, "admin.sock")
	j, err := caddyLocalJSON(out, "unix/"+sock, p.Listen)
	if err != nil {
		return Command{}, err
	}
	jsonFile := filepath.Join(p.Prefix, "caddy.json")
	if err := os.WriteFile(jsonFile, j, 0o644); err != nil {
		return Command{}, fmt.Errorf("caddy config: %w", err)
	}
	return Command{
		Args: []string{p.Bin, "run", "--config", jsonFile},
		Env:  env,
		// SIGTERM: a graceful shutdown.
		Stop: syscall.SIGTERM,
		// `caddy reload` loads the config through the admin endpoint;
		// --force, or Caddy skips a config it already runs.
		// It returns once the new config runs (measured: an open stream
		// keeps flowing through the old one).
		Reload: func(int) error {
			ctx, cancel := context.WithTimeout(context.Background(), readyLimit)
			defer cancel()
			out, err := exec.CommandContext(ctx, p.Bin, "reload", "--config", jsonFile, "--address", "unix/"+sock, "--force").CombinedOutput()
			if err != nil {
				return fmt.Errorf("caddy reload: %w: %s", err, bytes.TrimSpace(out))
			}
			return nil
		},
	}, nil
}

// caddyLocalJSON rewrites Caddy's adapted JSON for a local run: the admin
// endpoint at admin; every listener that binds all interfaces on listen's
// port bound to listen's host instead; and every reverse_proxy with several
// upstreams (the origin's shards) and no load balancing of its own set to
// round robin, as the other kinds balance (Caddy's default picks at random,
// which can load one shard past what it holds).
func caddyLocalJSON(adapted []byte, admin, listen string) ([]byte, error) {
	var cfg map[string]any
	if err := json.Unmarshal(adapted, &cfg); err != nil {
		return nil, fmt.Errorf("caddy adapt: unexpected output: %w", err)
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, fmt.Errorf("caddy listen address %q: %w", listen, err)
	}
	cfg["admin"] = map[string]any{"listen": admin}
	if apps, ok := cfg["apps"].(map[string]any); ok {
		if h, ok := apps["http"].(map[string]any); ok {
			if servers, ok := h["servers"].(map[string]any); ok {
				for _, s := range servers {
					srv, ok := s.(map[string]any)
					if !ok {
						continue
					}
					if ls, ok := srv["listen"].([]any); ok {
						for i, l := range ls {
							if l == ":"+port {
								ls[i] = net.JoinHostPort(host, port)
							}
						}
					}
				}
			}
		}
	}
	roundRobin(cfg)
	return json.Marshal(cfg)
}

// roundRobin sets the selection policy of every reverse_proxy handler in v
// (at any depth: handlers nest in subroutes) that has more than one
// upstream and no load_balancing block to round_robin.
func roundRobin(v any) {
	switch v := v.(type) {
	case map[string]any:
		if v["handler"] == "reverse_proxy" {
			if ups, _ := v["upstreams"].([]any); len(ups) > 1 && v["load_balancing"] == nil {
				v["load_balancing"] = map[string]any{"selection_policy": map[string]any{"policy": "round_robin"}}
			}
		}
		for _, e := range v {
			roundRobin(e)
		}
	case []any:
		for _, e := range v {
			roundRobin(e)
		}
	}
}

// Container runs the Caddyfile as it is: each container has its own
// loopback, so the default admin endpoint serves `caddy reload`.
func (caddyKind) Container(t *TLS) Container {
	env := map[string]string{EnvListen: ContainerListenOf(t), EnvOrigin: ContainerOrigin}
	maps.Copy(env, t.env())
	return Container{
		ConfigPath: "/etc/sseload/Caddyfile",
		Command:    []string{"caddy", "run", "--config", "/etc/sseload/Caddyfile", "--adapter", "caddyfile"},
		Env:        env,
		ReloadExec: []string{"caddy", "reload", "--config", "/etc/sseload/Caddyfile", "--adapter", "caddyfile", "--force"},
	}
}
