package topology

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStartLocalBalancesOverOriginShards: with OriginShards, every nginx
// lists all the origins in its upstream and spreads requests over them;
// the direct target stays on OriginAddr.
func TestStartLocalBalancesOverOriginShards(t *testing.T) {
	requireNginx(t)
	var addrs []string
	for i := range 2 {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "shard %d", i)
		}))
		t.Cleanup(srv.Close)
		addrs = append(addrs, strings.TrimPrefix(srv.URL, "http://"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*safety)
	defer cancel()
	dir := t.TempDir()
	l, err := StartLocal(ctx, LocalConfig{OriginAddr: addrs[0], OriginShards: addrs[1:], Names: []string{Direct, NginxSSE}, WorkDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Stop() })
	up, err := os.ReadFile(filepath.Join(dir, NginxSSE, "conf", "sseload-upstream.conf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if !strings.Contains(string(up), "\tserver "+a+";\n") {
			t.Errorf("upstream config lacks server %s:\n%s", a, up)
		}
	}
	var direct, proxied string
	for _, tg := range l.Targets() {
		if tg.Name == Direct {
			direct = tg.URL
		} else {
			proxied = tg.URL
		}
	}
	if direct != "http://"+addrs[0]+"/events" {
		t.Errorf("direct URL %s, want shard 0's", direct)
	}
	client := &http.Client{Transport: &http.Transport{Proxy: nil}}
	defer client.CloseIdleConnections()
	seen := map[string]bool{}
	for range 4 {
		resp, err := client.Get(proxied)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		seen[string(b)] = true
	}
	if !seen["shard 0"] || !seen["shard 1"] {
		t.Errorf("nginx reached %v, want both shards (round robin)", seen)
	}
}
