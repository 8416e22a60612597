package compose

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sseload/sseload/docker"
	"github.com/sseload/sseload/internal/certs"
	"github.com/sseload/sseload/targets"
	"github.com/sseload/sseload/topology"
)

func TestScratchTar(t *testing.T) {
	bin := []byte("\x7fELF not really")
	tr := tar.NewReader(bytes.NewReader(scratchTar(bin)))
	got := map[string]*tar.Header{}
	var body []byte
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got[h.Name] = h
		if h.Name == "sseload" {
			body, _ = io.ReadAll(tr)
		}
	}
	if h := got["sseload"]; h == nil || h.Mode != 0o755 || !bytes.Equal(body, bin) {
		t.Fatalf("sseload entry = %+v, body %q; want mode 0755 and the binary", h, body)
	}
	if h := got["tmp/"]; h == nil || h.Typeflag != tar.TypeDir || h.Mode != 0o1777 {
		t.Fatalf("tmp/ entry = %+v, want a 1777 directory", h)
	}
}

func TestIsStaticRejectsNonELFAndDynamic(t *testing.T) {
	text := filepath.Join(t.TempDir(), "script")
	if err := os.WriteFile(text, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if IsStatic(text) {
		t.Errorf("IsStatic(a shell script) = true")
	}
	if IsStatic(filepath.Join(t.TempDir(), "missing")) {
		t.Errorf("IsStatic(missing file) = true")
	}
	// Debian's /bin/sh is dynamically linked against libc.
	if _, err := os.Stat("/bin/sh"); err == nil && IsStatic("/bin/sh") {
		t.Errorf("IsStatic(/bin/sh) = true, want false (it has a program interpreter)")
	}
}

func TestProxyTagsAreStableContentHashes(t *testing.T) {
	seen := map[string]string{}
	for _, name := range targets.Kinds() {
		k, err := topology.KindOf(name)
		if err != nil {
			t.Fatal(err)
		}
		a, b := proxyTag(k), proxyTag(k)
		repo := ProxyRepo(name)
		if a != b || !strings.HasPrefix(a, repo+":") || len(a) != len(repo)+1+12 {
			t.Errorf("proxyTag(%s) = %q, %q; want one stable %s:<12 hex>", name, a, b, repo)
		}
		hash := strings.TrimPrefix(a, repo+":")
		if other, dup := seen[hash]; dup {
			t.Errorf("%s and %s images have the same recipe hash %s", name, other, hash)
		}
		seen[hash] = name
	}
	if ProxyRepo(targets.Nginx) != NginxRepo || ImageEnv(targets.Nginx) != EnvNginxImage ||
		ImageEnv(targets.HAProxy) != EnvHAProxyImage || ImageEnv(targets.Caddy) != EnvCaddyImage {
		t.Errorf("repository or variable names drifted: %s %s %s %s", ProxyRepo(targets.Nginx), ImageEnv(targets.Nginx), ImageEnv(targets.HAProxy), ImageEnv(targets.Caddy))
	}
}

// writeComposeFiles writes docker/ as embedded (docker.ComposeFiles) to a
// temp dir and returns it.
func writeComposeFiles(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	err := fs.WalkDir(docker.ComposeFiles, ".", func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(path))
		if e.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := docker.ComposeFiles.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// handFile is the part of docker/compose.yaml the tests read.
type handFile struct {
	Services map[string]struct {
		Command []string                  `yaml:"command"`
		Volumes []string                  `yaml:"volumes"`
		Ulimits map[string]map[string]int `yaml:"ulimits"`
	} `yaml:"services"`
}

// directives drops comments and blank lines from an nginx include file.
func directives(b []byte) string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestHandWrittenComposeFileMatchesGenerated checks docker/compose.yaml, the
// topology written by hand: every bind mount's source exists beside it (so
// `docker compose -f docker/compose.yaml up` mounts the files the local
// topology runs), and its nginx services are what the generated project
// runs for the same presets — the kind's command, the config and include
// files at the same paths with the same directives, and nginx-stock's
// Debian soft descriptor limit.
func TestHandWrittenComposeFileMatchesGenerated(t *testing.T) {
	dir := writeComposeFiles(t)
	b, err := os.ReadFile(filepath.Join(dir, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var file handFile
	if err := yaml.Unmarshal(b, &file); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	for _, s := range []string{ServiceOrigin, "nginx-stock", "nginx-sse", ServiceLoadgen} {
		if _, ok := file.Services[s]; !ok {
			t.Errorf("compose.yaml has no service %s", s)
		}
	}
	nginx, _ := topology.KindOf(targets.Nginx)
	c := nginx.Container(nil)
	for _, s := range []string{"nginx-stock", "nginx-sse"} {
		svc := file.Services[s]
		if !slices.Equal(svc.Command, c.Command) {
			t.Errorf("%s command %q, want the nginx kind's %q", s, svc.Command, c.Command)
		}
		if len(svc.Volumes) != 1+len(c.Files) {
			t.Errorf("%s mounts %v, want its config and the kind's %d files", s, svc.Volumes, len(c.Files))
		}
		for _, v := range svc.Volumes {
			parts := strings.Split(v, ":")
			if len(parts) != 3 || parts[2] != "ro" {
				t.Errorf("%s mount %s: want source:target:ro", s, v)
				continue
			}
			src, dst := parts[0], parts[1]
			got, err := os.ReadFile(filepath.Join(dir, src))
			if err != nil {
				t.Errorf("%s mount %s: %v", s, v, err)
				continue
			}
			if dst == c.ConfigPath {
				preset, _ := targets.Preset(s)
				want, _ := docker.Configs.ReadFile(preset.PresetFile)
				if !bytes.Equal(got, want) {
					t.Errorf("%s mounts %s at %s, which is not %s", s, src, dst, preset.PresetFile)
				}
				continue
			}
			want, ok := c.Files[path.Base(dst)]
			if !ok || path.Dir(dst) != path.Dir(c.ConfigPath) {
				t.Errorf("%s mounts %s at %s: not one of the nginx kind's files beside %s", s, src, dst, c.ConfigPath)
			} else if directives(got) != directives([]byte(want)) {
				t.Errorf("%s: %s says %q, the generated one %q", s, src, directives(got), directives([]byte(want)))
			}
		}
	}
	if got := file.Services["nginx-stock"].Ulimits["nofile"]["soft"]; got != stockSoftNofile {
		t.Errorf("nginx-stock nofile soft = %d, want Debian's %d", got, stockSoftNofile)
	}
}

// testProject is a project that is never started, for the generated files.
func testProject(t *testing.T, proxies ...topology.Prepared) *Project {
	t.Helper()
	return &Project{dir: t.TempDir(), cfg: Config{
		Images: Images{SSELoad: "sseload:test", Proxies: map[string]string{
			targets.Nginx: "sseload-nginx:test", targets.HAProxy: "sseload-haproxy:test", targets.Caddy: "sseload-caddy:test",
		}},
		Proxies:    proxies,
		OriginArgs: []string{"--mode=broadcast", "--epoch=1700000000000000000"},
		Scenario:   []byte("name: test\n"),
		ResultsDir: "/results/of/this run",
		User:       "1000:1000",
		Nofile:     30000,
	}}
}

// generated writes p's files and reads back the compose file as compose
// would (JSON is YAML).
func generated(t *testing.T, p *Project) composeFile {
	t.Helper()
	if err := checkProxies(p.cfg.Proxies, p.cfg.Images); err != nil {
		t.Fatal(err)
	}
	if err := p.writeFiles(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(p.dir, projectFile))
	if err != nil {
		t.Fatal(err)
	}
	var f composeFile
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s is not YAML: %v", projectFile, err)
	}
	return f
}

// mounts maps each bind mount's target to its source's content, failing on
// a mount that is not read-only or whose source is missing.
func mounts(t *testing.T, service string, vols []string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, v := range vols {
		parts := strings.Split(v, ":")
		if len(parts) != 3 || parts[2] != "ro" || !filepath.IsAbs(parts[0]) {
			t.Errorf("%s: mount %q, want /abs/source:/target:ro", service, v)
			continue
		}
		b, err := os.ReadFile(parts[0])
		if err != nil {
			t.Errorf("%s: mount %s: %v", service, v, err)
			continue
		}
		out[parts[1]] = string(b)
	}
	return out
}

func prepared(t *testing.T, spec targets.Spec, idle time.Duration) topology.Prepared {
	t.Helper()
	pr, err := topology.PrepareConfig(spec, idle)
	if err != nil {
		t.Fatal(err)
	}
	return pr
}

// TestGeneratedServiceForUserNginxConfig: a user's nginx config becomes a
// service named after the target, running the nginx kind's command with
// the prepared config (the scenario's idle timeout applied) mounted at the
// kind's path and the kind's include files beside it; it is no stock
// preset, so it gets the run's descriptor limit.
func TestGeneratedServiceForUserNginxConfig(t *testing.T) {
	stock, _ := docker.Configs.ReadFile("nginx/nginx-stock.conf")
	conf := filepath.Join(t.TempDir(), "nginx.conf")
	if err := os.WriteFile(conf, stock, 0o644); err != nil {
		t.Fatal(err)
	}
	spec, err := targets.Custom("mine", targets.Nginx, conf, "")
	if err != nil {
		t.Fatal(err)
	}
	pr := prepared(t, spec, 5*time.Second)
	f := generated(t, testProject(t, pr))
	svc, ok := f.Services["mine"]
	if !ok {
		t.Fatalf("no service mine: %v", slices.Sorted(maps.Keys(f.Services)))
	}
	c := pr.Kind.Container(pr.ContainerTLS())
	if svc.Image != "sseload-nginx:test" || !slices.Equal(svc.Command, c.Command) || len(svc.Environment) != len(c.Env) {
		t.Errorf("mine: image %q command %q env %v; want the nginx image and kind's command %q", svc.Image, svc.Command, svc.Environment, c.Command)
	}
	m := mounts(t, "mine", svc.Volumes)
	if m[c.ConfigPath] != string(pr.Conf) || !strings.Contains(m[c.ConfigPath], "proxy_read_timeout 5s;") {
		t.Errorf("mine: %s holds %q, want the prepared config with proxy_read_timeout 5s", c.ConfigPath, m[c.ConfigPath])
	}
	for name, content := range c.Files {
		if got := m[path.Join(path.Dir(c.ConfigPath), name)]; got != content {
			t.Errorf("mine: %s beside the config holds %q, want %q", name, got, content)
		}
	}
	if len(m) != 1+len(c.Files) {
		t.Errorf("mine mounts %v, want the config and the kind's %d files", svc.Volumes, len(c.Files))
	}
	if got := svc.Ulimits["nofile"]; got != (ulimit{30000, 30000}) {
		t.Errorf("mine nofile %+v, want 30000/30000", got)
	}
	if !slices.Equal(svc.DependsOn, []string{ServiceOrigin}) {
		t.Errorf("mine depends on %v", svc.DependsOn)
	}
}

// TestGeneratedServicesForHAProxyPresets: the HAProxy presets run the
// HAProxy kind's command and environment (listen and origin addresses) with
// the embedded config; haproxy-stock keeps Debian's soft descriptor limit.
func TestGeneratedServicesForHAProxyPresets(t *testing.T) {
	var prs []topology.Prepared
	for _, name := range []string{"haproxy-stock", "haproxy-sse"} {
		spec, _ := targets.Preset(name)
		prs = append(prs, prepared(t, spec, 0))
	}
	f := generated(t, testProject(t, prs...))
	for _, pr := range prs {
		name, c := pr.Spec.Name, pr.Kind.Container(pr.ContainerTLS())
		svc := f.Services[name]
		if svc.Image != "sseload-haproxy:test" || !slices.Equal(svc.Command, c.Command) {
			t.Errorf("%s: image %q command %q, want the haproxy image and %q", name, svc.Image, svc.Command, c.Command)
		}
		if !maps.Equal(svc.Environment, c.Env) || svc.Environment[topology.EnvListen] != topology.ContainerListen || svc.Environment[topology.EnvOrigin] != topology.ContainerOrigin {
			t.Errorf("%s: environment %v, want %v", name, svc.Environment, c.Env)
		}
		want, _ := docker.Configs.ReadFile(pr.Spec.PresetFile)
		if m := mounts(t, name, svc.Volumes); len(m) != 1 || m[c.ConfigPath] != string(want) {
			t.Errorf("%s: mounts %v, want only %s at %s", name, svc.Volumes, pr.Spec.PresetFile, c.ConfigPath)
		}
	}
	if got := f.Services["haproxy-stock"].Ulimits["nofile"]; got != (ulimit{stockSoftNofile, 30000}) {
		t.Errorf("haproxy-stock nofile %+v, want Debian's soft %d, hard 30000", got, stockSoftNofile)
	}
	if got := f.Services["haproxy-sse"].Ulimits["nofile"]; got != (ulimit{30000, 30000}) {
		t.Errorf("haproxy-sse nofile %+v, want 30000/30000", got)
	}
}

// TestGeneratedOriginAndLoadgen: the origin runs with the run's flags in
// the network of its holder, which carries the name "origin"; the load
// generator mounts the results directory and the scenario.
func TestGeneratedOriginAndLoadgen(t *testing.T) {
	caddy, _ := targets.Preset("caddy-stock")
	p := testProject(t, prepared(t, caddy, 0))
	f := generated(t, p)
	if len(f.Services) != 4 {
		t.Errorf("services %v, want origin_net, origin, caddy-stock, loadgen", slices.Sorted(maps.Keys(f.Services)))
	}
	o := f.Services[ServiceOrigin]
	if got := strings.Join(o.Command, " "); got != "origin --listen :8080 --mode=broadcast --epoch=1700000000000000000" || o.Image != "sseload:test" {
		t.Errorf("origin: image %q command %q", o.Image, got)
	}
	if o.NetworkMode != "service:"+ServiceOriginNet || o.Ulimits["nofile"] != (ulimit{30000, 30000}) {
		t.Errorf("origin: network_mode %q ulimits %v", o.NetworkMode, o.Ulimits)
	}
	if n := f.Services[ServiceOriginNet]; !slices.Equal(n.Networks["default"].Aliases, []string{ServiceOrigin}) {
		t.Errorf("origin_net networks %+v, want the alias origin", n.Networks)
	}
	if OriginURL != "http://origin:8080" || ServiceURL(ServiceOrigin) != OriginURL || ServiceURL("caddy-stock") != "http://caddy-stock" {
		t.Errorf("URLs: %s %s %s", OriginURL, ServiceURL(ServiceOrigin), ServiceURL("caddy-stock"))
	}
	l := f.Services[ServiceLoadgen]
	if l.User != "1000:1000" || !slices.Contains(l.Volumes, "/results/of/this run:"+ResultsMount) {
		t.Errorf("loadgen: user %q volumes %v", l.User, l.Volumes)
	}
	scen := filepath.Join(p.dir, scenarioFile) + ":" + ScenarioMount + ":ro"
	if !slices.Contains(l.Volumes, scen) {
		t.Errorf("loadgen volumes %v, want %s", l.Volumes, scen)
	}
	if b, _ := os.ReadFile(filepath.Join(p.dir, scenarioFile)); string(b) != "name: test\n" {
		t.Errorf("scenario file holds %q", b)
	}
	if !slices.Equal(l.DependsOn, []string{ServiceOrigin, "caddy-stock"}) {
		t.Errorf("loadgen depends on %v", l.DependsOn)
	}
	if got := p.services(); !slices.Equal(got, []string{ServiceOriginNet, ServiceOrigin, "caddy-stock"}) {
		t.Errorf("services started: %v", got)
	}
}

// dollarKind is a proxy kind whose container command and environment hold
// "$", which compose would read as a variable.
type dollarKind struct{ topology.Kind }

func (dollarKind) Name() string { return targets.Nginx }
func (dollarKind) Container(*topology.TLS) topology.Container {
	return topology.Container{ConfigPath: "/etc/x/$conf", Command: []string{"sh", "-c", "exec proxy $HOME"}, Env: map[string]string{"A": "$B"}}
}

func TestGeneratedFileEscapesDollars(t *testing.T) {
	pr := topology.Prepared{Spec: targets.Spec{Name: "dollar", Kind: targets.Nginx, Config: "/x"}, Kind: dollarKind{}, Conf: []byte("x")}
	f := generated(t, testProject(t, pr))
	svc := f.Services["dollar"]
	if got := strings.Join(svc.Command, " "); got != "sh -c exec proxy $$HOME" || svc.Environment["A"] != "$$B" {
		t.Errorf("command %q env %v, want every $ doubled", got, svc.Environment)
	}
	if len(svc.Volumes) != 1 || !strings.HasSuffix(svc.Volumes[0], ":/etc/x/$$conf:ro") {
		t.Errorf("volumes %v, want the target path's $ doubled", svc.Volumes)
	}
}

func TestCheckProxiesRefusesBadServices(t *testing.T) {
	sse, _ := targets.Preset("nginx-sse")
	pr := prepared(t, sse, 0)
	imgs := Images{SSELoad: "s", Proxies: map[string]string{targets.Nginx: "n"}}
	named := func(name string) topology.Prepared { p := pr; p.Spec.Name = name; return p }
	for _, tc := range []struct {
		proxies []topology.Prepared
		imgs    Images
		want    string
	}{
		{[]topology.Prepared{named("Bad_Name")}, imgs, `"Bad_Name" cannot name a service`},
		{[]topology.Prepared{named(ServiceLoadgen)}, imgs, "sseload's own services"},
		{[]topology.Prepared{pr, pr}, imgs, "named twice"},
		{[]topology.Prepared{pr}, Images{SSELoad: "s"}, "no nginx image"},
	} {
		if err := checkProxies(tc.proxies, tc.imgs); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("checkProxies(%d proxies) = %v, want %q", len(tc.proxies), err, tc.want)
		}
	}
	if err := checkProxies([]topology.Prepared{pr}, imgs); err != nil {
		t.Errorf("checkProxies(nginx-sse) = %v", err)
	}
}

func TestProbeWaitsUntilReady(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) < 3 {
			http.Error(w, "starting", http.StatusBadGateway)
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := Probe(ctx, []string{srv.URL + "/healthz"}, nil); err != nil {
		t.Fatalf("Probe: %v", err)
	}
	if n := calls.Load(); n != 3 {
		t.Fatalf("server saw %d requests, want 3 (two 502s, then 200)", n)
	}
}

func TestProbeNamesTheURLThatIsNotReady(t *testing.T) {
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer ok.Close()
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no upstream", http.StatusBadGateway)
	}))
	defer bad.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := Probe(ctx, []string{ok.URL + "/healthz", bad.URL + "/healthz"}, nil)
	if err == nil || !strings.Contains(err.Error(), bad.URL+"/healthz not ready") || !strings.Contains(err.Error(), "502") {
		t.Fatalf("Probe error = %v; want it to name %s and its 502", err, bad.URL)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Probe error = %v; want it to wrap the deadline", err)
	}
}

func TestTailBufferKeepsLastLines(t *testing.T) {
	tb := &tailBuffer{max: 2}
	for _, s := range []string{"one\ntw", "o\nthree\n", "fo"} {
		_, _ = tb.Write([]byte(s))
	}
	if got := string(tb.bytes()); got != "two\nthree\nfo" {
		t.Fatalf("tail = %q", got)
	}
}

func TestChatterFilterDropsComposeStatusLines(t *testing.T) {
	var out bytes.Buffer
	f := &chatterFilter{w: &out, project: []byte("sseload-0123456789")}
	in := "Creating sseload-0123456789_loadgen_run ... \nsseload: open 5/5 fail" +
		"ed 0\n Container sseload-0123456789-loadgen  Started\n130\nsseload: interrupted\n"
	for i := range in { // one byte at a time: lines split across writes
		_, _ = f.Write([]byte{in[i]})
	}
	if got, want := out.String(), "sseload: open 5/5 failed 0\nsseload: interrupted\n"; got != want {
		t.Fatalf("filtered = %q, want %q", got, want)
	}
}

func TestDetectWithoutEngineSuggestsLocal(t *testing.T) {
	// A socket path where nothing listens: the real docker CLI, no engine.
	t.Setenv("DOCKER_HOST", "unix://"+filepath.Join(t.TempDir(), "no-engine.sock"))
	t.Setenv("DOCKER_CONTEXT", "")
	_, err := Detect(context.Background())
	if !errors.Is(err, ErrNoEngine) {
		t.Fatalf("Detect error = %v, want ErrNoEngine", err)
	}
	if !strings.Contains(err.Error(), "--topology local") {
		t.Fatalf("Detect error %q does not suggest --topology local", err)
	}
}

// TestGeneratedServicesForTLSTargets: a TLS target's service gets the run's
// TLS files mounted read-only (a certificate valid for its service name,
// signed by the run's CA), listens on 443 and is reached at https://NAME;
// the load generator gets the CA; a plaintext service gets neither.
func TestGeneratedServicesForTLSTargets(t *testing.T) {
	var prs []topology.Prepared
	for _, name := range []string{"nginx-sse-h2", "haproxy-sse-h2", "caddy-sse-h2", "nginx-sse"} {
		spec, _ := targets.Preset(name)
		prs = append(prs, prepared(t, spec, 0))
	}
	p := testProject(t, prs...)
	f := generated(t, p)
	tlsMount := filepath.Join(p.dir, tlsDir) + ":" + topology.ContainerTLSDir + ":ro"
	caPEM, err := os.ReadFile(filepath.Join(p.dir, tlsDir, certs.CAFile))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	pair, err := tls.LoadX509KeyPair(filepath.Join(p.dir, tlsDir, certs.CertFile), filepath.Join(p.dir, tlsDir, certs.KeyFile))
	if err != nil {
		t.Fatalf("the server certificate and key: %v", err)
	}
	leaf, _ := x509.ParseCertificate(pair.Certificate[0])
	for _, pr := range prs {
		name := pr.Spec.Name
		svc := f.Services[name]
		if got := slices.Contains(svc.Volumes, tlsMount); got != pr.Spec.TLS {
			t.Errorf("%s: TLS mount %v in %v, want %v", name, got, svc.Volumes, pr.Spec.TLS)
		}
		wantURL := "http://" + name
		if pr.Spec.TLS {
			wantURL = "https://" + name
			if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: name}); err != nil {
				t.Errorf("%s: the certificate does not verify for the service name: %v", name, err)
			}
		}
		if got := TargetURL(pr.Spec); got != wantURL {
			t.Errorf("%s: TargetURL %s, want %s", name, got, wantURL)
		}
		c := pr.Kind.Container(pr.ContainerTLS())
		switch pr.Kind.Name() {
		case targets.Nginx:
			want := "listen 80;\n"
			if pr.Spec.TLS {
				want = "listen 443 ssl http2;\nssl_certificate \"/etc/sseload/tls/server.pem\";\nssl_certificate_key \"/etc/sseload/tls/server.key\";\n"
			}
			if got := c.Files["sseload-listen.conf"]; got != want {
				t.Errorf("%s: sseload-listen.conf %q, want %q", name, got, want)
			}
		default:
			if svc.Environment[topology.EnvListen] != ":443" || svc.Environment[topology.EnvCert] != "/etc/sseload/tls/server.pem" || svc.Environment[topology.EnvKey] != "/etc/sseload/tls/server.key" {
				t.Errorf("%s: environment %v, want listen :443 and the mounted certificate and key", name, svc.Environment)
			}
		}
	}
	if !slices.Contains(f.Services[ServiceLoadgen].Volumes, tlsMount) {
		t.Errorf("loadgen volumes %v, want the TLS files (its CA) at %s", f.Services[ServiceLoadgen].Volumes, topology.ContainerTLSDir)
	}
	if CAFile != topology.ContainerTLSDir+"/"+certs.CAFile {
		t.Errorf("CAFile %s", CAFile)
	}
}
