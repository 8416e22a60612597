package topology_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sseload/sseload/internal/testenv"
	"github.com/sseload/sseload/targets"
	"github.com/sseload/sseload/topology"
)

// shardOrigins serves n origins that answer every request with "shard i"
// and returns their addresses.
func shardOrigins(t *testing.T, n int) []string {
	t.Helper()
	var addrs []string
	for i := range n {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "shard %d", i)
		}))
		t.Cleanup(srv.Close)
		addrs = append(addrs, strings.TrimPrefix(srv.URL, "http://"))
	}
	return addrs
}

// shardsReached GETs url four times and returns the bodies seen.
func shardsReached(t *testing.T, url string) map[string]bool {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{Proxy: nil}}
	defer client.CloseIdleConnections()
	seen := map[string]bool{}
	for range 4 {
		resp, err := client.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		seen[string(b)] = true
	}
	return seen
}

// TestStartLocalBalancesOverOriginShards: with OriginShards, every nginx
// lists all the origins in its upstream and spreads requests over them;
// the direct target stays on OriginAddr.
func TestStartLocalBalancesOverOriginShards(t *testing.T) {
	requireNginx(t)
	t.Parallel()
	addrs := shardOrigins(t, 2)
	dir := t.TempDir()
	l := startLocal(t, topology.LocalConfig{OriginAddr: addrs[0], OriginShards: addrs[1:], Targets: presets(t, direct, nginxSSE), WorkDir: dir})
	up, err := os.ReadFile(filepath.Join(dir, nginxSSE, "conf", "sseload-upstream.conf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if !strings.Contains(string(up), "\tserver "+a+";\n") {
			t.Errorf("upstream config lacks server %s:\n%s", a, up)
		}
	}
	tgs := byName(l)
	if tgs[direct].URL != "http://"+addrs[0]+"/events" {
		t.Errorf("direct URL %s, want shard 0's", tgs[direct].URL)
	}
	if seen := shardsReached(t, tgs[nginxSSE].URL); !seen["shard 0"] || !seen["shard 1"] {
		t.Errorf("nginx reached %v, want both shards (round robin)", seen)
	}
}

// TestCaddyBalancesOverOriginShards: Caddy gets every shard in
// SSELOAD_ORIGIN and takes them in turn (round robin, not Caddy's default
// random pick, which four requests could not tell apart from one shard).
func TestCaddyBalancesOverOriginShards(t *testing.T) {
	testenv.RequireProxy(t, targets.Caddy)
	t.Parallel()
	addrs := shardOrigins(t, 2)
	dir := t.TempDir()
	l := startLocal(t, topology.LocalConfig{OriginAddr: addrs[0], OriginShards: addrs[1:], Targets: presets(t, caddyStock), WorkDir: dir})
	b, err := os.ReadFile(filepath.Join(dir, caddyStock, "caddy.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg any
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if !strings.Contains(string(b), `"dial":"`+a+`"`) {
			t.Errorf("caddy.json lacks upstream %s:\n%s", a, b)
		}
	}
	if seen := shardsReached(t, l.Targets()[0].URL); !seen["shard 0"] || !seen["shard 1"] {
		t.Errorf("caddy reached %v, want both shards (round robin)", seen)
	}
}

// TestHAProxyRefusesOriginShards: an HAProxy config has one origin address,
// so a sharded origin is the run's error, not a proxy that misses shards.
func TestHAProxyRefusesOriginShards(t *testing.T) {
	testenv.RequireProxy(t, targets.HAProxy)
	t.Parallel()
	addrs := shardOrigins(t, 2)
	_, err := topology.StartLocal(t.Context(), topology.LocalConfig{OriginAddr: addrs[0], OriginShards: addrs[1:], Targets: presets(t, haproxySSE)})
	if !errors.Is(err, topology.ErrConfig) || !strings.Contains(err.Error(), "haproxy-sse") || !strings.Contains(err.Error(), "2 shards") {
		t.Errorf("err = %v, want ErrConfig naming haproxy-sse and the 2 shards", err)
	}
}
