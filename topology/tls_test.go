package topology_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sseload/sseload/internal/testenv"
	"github.com/sseload/sseload/targets"
	"github.com/sseload/sseload/topology"
)

// Tests of TLS targets with real proxies: each kind terminates TLS with
// the run's certificate, offers HTTP/2 by ALPN when asked, and streams.

// tlsStream opens url over TLS trusting roots alone, with HTTP/2 offered
// by ALPN, and wants 200 text/event-stream; it returns the response, whose
// Proto and TLS say what was negotiated.
func tlsStream(t *testing.T, url string, roots *x509.CertPool) *stream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*safety)
	tr := &http.Transport{Proxy: nil, ForceAttemptHTTP2: true, TLSClientConfig: &tls.Config{RootCAs: roots}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		cancel()
		t.Fatalf("GET %s: %v", url, err)
	}
	t.Cleanup(func() { resp.Body.Close(); cancel(); tr.CloseIdleConnections() })
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("GET %s: %s, headers %v: want 200 text/event-stream", url, resp.Status, resp.Header)
	}
	if resp.TLS == nil {
		t.Fatalf("GET %s: no TLS state", url)
	}
	return &stream{resp: resp, br: bufio.NewReader(resp.Body)}
}

// TestStartLocalTLSPresets starts every -h2 preset: it serves https on
// loopback with a certificate of the run's CA, negotiates h2 by ALPN, and
// streams events in order over HTTP/2.
func TestStartLocalTLSPresets(t *testing.T) {
	for _, spec := range targets.Presets() {
		if !spec.HTTP2 {
			continue
		}
		t.Run(spec.Name, func(t *testing.T) {
			testenv.RequireProxy(t, spec.Kind)
			t.Parallel()
			if !spec.TLS || !strings.HasSuffix(spec.Name, targets.H2Suffix) {
				t.Fatalf("preset %+v: an HTTP/2 preset is TLS and named *%s", spec, targets.H2Suffix)
			}
			l := startLocal(t, topology.LocalConfig{OriginAddr: fastOrigin(t), Targets: []targets.Spec{spec}})
			tg := byName(l)[spec.Name]
			if !regexp.MustCompile(`^https://127\.0\.0\.1:\d+/events$`).MatchString(tg.URL) {
				t.Fatalf("URL %s, want https on a loopback port", tg.URL)
			}
			set := l.Certs()
			if set == nil {
				t.Fatal("Certs() is nil with a TLS target")
			}
			loopbackOnly(t, tg)
			s := tlsStream(t, tg.URL, set.Pool())
			if s.resp.Proto != "HTTP/2.0" || s.resp.TLS.NegotiatedProtocol != "h2" {
				t.Errorf("%s: %s, ALPN %q, want HTTP/2.0 by ALPN h2", spec.Name, s.resp.Proto, s.resp.TLS.NegotiatedProtocol)
			}
			a := s.nextID(t)
			if b := s.nextID(t); b <= a {
				t.Errorf("%s: event ids %d then %d, want them increasing", spec.Name, a, b)
			}
			s.resp.Body.Close()

			// The certificate chains to the run's CA only: the system's
			// roots do not know it.
			_, err := (&http.Client{Transport: &http.Transport{Proxy: nil}}).Get(baseURL(tg) + "/healthz")
			var unknown x509.UnknownAuthorityError
			if !errors.As(err, &unknown) {
				t.Errorf("GET with the system's roots: %v, want an unknown authority", err)
			}
			// The TLS files live in the run's work dir, and go with it.
			tlsFiles, _ := filepath.Glob(filepath.Join(l.WorkDir(), "tls", "*"))
			if len(tlsFiles) != 3 {
				t.Errorf("TLS files in the work dir: %v, want ca.crt, server.pem, server.key", tlsFiles)
			}
			if err := l.Stop(); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(l.WorkDir()); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("work dir %s after Stop: %v, want removed", l.WorkDir(), err)
			}
		})
	}
}

// TestStartLocalUserConfigTLS serves a user's own config of each kind over
// TLS without HTTP/2 (tls: true, http2: false): ALPN settles on http/1.1
// although the client offers h2, and events stream.
func TestStartLocalUserConfigTLS(t *testing.T) {
	for _, uc := range userConfigs {
		t.Run(uc.kind, func(t *testing.T) {
			testenv.RequireProxy(t, uc.kind)
			t.Parallel()
			plain, _ := userConfig(t, uc.kind, uc.preset, uc.file, nil)
			spec, err := targets.CustomTLS(plain.Name, plain.Kind, plain.Config, "", true, false)
			if err != nil {
				t.Fatal(err)
			}
			l := startLocal(t, topology.LocalConfig{OriginAddr: fastOrigin(t), Targets: []targets.Spec{spec}})
			tg := byName(l)[spec.Name]
			s := tlsStream(t, tg.URL, l.Certs().Pool())
			if s.resp.Proto != "HTTP/1.1" || s.resp.TLS.NegotiatedProtocol != "http/1.1" {
				t.Errorf("%s: %s, ALPN %q, want HTTP/1.1 by ALPN http/1.1", spec.Name, s.resp.Proto, s.resp.TLS.NegotiatedProtocol)
			}
			a := s.nextID(t)
			if b := s.nextID(t); b <= a {
				t.Errorf("%s: event ids %d then %d, want them increasing", spec.Name, a, b)
			}
		})
	}
}

// TestStartLocalUserTLSLines keeps TLS the user wrote with the contract's
// variables: HAProxy's own `ssl crt "${SSELOAD_CERT}"` bind, and a Caddy
// site https://{$SSELOAD_LISTEN} with tls {$SSELOAD_CERT} {$SSELOAD_KEY}.
func TestStartLocalUserTLSLines(t *testing.T) {
	for _, tc := range []struct {
		kind, preset, file string
		edit               func(string) string
		proto              string
	}{
		{targets.HAProxy, "haproxy/haproxy-sse.cfg", "haproxy.cfg", func(s string) string {
			return strings.Replace(s, `bind "${SSELOAD_LISTEN}"`, `bind "${SSELOAD_LISTEN}" ssl crt "${SSELOAD_CERT}" alpn h2`, 1)
		}, "HTTP/2.0"},
		{targets.Caddy, "caddy/caddy-sse.Caddyfile", "Caddyfile", func(s string) string {
			s = strings.Replace(s, "http://{$SSELOAD_LISTEN} {", "https://{$SSELOAD_LISTEN} {\n\ttls {$SSELOAD_CERT} {$SSELOAD_KEY}", 1)
			return "{\n\tauto_https disable_redirects\n\tservers {\n\t\tprotocols h1\n\t}\n}\n" + s
		}, "HTTP/1.1"},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			testenv.RequireProxy(t, tc.kind)
			t.Parallel()
			plain, conf := userConfig(t, tc.kind, tc.preset, tc.file, tc.edit)
			spec, err := targets.CustomTLS(plain.Name, plain.Kind, plain.Config, "", true, true)
			if err != nil {
				t.Fatal(err)
			}
			pr, err := topology.PrepareConfig(spec, 0)
			if err != nil {
				t.Fatal(err)
			}
			if string(pr.Conf) != string(conf) {
				t.Errorf("config as run:\n%s\nwant the user's own, unchanged:\n%s", pr.Conf, conf)
			}
			l := startLocal(t, topology.LocalConfig{OriginAddr: fastOrigin(t), Targets: []targets.Spec{spec}})
			s := tlsStream(t, byName(l)[spec.Name].URL, l.Certs().Pool())
			if s.resp.Proto != tc.proto {
				t.Errorf("%s, want %s as the user's config says", s.resp.Proto, tc.proto)
			}
			s.nextID(t)
		})
	}
}
