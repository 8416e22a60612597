package loadgen

import (
	"errors"
	"maps"
	"slices"
	"strings"
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
	// ErrTLSHandshake is a failed TLS handshake; its value says why
	// ("x509: certificate signed by unknown authority", "timeout").
	ErrTLSHandshake = "tls_handshake"
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

// MaxErrorValues bounds the distinct values kept per error kind
// (ErrorValues); further values are counted under OtherErrorValue. A
// server answering every connection with a new status or content type
// cannot grow the generator's memory past it.
const MaxErrorValues = 20

// OtherErrorValue counts the values of a kind beyond MaxErrorValues.
const OtherErrorValue = "other"

// maxErrorValueLen clips a value (a content type is the server's text).
const maxErrorValueLen = 64

// ErrorValues counts, per error kind, the values its errors carried: the
// status of an http_status error ("404", "502"), the media type of a
// wrong_content_type one ("text/html"; "(none)" without a Content-Type
// field). Kinds whose errors carry no value are absent; where a kind has
// values, they add up to its count in TargetResult.Errors. An error is
// per connection attempt, not per event, so a map is cheap enough; the
// values per kind are bounded (MaxErrorValues).
type ErrorValues map[string]map[string]int64

// Add counts n errors of kind with value; with MaxErrorValues values
// already kept for kind, a new value is counted as OtherErrorValue. ev
// must not be nil.
func (ev ErrorValues) Add(kind, value string, n int64) {
	if value == "" || n == 0 {
		return
	}
	vs := ev[kind]
	if vs == nil {
		vs = map[string]int64{}
		ev[kind] = vs
	}
	if _, ok := vs[value]; !ok && len(vs) >= MaxErrorValues {
		value = OtherErrorValue
	}
	vs[value] += n
}

// Merge adds every count of from to ev, with Add's bound; values are taken
// in sorted order, so which ones land in OtherErrorValue does not depend
// on map order.
func (ev ErrorValues) Merge(from ErrorValues) {
	for _, kind := range slices.Sorted(maps.Keys(from)) {
		vs := from[kind]
		for _, v := range slices.Sorted(maps.Keys(vs)) {
			ev.Add(kind, v, vs[v])
		}
	}
}

// errorValue clips a value from the server for ErrorValues.
func errorValue(s string) string {
	if len(s) > maxErrorValueLen {
		s = strings.ToValidUTF8(s[:maxErrorValueLen], "") + "…"
	}
	return s
}
