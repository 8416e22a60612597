package topology

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sseload/sseload/docker"
)

func TestWithReadTimeout(t *testing.T) {
	for _, file := range []string{"nginx/nginx-stock.conf", "nginx/nginx-sse.conf"} {
		conf, err := docker.Configs.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		out, err := nginxKind{}.WithIdleTimeout(conf, 5*time.Second)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		m := readTimeoutDirective.FindAll(out, -1)
		if len(m) != 1 || !strings.HasSuffix(string(m[0]), "proxy_read_timeout 5s;") {
			t.Errorf("%s: proxy_read_timeout directives after the override: %q, want one, 5s", file, m)
		}
		if err := (nginxKind{}).CheckConfig(out); err != nil {
			t.Errorf("%s: the override broke the contract: %v", file, err)
		}
	}
	if _, err := (nginxKind{}).WithIdleTimeout([]byte("events {}\n"), time.Second); err == nil || !strings.Contains(err.Error(), "http {") {
		t.Errorf("a config without http {}: error %v, want one naming the missing block", err)
	}
	out, err := nginxKind{}.WithIdleTimeout([]byte("events {}\nhttp {\n\tproxy_read_timeout 1h;\n}\n"), 1500*time.Millisecond)
	if err != nil || !strings.Contains(string(out), "\tproxy_read_timeout 1500ms;\n") {
		t.Errorf("1.5 s: %q, %v; want proxy_read_timeout 1500ms, indentation kept", out, err)
	}
}

// haproxyTimeouts returns the `timeout client|server` lines of conf.
func haproxyTimeouts(conf []byte) []string {
	return regexp.MustCompile(`(?m)^[ \t]*timeout[ \t]+(?:client|server)[ \t]+.*$`).FindAllString(string(conf), -1)
}

func TestHAProxyWithIdleTimeout(t *testing.T) {
	k := haproxyKind{}
	for _, file := range []string{"haproxy/haproxy-stock.cfg", "haproxy/haproxy-sse.cfg"} {
		conf, err := docker.Configs.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		before := haproxyTimeouts(conf)
		out, err := k.WithIdleTimeout(conf, 2*time.Second)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		// Rewritten in place where the preset sets them, else added.
		after := haproxyTimeouts(out)
		if len(before) > 0 && len(after) != len(before) {
			t.Errorf("%s: timeout lines %q after the override, want the %d rewritten in place", file, after, len(before))
		}
		sides := map[string]bool{}
		for _, l := range after {
			if !strings.HasSuffix(l, " 2s") {
				t.Errorf("%s: %q after the override, want 2s", file, l)
			}
			sides[strings.Fields(l)[1]] = true
		}
		if !sides["client"] || !sides["server"] {
			t.Errorf("%s: timeout lines %q after the override, want client and server", file, after)
		}
		if strings.Count(string(out), "timeout connect") != strings.Count(string(conf), "timeout connect") {
			t.Errorf("%s: timeout connect changed:\n%s", file, out)
		}
		if err := k.CheckConfig(out); err != nil {
			t.Errorf("%s: the override broke the contract: %v", file, err)
		}
	}

	// Indentation and the rest of the line's section are kept.
	out, err := k.WithIdleTimeout([]byte("defaults\n    timeout client 50000\n\ttimeout  server\t50s\n    timeout connect 5s\n"), 750*time.Millisecond)
	if want := "defaults\n    timeout client 750ms\n\ttimeout server 750ms\n    timeout connect 5s\n"; err != nil || string(out) != want {
		t.Errorf("rewrite: %q, %v\nwant %q", out, err, want)
	}

	// Without them (HAProxy's default: no limit), both go at the top of
	// defaults.
	conf := "global\n\tstats timeout 30s\n\ndefaults\n\tmode http\n\nfrontend f\n\tbind \"${SSELOAD_LISTEN}\"\n"
	out, err = k.WithIdleTimeout([]byte(conf), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if want := "defaults\n\t# Set by sseload (proxy_read_timeout in the scenario).\n\ttimeout client 1s\n\ttimeout server 1s\n\tmode http\n"; !strings.Contains(string(out), want) {
		t.Errorf("added:\n%s\nwant it to hold\n%s", out, want)
	}
	if !strings.Contains(string(out), "stats timeout 30s") {
		t.Errorf("stats timeout changed:\n%s", out)
	}

	if _, err := k.WithIdleTimeout([]byte("frontend f\n\tbind :80\n"), time.Second); err == nil || !strings.Contains(err.Error(), "defaults") {
		t.Errorf("no defaults section: err %v, want one naming it", err)
	}
}

func TestCaddyWithIdleTimeout(t *testing.T) {
	k := caddyKind{}
	conf, err := docker.Configs.ReadFile("caddy/caddy-stock.Caddyfile")
	if err != nil {
		t.Fatal(err)
	}
	out, err := k.WithIdleTimeout(conf, time.Second)
	if err != nil {
		t.Fatalf("caddy-stock: %v", err)
	}
	if n, want := strings.Count(string(out), "\ttransport http {\n"), len(caddyReverseProxy.FindAll(conf, -1)); n != want || want == 0 ||
		strings.Count(string(out), "\tread_timeout 1s\n") != want {
		t.Errorf("caddy-stock after the override:\n%s\nwant a transport with read_timeout 1s in each of its %d reverse_proxy", out, want)
	}
	if err := k.CheckConfig(out); err != nil {
		t.Errorf("the override broke the contract: %v", err)
	}

	for _, tc := range []struct{ name, in, want string }{
		{
			"one line",
			"http://{$SSELOAD_LISTEN} {\n\treverse_proxy {$SSELOAD_ORIGIN}\n}\n",
			"http://{$SSELOAD_LISTEN} {\n\treverse_proxy {$SSELOAD_ORIGIN} {\n\t\t# Set by sseload (proxy_read_timeout in the scenario).\n\t\ttransport http {\n\t\t\tread_timeout 2500ms\n\t\t}\n\t}\n}\n",
		},
		{
			"brace block",
			"http://{$SSELOAD_LISTEN} {\n  reverse_proxy /events* {$SSELOAD_ORIGIN} {\n    flush_interval -1\n  }\n}\n",
			"http://{$SSELOAD_LISTEN} {\n  reverse_proxy /events* {$SSELOAD_ORIGIN} {\n  \t# Set by sseload (proxy_read_timeout in the scenario).\n  \ttransport http {\n  \t\tread_timeout 2500ms\n  \t}\n    flush_interval -1\n  }\n}\n",
		},
		{
			"two directives",
			"http://{$SSELOAD_LISTEN} {\n\thandle /a {\n\t\treverse_proxy {$SSELOAD_ORIGIN}\n\t}\n\treverse_proxy {$SSELOAD_ORIGIN} {\n\t}\n}\n",
			"http://{$SSELOAD_LISTEN} {\n\thandle /a {\n\t\treverse_proxy {$SSELOAD_ORIGIN} {\n\t\t\t# Set by sseload (proxy_read_timeout in the scenario).\n\t\t\ttransport http {\n\t\t\t\tread_timeout 2500ms\n\t\t\t}\n\t\t}\n\t}\n\treverse_proxy {$SSELOAD_ORIGIN} {\n\t\t# Set by sseload (proxy_read_timeout in the scenario).\n\t\ttransport http {\n\t\t\tread_timeout 2500ms\n\t\t}\n\t}\n}\n",
		},
	} {
		out, err := k.WithIdleTimeout([]byte(tc.in), 2500*time.Millisecond)
		if err != nil || string(out) != tc.want {
			t.Errorf("%s: %v\n got %q\nwant %q", tc.name, err, out, tc.want)
		}
	}

	// A transport of the user's own is left to the user; a mention in a
	// comment is not a transport.
	own := "http://{$SSELOAD_LISTEN} {\n\treverse_proxy {$SSELOAD_ORIGIN} {\n\t\ttransport http {\n\t\t\tdial_timeout 2s\n\t\t}\n\t}\n}\n"
	if _, err := k.WithIdleTimeout([]byte(own), time.Second); err == nil || !strings.Contains(err.Error(), "transport") {
		t.Errorf("own transport: err %v, want a refusal naming the transport", err)
	}
	commented := "# the default transport is fine\nhttp://{$SSELOAD_LISTEN} {\n\treverse_proxy {$SSELOAD_ORIGIN}\n}\n"
	if out, err := k.WithIdleTimeout([]byte(commented), time.Second); err != nil || !strings.Contains(string(out), "read_timeout 1s") {
		t.Errorf("transport in a comment: %q, %v; want the override", out, err)
	}
	if _, err := k.WithIdleTimeout([]byte("http://{$SSELOAD_LISTEN} {\n\trespond ok\n}\n"), time.Second); err == nil || !strings.Contains(err.Error(), "reverse_proxy") {
		t.Errorf("no reverse_proxy: err %v, want one naming it", err)
	}
}
