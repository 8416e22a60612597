package topology

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sseload/sseload/targets"
)

// Version output as the programs print it (haproxy 2.6 on Debian bookworm,
// caddy from Debian and from upstream's release builds).
func TestParseVersion(t *testing.T) {
	for _, tc := range []struct {
		kind Kind
		out  string
		want string
	}{
		{nginxKind{}, "nginx version: nginx/1.22.1\n", "nginx/1.22.1"},
		{nginxKind{}, "nginx version: nginx/1.25.3 (Ubuntu)\n", "nginx/1.25.3 (Ubuntu)"},
		{haproxyKind{}, "HAProxy version 2.6.12-1+deb12u4 2026/10/17 - https://haproxy.org/\nStatus: long-term supported branch - will stop receiving fixes around Q2 2027.\nKnown bugs: http://www.haproxy.org/bugs/bugs-2.6.12.html\nRunning on: Linux 6.1.0 #1 SMP x86_64\n", "HAProxy/2.6.12-1+deb12u4"},
		{haproxyKind{}, "HA-Proxy version 2.2.9-2+deb11u6 2023/12/08 - https://haproxy.org/\n", ""},
		{caddyKind{}, "2.6.2\n", "Caddy/2.6.2"},
		{caddyKind{}, "v2.7.6 h1:w0NymbG2m9PcvKWsrXO6EEkY9Ru4FJK8uQbYcev1p3A=\n", "Caddy/2.7.6"},
	} {
		got, err := tc.kind.ParseVersion(tc.out)
		if tc.want == "" {
			if err == nil {
				t.Errorf("%s.ParseVersion(%q) = %q, want an error", tc.kind.Name(), tc.out, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s.ParseVersion(%q) = %q, %v; want %q", tc.kind.Name(), tc.out, got, err, tc.want)
		}
	}
	for _, k := range []Kind{nginxKind{}, haproxyKind{}, caddyKind{}} {
		for _, out := range []string{"", "command not found\n", "Usage: " + k.Binary() + " [options]\n"} {
			if v, err := k.ParseVersion(out); err == nil {
				t.Errorf("%s.ParseVersion(%q) = %q, want an error", k.Name(), out, v)
			}
		}
	}
}

func TestKindOf(t *testing.T) {
	for _, name := range targets.Kinds() {
		k, err := KindOf(name)
		if err != nil || k.Name() != name {
			t.Errorf("KindOf(%q) = %v, %v", name, k, err)
		}
	}
	if _, err := KindOf("squid"); err == nil || !strings.Contains(err.Error(), `"squid"`) || !strings.Contains(err.Error(), "haproxy") {
		t.Errorf("KindOf(squid): %v, want an error listing the kinds", err)
	}
}

func TestFindMissing(t *testing.T) {
	dir := t.TempDir()
	notExec := filepath.Join(dir, "nginx")
	if err := os.WriteFile(notExec, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, k := range []Kind{nginxKind{}, haproxyKind{}, caddyKind{}} {
		missing := "/nonexistent/sbin/" + k.Binary()
		_, err := Find(k, missing)
		if !errors.Is(err, ErrMissing) || !strings.Contains(err.Error(), "apt-get install "+k.Package()) || !strings.Contains(err.Error(), missing) {
			t.Errorf("Find(%s, %s) err = %v, want ErrMissing naming the path and `apt-get install %s`", k.Name(), missing, err, k.Package())
		}
		if _, err := Version(k, missing); !errors.Is(err, ErrMissing) {
			t.Errorf("Version(%s, %s) err = %v, want ErrMissing", k.Name(), missing, err)
		}
		for _, bad := range []string{dir, notExec} {
			if _, err := Find(k, bad); err == nil || errors.Is(err, ErrMissing) || !strings.Contains(err.Error(), "not an executable file") {
				t.Errorf("Find(%s, %s) err = %v, want: not an executable file", k.Name(), bad, err)
			}
		}
	}
	if got := (nginxKind{}).Package(); got != "nginx-light" {
		t.Errorf("nginx package %q", got)
	}
}

func TestCheckConfig(t *testing.T) {
	for _, tc := range []struct {
		kind    Kind
		conf    string
		missing []string // what the error must name; none = valid
	}{
		{nginxKind{}, "http {\n\tinclude sseload-upstream.conf;\n\tserver {\n\t\tinclude  sseload-listen.conf ;\n\t}\n}\n", nil},
		{nginxKind{}, "http {\n\tinclude sseload-upstream.conf;\n\tserver {\n\t\tlisten 80;\n\t}\n}\n", []string{"include sseload-listen.conf;"}},
		{nginxKind{}, "http {\n\t# include sseload-upstream.conf;\n\tserver { listen 80; }\n}\n", []string{"include sseload-upstream.conf;", "include sseload-listen.conf;"}},
		{haproxyKind{}, "frontend f\n\tbind \"${SSELOAD_LISTEN}\"\nbackend b\n\tserver origin \"${SSELOAD_ORIGIN}\"\n", nil},
		{haproxyKind{}, "frontend f\n\tbind ${SSELOAD_LISTEN}\nbackend b\n\tserver origin \"${SSELOAD_ORIGIN}\"\n", []string{`bind "${SSELOAD_LISTEN}"`}},
		{haproxyKind{}, "frontend f\n\tbind \"${SSELOAD_LISTEN}\"\nbackend b\n\tserver origin 127.0.0.1:8080\n", []string{`server origin "${SSELOAD_ORIGIN}"`}},
		{caddyKind{}, "http://{$SSELOAD_LISTEN} {\n\treverse_proxy {$SSELOAD_ORIGIN}\n}\n", nil},
		{caddyKind{}, "http://127.0.0.1:8081 {\n\treverse_proxy {$SSELOAD_ORIGIN}\n}\n", []string{"http://{$SSELOAD_LISTEN}"}},
		{caddyKind{}, "http://{$SSELOAD_LISTEN} {\n\treverse_proxy 127.0.0.1:8080\n}\n", []string{"reverse_proxy {$SSELOAD_ORIGIN}"}},
		{caddyKind{}, "{$SSELOAD_LISTEN} {\n\treverse_proxy {$SSELOAD_ORIGIN}\n}\n", []string{"http://{$SSELOAD_LISTEN}"}},
	} {
		err := tc.kind.CheckConfig([]byte(tc.conf))
		if tc.missing == nil {
			if err != nil {
				t.Errorf("%s.CheckConfig(%q): %v", tc.kind.Name(), tc.conf, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s.CheckConfig(%q) passed, want it to name %q", tc.kind.Name(), tc.conf, tc.missing)
			continue
		}
		for _, m := range tc.missing {
			if !strings.Contains(err.Error(), m) {
				t.Errorf("%s.CheckConfig(%q) = %v, want it to name %q", tc.kind.Name(), tc.conf, err, m)
			}
		}
	}
}

// adaptedStock is `caddy adapt` (2.6.2) of caddy-stock.Caddyfile with
// SSELOAD_LISTEN=127.0.0.1:28182 and SSELOAD_ORIGIN="127.0.0.1:28181
// 127.0.0.1:28183" (two origin shards), plus a second server on all
// interfaces of another port.
const adaptedStock = `{"apps":{"http":{"servers":{
"srv0":{"listen":[":28182"],"routes":[{"match":[{"host":["127.0.0.1"]}],"handle":[{"handler":"subroute","routes":[{"handle":[{"handler":"reverse_proxy","upstreams":[{"dial":"127.0.0.1:28181"},{"dial":"127.0.0.1:28183"}]}]}]}],"terminal":true}],"automatic_https":{"skip":["127.0.0.1"]}},
"srv1":{"listen":[":9090"],"routes":[{"handle":[{"handler":"reverse_proxy","upstreams":[{"dial":"a:1"},{"dial":"b:1"}],"load_balancing":{"selection_policy":{"policy":"first"}}},{"handler":"reverse_proxy","upstreams":[{"dial":"c:1"}]}]}]}
}}},"admin":{"listen":"localhost:2019"}}`

func TestCaddyLocalJSON(t *testing.T) {
	out, err := caddyLocalJSON([]byte(adaptedStock), "unix//run/x/admin.sock", "127.0.0.1:28182")
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Admin struct{ Listen string }
		Apps  struct {
			HTTP struct {
				Servers map[string]struct {
					Listen []string
					Routes []json.RawMessage
				}
			}
		}
	}
	if err := json.Unmarshal(out, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Admin.Listen != "unix//run/x/admin.sock" {
		t.Errorf("admin listen %q, want the unix socket (localhost:2019 would clash between two Caddy targets)", cfg.Admin.Listen)
	}
	srv := cfg.Apps.HTTP.Servers
	if got := srv["srv0"].Listen; len(got) != 1 || got[0] != "127.0.0.1:28182" {
		t.Errorf("srv0 listens on %q, want 127.0.0.1:28182 only: the local topology binds loopback", got)
	}
	if got := srv["srv1"].Listen; len(got) != 1 || got[0] != ":9090" {
		t.Errorf("srv1 listens on %q, want :9090 untouched (not the topology's port)", got)
	}
	s := string(out)
	if strings.Count(s, `"round_robin"`) != 1 || !strings.Contains(s, `"policy":"first"`) {
		t.Errorf("load balancing in %s\nwant round_robin on the two-shard proxy only, the user's own policy kept", s)
	}
	if !strings.Contains(s, `"dial":"127.0.0.1:28183"`) || !strings.Contains(s, `"host":["127.0.0.1"]`) {
		t.Errorf("routes changed: %s", s)
	}

	if _, err := caddyLocalJSON([]byte("Error: nothing"), "unix//x", "127.0.0.1:1"); err == nil {
		t.Error("caddyLocalJSON accepted output that is not JSON")
	}
}

func TestTakesSignal(t *testing.T) {
	// The Go runtime catches SIGUSR2; sleep leaves it at its default.
	if ok, err := takesSignal(os.Getpid(), sigUSR2); !ok || err != nil {
		t.Errorf("takesSignal(self, SIGUSR2) = %v, %v; want true", ok, err)
	}
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	if ok, err := takesSignal(cmd.Process.Pid, sigUSR2); ok || err != nil {
		t.Errorf("takesSignal(sleep, SIGUSR2) = %v, %v; want false", ok, err)
	}
	if got := groupPIDs(os.Getpid()); len(got) != 0 && !slices.Contains(got, os.Getpid()) {
		t.Errorf("groupPIDs(own pid) = %v", got)
	}
}
