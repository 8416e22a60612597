package compose

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sseload/sseload/docker"
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

func TestNginxTagIsStableContentHash(t *testing.T) {
	a, b := nginxTag(), nginxTag()
	if a != b || !strings.HasPrefix(a, NginxRepo+":") || len(a) != len(NginxRepo)+1+12 {
		t.Fatalf("nginxTag() = %q, %q; want one stable %s:<12 hex>", a, b, NginxRepo)
	}
}

// TestComposeFileMountsResolve checks docker/compose.yaml as written to a
// work dir: every bind mount's source exists beside it (so the by-hand
// `docker compose -f docker/compose.yaml up` and the harness mount the same
// files), the nginx configs are the bytes the local topology runs, and
// nginx-stock keeps Debian's soft descriptor limit.
func TestComposeFileMountsResolve(t *testing.T) {
	p := &Project{dir: t.TempDir(), cfg: Config{Nofile: 30000, OriginArgs: []string{"--mode=broadcast"}}}
	if err := p.writeFiles(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(p.dir, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Services map[string]struct {
			Volumes []string                  `yaml:"volumes"`
			Ulimits map[string]map[string]int `yaml:"ulimits"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(b, &file); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	for _, s := range []string{ServiceOrigin, ServiceNginxStock, ServiceNginxSSE, ServiceLoadgen} {
		if _, ok := file.Services[s]; !ok {
			t.Errorf("compose.yaml has no service %s", s)
		}
	}
	for _, s := range []string{ServiceNginxStock, ServiceNginxSSE} {
		vols := file.Services[s].Volumes
		if len(vols) != 3 {
			t.Errorf("%s mounts %v, want its config and the two include files", s, vols)
		}
		for _, v := range vols {
			src := strings.Split(v, ":")[0]
			got, err := os.ReadFile(filepath.Join(p.dir, src))
			if err != nil {
				t.Errorf("%s mount %s: %v", s, v, err)
				continue
			}
			if strings.HasSuffix(v, ":/etc/sseload/nginx.conf:ro") {
				want, _ := docker.NginxConfigs.ReadFile("nginx/" + s + ".conf")
				if !bytes.Equal(got, want) {
					t.Errorf("%s mounts %s, which is not nginx/%s.conf", s, src, s)
				}
			}
		}
	}
	if got := file.Services[ServiceNginxStock].Ulimits["nofile"]["soft"]; got != 1024 {
		t.Errorf("nginx-stock nofile soft = %d, want Debian's 1024", got)
	}

	ob, err := os.ReadFile(filepath.Join(p.dir, "override.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ov struct {
		Services map[string]serviceOverride `yaml:"services"`
	}
	if err := yaml.Unmarshal(ob, &ov); err != nil {
		t.Fatalf("override.json is not YAML: %v", err)
	}
	if _, ok := ov.Services[ServiceNginxStock]; ok {
		t.Errorf("override.json changes nginx-stock: %s", ob)
	}
	for _, s := range []string{ServiceOrigin, ServiceNginxSSE, ServiceLoadgen} {
		if got := ov.Services[s].Ulimits["nofile"]; got["soft"] != 30000 || got["hard"] != 30000 {
			t.Errorf("override %s nofile = %v, want 30000/30000", s, got)
		}
	}
	if got := strings.Join(ov.Services[ServiceOrigin].Command, " "); got != "origin --listen :8080 --mode=broadcast" {
		t.Errorf("origin command = %q", got)
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
	if err := Probe(ctx, []string{srv.URL + "/healthz"}); err != nil {
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
	err := Probe(ctx, []string{ok.URL + "/healthz", bad.URL + "/healthz"})
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
