package compose

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"
)

// What a run does to its containers while the load generator runs (the
// faults), and what it asks them. Each goes through the docker CLI with the
// container's id: a compose command costs a Python start-up (v1, ~0.5 s),
// which would shift a fault from its planned time.

// container is one of the project's containers.
type container struct {
	id      string
	running bool
}

// containers maps each of the project's services to its container (one-off
// containers, such as the load generator's, left out), from the labels
// compose puts on them.
func (p *Project) containers(ctx context.Context) (map[string]container, error) {
	out, err := p.d.dockerCmd(ctx, "ps", "-a",
		"--filter", "label=com.docker.compose.project="+p.name,
		"--filter", "label=com.docker.compose.oneoff=False",
		"--format", `{{.Label "com.docker.compose.service"}} {{.ID}} {{.Status}}`)
	if err != nil {
		return nil, err
	}
	cs := map[string]container{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		cs[f[0]] = container{id: f[1], running: f[2] == "Up"}
	}
	return cs, nil
}

// containerID returns the id of service's container; for ServiceLoadgen,
// the running load generator's name.
func (p *Project) containerID(ctx context.Context, service string) (string, error) {
	if service == ServiceLoadgen {
		return p.loadgenName(), nil
	}
	cs, err := p.containers(ctx)
	if err != nil {
		return "", err
	}
	c, ok := cs[service]
	if !ok {
		return "", fmt.Errorf("service %s has no container", service)
	}
	return c.id, nil
}

// loadgenName is the load generator's container name (RunLoadgen).
func (p *Project) loadgenName() string { return p.name + "-loadgen" }

// Signal sends sig ("HUP", "USR1", "KILL", …) to the main process of
// service's container, as `docker kill --signal` does. For ServiceLoadgen it
// is the running load generator.
func (p *Project) Signal(ctx context.Context, service, sig string) error {
	id, err := p.containerID(ctx, service)
	if err != nil {
		return err
	}
	if _, err := p.d.dockerCmd(ctx, "kill", "--signal", sig, id); err != nil {
		return fmt.Errorf("service %s: %w", service, err)
	}
	return nil
}

// Start starts service's stopped container again, with its command and
// mounts unchanged (after Signal KILL: the origin-restart fault).
func (p *Project) Start(ctx context.Context, service string) error {
	id, err := p.containerID(ctx, service)
	if err != nil {
		return err
	}
	if _, err := p.d.dockerCmd(ctx, "start", id); err != nil {
		return fmt.Errorf("service %s: %w", service, err)
	}
	return nil
}

// Exec runs argv inside service's running container and returns its
// combined output.
func (p *Project) Exec(ctx context.Context, service string, argv []string) ([]byte, error) {
	id, err := p.containerID(ctx, service)
	if err != nil {
		return nil, err
	}
	out, err := p.d.output(ctx, p.d.docker, append([]string{"exec", id}, argv...)...)
	if err != nil {
		return out, fmt.Errorf("service %s: %s: %s", service, strings.Join(argv, " "), oneLine(out, err))
	}
	return out, nil
}

// Processes counts the processes in service's container (`docker top`): a
// proxy's master and workers, and after a reload the old workers still
// holding streams.
func (p *Project) Processes(ctx context.Context, service string) (int, error) {
	id, err := p.containerID(ctx, service)
	if err != nil {
		return 0, err
	}
	out, err := p.d.dockerCmd(ctx, "top", id)
	if err != nil {
		return 0, err
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return len(lines) - 1, nil // the first line is the header
}

// Reload reloads the proxy service the way its kind says
// (topology.Container): its reload signal to the container's main process,
// or its reload command run inside the container. It returns what it did,
// such as "SIGHUP".
func (p *Project) Reload(ctx context.Context, service string) (string, error) {
	pr, err := p.proxy(service)
	if err != nil {
		return "", err
	}
	c := pr.Kind.Container(pr.ContainerTLS())
	if c.ReloadSignal != "" {
		return "SIG" + strings.TrimPrefix(c.ReloadSignal, "SIG"), p.Signal(ctx, service, c.ReloadSignal)
	}
	if len(c.ReloadExec) == 0 {
		return "", fmt.Errorf("service %s: a %s proxy has no way to reload in a container", service, pr.Kind.Name())
	}
	_, err = p.Exec(ctx, service, c.ReloadExec)
	return "`" + strings.Join(c.ReloadExec, " ") + "`", err
}

// ProxyVersion runs the proxy's version command (Kind.VersionArgs) inside
// its container and returns the version as the kind reads it, e.g.
// "nginx/1.22.1".
func (p *Project) ProxyVersion(ctx context.Context, service string) (string, error) {
	pr, err := p.proxy(service)
	if err != nil {
		return "", err
	}
	k := pr.Kind
	out, err := p.Exec(ctx, service, append([]string{k.Binary()}, k.VersionArgs()...))
	if err != nil {
		return "", err
	}
	v, err := k.ParseVersion(string(out))
	if err != nil {
		return "", fmt.Errorf("service %s: %w", service, err)
	}
	return v, nil
}

// Logs returns the last tail lines service's container logged (0: all),
// its output and error streams together.
func (p *Project) Logs(ctx context.Context, service string, tail int) ([]byte, error) {
	id, err := p.containerID(ctx, service)
	if err != nil {
		return nil, err
	}
	args := []string{"logs"}
	if tail > 0 {
		args = append(args, "--tail", fmt.Sprint(tail))
	}
	return p.d.output(ctx, p.d.docker, append(args, id)...)
}

// LoadgenStarted waits until the load generator's container (RunLoadgen)
// has started and returns when it did, by the engine's clock — this
// machine's. The generator's own run starts a few milliseconds later, once
// the process has read its scenario.
func (p *Project) LoadgenStarted(ctx context.Context) (time.Time, error) {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		out, err := p.d.output(ctx, p.d.docker, "inspect", "--format", "{{.State.StartedAt}}", p.loadgenName())
		if err == nil {
			t, perr := time.Parse(time.RFC3339Nano, string(bytes.TrimSpace(out)))
			if perr == nil && t.Year() > 1 {
				return t, nil
			}
		}
		select {
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		case <-tick.C:
		}
	}
}
