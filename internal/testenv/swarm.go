package testenv

import (
	"os/exec"
	"strings"
	"testing"
)

// RequireSwarm makes the Docker engine a swarm manager for the test: if it
// is not in a swarm, it runs `docker swarm init` (a single-node swarm on
// loopback) and leaves it again (`docker swarm leave --force`) when the
// test ends; an engine already in a swarm is used as it is and left in it.
// A worker node, or a swarm in an error state, fails the test.
func RequireSwarm(t testing.TB) {
	t.Helper()
	RequireDocker(t)
	out, err := exec.Command("docker", "info", "--format", "{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}").CombinedOutput()
	if err != nil {
		t.Fatalf("docker info: %v: %s", err, out)
	}
	switch state := strings.TrimSpace(string(out)); state {
	case "active true":
		return
	case "inactive false":
		if out, err := exec.Command("docker", "swarm", "init", "--advertise-addr", "127.0.0.1").CombinedOutput(); err != nil {
			t.Fatalf("docker swarm init: %v: %s", err, out)
		}
		t.Logf("initialised a single-node swarm for the test; leaving it afterwards")
		t.Cleanup(func() {
			if out, err := exec.Command("docker", "swarm", "leave", "--force").CombinedOutput(); err != nil {
				t.Errorf("docker swarm leave --force (the test initialised the swarm): %v: %s", err, out)
			}
		})
	default:
		t.Fatalf("the Docker engine's swarm state is %q: the test needs a manager, or no swarm (it then makes one and leaves it)", state)
	}
}
