package compose

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/sseload/sseload/internal/childproc"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sseload/sseload/topology"
)

const (
	// LogTailLines is how much of each service's log a failure saves.
	LogTailLines = 50
	// readyTimeout bounds the wait for every service to answer /healthz.
	readyTimeout = 30 * time.Second
	// InterruptGrace is how long the load generator gets to write its
	// results after SIGINT before it is killed.
	InterruptGrace = 60 * time.Second
	// downTimeout bounds teardown; stopTimeout is compose's grace per
	// container before SIGKILL.
	downTimeout = 2 * time.Minute
	stopTimeout = "5"
	// defaultNofile is the descriptor limit of the services when
	// Config.Nofile is 0: what nginx-sse.conf's worker_rlimit_nofile asks
	// for.
	defaultNofile = 20000
)

// Config is one compose run.
type Config struct {
	// Name is the project name; "" = a new unique one (see Name).
	Name   string
	Images Images
	// Proxies are the run's proxied targets, each a service named after
	// its target that runs the prepared config (topology.PrepareConfig, the
	// overrides applied) the way its kind says (topology.Kind.Container).
	// The origin always runs; the direct target needs nothing more.
	Proxies []topology.Prepared
	// OriginArgs are the origin's flags after `origin --listen :8080`
	// (mode, interval, events, epoch, ...).
	OriginArgs []string
	// Scenario is the scenario the load generator runs, as a file
	// (scenarios.Marshal); it is mounted read-only at ScenarioMount.
	Scenario []byte
	// ResultsDir is the host directory mounted at /results for the load
	// generator; on failure each service's last log lines go there too.
	ResultsDir string
	// User is the uid:gid the load generator runs as, so that its results
	// belong to the caller; "" = the calling process's ids.
	User string
	// Nofile is RLIMIT_NOFILE (the hard limit of every service, the soft
	// limit of all but the *-stock presets, which keep Debian's); 0 =
	// 20000. A container cannot be given more than the engine itself has
	// (dockerd's LimitNOFILE); Up says so when that is the failure.
	Nofile int
	// Log receives one line per step; nil = discarded.
	Log io.Writer
}

// Project is one running compose project: its own name, network and
// containers. Down removes them all; so does the janitor if this process
// dies without calling Down.
type Project struct {
	d    *Docker
	name string
	dir  string // work dir: compose.json, scenario.yaml, proxies/
	cfg  Config

	janitor *Janitor

	downOnce sync.Once
	downErr  error
}

// Up writes the topology to a work dir, starts the origin and a service per
// proxy under a new project name, and waits until each answers GET /healthz
// from inside the compose network (through the proxy for proxies). On any
// failure it saves each service's last log lines to cfg.ResultsDir, tears
// the project down, and returns an error naming the service that failed.
func Up(ctx context.Context, d *Docker, cfg Config) (*Project, error) {
	if cfg.Images.SSELoad == "" {
		return nil, errors.New("compose: no sseload image")
	}
	if err := checkProxies(cfg.Proxies, cfg.Images); err != nil {
		return nil, err
	}
	if cfg.ResultsDir == "" {
		return nil, errors.New("compose: no results directory")
	}
	abs, err := filepath.Abs(cfg.ResultsDir)
	if err != nil {
		return nil, fmt.Errorf("results directory %s: %w", cfg.ResultsDir, err)
	}
	cfg.ResultsDir = abs
	if cfg.User == "" {
		cfg.User = strconv.Itoa(os.Getuid()) + ":" + strconv.Itoa(os.Getgid())
	}
	if cfg.Nofile <= 0 {
		cfg.Nofile = defaultNofile
	}
	name := cfg.Name
	if name == "" {
		if name, err = newProjectName(); err != nil {
			return nil, err
		}
	}
	dir, err := os.MkdirTemp("", name+"-")
	if err != nil {
		return nil, fmt.Errorf("compose work dir: %w", err)
	}
	p := &Project{d: d, name: name, dir: dir, cfg: cfg}
	if err := p.writeFiles(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if p.janitor, err = StartJanitor(janitorScript, p.name, p.d.docker, p.dir); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	p.logf("compose project %s (%s): starting %s", name, d.ComposeCommand(), strings.Join(p.services(), ", "))

	fail := func(err error) (*Project, error) {
		if ctx.Err() == nil {
			p.SaveLogs()
		}
		if derr := p.Down(); derr != nil {
			err = fmt.Errorf("%w (and teardown: %w)", err, derr)
		}
		return nil, err
	}
	args := append([]string{"up", "-d", "--no-build"}, p.services()...)
	if out, err := p.composeOutput(ctx, args...); err != nil {
		if ctx.Err() != nil {
			return fail(ctx.Err())
		}
		if bytes.Contains(out, []byte("error setting rlimit")) {
			return fail(fmt.Errorf("the Docker engine cannot give containers %d open files (RLIMIT_NOFILE): its own limit is lower; raise dockerd's (LimitNOFILE in docker.service) or run fewer connections", cfg.Nofile))
		}
		if svc := p.exitedService(); svc != "" {
			return fail(p.exitedError(svc, "failed to start: "+oneLine(out, err)))
		}
		return fail(fmt.Errorf("compose up: %s\n%s", oneLine(out, err), lastLines(out, 12)))
	}
	if err := p.waitReady(ctx); err != nil {
		return fail(err)
	}
	return p, nil
}

// Name is the compose project name, unique per run ("sseload-" and 10 hex
// digits): containers, network and labels all carry it.
func (p *Project) Name() string { return p.name }

func newProjectName() (string, error) {
	var b [5]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("project name: %w", err)
	}
	return "sseload-" + hex.EncodeToString(b[:]), nil
}

func (p *Project) logf(format string, args ...any) {
	if p.cfg.Log != nil {
		fmt.Fprintf(p.cfg.Log, format+"\n", args...)
	}
}

// composeCmd is a compose command for this project. It runs in its own
// process group, so a Ctrl-C in the terminal reaches sseload only, which
// then stops the run in order.
func (p *Project) composeCmd(ctx context.Context, args ...string) *exec.Cmd {
	full := append(append([]string(nil), p.d.compose[1:]...),
		"-p", p.name, "-f", filepath.Join(p.dir, projectFile))
	full = append(full, args...)
	cmd := exec.CommandContext(ctx, p.d.compose[0], full...)
	cmd.Dir = p.dir
	childproc.OwnGroup(cmd)
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// composeOutput runs a compose command and returns its combined output.
func (p *Project) composeOutput(ctx context.Context, args ...string) ([]byte, error) {
	var buf bytes.Buffer
	cmd := p.composeCmd(ctx, args...)
	cmd.Stdout = &buf
	cmd.Stderr = &buf
	err := cmd.Run()
	return buf.Bytes(), err
}

// waitReady runs `sseload probe` in a one-off load generator container on
// the project's network against /healthz of every started service.
func (p *Project) waitReady(ctx context.Context) error {
	urls := []string{OriginURL + "/healthz"}
	for _, pr := range p.cfg.Proxies {
		urls = append(urls, TargetURL(pr.Spec)+"/healthz")
	}
	args := []string{"run", "--rm", "-T", "--no-deps", ServiceLoadgen, "probe", "--timeout", readyTimeout.String()}
	if p.hasTLS() {
		args = append(args, "--ca-cert", CAFile)
	}
	args = append(args, urls...)
	// A service that exits will never answer: watch for that meanwhile, and
	// stop the probe at once instead of after readyTimeout.
	pctx, stopProbe := context.WithCancel(ctx)
	defer stopProbe()
	exited := make(chan string, 1)
	go func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-pctx.Done():
				return
			case <-tick.C:
				if svc := p.exitedService(); svc != "" {
					exited <- svc
					stopProbe()
					return
				}
			}
		}
	}()
	out, err := p.composeOutput(pctx, args...)
	stopProbe()
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	svc := ""
	select {
	case svc = <-exited:
	default:
		svc = p.exitedService()
	}
	if svc != "" {
		return p.exitedError(svc, "exited while starting: "+p.lastLogLine(svc))
	}
	// The probe names the first URL that did not answer; its host is the
	// service.
	msg := oneLine(out, err)
	if strings.Contains(msg, OriginURL+"/") {
		return fmt.Errorf("service %s not ready: %s (its last log lines are in %s)", ServiceOrigin, msg, p.logPath(ServiceOrigin))
	}
	for _, pr := range p.cfg.Proxies {
		if s := pr.Spec.Name; strings.Contains(msg, TargetURL(pr.Spec)+"/") {
			return fmt.Errorf("service %s not ready: %s (its last log lines are in %s)", s, msg, p.logPath(s))
		}
	}
	return fmt.Errorf("services not ready: %s\n%s", msg, lastLines(out, 12))
}

// exitedService returns the first service whose container is not
// running, or "".
func (p *Project) exitedService() string {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cs, err := p.containers(ctx)
	if err != nil {
		return ""
	}
	for _, s := range p.services() {
		if c, ok := cs[s]; !ok || !c.running {
			return s
		}
	}
	return ""
}

// lastLogLine is the last line service logged.
func (p *Project) lastLogLine(service string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := p.Logs(ctx, service, 5)
	return oneLine(out, err)
}

// logPath is where SaveLogs puts a service's log lines.
func (p *Project) logPath(service string) string {
	return filepath.Join(p.cfg.ResultsDir, service+".log")
}

// RunLoadgen runs the load generator (`sseload args...` in a one-off
// loadgen container on the project's network, results in /results) and
// returns its exit code. stdout and stderr receive the generator's.
//
// When ctx ends first, the generator gets SIGINT, as from a Ctrl-C: it
// closes its streams, writes what it measured and exits 130; if it has not
// exited after InterruptGrace it is killed. A generator that exits with a
// code other than 0, 1 (a threshold failed) or 130 has its last output
// lines saved as loadgen.log in ResultsDir.
func (p *Project) RunLoadgen(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	container := p.loadgenName()
	tail := &tailBuffer{max: LogTailLines}
	cmd := p.composeCmd(context.Background(),
		append([]string{"run", "--rm", "-T", "--no-deps", "--name", container, ServiceLoadgen}, args...)...)
	cmd.Stdout = io.MultiWriter(stdout, tail)
	cmd.Stderr = io.MultiWriter(&chatterFilter{w: stderr, project: []byte(p.name)}, tail)
	if err := cmd.Start(); err != nil {
		return -1, fmt.Errorf("start load generator: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		err = p.interrupt(container, done)
	}
	code := -1
	var ee *exec.ExitError
	switch {
	case err == nil:
		code = 0
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		return -1, fmt.Errorf("load generator: %w", err)
	}
	if code != 0 && code != 1 && code != 130 {
		_ = os.WriteFile(p.logPath(ServiceLoadgen), tail.bytes(), 0o644)
		return code, fmt.Errorf("service %s exited with code %d: %s (its last lines are in %s)",
			ServiceLoadgen, code, lastMessage(tail.bytes()), p.logPath(ServiceLoadgen))
	}
	return code, nil
}

// interrupt sends SIGINT to the load generator's container until docker
// accepts it (the container may still be starting), then waits for the
// generator to write its results and exit.
func (p *Project) interrupt(container string, done <-chan error) error {
	return Interrupt(p.d.docker, container, done, func() {
		p.logf("compose: interrupting the load generator (it writes what it measured)")
	})
}

// SaveLogs writes the last LogTailLines log lines of each service to
// ResultsDir/<service>.log and returns the files written.
func (p *Project) SaveLogs() []string {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var files []string
	for _, s := range p.services() {
		out, err := p.Logs(ctx, s, LogTailLines)
		if err != nil && len(out) == 0 {
			continue
		}
		if os.WriteFile(p.logPath(s), out, 0o644) == nil {
			files = append(files, p.logPath(s))
		}
	}
	return files
}

// Down removes the project's containers, network and volumes (`down
// --remove-orphans -v`, also the one-off containers) and its work dir.
// Idempotent; it runs to the end even after the run's context was
// cancelled. If compose fails, the janitor removes what carries the
// project's label.
func (p *Project) Down() error {
	p.downOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), downTimeout)
		defer cancel()
		out, err := p.composeOutput(ctx, "down", "--remove-orphans", "-v", "-t", stopTimeout)
		if err != nil {
			p.downErr = fmt.Errorf("compose down (project %s): %s", p.name, oneLine(out, err))
		}
		p.janitor.Stop(err == nil, downTimeout)
		if err := os.RemoveAll(p.dir); err != nil && p.downErr == nil {
			p.downErr = fmt.Errorf("remove compose work dir: %w", err)
		}
	})
	return p.downErr
}

// janitorScript removes every container and network labelled with the
// project ($1, using docker $2) and the work dir ($3) unless it reads "done"
// first. It runs detached from sseload
// (own process group) with its stdin the read end of a pipe only sseload
// writes to: if sseload dies in any way — a second Ctrl-C's os.Exit, SIGKILL
// — the kernel closes the write end, read gets EOF, and the project is
// removed anyway.
const janitorScript = `read -r line
[ "$line" = done ] && exit 0
c=$("$2" ps -aq --filter "label=com.docker.compose.project=$1")
[ -z "$c" ] || "$2" rm -f -v $c
n=$("$2" network ls -q --filter "label=com.docker.compose.project=$1")
[ -z "$n" ] || "$2" network rm $n
rm -rf "$3"
`

// tailBuffer keeps the last max lines written to it.
type tailBuffer struct {
	mu    sync.Mutex
	max   int
	lines [][]byte
	part  []byte
}

func (t *tailBuffer) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(b)
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			t.part = append(t.part, b...)
			break
		}
		line := append(t.part, b[:i+1]...)
		t.part = nil
		t.lines = append(t.lines, line)
		if len(t.lines) > t.max {
			t.lines = t.lines[1:]
		}
		b = b[i+1:]
	}
	return n, nil
}

func (t *tailBuffer) bytes() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append(bytes.Join(t.lines, nil), t.part...)
}

// chatterFilter passes on whole lines except compose's own status lines
// about the project's containers ("Creating sseload-…_loadgen_run ...
// done", v2's " Container sseload-… Started"): they carry the project name,
// which the generator's own output never does.
type chatterFilter struct {
	w       io.Writer
	project []byte
	part    []byte
}

func (f *chatterFilter) Write(b []byte) (int, error) {
	f.part = append(f.part, b...)
	for {
		i := bytes.IndexByte(f.part, '\n')
		if i < 0 {
			return len(b), nil
		}
		line := f.part[:i+1]
		f.part = f.part[i+1:]
		// v1 also prints the container's exit code on a line of its own.
		if bytes.Contains(line, f.project) || isNumber(bytes.TrimSpace(line)) {
			continue
		}
		if _, err := f.w.Write(line); err != nil {
			return len(b), err
		}
	}
}

func isNumber(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

// lastMessage is the generator's last line of output, skipping compose's
// exit-code line and the generator's "sseload: " prefix.
func lastMessage(out []byte) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l != "" && !isNumber([]byte(l)) {
			return strings.TrimPrefix(l, "sseload: ")
		}
	}
	return "(no output)"
}

// exitedError is the error for service svc, which stopped while the project
// started. A proxy that exits at start refused its config (its own line
// says why): that is the user's input, topology.ErrConfig, named with the
// config's file as on the local topology.
func (p *Project) exitedError(svc, what string) error {
	for _, pr := range p.cfg.Proxies {
		if pr.Spec.Name == svc {
			return fmt.Errorf("%s: %s: %w: service %s %s (its last log lines are in %s)", svc, pr.Spec.ConfigName(), topology.ErrConfig, svc, what, p.logPath(svc))
		}
	}
	return fmt.Errorf("service %s %s (its last log lines are in %s)", svc, what, p.logPath(svc))
}
