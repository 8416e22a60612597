package swarm

import (
	"encoding/json"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/sseload/sseload/compose"
	"github.com/sseload/sseload/targets"
	"github.com/sseload/sseload/topology"
)

func prepared(t *testing.T, names ...string) []topology.Prepared {
	t.Helper()
	var out []topology.Prepared
	for _, n := range names {
		spec, ok := targets.Preset(n)
		if !ok {
			t.Fatalf("no preset %s", n)
		}
		pr, err := topology.PrepareConfig(spec, 0)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, pr)
	}
	return out
}

// TestStackFile: the workers run `worker --listen` on WorkerPort with the
// token in their environment only, as many as asked; every service is
// reached by its tasks' addresses (dnsrr, no IPVS on the measured path)
// and is not restarted behind the run's back; each proxy's config and the
// files its kind wants travel as swarm configs to where the kind reads
// them; the network is an attachable overlay, so the coordinator can join.
func TestStackFile(t *testing.T) {
	cfg := Config{
		Images:     compose.Images{SSELoad: "sseload:abc", Proxies: map[string]string{targets.Nginx: "sseload-nginx:def", targets.HAProxy: "reg.example/haproxy:2.6"}},
		Proxies:    prepared(t, "nginx-sse", "haproxy-sse"),
		OriginArgs: []string{"--interval", "1s", "--payload-note", "cost $5"},
		Workers:    4,
		Token:      "s3cret$",
	}
	if err := cfg.check(); err != nil {
		t.Fatal(err)
	}
	sf, files := cfg.stack(true)
	b, err := sf.marshal()
	if err != nil {
		t.Fatal(err)
	}
	var round stackFile
	if err := json.Unmarshal(b, &round); err != nil {
		t.Fatal(err)
	}
	// The first deploy: the origin and the workers only, so that the
	// proxies find the origin's address as they start.
	base, baseFiles := cfg.stack(false)
	if len(base.Services) != 2 || len(base.Configs) != 0 || len(baseFiles) != 0 ||
		base.Services[compose.ServiceOrigin].Image == "" || base.Services[ServiceWorker].Deploy.Replicas != 4 {
		t.Errorf("base stack %+v: want the origin and 4 workers, no configs", base)
	}
	w := round.Services[ServiceWorker]
	if w.Deploy.Replicas != 4 || !slices.Equal(w.Command, []string{"worker", "--listen", WorkerListen}) || w.Environment[EnvToken] != "s3cret$$" {
		t.Errorf("worker service %+v: want 4 replicas of worker --listen %s, token in %s (with $ escaped)", w, WorkerListen, EnvToken)
	}
	if strings.Contains(strings.Join(w.Command, " "), "s3cret") {
		t.Errorf("the token is on the workers' command line: %v", w.Command)
	}
	o := round.Services[compose.ServiceOrigin]
	if o.Image != "sseload:abc" || !slices.Equal(o.Command[:3], []string{"origin", "--listen", ":8080"}) || o.Command[len(o.Command)-1] != "cost $$5" {
		t.Errorf("origin service %+v", o)
	}
	if WorkersDNS != "dns:tasks.worker:7070" {
		t.Errorf("WorkersDNS %q", WorkersDNS)
	}
	for name, svc := range round.Services {
		if svc.Deploy.EndpointMode != "dnsrr" || svc.Deploy.RestartPolicy.Condition != "none" {
			t.Errorf("service %s deploy %+v: want dnsrr, no restarts", name, svc.Deploy)
		}
	}
	if n := round.Networks["default"]; n.Driver != "overlay" || !n.Attachable {
		t.Errorf("network %+v: want an attachable overlay", n)
	}
	byName := map[string][]byte{}
	for _, f := range files {
		byName["./"+f.name] = f.content
	}
	for _, pr := range cfg.Proxies {
		svc := round.Services[pr.Spec.Name]
		if svc.Image != cfg.Images.Proxies[pr.Kind.Name()] || !slices.Equal(svc.Command, pr.Kind.Container(nil).Command) {
			t.Errorf("%s: image %s command %v", pr.Spec.Name, svc.Image, svc.Command)
		}
		c := pr.Kind.Container(nil)
		want := 1 + len(c.Files)
		if len(svc.Configs) != want {
			t.Errorf("%s: %d configs, want %d", pr.Spec.Name, len(svc.Configs), want)
		}
		found := false
		for _, m := range svc.Configs {
			content, ok := byName[round.Configs[m.Source].File]
			if !ok {
				t.Errorf("%s: config %s names file %s, which is not written", pr.Spec.Name, m.Source, round.Configs[m.Source].File)
			}
			if m.Target == c.ConfigPath {
				found = string(content) == string(pr.Conf)
			} else if c.Files[path.Base(m.Target)] != string(content) {
				t.Errorf("%s: %s does not hold the kind's file", pr.Spec.Name, m.Target)
			}
		}
		if !found {
			t.Errorf("%s: the prepared config is not mounted at %s", pr.Spec.Name, c.ConfigPath)
		}
	}
}

// TestConfigRefused: what cannot be deployed is named before anything
// starts.
func TestConfigRefused(t *testing.T) {
	ok := Config{Images: compose.Images{SSELoad: "sseload:abc", Proxies: map[string]string{targets.Nginx: "n"}}, Workers: 1, Token: "t"}
	for name, c := range map[string]struct {
		edit func(*Config)
		want string
	}{
		"no workers":     {func(c *Config) { c.Workers = 0 }, "0 workers"},
		"no token":       {func(c *Config) { c.Token = "" }, "no token"},
		"no image":       {func(c *Config) { c.Images.SSELoad = "" }, "no sseload image"},
		"no proxy image": {func(c *Config) { c.Proxies = prepared(t, "haproxy-sse") }, "no haproxy image"},
		"worker name": {func(c *Config) {
			c.Proxies = prepared(t, "nginx-sse")
			c.Proxies[0].Spec.Name = ServiceWorker
		}, "one of sseload's own services"},
	} {
		cfg := ok
		c.edit(&cfg)
		if err := cfg.check(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", name, err, c.want)
		}
	}
}
