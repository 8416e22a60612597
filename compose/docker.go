// Package compose runs the compose topology: it builds the images the
// topology needs without a registry (images.go: sseload, and one per proxy
// kind), generates one compose project per run from the run's targets
// (services.go: the origin, a service per proxied target as its kind says
// to run it, the load generator), starts it and always tears it down
// (project.go), and acts on its containers while the load generator runs
// (control.go: the faults, versions, logs). docker/compose.yaml is the same
// topology written by hand for the preset nginx targets.
//
// It drives the docker and compose command-line tools rather than the Engine
// API: they are what a user has and debugs with, they read the same compose
// files, and every step can be repeated by hand.
package compose

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"
)

// ErrNoEngine is returned (wrapped) when no Docker engine answers.
var ErrNoEngine = errors.New("no Docker engine answers: start it (systemctl start docker) or run without containers with --topology local")

// Docker is a working docker CLI with a Docker engine behind it and a compose
// implementation: `docker compose` (v2, the CLI plugin) when present, else
// `docker-compose` (v1, e.g. Debian's docker-compose package).
type Docker struct {
	docker  string   // path of the docker CLI
	compose []string // argv prefix of the compose command
}

// detectTimeout bounds each question Detect asks the engine.
const detectTimeout = 15 * time.Second

// Detect finds the docker CLI and a compose command and checks that an
// engine answers. Its errors say what is missing and how to go on.
func Detect(ctx context.Context) (*Docker, error) {
	d, err := DetectEngine(ctx)
	if err != nil {
		return nil, err
	}
	bin := d.docker
	cctx, cancel := context.WithTimeout(ctx, detectTimeout)
	defer cancel()
	if _, err := d.output(cctx, bin, "compose", "version"); err == nil {
		d.compose = []string{bin, "compose"}
		return d, nil
	}
	if v1, err := exec.LookPath("docker-compose"); err == nil {
		d.compose = []string{v1}
		return d, nil
	}
	return nil, errors.New("neither `docker compose` (v2) nor `docker-compose` (v1) is installed: install one (apt-get install docker-compose), or use --topology local")
}

// DetectEngine finds the docker CLI and checks that an engine answers,
// without asking for a compose implementation: what the swarm topology
// needs (it deploys with `docker stack deploy`), and what BuildImages needs.
// Compose methods of the Docker it returns are not to be used.
func DetectEngine(ctx context.Context) (*Docker, error) {
	bin, err := exec.LookPath("docker")
	if err != nil {
		return nil, fmt.Errorf("docker CLI not found in PATH (install docker.io or Docker Engine): %w", ErrNoEngine)
	}
	d := &Docker{docker: bin}
	cctx, cancel := context.WithTimeout(ctx, detectTimeout)
	defer cancel()
	out, err := d.output(cctx, bin, "version", "--format", "{{.Server.Version}}")
	if err != nil {
		return nil, fmt.Errorf("%w (docker version: %s)", ErrNoEngine, oneLine(out, err))
	}
	return d, nil
}

// CLI is the path of the docker command-line tool.
func (d *Docker) CLI() string { return d.docker }

// ComposeCommand is the compose command in use, e.g. "docker compose" or
// "/usr/bin/docker-compose".
func (d *Docker) ComposeCommand() string { return strings.Join(d.compose, " ") }

// output runs a command and returns its combined output.
func (d *Docker) output(ctx context.Context, name string, args ...string) ([]byte, error) {
	return Output(ctx, name, args...)
}

// Output runs a command and returns its combined output; after ctx ends it
// waits at most 5 s for the command's output to close.
func Output(ctx context.Context, name string, args ...string) ([]byte, error) {
	var buf bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout = &buf
	cmd.Stderr = &buf
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	return buf.Bytes(), err
}

// dockerCmd runs `docker args...` and returns its combined output; the error
// carries the command and the output's last line.
func (d *Docker) dockerCmd(ctx context.Context, args ...string) ([]byte, error) {
	out, err := d.output(ctx, d.docker, args...)
	if err != nil {
		return out, fmt.Errorf("docker %s: %s", strings.Join(args, " "), oneLine(out, err))
	}
	return out, nil
}

// imageExists says whether the engine has image ref locally.
func (d *Docker) imageExists(ctx context.Context, ref string) bool {
	_, err := d.output(ctx, d.docker, "image", "inspect", "--format", "{{.Id}}", ref)
	return err == nil
}

// importImage runs `docker import` with the given Dockerfile-style changes,
// reading the root file system as a tar stream from r, and tags it ref.
func (d *Docker) importImage(ctx context.Context, r io.Reader, ref string, changes []string) error {
	args := []string{"import"}
	for _, c := range changes {
		args = append(args, "--change", c)
	}
	args = append(args, "-", ref)
	var buf bytes.Buffer
	cmd := exec.CommandContext(ctx, d.docker, args...)
	cmd.Stdin = r
	cmd.Stdout = &buf
	cmd.Stderr = &buf
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("docker import %s: %s", ref, oneLine(buf.Bytes(), err))
	}
	return nil
}

// oneLine condenses a failed command's output to its last non-empty line,
// or the error when there is no output.
func oneLine(out []byte, err error) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	last := strings.TrimSpace(lines[len(lines)-1])
	if last == "" {
		if err == nil {
			return "(no output)"
		}
		return err.Error()
	}
	return last
}

// Interrupt sends SIGINT to container, again every 250 ms until docker
// accepts it (the container may still be starting; sent runs once then),
// and waits for done: the generator or coordinator in it writes what it
// measured and exits. One still running after InterruptGrace is killed.
func Interrupt(docker, container string, done <-chan error, sent func()) error {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	deadline := time.NewTimer(InterruptGrace)
	defer deadline.Stop()
	signalled := false
	for {
		if !signalled {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_, err := Output(ctx, docker, "kill", "--signal", "SIGINT", container)
			cancel()
			if err == nil {
				sent()
				signalled = true
			}
		}
		select {
		case err := <-done:
			return err
		case <-deadline.C:
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_, _ = Output(ctx, docker, "kill", container)
			cancel()
			return <-done
		case <-tick.C:
		}
	}
}
