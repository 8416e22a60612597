package httpstream

import (
	"fmt"
	"strings"
)

// AppendRequest appends to dst a GET request for an event stream:
//
//	GET <path> HTTP/1.1
//	Host: <host>
//	Accept: text/event-stream
//	Cache-Control: no-cache
//	User-Agent: sseload
//	<extra fields, e.g. Last-Event-ID>
//	<blank line>
//
// with CRLF line ends. It allocates only if dst lacks capacity. It rejects,
// before appending anything, input that would split or smuggle a request: a
// host or path that is empty or holds a space or control byte (a path must be
// percent-encoded), a field name that is not a token, a field value holding
// CR, LF or NUL. On error dst is returned unchanged.
func AppendRequest(dst []byte, host, path string, extra ...[2]string) ([]byte, error) {
	if err := checkTarget(host, path); err != nil {
		return dst, err
	}
	for _, f := range extra {
		if err := checkExtra(f); err != nil {
			return dst, err
		}
	}
	dst = append(dst, "GET "...)
	dst = append(dst, path...)
	dst = append(dst, " HTTP/1.1\r\nHost: "...)
	dst = append(dst, host...)
	dst = append(dst, "\r\n"...)
	for _, f := range defaultFields {
		dst = appendField(dst, f)
	}
	for _, f := range extra {
		dst = appendField(dst, f)
	}
	return append(dst, "\r\n"...), nil
}

// checkTarget checks the request's host and path.
func checkTarget(host, path string) error {
	if host == "" || hasCTLOrSpace(host) {
		return fmt.Errorf("httpstream: request host %q: want a non-empty host[:port] without spaces or control characters", host)
	}
	if path == "" || hasCTLOrSpace(path) {
		return fmt.Errorf("httpstream: request path %q: want a non-empty path such as /events, percent-encoded, without spaces or control characters", path)
	}
	return nil
}

// checkExtra checks a field the engine adds (Last-Event-ID).
func checkExtra(f [2]string) error {
	if !isToken(f[0]) {
		return fmt.Errorf("httpstream: request header name %q: want a token such as Last-Event-ID", f[0])
	}
	if strings.ContainsAny(f[1], "\r\n\x00") {
		return fmt.Errorf("httpstream: request header %s value %q contains CR, LF or NUL", f[0], f[1])
	}
	return nil
}

// hasCTLOrSpace reports whether s holds a byte <= 0x20 or DEL.
func hasCTLOrSpace(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == 0x7f {
			return true
		}
	}
	return false
}
