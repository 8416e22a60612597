package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sseload/sseload/compose"
	"github.com/sseload/sseload/internal/testenv"
	"github.com/sseload/sseload/targets"
)

func TestComposeCommandsUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"images", "extra"}, "images takes no arguments"},
		{[]string{"images", "--kinds", "nginx,traefik"}, `--kinds "traefik": unknown proxy kind (valid: nginx, haproxy, caddy)`},
		{[]string{"probe"}, "probe needs at least one URL"},
		{[]string{"run", "--topology", "bogus"}, "valid: local, compose, swarm, none"},
		{[]string{"run", "--topology", "compose", "--target", "a=http://127.0.0.1:1/events"}, "--topology none"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(tc.args, &stdout, &stderr); code != exitUsage {
			t.Errorf("%v: exit %d, want %d (stderr %q)", tc.args, code, exitUsage, stderr.String())
		}
		if !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: stderr %q does not contain %q", tc.args, stderr.String(), tc.want)
		}
	}
}

func TestProbeCommand(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	var stdout, stderr bytes.Buffer
	if code := run([]string{"probe", srv.URL + "/healthz"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("probe of a ready server: exit %d, stderr %q", code, stderr.String())
	}
	stderr.Reset()
	code := run([]string{"probe", "--timeout", "200ms", srv.URL + "/missing"}, &stdout, &stderr)
	if code != exitNotComplete || !strings.Contains(stderr.String(), srv.URL+"/missing not ready") {
		t.Fatalf("probe of a 404: exit %d, stderr %q; want %d naming the URL", code, stderr.String(), exitNotComplete)
	}
}

// TestComposeWithoutEngineExits3 points the docker CLI at a socket where
// no engine listens: the run must not start, say so, suggest the local
// topology, and exit 3.
func TestComposeWithoutEngineExits3(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix://"+filepath.Join(t.TempDir(), "no-engine.sock"))
	var stdout, stderr bytes.Buffer
	code := run([]string{"run", "seed", "--topology", "compose", "--out", t.TempDir()}, &stdout, &stderr)
	if code != exitNotComplete || !strings.Contains(stderr.String(), "--topology local") {
		t.Fatalf("exit %d, stderr %q; want %d suggesting --topology local", code, stderr.String(), exitNotComplete)
	}
}

// TestImagesBuildsTheKindsAsked builds (or finds up to date) the HAProxy
// image only, with the sseload image named in SSELOAD_IMAGE (the test
// binary is no sseload to put in an image), and prints one variable per
// image, ready for the environment.
func TestImagesBuildsTheKindsAsked(t *testing.T) {
	testenv.RequireDocker(t)
	testenv.RequireDebootstrap(t, targets.HAProxy)
	t.Setenv(compose.EnvSSELoadImage, "sseload:named-by-the-test")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"images", "--kinds", targets.HAProxy}, &stdout, &stderr); code != exitOK {
		t.Fatalf("images: exit %d, stderr %q", code, stderr.String())
	}
	re := regexp.MustCompile(`^SSELOAD_IMAGE=sseload:named-by-the-test\nHAPROXY_IMAGE=sseload-haproxy:[0-9a-f]{12}\n$`)
	if !re.MatchString(stdout.String()) {
		t.Fatalf("images printed %q, want the two variables", stdout.String())
	}
}
