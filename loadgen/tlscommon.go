package loadgen

import (
	"crypto/x509"
	"errors"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
)

// What the TLS streams of every engine share: the epoll workers'
// (tlsconn_linux.go), the portable engine's (portable.go) and HTTP/2's
// (tls.go).

// tlsGCPercent is the collector's target (debug.SetGCPercent) while a run
// has https streams. After its handshake a TLS stream in the epoll workers
// keeps about 6 KiB of crypto/tls state (measured at 10,000 streams with
// an ECDSA certificate: the raw input buffer, sized by the largest
// handshake record plus 512 bytes, about 2 KiB; the handshake message
// buffer, about 1 KiB; two AES-GCM states, about 2 KiB; tls.Conn itself,
// 0.7 KiB), none of which crypto/tls lets go. With Go's default of 100 the
// heap may grow to twice what is live before a collection: 18 KiB of RSS
// per stream all in. At 50 it is 15 KiB, for no measurable CPU per event
// in the hold (the streams allocate nothing per read; the garbage is the
// handshakes'). docs/benchmarks.md has the figures.
const tlsGCPercent = 50

// lowerGCForTLS sets tlsGCPercent for the run when it has https streams
// (in the epoll workers, or HTTP/2 through net/http, whose per-stream
// state is mostly heap too) and the user did not choose with GOGC; the
// returned function restores the previous setting. Like the open file
// limit (rlimit_linux.go), it is the process's, which the engine runs in.
func (e *Engine) lowerGCForTLS() (restore func()) {
	if os.Getenv("GOGC") != "" || !slices.ContainsFunc(e.targets, func(t *target) bool { return t.tls || t.https }) {
		return func() {}
	}
	old := debug.SetGCPercent(tlsGCPercent)
	return func() { debug.SetGCPercent(old) }
}

// handshakers is how many handshakes run at once, engine-wide. A handshake
// is mostly CPU (key exchange, certificate verification) on a near server,
// mostly waiting on a far one; 64 keeps the cores busy in both cases and
// bounds the goroutines (and their stacks) whatever the ramp.
const handshakers = 64

// errHandshakeAborted fails handshakes still running when the run stops.
var errHandshakeAborted = errors.New("run stopped during the TLS handshake")

// handshakeValue is the value a TLS handshake error is counted under: the
// certificate problem in x509's words, "timeout", the socket error
// ("connection reset by peer"), "EOF" for a server that closed, else
// crypto/tls's message without its "tls: " prefix.
func handshakeValue(err error) string {
	var (
		unknown  x509.UnknownAuthorityError
		invalid  x509.CertificateInvalidError
		hostname x509.HostnameError
		errno    syscall.Errno
	)
	switch {
	case errors.As(err, &unknown):
		return errorValue(unknown.Error())
	case errors.As(err, &invalid):
		return errorValue(invalid.Error())
	case errors.As(err, &hostname):
		return errorValue(hostname.Error())
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "timeout"
	case errors.Is(err, errHandshakeAborted):
		return "aborted"
	case errors.As(err, &errno):
		return errorValue(errno.Error())
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "EOF"
	}
	msg := err.Error()
	if i := strings.LastIndex(msg, "tls: "); i >= 0 {
		msg = msg[i+len("tls: "):]
	}
	return errorValue(msg)
}
