package runner

import (
	"context"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sseload/sseload/compose"
	"github.com/sseload/sseload/internal/testenv"
	"github.com/sseload/sseload/scenarios"
	"github.com/sseload/sseload/targets"
)

// TestComposeLoadgenArgsTLS: a TLS target is measured at https://SERVICE
// and the generator trusts the run's CA, mounted in its container.
func TestComposeLoadgenArgsTLS(t *testing.T) {
	sc, err := scenarios.Load("seed")
	if err != nil {
		t.Fatal(err)
	}
	sc.Targets = []targets.Spec{preset(t, targets.Direct), preset(t, "nginx-sse-h2"), preset(t, "haproxy-sse")}
	args := composeLoadgenArgs(sc, Options{})
	for _, w := range []string{"--target=nginx-sse-h2=https://nginx-sse-h2/events,h2", "--target=haproxy-sse=http://haproxy-sse/events", "--ca-cert=" + compose.CAFile} {
		if !slices.Contains(args, w) {
			t.Errorf("args %q lack %s", args, w)
		}
	}
	sc.Targets = sc.Targets[2:]
	if args := composeLoadgenArgs(sc, Options{}); slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--ca-cert") }) {
		t.Errorf("without TLS targets: args %q carry --ca-cert", args)
	}
}

// TestRunTLSTargets runs the seed, shortened, through TLS targets of every
// kind on the local topology and of two kinds on the compose topology, with
// sseload's https client (net/http, HTTP/1.1 by ALPN): every stream
// established, every event received, stock nginx's bug intact behind TLS,
// and no key of the run's certificate in the results.
func TestRunTLSTargets(t *testing.T) {
	for _, tc := range []struct {
		topology string
		targets  []string
	}{
		{TopologyLocal, []string{targets.Direct, "nginx-stock-h2", "nginx-sse-h2", "haproxy-sse-h2", "caddy-sse-h2"}},
		{TopologyCompose, []string{targets.Direct, "nginx-stock-h2", "nginx-sse-h2", "haproxy-sse-h2"}},
	} {
		t.Run(tc.topology, func(t *testing.T) {
			if tc.topology == TopologyCompose {
				testenv.RequireDocker(t)
				testenv.RequireDebootstrap(t, targets.Nginx, targets.HAProxy)
			}
			sc, err := scenarios.Load("seed")
			if err != nil {
				t.Fatal(err)
			}
			const conns, events = 4, 3
			const interval = 200 * time.Millisecond
			sc.Interval, sc.Events, sc.Connections = interval, events, conns
			sc.Targets = nil
			for _, n := range tc.targets {
				sc.Targets = append(sc.Targets, preset(t, n))
			}
			dir := t.TempDir()
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
			defer cancel()
			out, err := Run(ctx, Options{Scenario: sc, Topology: tc.topology, OutDir: dir, Version: "test", Warn: func(s string) { t.Log(s) }})
			if err != nil {
				t.Fatal(err)
			}
			for _, tg := range out.Summary.Targets {
				if tg.Connections.Established != conns || tg.Events.Received != conns*events {
					t.Errorf("%s: established %d, events %d; want %d and %d (errors %v)",
						tg.Name, tg.Connections.Established, tg.Events.Received, conns, conns*events, tg.Errors)
				}
				if tg.Name == "nginx-stock-h2" {
					if end := (events * interval).Microseconds(); tg.TimeToHeadersUS == nil || tg.TimeToHeadersUS.P50 < end {
						t.Errorf("nginx-stock-h2 time to headers %+v, want p50 >= %d µs (held until the stream ends, as in plaintext)", tg.TimeToHeadersUS, end)
					}
				}
			}
			_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".key") || strings.HasSuffix(p, ".pem")) {
					t.Errorf("results hold %s: the run's TLS files stay in its temp dir", p)
				}
				return nil
			})
		})
	}
}
