package testenv

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/sseload/sseload/compose"
	"github.com/sseload/sseload/targets"
)

// RequireDocker returns a working docker CLI and engine for tests that run
// the compose topology, and RequireDebootstrap checks that the proxy images
// can be built. Like RequireNginx, a missing one fails the test under
// CI=true (scripts/install-deps installs them) and skips it elsewhere.
func RequireDocker(t testing.TB) *compose.Docker {
	t.Helper()
	d, err := compose.Detect(context.Background())
	if err != nil {
		Missing(t, "this test runs the compose topology: "+err.Error()+" (CI: scripts/install-deps installs docker-compose; the engine must run)")
	}
	return d
}

// RequireDebootstrap: see RequireDocker. kinds are the proxy kinds whose
// images the test needs (none: nginx); not needed when each is named in its
// variable (NGINX_IMAGE, HAPROXY_IMAGE, CADDY_IMAGE).
func RequireDebootstrap(t testing.TB, kinds ...string) {
	t.Helper()
	if len(kinds) == 0 {
		kinds = []string{targets.Nginx}
	}
	var build []string
	for _, k := range kinds {
		if os.Getenv(compose.ImageEnv(k)) == "" {
			build = append(build, k)
		}
	}
	if len(build) == 0 {
		return
	}
	if _, err := compose.FindDebootstrap(); err != nil {
		Missing(t, "this test builds the "+strings.Join(build, ", ")+" images: "+err.Error())
	}
}

// ComposeLeftovers lists the containers and networks still labelled with
// compose project name ("" when none are).
func ComposeLeftovers(t testing.TB, project string) string {
	t.Helper()
	filter := "label=com.docker.compose.project=" + project
	var left []string
	for _, args := range [][]string{
		{"ps", "-a", "--filter", filter, "--format", "container {{.Names}} ({{.Status}})"},
		{"network", "ls", "--filter", filter, "--format", "network {{.Name}}"},
	} {
		out, err := exec.Command("docker", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("docker %s: %v: %s", strings.Join(args, " "), err, out)
		}
		if s := strings.TrimSpace(string(out)); s != "" {
			left = append(left, s)
		}
	}
	return strings.Join(left, "; ")
}
