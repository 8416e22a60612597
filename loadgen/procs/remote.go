package procs

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Remote workers. `sseload worker --listen ADDR` serves the worker
// protocol over TCP (ServeListener) to one coordinator at a time, staying
// up between runs; `sseload run --workers LIST` dials each (dial). A
// remote worker is a traffic generator that takes orders from whoever
// connects, so the connection opens with an auth message carrying the
// protocol version and a shared token, checked before anything else; a
// worker listening beyond loopback must have a token (CheckListen).

const (
	// authTimeout bounds how long a connection may take to send its auth
	// message: a peer that connects and says nothing holds the worker.
	authTimeout = 10 * time.Second
	// maxAuthLine bounds the auth message.
	maxAuthLine = 4 << 10
	dialTimeout = 10 * time.Second
)

// TokenEnv is the environment variable a worker and a coordinator read
// the shared token from when --token is not given (Docker and Kubernetes
// pass it there, never on a command line).
const TokenEnv = "SSELOAD_TOKEN"

// CheckListen refuses to listen on a non-loopback address without a
// token. addr is host:port as net.Listen takes it.
func CheckListen(addr, token string) error {
	if token != "" {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--listen %s: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip, err := netip.ParseAddr(host); err == nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("--listen %s is not a loopback address: a worker reachable from other machines needs a shared token (--token or SSELOAD_TOKEN), or anyone reaching it could send load anywhere", addr)
}

// tokensEqual compares tokens in constant time; hashing first keeps the
// comparison's time independent of the lengths too.
func tokensEqual(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}

// ServeListener serves the worker protocol to every connection ln
// accepts, one run at a time, until ctx ends; then it closes ln and waits
// for the run in progress. A connection that fails auth (wrong version,
// wrong token, not an auth message, too long, too slow) or breaks the
// protocol later is closed with a line to logf naming its address and the
// reason (never the token); the worker goes on serving. A connection
// arriving while a run is in progress is told the worker is busy.
func ServeListener(ctx context.Context, ln net.Listener, token string, logf func(format string, args ...any)) error {
	var busy sync.Mutex
	var wg sync.WaitGroup
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	defer wg.Wait()
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("worker: accept: %w", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer conn.Close()
			peer := conn.RemoteAddr().String()
			// Authentication first, so that a peer that connects and says
			// nothing never keeps a real coordinator waiting.
			w := newWriter(conn)
			if err := authenticate(conn, token); err != nil {
				_ = w.send(Message{Type: TypeError, Message: err.Error()})
				logf("worker: closed %s: %v", peer, err)
				return
			}
			if !busy.TryLock() {
				logf("worker: refused %s: busy with another coordinator's run", peer)
				_ = w.send(Message{Type: TypeError, Message: "this worker is busy with another coordinator's run"})
				return
			}
			defer busy.Unlock()
			// The run's context also ends when the coordinator hangs up:
			// serve's control reader sees the end of input and stops the
			// engine.
			if err := serve(ctx, newReaderMax(conn, maxControlLine), w); err != nil {
				logf("worker: closed %s: %v", peer, err)
				return
			}
			logf("worker: run for %s done", peer)
		}()
	}
}

// authenticate reads the auth message within authTimeout and checks it.
// It reads byte by byte up to the newline so that nothing after the auth
// line is consumed before serve's reader takes over.
func authenticate(conn net.Conn, token string) error {
	_ = conn.SetReadDeadline(time.Now().Add(authTimeout))
	defer conn.SetReadDeadline(time.Time{})
	line, err := readLine(conn, maxAuthLine)
	if err != nil {
		return fmt.Errorf("no auth message: %w", err)
	}
	m, err := decodeFrame(line)
	if err != nil {
		return err
	}
	if m.Type != TypeAuth {
		return fmt.Errorf("first message is %q, want %q", m.Type, TypeAuth)
	}
	if err := checkVersion(m.Version, "the coordinator"); err != nil {
		return err
	}
	if !tokensEqual(m.Token, token) {
		return errors.New("wrong token")
	}
	return nil
}

// readLine reads one line of at most max bytes, without its newline.
func readLine(r io.Reader, max int) ([]byte, error) {
	var line []byte
	b := make([]byte, 1)
	for {
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, err
		}
		if b[0] == '\n' {
			return line, nil
		}
		if len(line) >= max {
			return nil, fmt.Errorf("line longer than %d bytes", max)
		}
		line = append(line, b[0])
	}
}

// dial connects to remote worker i and sends its auth message; the worker
// answers hello, or an error saying why it refused.
func (g *Generator) dial(ctx context.Context, i int) (*child, io.Reader, error) {
	addr := g.opts.Workers[i]
	c := &child{index: i, label: "worker " + addr, addr: addr}
	d := net.Dialer{Timeout: dialTimeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("connect to %s: %w", c.name(), err)
	}
	c.w = newWriter(conn)
	c.kill = func() { _ = conn.Close() }
	c.wait = func() error { conn.Close(); return nil }
	if err := c.w.send(Message{Type: TypeAuth, Version: Version, Token: g.opts.Token}); err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("%s: %w", c.name(), err)
	}
	return c, conn, nil
}
