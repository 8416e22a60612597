package topology

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sseload/sseload/internal/certs"
	"github.com/sseload/sseload/internal/childproc"
)

const (
	// readyLimit bounds the wait for one proxy to answer /healthz.
	readyLimit = 10 * time.Second
	// quitGrace is how long Stop lets a proxy finish gracefully before it
	// kills the process group.
	quitGrace = 5 * time.Second
	// bindAttempts: the free port is found by binding :0 and closing, so
	// another process can take it before the proxy binds; try again then.
	bindAttempts = 3
	// logTailLines is how much of the log goes into a start error.
	logTailLines = 12
	// logSnapshotMax caps the log kept in memory when Stop removes the
	// work dir.
	logSnapshotMax = 1 << 20
)

// proxyProc is one running proxy: a main process and its workers in their
// own process group, under its own prefix directory. Whatever the proxy
// prints, and nginx's error log, goes to logs/error.log in the prefix.
type proxyProc struct {
	name   string
	kind   Kind
	prefix string
	port   int
	cmd    *exec.Cmd
	reload func(pid int) error
	stopSg syscall.Signal
	scheme string         // http, or https for a TLS target
	roots  *x509.CertPool // the run's CA, for the readiness probe over TLS

	// done is closed when the main process has been reaped; waitErr is
	// set before.
	done    chan struct{}
	waitErr error

	// tether is the write end of a pipe whose read end only the proxy
	// holds. When it closes — Stop, or the kernel closing the files of a
	// killed sseload — the pipe's O_ASYNC notification sends SIGKILL to the
	// proxy's process group. See tether.
	tether *os.File
}

func logPath(prefix string) string { return filepath.Join(prefix, "logs", "error.log") }

func (p *proxyProc) errorLogPath() string { return logPath(p.prefix) }

// startProxy lays out prefix, starts kind's program with conf in front of
// upstreams on a free loopback port, and waits until GET /healthz through
// it answers 200. Errors begin with the target's name and configName (the
// config's file, as the user knows it); a proxy that exits or never
// answers is ErrConfig, with the last lines of its log, which say why.
func startProxy(ctx context.Context, s proxySetup) (*proxyProc, error) {
	kind, name, configName, prefix := s.kind, s.name, s.configName, s.prefix
	if err := os.MkdirAll(filepath.Join(prefix, "logs"), 0o755); err != nil {
		return nil, fmt.Errorf("%s: prefix: %w", name, err)
	}
	ctx, cancel := context.WithTimeout(ctx, readyLimit)
	defer cancel()
	for attempt := 1; ; attempt++ {
		logStart := fileSize(logPath(prefix))
		p, err := launchProxy(s)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", name, configName, err)
		}
		err = p.waitReady(ctx)
		if err == nil {
			return p, nil
		}
		p.stop()
		tail := tailFrom(logPath(prefix), logStart)
		if attempt < bindAttempts && strings.Contains(strings.ToLower(tail), "address already in use") {
			continue
		}
		return nil, fmt.Errorf("%s: %s: %w: %w\n%s log, last lines:\n%s", name, configName, ErrConfig, err, kind.Name(), tail)
	}
}

// proxySetup is what startProxy starts: kind's program bin with conf,
// under prefix, in front of upstreams, for the target name (whose config
// file the user knows as configName); tls set for a TLS target, whose
// readiness probe trusts certs' CA.
type proxySetup struct {
	kind                          Kind
	bin, name, configName, prefix string
	conf                          []byte
	upstreams                     []string
	tls                           *TLS
	certs                         *certs.Set
}

// freeLoopbackPort asks the kernel for a free port by binding 127.0.0.1:0.
// The port is released again before the proxy binds it; startProxy retries
// if someone else took it meanwhile.
func freeLoopbackPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free loopback port: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		return 0, fmt.Errorf("find a free loopback port: %w", err)
	}
	return port, nil
}

// launchProxy prepares the kind's command for a fresh port and starts it
// in a new process group, tethered to sseload. name is the target's, for
// the process; the caller says which target failed.
func launchProxy(s proxySetup) (*proxyProc, error) {
	kind, bin, name, prefix := s.kind, s.bin, s.name, s.prefix
	if err := checkProxiesRun(); err != nil {
		return nil, err
	}
	port, err := freeLoopbackPort()
	if err != nil {
		return nil, err
	}
	c, err := kind.Prepare(Placement{Bin: bin, Prefix: prefix, Conf: s.conf, Listen: "127.0.0.1:" + strconv.Itoa(port), Upstreams: s.upstreams, TLS: s.tls})
	if err != nil {
		return nil, err
	}
	p := &proxyProc{name: name, kind: kind, prefix: prefix, port: port, reload: c.Reload, stopSg: c.Stop, done: make(chan struct{}), scheme: s.tls.scheme()}
	if s.certs != nil {
		p.roots = s.certs.Pool()
	}

	// The proxy's own output (config errors before a log is open) goes to
	// the same file, so one place explains every failure.
	logf, err := os.OpenFile(p.errorLogPath(), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("log: %w", err)
	}
	defer logf.Close()

	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("tether pipe: %w", err)
	}
	defer r.Close() // only the proxy keeps the read end

	cmd := exec.Command(c.Args[0], c.Args[1:]...)
	cmd.Dir = prefix
	cmd.Env = append(os.Environ(), c.Env...)
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.ExtraFiles = []*os.File{r}
	// Own group: Stop signals the main process and its workers at once,
	// and a Ctrl-C in the terminal reaches sseload only, which then stops
	// the proxy in order. On Linux the main process also dies with sseload
	// (Pdeathsig, tied to the forking thread; the tether below covers the
	// case where that thread exits first, and the workers, which Pdeathsig
	// does not reach). Elsewhere a pid file lets the next sseload clean up
	// (childproc).
	childproc.Setup(cmd, true)
	if err := cmd.Start(); err != nil {
		w.Close()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	p.cmd = cmd
	p.tether = w
	release := childproc.Record(cmd, true)
	go func() {
		p.waitErr = cmd.Wait()
		release()
		close(p.done)
	}()
	if err := tether(r, cmd.Process.Pid); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

// url returns the address of path through this proxy.
func (p *proxyProc) url(path string) string {
	return p.scheme + "://127.0.0.1:" + strconv.Itoa(p.port) + path
}

// waitReady polls GET /healthz through the proxy until it answers 200, the
// proxy exits, or ctx ends. The poll is a readiness signal with short
// backoff: a proxy has no other way to say "listening and able to reach the
// origin".
func (p *proxyProc) waitReady(ctx context.Context) error {
	client := &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true, TLSClientConfig: &tls.Config{RootCAs: p.roots}}}
	defer client.CloseIdleConnections()
	url := p.url("/healthz")
	backoff := 5 * time.Millisecond
	var last error
	for {
		err := Get200(ctx, client, url)
		if err == nil {
			return nil
		}
		// A probe cut short by ctx says nothing new; keep the previous
		// answer (e.g. "502 Bad Gateway"), which explains the failure.
		if last == nil || ctx.Err() == nil {
			last = err
		}
		t := time.NewTimer(backoff)
		select {
		case <-p.done:
			t.Stop()
			return fmt.Errorf("%s exited while starting: %v", p.kind.Name(), p.waitErr)
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("not ready (%w); last attempt: %w", ctx.Err(), last)
		case <-t.C:
		}
		backoff = min(2*backoff, 200*time.Millisecond)
	}
}

// Get200 makes one GET of url (bounded to 2 s) and wants status 200: the
// readiness probe of the local and compose topologies.
func Get200(ctx context.Context, client *http.Client, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}

// stop ends the proxy: its graceful signal to the group, SIGKILL to the
// group after quitGrace, then waits for the main process. Closing the
// tether afterwards kills any orphaned worker still alive (a main process
// that died before Stop). Safe to call more than once.
func (p *proxyProc) stop() {
	pgid := p.cmd.Process.Pid
	select {
	case <-p.done:
	default:
		// The main process is not reaped yet, so its pid (= the group id)
		// cannot have been reused.
		_ = signalGroup(pgid, p.stopSg)
		t := time.NewTimer(quitGrace)
		select {
		case <-p.done:
			t.Stop()
		case <-t.C:
			_ = signalGroup(pgid, syscall.SIGKILL)
			<-p.done
		}
	}
	if p.tether != nil {
		p.tether.Close()
		p.tether = nil
	}
}

// fileSize is the file's current size (0 if absent).
func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// tailFrom returns the last logTailLines lines of the file written after
// offset from.
func tailFrom(path string, from int64) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	if from > 0 && from <= int64(len(b)) {
		b = b[from:]
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > logTailLines {
		lines = lines[len(lines)-logTailLines:]
	}
	s := strings.Join(lines, "\n")
	if s == "" {
		return "(empty)"
	}
	return s
}

// readErrorLog returns the log, at most the last logSnapshotMax bytes.
func (p *proxyProc) readErrorLog() (string, error) {
	f, err := os.Open(p.errorLogPath())
	if err != nil {
		return "", fmt.Errorf("%s log: %w", p.name, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("%s log: %w", p.name, err)
	}
	if off := fi.Size() - logSnapshotMax; off > 0 {
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			return "", fmt.Errorf("%s log: %w", p.name, err)
		}
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return "", fmt.Errorf("%s log: %w", p.name, err)
	}
	return string(b), nil
}
