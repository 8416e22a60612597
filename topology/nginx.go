package topology

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/sseload/sseload/targets"
)

// nginxKind runs nginx. Its config learns the machine's addresses from two
// files the topology writes beside it, each pulled in with an include:
//
//	sseload-upstream.conf (inside http {}):   upstream sseload_origin { server HOST:PORT; ... }
//	sseload-listen.conf   (inside server {}): listen ADDR:PORT;
//
// For a TLS target the listen include carries TLS too, so a config needs no
// change to be served over TLS (and must not set its own listen lines or
// ssl_certificate in that server {}):
//
//	listen ADDR:PORT ssl http2;   (http2 only when asked)
//	ssl_certificate     "…/server.pem";
//	ssl_certificate_key "…/server.key";
//
// Layout of the prefix (-p):
//
//	conf/nginx.conf            the config, byte for byte
//	conf/sseload-upstream.conf upstream sseload_origin + temp paths
//	conf/sseload-listen.conf   listen 127.0.0.1:PORT;
//	logs/error.log             nginx's error log and its stderr
//	logs/access.log            written by nginx-stock
//	temp/                      client body and proxy temp files
//	nginx.pid
type nginxKind struct{}

var _ Kind = nginxKind{}

func (nginxKind) Name() string    { return targets.Nginx }
func (nginxKind) Package() string { return "nginx-light" }
func (nginxKind) Binary() string  { return "nginx" }

// VersionArgs: `nginx -v` prints "nginx version: nginx/1.22.1" to stderr.
func (nginxKind) VersionArgs() []string { return []string{"-v"} }

func (nginxKind) ParseVersion(out string) (string, error) {
	_, v, ok := strings.Cut(out, "nginx version: ")
	v, _, _ = strings.Cut(v, "\n")
	v = strings.TrimSpace(v)
	if !ok || v == "" {
		return "", fmt.Errorf("nginx -v: no version in output %q", out)
	}
	return v, nil
}

// CheckConfig wants both include files: without them nginx would listen
// and proxy where the file says, not where the topology put it.
func (nginxKind) CheckConfig(conf []byte) error {
	var missing []string
	for _, inc := range []struct{ file, where string }{
		{"sseload-upstream.conf", "inside http {}, and proxy_pass http://sseload_origin; in your location"},
		{"sseload-listen.conf", "inside your server {}, instead of its listen lines"},
	} {
		if !regexp.MustCompile(`(?m)^[ \t]*include[ \t]+` + regexp.QuoteMeta(inc.file) + `[ \t]*;`).Match(conf) {
			missing = append(missing, fmt.Sprintf("include %s; (%s)", inc.file, inc.where))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("the config does not learn its addresses from sseload: add %s", strings.Join(missing, " and "))
	}
	return nil
}

// readTimeoutDirective matches every proxy_read_timeout line of a config.
var readTimeoutDirective = regexp.MustCompile(`(?m)^([ \t]*)proxy_read_timeout[ \t]+[^;]*;`)

// WithIdleTimeout sets proxy_read_timeout, nginx's limit on the time
// between two reads from the upstream: every existing directive is
// rewritten, or one is added at the top of http {} when the config relies
// on the default (60 s).
func (nginxKind) WithIdleTimeout(conf []byte, d time.Duration) ([]byte, error) {
	v := durationWord(d)
	if readTimeoutDirective.Match(conf) {
		return readTimeoutDirective.ReplaceAll(conf, []byte("${1}proxy_read_timeout "+v+";")), nil
	}
	i := bytes.Index(conf, []byte("\nhttp {\n"))
	if i < 0 {
		return nil, fmt.Errorf("proxy_read_timeout %s: the config has no top-level `http {` line to add it to", v)
	}
	i += len("\nhttp {\n")
	out := append([]byte(nil), conf[:i]...)
	out = append(out, "\t# Set by sseload (proxy_read_timeout in the scenario).\n\tproxy_read_timeout "+v+";\n"...)
	return append(out, conf[i:]...), nil
}

// WithTLS leaves conf as it is: nginx learns TLS from sseload-listen.conf
// (listenFile), which the contract already includes.
func (nginxKind) WithTLS(conf []byte, _ bool) ([]byte, error) { return conf, nil }

// listenFile is sseload-listen.conf: the listen line on addr ("127.0.0.1:PORT",
// "80"), with ssl (and http2) and the certificate when t is set. nginx
// 1.22 (Debian bookworm) spells HTTP/2 as a listen parameter; nginx 1.25.1
// and later accept it too, with a warning that `http2 on;` is the new form.
func listenFile(addr string, t *TLS) string {
	if t == nil {
		return "listen " + addr + ";\n"
	}
	params := " ssl"
	if t.HTTP2 {
		params += " http2"
	}
	return "listen " + addr + params + ";\n" +
		"ssl_certificate " + nginxQuote(t.CertFile) + ";\n" +
		"ssl_certificate_key " + nginxQuote(t.KeyFile) + ";\n"
}

// nginxQuote quotes s as one nginx config token.
func nginxQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// upstreamFile is sseload-upstream.conf for upstreams; with temp paths when
// tempDir is set (the local topology: Debian's compiled-in /var/lib/nginx/*
// needs root; inside a container the image's defaults are right).
func upstreamFile(upstreams []string, tempDir bool) string {
	s := "upstream sseload_origin {\n"
	for _, u := range upstreams {
		s += "\tserver " + u + ";\n"
	}
	s += "}\n"
	if tempDir {
		s += "client_body_temp_path temp/client_body;\n" +
			"proxy_temp_path temp/proxy;\n" +
			"fastcgi_temp_path temp/fastcgi;\n" +
			"uwsgi_temp_path temp/uwsgi;\n" +
			"scgi_temp_path temp/scgi;\n"
	}
	return s
}

func (nginxKind) Prepare(p Placement) (Command, error) {
	for _, d := range []string{"conf", "logs", "temp"} {
		if err := os.MkdirAll(filepath.Join(p.Prefix, d), 0o755); err != nil {
			return Command{}, fmt.Errorf("nginx prefix: %w", err)
		}
	}
	files := map[string]string{
		"nginx.conf":            string(p.Conf),
		"sseload-upstream.conf": upstreamFile(p.Upstreams, true),
		"sseload-listen.conf":   listenFile(p.Listen, p.TLS),
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(p.Prefix, "conf", name), []byte(content), 0o644); err != nil {
			return Command{}, fmt.Errorf("nginx config: %w", err)
		}
	}
	// Main-context settings that depend on this machine, so they stay out
	// of the shared config files.
	global := "daemon off; pid " + nginxQuote(filepath.Join(p.Prefix, "nginx.pid")) + ";" +
		" error_log " + nginxQuote(logPath(p.Prefix)) + " warn;"
	if os.Geteuid() == 0 {
		// As root, the workers would switch to the compiled-in user
		// (nobody), who cannot enter a 0700 temp dir to write
		// proxy_temp_path files (nginx-stock spills long streams to disk).
		// Keep them as the harness's own user instead.
		global += " user root;"
	}
	return Command{
		Args: []string{p.Bin, "-p", p.Prefix, "-c", "conf/nginx.conf", "-g", global},
		// SIGQUIT: the master waits for its workers to finish their
		// connections.
		Stop: syscall.SIGQUIT,
		// SIGHUP, as `nginx -s reload`: new workers with the config; the
		// old ones finish their connections and exit.
		Reload: func(pid int) error { return signalProcess(pid, syscall.SIGHUP) },
	}, nil
}

// Container runs nginx with its prefix in /run/sseload (logs/access.log of
// nginx-stock.conf is relative to it); the error log goes to the
// container's log.
func (nginxKind) Container(t *TLS) Container {
	return Container{
		ConfigPath: "/etc/sseload/nginx.conf",
		Files: map[string]string{
			"sseload-upstream.conf": upstreamFile([]string{ContainerOrigin}, false),
			"sseload-listen.conf":   listenFile(strings.TrimPrefix(ContainerListenOf(t), ":"), t),
		},
		Command:      []string{"sh", "-c", "mkdir -p /run/sseload/logs && exec nginx -p /run/sseload/ -c /etc/sseload/nginx.conf -g 'daemon off; pid /run/sseload/nginx.pid; error_log stderr warn;'"},
		ReloadSignal: "HUP",
	}
}
