package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
)

func TestComposeCommandsUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"images", "extra"}, "images takes no arguments"},
		{[]string{"probe"}, "probe needs at least one URL"},
		{[]string{"run", "--topology", "bogus"}, "valid: local, compose, none"},
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
