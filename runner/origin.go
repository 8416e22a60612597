package runner

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"github.com/sseload/sseload/scenarios"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sseload/sseload/origin"
)

// startOrigin starts the measurement origin for the local topology, in this
// process or as a child (opts.OriginExec), and returns its address and a
// function that stops it.
func startOrigin(ctx context.Context, opts Options) (addr string, stop func(), err error) {
	cfg := originConfig(opts.Scenario)
	if err := cfg.Validate(); err != nil {
		return "", nil, err
	}
	listen := opts.OriginListen
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	if opts.OriginExec != "" {
		return startOriginProcess(ctx, opts.OriginExec, listen, cfg)
	}
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
		"--epoch=" + strconv.FormatInt(cfg.Epoch.UnixNano(), 10),
	}
}

// originReadyPrefix starts the line `sseload origin` prints once it listens.
const originReadyPrefix = "sseload origin: listening on "

// startOriginProcess runs `sseload origin` as a child that dies with us
// (Pdeathsig) and waits for the line saying where it listens.
func startOriginProcess(ctx context.Context, bin, listen string, cfg origin.Config) (string, func(), error) {
	args := append([]string{"origin", "--listen", listen}, originFlags(cfg)...)
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, fmt.Errorf("origin process: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("origin process %s: %w", bin, err)
	}
	exited := make(chan error, 1)
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), originReadyPrefix); ok {
				lines <- a
			}
		}
		exited <- cmd.Wait()
	}()
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		t := time.AfterFunc(5*time.Second, func() { _ = cmd.Process.Kill() })
		defer t.Stop()
		<-exited
	}
	select {
	case a := <-lines:
		return a, stop, nil
	case err := <-exited:
		if err == nil {
			err = errors.New("exited")
		}
		return "", nil, fmt.Errorf("origin process %s: %w before it listened", bin, err)
	case <-ctx.Done():
		stop()
		return "", nil, ctx.Err()
	}
}
