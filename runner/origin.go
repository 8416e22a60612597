package runner

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"github.com/sseload/sseload/internal/childproc"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sseload/sseload/origin"
	"github.com/sseload/sseload/scenarios"
)

// startOriginInProcess runs the measurement origin inside this process (when
// there is no executable to run it as a child with) and returns its address
// and a function that stops it.
func startOriginInProcess(cfg origin.Config, listen string) (addr string, stop func(), err error) {
	srv, err := origin.New(cfg)
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return "", nil, fmt.Errorf("origin listen %s: %w", listen, err)
	}
	octx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(octx, ln) }()
	return ln.Addr().String(), func() { cancel(); <-served }, nil
}

// originConfig is the measurement origin a scenario asks for.
func originConfig(sc scenarios.Scenario) origin.Config {
	return origin.Config{
		// One schedule for the whole run: an origin restarted mid-run (a
		// fault) or several origin shards publish the same events.
		Epoch:    time.Now(),
		Mode:     origin.Mode(sc.Mode),
		Interval: sc.Interval,
		Events:   sc.Events,
		Payload:  sc.Payload,
		XAccel:   sc.XAccel,
		RetryMS:  sc.RetryMS,
		// The head at once, unless the scenario reproduces an origin
		// that sends it with its first event.
		HeadWithFirstEvent: sc.HeadWithFirstEvent,
		// Comments on quiet streams, for idle timeouts on the path; 0 = none.
		Heartbeat: sc.Heartbeat,
	}
}

// originFlags are the `sseload origin` flags for cfg, for a child process
// or the compose topology's origin service.
func originFlags(cfg origin.Config) []string {
	return []string{
		"--mode=" + string(cfg.Mode),
		"--interval=" + cfg.Interval.String(),
		"--events=" + strconv.Itoa(cfg.Events),
		"--payload=" + strconv.Itoa(cfg.Payload),
		"--x-accel=" + strconv.FormatBool(cfg.XAccel),
		"--retry=" + strconv.Itoa(cfg.RetryMS),
		"--head-with-first-event=" + strconv.FormatBool(cfg.HeadWithFirstEvent),
		"--heartbeat=" + cfg.Heartbeat.String(),
		"--epoch=" + strconv.FormatInt(cfg.Epoch.UnixNano(), 10),
	}
}

// originReadyPrefix starts the line `sseload origin` prints once it listens.
const originReadyPrefix = "sseload origin: listening on "

// originProc is one `sseload origin` child process. It can be killed and
// started again on the same address (the origin-restart fault): its events
// are a pure function of the shared --epoch, so the new process publishes
// the same schedule and replays by Last-Event-ID.
type originProc struct {
	bin string
	cfg origin.Config

	mu      sync.Mutex
	addr    string     // where it listens; a restart listens here again
	run     *originRun // the current process; nil before the first
	stopped bool       // stop was called: never start again
}

// originRun is one process of an originProc.
type originRun struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once cmd has been waited for
	err  error         // cmd.Wait's result, set before done is closed
}

// startOriginProcess runs `sseload origin` as a child that dies with us
// (Pdeathsig) and waits for the line saying where it listens.
func startOriginProcess(ctx context.Context, bin, listen string, cfg origin.Config) (*originProc, error) {
	p := &originProc{bin: bin, cfg: cfg}
	if err := p.launch(ctx, listen); err != nil {
		return nil, err
	}
	return p, nil
}

// launch starts the process on listen and waits until it listens.
func (p *originProc) launch(ctx context.Context, listen string) error {
	args := append([]string{"origin", "--listen", listen}, originFlags(p.cfg)...)
	cmd := exec.Command(p.bin, args...)
	childproc.Setup(cmd, false) // dies with sseload where the kernel can
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("origin process: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("origin process %s: %w", p.bin, err)
	}
	release := childproc.Record(cmd, false)
	run := &originRun{cmd: cmd, done: make(chan struct{})}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), originReadyPrefix); ok {
				lines <- a
			}
		}
		run.err = cmd.Wait()
		release()
		close(run.done)
	}()
	p.mu.Lock()
	p.run = run
	p.mu.Unlock()
	select {
	case a := <-lines:
		p.mu.Lock()
		p.addr = a
		p.mu.Unlock()
		return nil
	case <-run.done:
		err := run.err
		if err == nil {
			err = errors.New("exited")
		}
		return fmt.Errorf("origin process %s: %w before it listened", p.bin, err)
	case <-ctx.Done():
		p.stop()
		return ctx.Err()
	}
}

// address returns where the origin listens.
func (p *originProc) address() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.addr
}

// stop ends the origin for good: SIGTERM (its streams end cleanly), SIGKILL
// after 5 s.
func (p *originProc) stop() {
	p.mu.Lock()
	p.stopped = true
	run := p.run
	p.mu.Unlock()
	if run == nil {
		return
	}
	if err := run.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		_ = run.cmd.Process.Kill() // no SIGTERM to send (Windows)
	}
	t := time.AfterFunc(5*time.Second, func() { _ = run.cmd.Process.Kill() })
	defer t.Stop()
	<-run.done
}

// kill ends the process at once with SIGKILL, as a crash would: its
// connections are reset or closed without a clean end.
func (p *originProc) kill() {
	p.mu.Lock()
	run := p.run
	p.mu.Unlock()
	if run == nil {
		return
	}
	_ = run.cmd.Process.Kill()
	<-run.done
}

// restart kills the process, waits down, and starts it again on the same
// address, unless stop was called or ctx ended meanwhile.
func (p *originProc) restart(ctx context.Context, down time.Duration) error {
	p.kill()
	t := time.NewTimer(down)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return nil // the run is over: nothing to come back for
	case <-t.C:
	}
	p.mu.Lock()
	stopped, addr := p.stopped, p.addr
	p.mu.Unlock()
	if stopped {
		return nil
	}
	if err := p.launch(ctx, addr); err != nil {
		return fmt.Errorf("restart the origin on %s: %w", addr, err)
	}
	return nil
}
