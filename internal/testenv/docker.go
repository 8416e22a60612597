package testenv

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/sseload/sseload/compose"
)

// RequireDocker returns a working docker CLI and engine for tests that run
// the compose topology, and RequireDebootstrap checks that the nginx image
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

// RequireDebootstrap: see RequireDocker. Not needed when NGINX_IMAGE names
// an image.
func RequireDebootstrap(t testing.TB) {
	t.Helper()
	if os.Getenv(compose.EnvNginxImage) != "" {
		return
	}
	if _, err := compose.FindDebootstrap(); err != nil {
		Missing(t, "this test builds the nginx image: "+err.Error())
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
