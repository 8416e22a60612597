package loadgen

import (
	"errors"
	"syscall"
)

// Error kinds are the keys of TargetResult.Errors and of summary.json's
// "errors" object. They are public API: add kinds, never rename them.
const (
	ErrConnectRefused    = "connect_refused"
	ErrConnectTimeout    = "connect_timeout"
	ErrConnect           = "connect_failed"
	ErrTooManyFiles      = "too_many_open_files"
	ErrNoSourcePorts     = "no_free_source_ports"
	ErrReset             = "reset_by_peer"
	ErrEOFBeforeHeaders  = "eof_before_headers"
	ErrEOFMidResponse    = "eof_mid_response"
	ErrNoResponseHeaders = "no_response_headers"
	ErrHTTPStatus        = "http_status"
	ErrContentType       = "wrong_content_type"
	ErrMalformed         = "malformed_response"
	ErrEventTooLarge     = "event_too_large"
	ErrRead              = "read_failed"
	ErrRequest           = "request_failed"
	ErrRedirect          = "redirect_failed"
)

// errnoKind names the kind of a socket-level error from connect, read or
// write. EMFILE, ENFILE and EADDRNOTAVAIL get kinds of their own because they
// are limits of the generator's machine, not of the target.
func errnoKind(err error, fallback string) string {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return fallback
	}
	switch errno {
	case syscall.ECONNREFUSED:
		return ErrConnectRefused
	case syscall.ETIMEDOUT:
		return ErrConnectTimeout
	case syscall.EMFILE, syscall.ENFILE:
		return ErrTooManyFiles
	case syscall.EADDRNOTAVAIL, syscall.EADDRINUSE:
		return ErrNoSourcePorts
	case syscall.ECONNRESET, syscall.EPIPE:
		return ErrReset
	}
	return fallback
}

// limitHint is the advice printed once when the generator runs out of a
// machine resource, instead of one line per failed connection.
func limitHint(kind string) string {
	switch kind {
	case ErrTooManyFiles:
		return "the generator ran out of file descriptors: raise `ulimit -n` (soft and hard), or run fewer connections per process"
	case ErrNoSourcePorts:
		return "the generator ran out of source ports for one address: spread connections over more source addresses (127.0.0.2, 127.0.0.3, ... on loopback)"
	}
	return ""
}
