package topology

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

const (
	// readyLimit bounds the wait for one nginx to answer /healthz.
	readyLimit = 10 * time.Second
	// quitGrace is how long Stop lets nginx finish gracefully (SIGQUIT)
	// before it kills the process group.
	quitGrace = 5 * time.Second
	// bindAttempts: the free port is found by binding :0 and closing, so
	// another process can take it before nginx binds; try again then.
	bindAttempts = 3
	// logTailLines is how much of the error log goes into a start error.
	logTailLines = 12
	// logSnapshotMax caps the error log kept in memory when Stop removes the
	// work dir.
	logSnapshotMax = 1 << 20
)

// FindNginx finds the nginx binary: path itself if given, else "nginx"
// in PATH, else /usr/sbin/nginx (Debian installs it there, and /usr/sbin is
// often missing from an unprivileged PATH).
func FindNginx(path string) (string, error) {
	if path != "" {
		fi, err := os.Stat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("%s: %w", path, ErrNginxMissing)
		}
		if err != nil {
			return "", fmt.Errorf("nginx binary %s: %w", path, err)
		}
		if fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
			return "", fmt.Errorf("nginx binary %s is not an executable file: point NginxPath at nginx itself", path)
		}
		return path, nil
	}
	if p, err := exec.LookPath("nginx"); err == nil {
		return p, nil
	}
	const debian = "/usr/sbin/nginx"
	if fi, err := os.Stat(debian); err == nil && !fi.IsDir() && fi.Mode().Perm()&0o111 != 0 {
		return debian, nil
	}
	return "", ErrNginxMissing
}

// NginxVersion runs `nginx -v` and returns "nginx/1.22.1". An empty path is
// looked up like LocalConfig.NginxPath.
func NginxVersion(path string) (string, error) {
	bin, err := FindNginx(path)
	if err != nil {
		return "", err
	}
	// nginx -v prints "nginx version: nginx/1.22.1" to stderr.
	out, err := exec.Command(bin, "-v").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s -v: %w: %s", bin, err, bytes.TrimSpace(out))
	}
	_, v, ok := strings.Cut(string(out), "nginx version: ")
	v, _, _ = strings.Cut(v, "\n")
	v = strings.TrimSpace(v)
	if !ok || v == "" {
		return "", fmt.Errorf("%s -v: no version in output %q", bin, out)
	}
	return v, nil
}

// nginxProc is one running nginx: a master and its workers in their own
// process group, under its own prefix directory.
//
// Layout of prefix:
//
//	conf/nginx.conf            the embedded config, byte for byte
//	conf/sseload-upstream.conf upstream sseload_origin + temp paths
//	conf/sseload-listen.conf   listen 127.0.0.1:PORT;
//	logs/error.log             nginx's error log and its stderr
//	logs/access.log            written by nginx-stock
//	temp/                      client body and proxy temp files
//	nginx.pid
type nginxProc struct {
	name   string
	prefix string
	port   int
	cmd    *exec.Cmd

	// done is closed when the master has been reaped; waitErr is set
	// before.
	done    chan struct{}
	waitErr error

	// tether is the write end of a pipe whose read end only nginx holds.
	// When it closes — Stop, or the kernel closing the files of a killed
	// sseload — the pipe's O_ASYNC notification sends SIGKILL to nginx's
	// process group. See tether.
	tether *os.File
}

func (p *nginxProc) errorLogPath() string { return filepath.Join(p.prefix, "logs", "error.log") }

// startNginx lays out prefix, starts nginx with config conf in front of
// upstreams (host:port each; several are balanced round robin) on a free
// loopback port, and waits until GET /healthz through it answers 200.
func startNginx(ctx context.Context, bin, name, prefix string, conf []byte, upstreams ...string) (*nginxProc, error) {
	for _, d := range []string{"conf", "logs", "temp"} {
		if err := os.MkdirAll(filepath.Join(prefix, d), 0o755); err != nil {
			return nil, fmt.Errorf("%s: prefix: %w", name, err)
		}
	}
	if err := os.WriteFile(filepath.Join(prefix, "conf", "nginx.conf"), conf, 0o644); err != nil {
		return nil, fmt.Errorf("%s: config: %w", name, err)
	}
	// The temp paths belong to this local topology, not to the shared
	// config: Debian's compiled-in /var/lib/nginx/* needs root, and inside a
	// container the image's defaults are right. Relative to the prefix.
	servers := ""
	for _, u := range upstreams {
		servers += "\tserver " + u + ";\n"
	}
	up := "upstream sseload_origin {\n" + servers + "}\n" +
		"client_body_temp_path temp/client_body;\n" +
		"proxy_temp_path temp/proxy;\n" +
		"fastcgi_temp_path temp/fastcgi;\n" +
		"uwsgi_temp_path temp/uwsgi;\n" +
		"scgi_temp_path temp/scgi;\n"
	if err := os.WriteFile(filepath.Join(prefix, "conf", "sseload-upstream.conf"), []byte(up), 0o644); err != nil {
		return nil, fmt.Errorf("%s: config: %w", name, err)
	}

	ctx, cancel := context.WithTimeout(ctx, readyLimit)
	defer cancel()
	for attempt := 1; ; attempt++ {
		logStart := fileSize(filepath.Join(prefix, "logs", "error.log"))
		p, err := launchNginx(bin, name, prefix)
		if err != nil {
			return nil, err
		}
		err = p.waitReady(ctx)
		if err == nil {
			return p, nil
		}
		p.stop()
		tail := p.logTail(logStart)
		if attempt < bindAttempts && strings.Contains(tail, "Address already in use") {
			continue
		}
		return nil, fmt.Errorf("%s: %w\n%s error log, last lines:\n%s", name, err, name, tail)
	}
}

// freeLoopbackPort asks the kernel for a free port by binding 127.0.0.1:0.
// The port is released again before nginx binds it; startNginx retries if
// someone else took it meanwhile.
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

// nginxQuote quotes s as one nginx config token.
func nginxQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// launchNginx writes the listen file for a fresh port and starts nginx in
// the foreground (daemon off) in a new process group.
func launchNginx(bin, name, prefix string) (*nginxProc, error) {
	port, err := freeLoopbackPort()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	listen := "listen 127.0.0.1:" + strconv.Itoa(port) + ";\n"
	if err := os.WriteFile(filepath.Join(prefix, "conf", "sseload-listen.conf"), []byte(listen), 0o644); err != nil {
		return nil, fmt.Errorf("%s: config: %w", name, err)
	}
	p := &nginxProc{name: name, prefix: prefix, port: port, done: make(chan struct{})}

	// Main-context settings that depend on this machine, so they stay out
	// of the shared config files.
	global := "daemon off; pid " + nginxQuote(filepath.Join(prefix, "nginx.pid")) + ";" +
		" error_log " + nginxQuote(p.errorLogPath()) + " warn;"
	if os.Geteuid() == 0 {
		// As root, the workers would switch to the compiled-in user
		// (nobody), who cannot enter a 0700 temp dir to write
		// proxy_temp_path files (nginx-stock spills long streams to disk).
		// Keep them as the harness's own user instead.
		global += " user root;"
	}

	// nginx's own stderr (config errors before the error log is open) goes
	// to the same file, so one place explains every failure.
	logf, err := os.OpenFile(p.errorLogPath(), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%s: error log: %w", name, err)
	}
	defer logf.Close()

	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("%s: tether pipe: %w", name, err)
	}
	defer r.Close() // only nginx keeps the read end

	cmd := exec.Command(bin, "-p", prefix, "-c", "conf/nginx.conf", "-g", global)
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.ExtraFiles = []*os.File{r}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		// Own group: Stop signals the master and its workers at once, and a
		// Ctrl-C in the terminal reaches sseload only, which then stops
		// nginx in order.
		Setpgid: true,
		// The master dies with sseload. (Linux ties this to the forking
		// thread; the tether below covers the case where that thread exits
		// first, and the workers, which Pdeathsig does not reach.)
		Pdeathsig: syscall.SIGKILL,
	}
	if err := cmd.Start(); err != nil {
		w.Close()
		return nil, fmt.Errorf("%s: start %s: %w", name, bin, err)
	}
	p.cmd = cmd
	p.tether = w
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	if err := tether(r, cmd.Process.Pid); err != nil {
		p.stop()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return p, nil
}

// tether arranges for the kernel to SIGKILL process group pgid as soon as
// the last write end of r's pipe closes while a member of the group still
// holds r.
//
// Why: Pdeathsig reaches the nginx master only. Killing the master (by
// Pdeathsig or kill -9) leaves its workers running as orphans, still
// listening. With O_ASYNC on the read end, owner -pgid and F_SETSIG SIGKILL,
// closing the last writer makes the kernel (pipe_release → kill_fasync)
// signal the whole group — also when sseload itself is SIGKILLed, because
// the kernel closes its files then. The owner is held as a struct pid, so a
// recycled group id is never hit, and if no nginx process holds the read end
// any more the pipe is simply freed.
func tether(r *os.File, pgid int) error {
	fd := r.Fd()
	if _, err := unix.FcntlInt(fd, unix.F_SETOWN, -pgid); err != nil {
		return fmt.Errorf("tether: F_SETOWN: %w", err)
	}
	if _, err := unix.FcntlInt(fd, unix.F_SETSIG, int(unix.SIGKILL)); err != nil {
		return fmt.Errorf("tether: F_SETSIG: %w", err)
	}
	fl, err := unix.FcntlInt(fd, unix.F_GETFL, 0)
	if err != nil {
		return fmt.Errorf("tether: F_GETFL: %w", err)
	}
	if _, err := unix.FcntlInt(fd, unix.F_SETFL, fl|unix.O_ASYNC); err != nil {
		return fmt.Errorf("tether: F_SETFL O_ASYNC: %w", err)
	}
	return nil
}

// url returns the address of path through this nginx.
func (p *nginxProc) url(path string) string {
	return "http://127.0.0.1:" + strconv.Itoa(p.port) + path
}

// waitReady polls GET /healthz through nginx until it answers 200, nginx
// exits, or ctx ends. The poll is a readiness signal with short backoff:
// nginx has no other way to say "listening and able to reach the origin".
func (p *nginxProc) waitReady(ctx context.Context) error {
	client := &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
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
			return fmt.Errorf("nginx exited while starting: %v", p.waitErr)
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

// stop ends nginx: SIGQUIT to the group (graceful: the master waits for its
// workers), SIGKILL to the group after quitGrace, then waits for the master.
// Closing the tether afterwards kills any orphaned worker still alive (a
// master that died before Stop). Safe to call more than once.
func (p *nginxProc) stop() {
	pgid := p.cmd.Process.Pid
	select {
	case <-p.done:
	default:
		// The master is not reaped yet, so its pid (= the group id) cannot
		// have been reused.
		_ = syscall.Kill(-pgid, syscall.SIGQUIT)
		t := time.NewTimer(quitGrace)
		select {
		case <-p.done:
			t.Stop()
		case <-t.C:
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
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

// logTail returns the last logTailLines lines of the error log written
// after offset from.
func (p *nginxProc) logTail(from int64) string {
	b, err := os.ReadFile(p.errorLogPath())
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

// readErrorLog returns the error log, at most the last logSnapshotMax bytes.
func (p *nginxProc) readErrorLog() (string, error) {
	f, err := os.Open(p.errorLogPath())
	if err != nil {
		return "", fmt.Errorf("%s error log: %w", p.name, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("%s error log: %w", p.name, err)
	}
	if off := fi.Size() - logSnapshotMax; off > 0 {
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			return "", fmt.Errorf("%s error log: %w", p.name, err)
		}
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return "", fmt.Errorf("%s error log: %w", p.name, err)
	}
	return string(b), nil
}
