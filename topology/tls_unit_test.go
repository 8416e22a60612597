package topology_test

import (
	"strings"
	"testing"

	"github.com/sseload/sseload/targets"
	"github.com/sseload/sseload/topology"
)

// TestWithTLS checks each kind's TLS rewrite of a config: what it adds,
// what it keeps, and what it refuses with the line to write instead.
func TestWithTLS(t *testing.T) {
	nginx, haproxy, caddy := kindOf(t, targets.Nginx), kindOf(t, targets.HAProxy), kindOf(t, targets.Caddy)

	conf := "http {\n\tserver {\n\t\tinclude sseload-listen.conf;\n\t}\n}\n"
	if out, err := nginx.WithTLS([]byte(conf), true); err != nil || string(out) != conf {
		t.Errorf("nginx: %q, %v; want the config unchanged (the listen include carries TLS)", out, err)
	}

	for _, tc := range []struct {
		in    string
		h2    bool
		want  string
		error string
	}{
		{"frontend f\n\tbind \"${SSELOAD_LISTEN}\"\n", true, "frontend f\n\tbind \"${SSELOAD_LISTEN}\" ssl crt \"${SSELOAD_CERT}\" alpn h2,http/1.1\n", ""},
		{"frontend f\n  bind \"${SSELOAD_LISTEN}\" name fe\n", false, "frontend f\n  bind \"${SSELOAD_LISTEN}\" ssl crt \"${SSELOAD_CERT}\" alpn http/1.1 name fe\n", ""},
		{"frontend f\n\tbind \"${SSELOAD_LISTEN}\" ssl crt /x.pem\n", true, "frontend f\n\tbind \"${SSELOAD_LISTEN}\" ssl crt /x.pem\n", ""},
		{"frontend f\n\tbind :443\n", true, "", `bind "${SSELOAD_LISTEN}"`},
	} {
		out, err := haproxy.WithTLS([]byte(tc.in), tc.h2)
		if tc.error != "" {
			if err == nil || !strings.Contains(err.Error(), tc.error) {
				t.Errorf("haproxy %q: %v, want an error naming %s", tc.in, err, tc.error)
			}
			continue
		}
		if err != nil || string(out) != tc.want {
			t.Errorf("haproxy %q:\n%q, %v\nwant %q", tc.in, out, err, tc.want)
		}
	}

	site := "# c\nhttp://{$SSELOAD_LISTEN} {\n\treverse_proxy {$SSELOAD_ORIGIN}\n}\n"
	out, err := caddy.WithTLS([]byte(site), true)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"auto_https disable_redirects", "protocols h1 h2\n", "https://{$SSELOAD_LISTEN} {\n\ttls {$SSELOAD_CERT} {$SSELOAD_KEY}\n\treverse_proxy {$SSELOAD_ORIGIN}\n}"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("caddy h2:\n%s\nwant %q in it", out, want)
		}
	}
	if out, _ := caddy.WithTLS([]byte(site), false); !strings.Contains(string(out), "protocols h1\n") {
		t.Errorf("caddy h1:\n%s\nwant protocols h1 alone", out)
	}
	own := "https://{$SSELOAD_LISTEN} {\n\ttls {$SSELOAD_CERT} {$SSELOAD_KEY}\n\treverse_proxy {$SSELOAD_ORIGIN}\n}\n"
	if out, err := caddy.WithTLS([]byte(own), true); err != nil || string(out) != own {
		t.Errorf("caddy with its own tls line: %q, %v; want it unchanged", out, err)
	}
	if err := caddy.CheckConfig([]byte(own)); err != nil {
		t.Errorf("caddy CheckConfig of an https site: %v", err)
	}
	if _, err := caddy.WithTLS([]byte("{\n\tdebug\n}\n"+site), true); err == nil || !strings.Contains(err.Error(), "global options") {
		t.Errorf("caddy with a global options block: %v, want an error saying to write TLS in it", err)
	}
}

// TestPrepareConfigTLS wants a TLS target's config hashed as run (with the
// TLS lines) and a plaintext one untouched.
func TestPrepareConfigTLS(t *testing.T) {
	plain, err := topology.PrepareConfig(presets(t, "haproxy-sse")[0], 0)
	if err != nil {
		t.Fatal(err)
	}
	h2, err := topology.PrepareConfig(presets(t, "haproxy-sse-h2")[0], 0)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(plain.Conf), " ssl ") || !strings.Contains(string(h2.Conf), `ssl crt "${SSELOAD_CERT}" alpn h2,http/1.1`) || plain.SHA256 == h2.SHA256 {
		t.Errorf("plain %s / h2 %s: want ssl in the h2 config only, and their hashes different", plain.SHA256, h2.SHA256)
	}
	if tls := h2.ContainerTLS(); tls == nil || tls.CertFile != topology.ContainerTLSDir+"/server.pem" || !tls.HTTP2 {
		t.Errorf("ContainerTLS %+v, want the mounted server.pem with HTTP/2", tls)
	}
	if plain.ContainerTLS() != nil {
		t.Error("ContainerTLS of a plaintext target, want nil")
	}
}
