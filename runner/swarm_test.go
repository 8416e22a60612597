package runner

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sseload/sseload/internal/testenv"
	"github.com/sseload/sseload/reports"
	"github.com/sseload/sseload/scenarios"
	"github.com/sseload/sseload/swarm"
	"github.com/sseload/sseload/targets"
)

// stackLog catches the swarm stack's name from Run's messages.
type stackLog struct {
	mu     sync.Mutex
	stack  string
	onLine func(string)
}

var stackRe = regexp.MustCompile(`swarm stack (sseload-[0-9a-f]+)`)

func (l *stackLog) warn(s string) {
	l.mu.Lock()
	if m := stackRe.FindStringSubmatch(s); m != nil && l.stack == "" {
		l.stack = m[1]
	}
	l.mu.Unlock()
	if l.onLine != nil {
		l.onLine(s)
	}
}

func (l *stackLog) name(t *testing.T) string {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stack == "" {
		t.Fatal("Run never said which swarm stack it deployed")
	}
	return l.stack
}

// requireStackGone: nothing of the stack is left, as swarm.Leftovers and
// `docker stack ls`, `docker service ls` see it.
func requireStackGone(t *testing.T, stack string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	left, err := swarm.Leftovers(ctx, "docker", stack)
	if err != nil {
		t.Fatal(err)
	}
	if left != "" {
		t.Errorf("stack %s left after the run: %s", stack, left)
	}
	for _, args := range [][]string{{"stack", "ls"}, {"service", "ls"}} {
		out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("docker %s: %v: %s", strings.Join(args, " "), err, out)
		}
		if strings.Contains(string(out), stack) {
			t.Errorf("docker %s still shows %s:\n%s", strings.Join(args, " "), stack, out)
		}
	}
}

// envInt is the integer in environment variable name, or def.
func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, v, err)
	}
	return n
}

// TestRunSwarm deploys the stack on a real single-node swarm (made for the
// test if the engine is in none): the origin, nginx-sse and 3 worker
// replicas; the coordinator splits every target's streams over the workers
// and merges their results. Every stream is established, no event is lost,
// the merged counts are the sum of the workers', there is one results
// directory, and the stack is gone afterwards. SSELOAD_SWARM_STREAMS
// (streams per worker and target, default 200) and SSELOAD_SWARM_SECONDS
// (default 10) size it; the acceptance run is 2000 and 30.
func TestRunSwarm(t *testing.T) {
	testenv.RequireSwarm(t)
	testenv.RequireDebootstrap(t, targets.Nginx)
	const workers = 3
	perWorker := envInt(t, "SSELOAD_SWARM_STREAMS", 200)
	secs := envInt(t, "SSELOAD_SWARM_SECONDS", 10)
	sc, err := scenarios.Load("steady")
	if err != nil {
		t.Fatal(err)
	}
	sc.Targets = []targets.Spec{preset(t, targets.Direct), preset(t, "nginx-sse")}
	sc.Connections, sc.Duration, sc.Ramp = workers*perWorker, time.Duration(secs)*time.Second, float64(workers*perWorker)
	dir := filepath.Join(t.TempDir(), "results")
	log := &stackLog{onLine: func(s string) { t.Log(s) }}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	out, err := Run(ctx, Options{Scenario: sc, Topology: TopologySwarm, SwarmWorkers: workers, OutDir: dir, Version: "test", Warn: log.warn})
	if err != nil {
		t.Fatal(err)
	}
	requireStackGone(t, log.name(t))
	s, err := reports.ReadSummary(filepath.Join(dir, reports.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	if s.Topology != TopologySwarm || len(s.Targets) != 2 {
		t.Errorf("summary.json: topology %q, %d targets", s.Topology, len(s.Targets))
	}
	for _, tg := range out.Summary.Targets {
		if tg.Connections.Established != int64(sc.Connections) || tg.Events.Lost != 0 || !tg.Events.Accounted || tg.Events.Received == 0 {
			t.Errorf("%s: established %d of %d, lost %d (accounted %v), received %d; errors %v",
				tg.Name, tg.Connections.Established, sc.Connections, tg.Events.Lost, tg.Events.Accounted, tg.Events.Received, tg.Errors)
		}
	}
	if s.Targets[1].Proxy == "" || s.Targets[1].ProxyKind != targets.Nginx {
		t.Errorf("nginx-sse: proxy %q kind %q: want the image's nginx version", s.Targets[1].Proxy, s.Targets[1].ProxyKind)
	}
	checkSwarmWorkers(t, s, workers)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			t.Errorf("results directory holds directory %s: want one results directory", e.Name())
		}
	}
}

// TestRunSwarmInterrupted: a Ctrl-C while the workers hold their streams
// interrupts the coordinator, which still writes what they measured, and
// the stack is removed.
func TestRunSwarmInterrupted(t *testing.T) {
	testenv.RequireSwarm(t)
	sc, err := scenarios.Load("steady")
	if err != nil {
		t.Fatal(err)
	}
	sc.Targets = []targets.Spec{preset(t, targets.Direct)}
	sc.Connections, sc.Duration, sc.Interval = 6, 10*time.Minute, 100*time.Millisecond
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := &stackLog{onLine: func(s string) {
		t.Log(s)
		// The coordinator's first progress line: streams are open.
		if strings.HasPrefix(s, "coordinator: open ") {
			cancel()
		}
	}}
	out, err := Run(ctx, Options{Scenario: sc, Topology: TopologySwarm, SwarmWorkers: 2, OutDir: dir, Version: "test", Warn: log.warn})
	requireStackGone(t, log.name(t))
	if err != nil {
		t.Fatal(err)
	}
	if !out.Summary.Interrupted || len(out.Summary.Targets) != 1 || out.Summary.Targets[0].Connections.Established != 6 {
		t.Errorf("interrupted %v, targets %+v: want partial results of 6 streams", out.Summary.Interrupted, out.Summary.Targets)
	}
}

// TestSwarmRefusesWhatItCannotDo: each of these fails before any Docker
// engine is asked, as a setup error naming the flag or key.
func TestSwarmRefusesWhatItCannotDo(t *testing.T) {
	sc, err := scenarios.Load("steady")
	if err != nil {
		t.Fatal(err)
	}
	faulty := sc
	faulty.Faults = []string{"origin-restart@10s"}
	for name, c := range map[string]struct {
		opts Options
		want string
	}{
		"faults":         {Options{Scenario: faulty}, "faults:"},
		"procs":          {Options{Scenario: sc, Procs: 2}, "--swarm-workers"},
		"negative":       {Options{Scenario: sc, SwarmWorkers: -1}, "--swarm-workers -1"},
		"binary":         {Options{Scenario: sc, Programs: map[string]string{targets.Nginx: "/usr/sbin/nginx"}}, "NGINX_IMAGE"},
		"external fault": {Options{Scenario: sc, ExternalFaults: true}, "--external-faults"},
		"workers":        {Options{Scenario: sc, Workers: []string{"10.0.0.1:7070"}}, "--workers"},
		"segment":        {Options{Scenario: sc, SegmentIndex: 0, SegmentCount: 2}, "--segment"},
	} {
		c.opts.Topology = TopologySwarm
		c.opts.OutDir = t.TempDir()
		_, err := Run(context.Background(), c.opts)
		if !errors.Is(err, ErrSetup) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want a setup error naming %q", name, err, c.want)
		}
	}
}

// checkSwarmWorkers: summary.json's workers[] has one line per replica,
// each with its share established, its clock offset measured against the
// origin, and no error; the merged counts are the sum of the workers'.
func checkSwarmWorkers(t *testing.T, s reports.Summary, replicas int) {
	t.Helper()
	if len(s.Workers) != replicas {
		t.Fatalf("workers[]: %d, want %d: %+v", len(s.Workers), replicas, s.Workers)
	}
	var streams, established, merged, planned int64
	for _, w := range s.Workers {
		if w.Error != "" || w.ClockError != "" || w.Established != w.Streams {
			t.Errorf("worker %s: %d of %d established, error %q, clock error %q", w.Address, w.Established, w.Streams, w.Error, w.ClockError)
		}
		streams += w.Streams
		established += w.Established
	}
	for _, tg := range s.Targets {
		merged += tg.Connections.Established
		planned += tg.Connections.Requested
	}
	if streams != planned || established != merged {
		t.Errorf("workers: %d streams, %d established; merged targets: %d planned, %d established: want equal", streams, established, planned, merged)
	}
	t.Logf("workers: %+v", s.Workers)
}
