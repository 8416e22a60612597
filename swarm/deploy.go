package swarm

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sseload/sseload/compose"
	"github.com/sseload/sseload/internal/childproc"
)

const (
	// readyTimeout bounds the wait for every task to run and every HTTP
	// service to answer /healthz: a multi-node swarm may pull images first.
	readyTimeout = 3 * time.Minute
	// removeTimeout bounds Remove: the stack's tasks stop (each gets the
	// engine's grace, 10 s), then its network and configs go.
	removeTimeout = 2 * time.Minute
	// LogTailLines is how much of each service's log a failure saves.
	LogTailLines = 50
	// stackLabel is the label docker stack deploy puts on everything of a
	// stack (services, network, configs, task containers); the coordinator
	// carries it too.
	stackLabel = "com.docker.stack.namespace"
)

// Paths inside the coordinator's container, as on the compose topology's
// load generator.
const (
	ResultsMount  = compose.ResultsMount
	ScenarioMount = compose.ScenarioMount
)

// Stack is one deployed stack. Remove removes it; so does the janitor if
// this process dies without calling Remove.
type Stack struct {
	docker string // the docker CLI
	name   string
	dir    string // work dir: stack.json, proxies/, scenario.yaml
	cfg    Config
	log    io.Writer

	janitor *compose.Janitor

	removeOnce sync.Once
	removeErr  error
}

// InSwarm says whether the engine d talks to is a manager of a swarm, which
// `docker stack deploy` needs; the error says what to do if not.
func InSwarm(ctx context.Context, d *compose.Docker) error {
	out, err := compose.Output(ctx, d.CLI(), "info", "--format", "{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}")
	if err != nil {
		return fmt.Errorf("docker info: %s", oneLine(out, err))
	}
	switch strings.TrimSpace(string(out)) {
	case "active true":
		return nil
	case "active false":
		return errors.New("this Docker engine is a swarm worker, not a manager: run sseload against a manager node (DOCKER_HOST), which can deploy stacks")
	}
	return errors.New("this Docker engine is not in a swarm: `docker swarm init` makes a single-node one (`docker swarm leave --force` undoes it), or point DOCKER_HOST at a manager of yours")
}

// Deploy writes the stack file to a work dir, deploys it under a new name
// ("sseload-" and 10 hex digits), and waits until every task runs and the
// origin and each proxy answer GET /healthz from inside the stack's
// network. On failure it saves each service's last log lines to logDir,
// removes the stack and returns an error naming the service.
func Deploy(ctx context.Context, d *compose.Docker, cfg Config, logDir string, log io.Writer) (*Stack, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	name, err := newName()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", name+"-") // 0700: the stack file holds the token
	if err != nil {
		return nil, fmt.Errorf("swarm work dir: %w", err)
	}
	s := &Stack{docker: d.CLI(), name: name, dir: dir, cfg: cfg, log: log}
	if err := s.writeFiles(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if s.janitor, err = compose.StartJanitor(janitorScript, s.name, s.docker, s.dir); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	fail := func(err error) (*Stack, error) {
		if ctx.Err() == nil && logDir != "" {
			s.SaveLogs(logDir)
		}
		if rerr := s.Remove(); rerr != nil {
			err = fmt.Errorf("%w (and removing the stack: %w)", err, rerr)
		}
		return nil, err
	}
	// In two steps: a swarm has no depends_on, and nginx and HAProxy
	// resolve "origin" once as they start and exit if it has no address
	// yet (dnsrr: no address before its task runs). The second deploy
	// updates the stack, adding the proxies; the rest is unchanged.
	s.logf("swarm stack %s: deploying origin and %d workers", name, cfg.Workers)
	if err := s.deploy(ctx, baseFileName, s.services(false)); err != nil {
		return fail(err)
	}
	if len(cfg.Proxies) > 0 {
		s.logf("swarm stack %s: deploying %d proxies", name, len(cfg.Proxies))
		if err := s.deploy(ctx, stackFileName, s.services(true)); err != nil {
			return fail(err)
		}
	}
	return s, nil
}

// deploy deploys (or updates) the stack from file and waits until svcs run.
func (s *Stack) deploy(ctx context.Context, file string, svcs []string) error {
	cmd := exec.CommandContext(ctx, s.docker, "stack", "deploy", "-c", file, s.name)
	cmd.Dir = s.dir
	childproc.OwnGroup(cmd)
	cmd.WaitDelay = 5 * time.Second
	if out, err := cmd.CombinedOutput(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("docker stack deploy %s: %s", s.name, oneLine(out, err))
	}
	return s.waitReady(ctx, svcs)
}

// The stack files in the work dir (JSON is YAML): the origin and the
// workers, then everything.
const (
	baseFileName  = "stack-base.json"
	stackFileName = "stack.json"
)

// scenarioFile is the coordinator's scenario in the work dir.
const scenarioFile = "scenario.yaml"

func (s *Stack) writeFiles() error {
	base, _ := s.cfg.stack(false)
	sf, files := s.cfg.stack(true)
	for name, f := range map[string]stackFile{baseFileName: base, stackFileName: sf} {
		b, err := f.marshal()
		if err != nil {
			return err
		}
		files = append(files, file{name: name, content: b})
	}
	for _, f := range files {
		p := filepath.Join(s.dir, filepath.FromSlash(f.name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("swarm work dir: %w", err)
		}
		if err := os.WriteFile(p, f.content, 0o600); err != nil {
			return fmt.Errorf("swarm work dir: %w", err)
		}
	}
	return nil
}

// Name is the stack's name: its services are <name>_<service>, its
// network <name>_default.
func (s *Stack) Name() string { return s.name }

// Network is the stack's overlay network.
func (s *Stack) Network() string { return s.name + "_default" }

func newName() (string, error) {
	var b [5]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("stack name: %w", err)
	}
	return "sseload-" + hex.EncodeToString(b[:]), nil
}

// NewToken returns a random token for a stack's workers: 32 bytes, hex.
func NewToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("worker token: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

func (s *Stack) logf(format string, args ...any) {
	if s.log != nil {
		fmt.Fprintf(s.log, format+"\n", args...)
	}
}

// services are the stack's services by their short names, with or
// without the proxies.
func (s *Stack) services(proxies bool) []string {
	out := []string{compose.ServiceOrigin, ServiceWorker}
	if proxies {
		for _, pr := range s.cfg.Proxies {
			out = append(out, pr.Spec.Name)
		}
	}
	return out
}

// waitReady waits until every service of svcs runs all its replicas,
// failing at once when a task failed (its error and service named), then
// probes the HTTP ones from a container on the stack's network.
func (s *Stack) waitReady(parent context.Context, svcs []string) error {
	ctx, cancel := context.WithTimeout(parent, readyTimeout)
	defer cancel()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		done, err := s.tasksRunning(ctx, svcs)
		if err != nil && ctx.Err() == nil {
			return err
		}
		if done {
			break
		}
		select {
		case <-ctx.Done():
			if parent.Err() != nil {
				return parent.Err()
			}
			return fmt.Errorf("swarm stack %s: not every task runs after %s: %s", s.name, readyTimeout, s.pending())
		case <-tick.C:
		}
	}
	var urls []string
	for _, svc := range svcs {
		if svc != ServiceWorker {
			urls = append(urls, compose.ServiceURL(svc)+"/healthz")
		}
	}
	args := append([]string{"run", "--rm", "--network", s.Network(), "--label", stackLabel + "=" + s.name,
		s.cfg.Images.SSELoad, "probe", "--timeout", "30s"}, urls...)
	if out, err := compose.Output(ctx, s.docker, args...); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		msg := oneLine(out, err)
		for _, svc := range svcs {
			if strings.Contains(msg, compose.ServiceURL(svc)+"/") {
				return fmt.Errorf("service %s not ready: %s", svc, msg)
			}
		}
		return fmt.Errorf("services not ready: %s", msg)
	}
	s.logf("swarm stack %s: %s run", s.name, strings.Join(svcs, ", "))
	return nil
}

// tasksRunning says whether every task of the stack runs; a task that
// failed, was rejected or exited is an error naming its service.
func (s *Stack) tasksRunning(ctx context.Context, svcs []string) (bool, error) {
	out, err := compose.Output(ctx, s.docker, "stack", "ps", s.name, "--no-trunc",
		"--format", "{{.Name}}\t{{.DesiredState}}\t{{.CurrentState}}\t{{.Error}}")
	if err != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		return false, nil // the stack's tasks may not exist yet
	}
	running := map[string]int{}
	// Not trimmed: the last line's empty error field ends in a tab.
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 4 {
			continue
		}
		svc := strings.TrimPrefix(f[0], s.name+"_")
		if i := strings.IndexByte(svc, '.'); i >= 0 {
			svc = svc[:i]
		}
		state := strings.Fields(f[2])
		if len(state) == 0 {
			continue
		}
		switch state[0] {
		case "Running":
			running[svc]++
		case "Failed", "Rejected", "Complete", "Shutdown", "Orphaned":
			why := f[3]
			if why == "" {
				why = f[2]
			}
			return false, fmt.Errorf("service %s: task %s stopped while starting: %s", svc, f[0], why)
		}
	}
	for _, svc := range svcs {
		want := 1
		if svc == ServiceWorker {
			want = s.cfg.Workers
		}
		if running[svc] < want {
			return false, nil
		}
	}
	return true, nil
}

// pending says which tasks do not run, and in what state they are.
func (s *Stack) pending() string {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := compose.Output(ctx, s.docker, "stack", "ps", s.name, "--no-trunc",
		"--format", "{{.Name}} {{.CurrentState}} {{.Error}}")
	if err != nil {
		return oneLine(out, err)
	}
	var waiting []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[1] != "Running" {
			waiting = append(waiting, strings.TrimPrefix(line, s.name+"_"))
		}
	}
	return strings.Join(waiting, "; ")
}

// coordinatorName is the coordinator container's name.
func (s *Stack) coordinatorName() string { return s.name + "-coordinator" }

// RunCoordinator runs `sseload args...` in a container on the stack's
// network (the coordinator), with the token in its environment, scenario
// mounted read-only at ScenarioMount and resultsDir at ResultsMount, as
// uid:gid user ("" = this process's), and returns its exit code.
//
// When ctx ends first, the coordinator gets SIGINT, as from a Ctrl-C: it
// stops its workers, writes what they measured and exits 130; after
// compose.InterruptGrace it is killed.
func (s *Stack) RunCoordinator(ctx context.Context, args []string, scenario []byte, resultsDir, user string, stdout, stderr io.Writer) (int, error) {
	abs, err := filepath.Abs(resultsDir)
	if err != nil {
		return -1, fmt.Errorf("results directory %s: %w", resultsDir, err)
	}
	scen := filepath.Join(s.dir, scenarioFile)
	if err := os.WriteFile(scen, scenario, 0o644); err != nil {
		return -1, fmt.Errorf("swarm work dir: %w", err)
	}
	if user == "" {
		user = strconv.Itoa(os.Getuid()) + ":" + strconv.Itoa(os.Getgid())
	}
	full := append([]string{"run", "--rm", "--name", s.coordinatorName(),
		"--label", stackLabel + "=" + s.name,
		"--network", s.Network(),
		"--user", user,
		"--env", EnvToken, // its value from this command's environment, never its argv
		"--volume", abs + ":" + ResultsMount,
		"--volume", scen + ":" + ScenarioMount + ":ro",
		s.cfg.Images.SSELoad}, args...)
	cmd := exec.Command(s.docker, full...)
	cmd.Env = append(os.Environ(), EnvToken+"="+s.cfg.Token)
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	childproc.OwnGroup(cmd)
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		return -1, fmt.Errorf("start coordinator: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-ctx.Done():
		err = s.interrupt(done)
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &ee):
		return ee.ExitCode(), nil
	}
	return -1, fmt.Errorf("coordinator: %w", err)
}

// interrupt sends SIGINT to the coordinator until docker accepts it (the
// container may still be starting), then waits for it to write its results
// and exit, killing it after compose.InterruptGrace.
func (s *Stack) interrupt(done <-chan error) error {
	return compose.Interrupt(s.docker, s.coordinatorName(), done, func() {
		s.logf("swarm: interrupting the coordinator (it writes what the workers measured)")
	})
}

// ImageVersion runs kind's version command in image (a one-off container
// on this node, as the image is the same on every node) and returns its
// output.
func (s *Stack) ImageVersion(ctx context.Context, image string, argv []string) (string, error) {
	out, err := compose.Output(ctx, s.docker, append([]string{"run", "--rm", "--network", "none", "--entrypoint", argv[0], image}, argv[1:]...)...)
	if err != nil {
		return "", fmt.Errorf("%s in %s: %s", strings.Join(argv, " "), image, oneLine(out, err))
	}
	return string(out), nil
}

// SaveLogs writes the last LogTailLines log lines of each service (all its
// tasks, on every node) to dir/<service>.log and returns the files written.
func (s *Stack) SaveLogs(dir string) []string {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var files []string
	for _, svc := range s.services(true) {
		out, err := compose.Output(ctx, s.docker, "service", "logs", "--no-task-ids", "--tail", strconv.Itoa(LogTailLines), s.name+"_"+svc)
		if err != nil && len(out) == 0 {
			continue
		}
		p := filepath.Join(dir, svc+".log")
		if os.WriteFile(p, out, 0o644) == nil {
			files = append(files, p)
		}
	}
	return files
}

// Remove removes the coordinator's container and the stack — its
// services, network and configs — and waits until they are gone, then the
// work dir. Idempotent; it runs to the end (within removeTimeout) even
// after the run's context was cancelled. If it cannot, the janitor tries
// again.
func (s *Stack) Remove() error {
	s.removeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), removeTimeout)
		defer cancel()
		s.removeErr = RemoveStack(ctx, s.docker, s.name)
		s.janitor.Stop(s.removeErr == nil, removeTimeout)
		if err := os.RemoveAll(s.dir); err != nil && s.removeErr == nil {
			s.removeErr = fmt.Errorf("remove swarm work dir: %w", err)
		}
	})
	return s.removeErr
}

// RemoveStack removes stack name and the containers labelled with it, and
// waits until Leftovers finds nothing. `docker stack rm` returns before
// the tasks have stopped, and cannot remove the network while they hold
// it; it is repeated until all is gone.
func RemoveStack(ctx context.Context, docker, name string) error {
	_, _ = compose.Output(ctx, docker, "rm", "-f", name+"-coordinator")
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		if i%6 == 0 { // every 3 s
			_, _ = compose.Output(ctx, docker, "stack", "rm", name)
		}
		left, err := Leftovers(ctx, docker, name)
		if err == nil && left == "" {
			return nil
		}
		select {
		case <-ctx.Done():
			if err != nil {
				return fmt.Errorf("remove stack %s: %w", name, err)
			}
			return fmt.Errorf("remove stack %s: still there after %s: %s", name, removeTimeout, left)
		case <-tick.C:
		}
	}
}

// Leftovers lists what still carries stack name's label: services,
// containers, networks, configs ("" when nothing does).
func Leftovers(ctx context.Context, docker, name string) (string, error) {
	filter := "label=" + stackLabel + "=" + name
	var left []string
	for _, args := range [][]string{
		{"service", "ls", "--filter", filter, "--format", "service {{.Name}}"},
		{"ps", "-a", "--filter", filter, "--format", "container {{.Names}}"},
		{"network", "ls", "--filter", filter, "--format", "network {{.Name}}"},
		{"config", "ls", "--filter", filter, "--format", "config {{.Name}}"},
	} {
		out, err := compose.Output(ctx, docker, args...)
		if err != nil {
			return "", fmt.Errorf("docker %s: %s", strings.Join(args, " "), oneLine(out, err))
		}
		if t := strings.TrimSpace(string(out)); t != "" {
			left = append(left, strings.ReplaceAll(t, "\n", ", "))
		}
	}
	return strings.Join(left, "; "), nil
}

// janitorScript removes the coordinator and the stack ($1, using docker
// $2) and the work dir ($3) unless it reads "done" first. Like the compose
// topology's janitor, it runs in its own process group with its stdin the
// read end of a pipe only sseload writes to: if sseload dies in any way,
// read gets EOF and the stack is removed anyway.
const janitorScript = `read -r line
[ "$line" = done ] && exit 0
"$2" rm -f "$1-coordinator" >/dev/null 2>&1
for i in 1 2 3 4 5 6 7 8 9 10; do
	"$2" stack rm "$1" >/dev/null 2>&1
	[ -z "$("$2" network ls -q --filter "label=com.docker.stack.namespace=$1")" ] && break
	sleep 3
done
rm -rf "$3"
`

// oneLine condenses a failed command's output to its last non-empty line,
// or the error when there is none.
func oneLine(out []byte, err error) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if last := strings.TrimSpace(lines[len(lines)-1]); last != "" {
		return last
	}
	if err == nil {
		return "(no output)"
	}
	return err.Error()
}
