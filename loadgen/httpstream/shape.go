package httpstream

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Shape is what a stream's request carries beyond EventSource's own GET:
// a method, header fields and a body, for streams that need credentials
// (an Authorization header, a cookie) or are opened with a POST and a JSON
// body (the token streams of LLM APIs). The zero Shape is EventSource's
// plain GET. It travels in JSON (the worker protocol), so its fields are
// plain data.
type Shape struct {
	// Method is the request method; "" means GET, or POST when Body is set
	// (as curl does with --data).
	Method string `json:",omitempty"`
	// Header holds the user's fields in order, [name, value]. A field named
	// as one of the defaults (Accept, Cache-Control, User-Agent, Host)
	// replaces it. No Content-Type is added for a body: the user names it
	// (-H 'Content-Type: application/json'), so that the request carries
	// what was asked for and nothing guessed.
	Header [][2]string `json:",omitempty"`
	// Body is sent with a Content-Length; nil sends none.
	Body []byte `json:",omitempty"`
}

// Methods lists the methods a stream may be opened with: those whose
// response can be an event stream. HEAD (no body), CONNECT and TRACE are
// not among them.
func Methods() []string {
	return []string{"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "QUERY"}
}

// defaultFields are the fields every stream request carries unless the
// user names the same field: what EventSource sends.
var defaultFields = [][2]string{
	{"Accept", "text/event-stream"},
	{"Cache-Control", "no-cache"},
	{"User-Agent", "sseload"},
}

// framingFields are computed from the body; a user's value would make the
// request lie about its own length.
var framingFields = []string{"content-length", "transfer-encoding"}

// ParseHeader parses "Name: value" as curl's -H takes it: the name is a
// token, the value is trimmed of surrounding spaces and may be empty.
func ParseHeader(s string) ([2]string, error) {
	name, value, ok := strings.Cut(s, ":")
	if !ok {
		// Quote the first word only: the rest may be a token.
		first, _, more := strings.Cut(strings.TrimSpace(s), " ")
		if more {
			first += " …"
		}
		return [2]string{}, fmt.Errorf("header %q: no colon (write 'Name: value', such as 'Authorization: Bearer TOKEN')", first)
	}
	f := [2]string{strings.TrimSpace(name), strings.TrimSpace(value)}
	if err := CheckField(f); err != nil {
		return [2]string{}, err
	}
	return f, nil
}

// CheckField checks one header field: a token name, not a framing field,
// and a value without CR, LF or NUL (which would split the request). The
// message names the field, never its value (a secret).
func CheckField(f [2]string) error {
	if !isToken(f[0]) {
		return fmt.Errorf("header name %q: not a token (letters, digits and !#$%%&'*+-.^_`|~ only; no spaces, CR or LF)", f[0])
	}
	if slices.Contains(framingFields, strings.ToLower(f[0])) {
		return fmt.Errorf("header %s: sseload sets the framing of the body itself (give the body with --body or --body-file)", f[0])
	}
	if strings.ContainsAny(f[1], "\r\n\x00") {
		return fmt.Errorf("header %s: the value contains CR, LF or NUL, which would split the request", f[0])
	}
	return nil
}

// ParseMethod checks a method name (upper case, one of Methods).
func ParseMethod(s string) (string, error) {
	if slices.Contains(Methods(), s) {
		return s, nil
	}
	if up := strings.ToUpper(s); slices.Contains(Methods(), up) {
		return "", fmt.Errorf("method %q: methods are case-sensitive: write %s", s, up)
	}
	return "", fmt.Errorf("method %q: unknown (valid: %s)", s, strings.Join(Methods(), ", "))
}

// Check validates the shape: its method and every field.
func (s Shape) Check() error {
	if s.Method != "" {
		if _, err := ParseMethod(s.Method); err != nil {
			return err
		}
	}
	for _, f := range s.Header {
		if err := CheckField(f); err != nil {
			return err
		}
	}
	return nil
}

// EffectiveMethod is the method the request is sent with.
func (s Shape) EffectiveMethod() string {
	switch {
	case s.Method != "":
		return s.Method
	case s.Body != nil:
		return "POST"
	}
	return "GET"
}

// IsZero reports whether s is EventSource's plain GET.
func (s Shape) IsZero() bool { return s.Method == "" && len(s.Header) == 0 && s.Body == nil }

// With returns s with extra fields added; a field of the same name
// (case-insensitive) in extra replaces s's (a target's own headers over
// the run's).
func (s Shape) With(extra [][2]string) Shape {
	if len(extra) == 0 {
		return s
	}
	h := slices.DeleteFunc(slices.Clone(s.Header), func(f [2]string) bool {
		return slices.ContainsFunc(extra, func(e [2]string) bool { return strings.EqualFold(e[0], f[0]) })
	})
	s.Header = append(h, extra...)
	return s
}

// AsGet is the shape after a redirect that turns the request into a GET
// (301 and 302 after a POST, 303 after anything but GET or HEAD, as
// browsers and net/http do): no body, and no field that described it.
func (s Shape) AsGet() Shape {
	s.Method, s.Body = "GET", nil
	s.Header = slices.DeleteFunc(slices.Clone(s.Header), func(f [2]string) bool {
		return strings.EqualFold(f[0], "Content-Type") || strings.EqualFold(f[0], "Content-Encoding")
	})
	return s
}

// ForHost is the shape for a request to host after a redirect from
// fromHost: when the host changes, the credentials (Authorization,
// Cookie) are left out, as net/http and browsers do, so a redirect does
// not hand a token to another server.
func (s Shape) ForHost(fromHost, host string) Shape {
	if strings.EqualFold(fromHost, host) {
		return s
	}
	s.Header = slices.DeleteFunc(slices.Clone(s.Header), func(f [2]string) bool {
		return strings.EqualFold(f[0], "Authorization") || strings.EqualFold(f[0], "Cookie")
	})
	return s
}

// Get returns the value of the user's field name (case-insensitive) and
// whether it is set.
func (s Shape) Get(name string) (string, bool) {
	for _, f := range s.Header {
		if strings.EqualFold(f[0], name) {
			return f[1], true
		}
	}
	return "", false
}

// AppendRequest appends the request for an event stream shaped by s:
//
//	<METHOD> <path> HTTP/1.1
//	Host: <host>
//	Accept: text/event-stream
//	Cache-Control: no-cache
//	User-Agent: sseload
//	<the user's fields>
//	<extra fields, e.g. Last-Event-ID>
//	Content-Length: <n>        (with a body)
//	<blank line>
//	<body>
//
// A user's field named as a default replaces it. It checks what it writes
// as the package's AppendRequest does; on error dst is returned unchanged.
func (s Shape) AppendRequest(dst []byte, host, path string, extra ...[2]string) ([]byte, error) {
	if err := checkTarget(host, path); err != nil {
		return dst, err
	}
	if err := s.Check(); err != nil {
		return dst, fmt.Errorf("httpstream: %w", err)
	}
	for _, f := range extra {
		if err := checkExtra(f); err != nil {
			return dst, err
		}
	}
	if h, ok := s.Get("Host"); ok {
		if h == "" || hasCTLOrSpace(h) {
			return dst, fmt.Errorf("httpstream: header Host %q: want a host[:port] without spaces", h)
		}
		host = h
	}
	dst = append(dst, s.EffectiveMethod()...)
	dst = append(dst, ' ')
	dst = append(dst, path...)
	dst = append(dst, " HTTP/1.1\r\nHost: "...)
	dst = append(dst, host...)
	dst = append(dst, "\r\n"...)
	for _, f := range defaultFields {
		if _, ok := s.Get(f[0]); !ok {
			dst = appendField(dst, f)
		}
	}
	for _, f := range s.Header {
		if !strings.EqualFold(f[0], "Host") {
			dst = appendField(dst, f)
		}
	}
	for _, f := range extra {
		dst = appendField(dst, f)
	}
	if s.Body != nil || s.EffectiveMethod() == "POST" || s.EffectiveMethod() == "PUT" || s.EffectiveMethod() == "PATCH" {
		dst = append(dst, "Content-Length: "...)
		dst = strconv.AppendInt(dst, int64(len(s.Body)), 10)
		dst = append(dst, "\r\n"...)
	}
	dst = append(dst, "\r\n"...)
	return append(dst, s.Body...), nil
}

func appendField(dst []byte, f [2]string) []byte {
	dst = append(dst, f[0]...)
	dst = append(dst, ": "...)
	dst = append(dst, f[1]...)
	return append(dst, "\r\n"...)
}

// Redacted stands for a header value or a body wherever sseload writes
// what it sent: summary.json, the reports, the command line quoted in
// them. Names are kept; values may be credentials.
const Redacted = "[redacted]"

// NewHTTPRequest is the net/http form of the request to rawURL shaped by
// s, with the same fields AppendRequest writes (EventSource's defaults,
// the user's replacing them by name, extra such as Last-Event-ID). The
// body can be sent again (GetBody), so net/http follows 307 and 308 with
// it; it follows redirects as browsers do (301/302/303 turn a POST into a
// GET without its body; Authorization and Cookie are not sent to another
// host).
func (s Shape) NewHTTPRequest(ctx context.Context, rawURL string, extra ...[2]string) (*http.Request, error) {
	var body io.Reader
	if s.Body != nil {
		body = bytes.NewReader(s.Body)
	}
	req, err := http.NewRequestWithContext(ctx, s.EffectiveMethod(), rawURL, body)
	if err != nil {
		return nil, err
	}
	for _, f := range defaultFields {
		req.Header.Set(f[0], f[1])
	}
	for _, f := range s.Header {
		if strings.EqualFold(f[0], "Host") {
			req.Host = f[1]
			continue
		}
		req.Header.Del(f[0])
	}
	for _, f := range s.Header {
		if !strings.EqualFold(f[0], "Host") {
			req.Header.Add(f[0], f[1])
		}
	}
	for _, f := range extra {
		req.Header.Set(f[0], f[1])
	}
	return req, nil
}
