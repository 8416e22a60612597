package runner

import (
	"context"
	"strings"
	"testing"

	"github.com/sseload/sseload/loadgen"
	"github.com/sseload/sseload/loadgen/procs"
	"github.com/sseload/sseload/scenarios"
	"github.com/sseload/sseload/targets"
)

func TestGeneratorProcs(t *testing.T) {
	cfg := func(conns int, targets ...loadgen.Target) loadgen.Config {
		return loadgen.Config{Connections: conns, Targets: targets}
	}
	one := loadgen.Target{Name: "direct"}
	two := loadgen.Target{Name: "nginx-sse"}
	for _, tc := range []struct {
		name   string
		procs  int
		cfg    loadgen.Config
		shards int
		want   int
	}{
		{"small run stays in process", 0, cfg(18_000, one), 1, 1},
		{"all targets counted", 0, cfg(10_000, one, two), 1, 2},
		{"one per 18,000", 0, cfg(40_000, one), 3, 3},
		{"at least one per shard", 0, cfg(50_000, one), 4, 4},
		{"per-target counts", 0, cfg(1000, one, loadgen.Target{Name: "slow", Connections: 30_000}), 3, 3},
		{"explicit", 2, cfg(50_000, one), 4, 2},
		{"explicit one", 1, cfg(50_000, one), 4, 1},
	} {
		if got := generatorProcs(Options{Procs: tc.procs}, tc.cfg, tc.shards); got != tc.want {
			t.Errorf("%s: %d processes, want %d", tc.name, got, tc.want)
		}
	}
}

func TestOriginShards(t *testing.T) {
	sc := scenarios.Scenario{Connections: 40_000, Targets: presets(t, targets.Direct)}
	if n := originShards(Options{Scenario: sc, OriginExec: "/bin/sseload"}); n != 3 {
		t.Errorf("40,000 streams: %d shards, want 3", n)
	}
	sc.Targets = presets(t, targets.Direct, "nginx-sse")
	sc.Connections = 7_500
	if n := originShards(Options{Scenario: sc, OriginExec: "/bin/sseload"}); n != 1 {
		t.Errorf("2×7,500 streams: %d shards, want 1", n)
	}
	sc.Connections = 50_000
	if n := originShards(Options{Scenario: sc}); n != 1 {
		t.Errorf("in-process origin: %d shards, want 1 (a shard needs a process)", n)
	}
}

func TestShardURLs(t *testing.T) {
	if shardURLs([]string{"127.0.0.1:1"}) != nil {
		t.Error("one origin: want no per-process URLs")
	}
	u := shardURLs([]string{"127.0.0.1:1", "127.0.0.1:2"})
	direct := loadgen.Target{Name: targets.Direct, URL: "http://127.0.0.1:1/events"}
	for i, want := range []string{"http://127.0.0.1:1/events", "http://127.0.0.1:2/events", "http://127.0.0.1:1/events"} {
		if got := u(i, direct); got != want {
			t.Errorf("process %d: direct URL %s, want %s", i, got, want)
		}
	}
	if got := u(1, loadgen.Target{Name: "nginx-sse", URL: "http://127.0.0.1:9/events"}); got != "" {
		t.Errorf("nginx target rewritten to %s: its proxy balances over the shards", got)
	}
}

func TestNewGenerator(t *testing.T) {
	cfg := loadgen.Config{Targets: []loadgen.Target{{Name: "a", URL: "http://127.0.0.1:1/events"}}, Connections: 10, Ramp: 10}
	g, err := newGenerator(context.Background(), Options{}, cfg, 1, nil, nil)
	if _, ok := g.(*loadgen.Engine); !ok || err != nil {
		t.Errorf("one process: %T, %v; want the in-process engine", g, err)
	}
	if _, err := newGenerator(context.Background(), Options{}, cfg, 2, nil, nil); err == nil || !strings.Contains(err.Error(), "--procs 1") {
		t.Errorf("two processes without a binary: %v", err)
	}
	g, err = newGenerator(context.Background(), Options{WorkerExec: "/bin/true"}, cfg, 2, nil, nil)
	if p, ok := g.(*procs.Generator); !ok || err != nil || p.Procs() != 2 {
		t.Errorf("two processes: %T, %v", g, err)
	}
}
