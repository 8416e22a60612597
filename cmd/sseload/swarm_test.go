package main

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

// TestSwarmFlagsRefused: the swarm topology's flags and what it cannot do
// are usage errors naming the flag, before anything starts (no Docker
// engine is asked).
func TestSwarmFlagsRefused(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "seed", "--swarm-workers", "3"}, "--swarm-workers sets the worker replicas of --topology swarm"},
		{[]string{"run", "seed", "--topology", "compose", "--swarm-workers", "3"}, "--swarm-workers"},
		{[]string{"run", "seed", "--topology", "swarm", "--procs", "2"}, "--procs 2: on the swarm topology"},
		{[]string{"run", "seed", "--topology", "swarm", "--swarm-workers", "-1"}, "--swarm-workers -1"},
		{[]string{"run", "origin-restart", "--topology", "swarm"}, "faults: the swarm topology does not carry out faults"},
		{[]string{"run", "seed", "--topology", "swarm", "--metrics-addr", "127.0.0.1:9464"}, "--metrics-addr: on --topology swarm"},
		{[]string{"run", "seed", "--topology", "swarm", "--origin-listen", "127.0.0.1:0"}, "--origin-listen: on --topology swarm"},
		{[]string{"run", "seed", "--topology", "swarm", "--nginx", "/usr/sbin/nginx"}, "NGINX_IMAGE"},
		{[]string{"capacity", "--target", "direct", "--swarm-workers", "2"}, "swarm-workers"},
		{[]string{"run", "seed", "--topology", "swarm", "--workers", "dns:nowhere.invalid:7070"}, "--workers: the swarm topology deploys its own workers"},
		{[]string{"run", "seed", "--topology", "swarm", "--token", "x"}, "--token: the swarm topology"},
		{[]string{"run", "seed", "--topology", "swarm", "--segment", "0/2"}, "--segment: the swarm topology"},
	} {
		var stderr bytes.Buffer
		code := run(append(c.args, "--out", t.TempDir()), io.Discard, &stderr)
		if code != exitUsage || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("sseload %s: exit %d, %q; want exit %d saying %q", strings.Join(c.args, " "), code, strings.TrimSpace(stderr.String()), exitUsage, c.want)
		}
	}
}
