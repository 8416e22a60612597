package httpstream

import (
	"bytes"
	"fmt"
	"strings"
)

// parseHead parses a complete response head, raw, which ends with its blank
// line. Line ends are LF with an optional CR before it.
//
// The head is copied into one string with field names lower-cased on the way,
// and every string in the Head is a substring of it: three allocations per
// response (the string, Fields, the Head) however many fields there are.
func parseHead(raw []byte) (*Head, error) {
	s := lowerNames(raw)

	line, rest := nextLine(s)
	h := &Head{ContentLength: -1}
	if err := parseStatusLine(line, h); err != nil {
		return nil, err
	}
	h.Fields = make([][2]string, 0, max(strings.Count(rest, "\n")-1, 0))
	for {
		line, rest = nextLine(rest)
		if line == "" {
			break
		}
		if strings.IndexByte(line, '\r') >= 0 || strings.IndexByte(line, 0) >= 0 {
			// RFC 9110 §5.5: a recipient rejects or replaces these.
			return nil, fmt.Errorf("%w: CR or NUL in header line %s", ErrMalformed, quote(line))
		}
		if line[0] == ' ' || line[0] == '\t' {
			// obs-fold (RFC 9112 §5.2): a user agent replaces it with a
			// space and appends the line to the previous field's value.
			if len(h.Fields) == 0 {
				return nil, fmt.Errorf("%w: continuation line %s before any header field", ErrMalformed, quote(line))
			}
			f := &h.Fields[len(h.Fields)-1]
			if v := trimOWS(line); v != "" {
				if f[1] == "" {
					f[1] = v
				} else {
					f[1] += " " + v
				}
			}
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("%w: header line %s has no colon", ErrMalformed, quote(line))
		}
		if !isToken(name) {
			return nil, fmt.Errorf("%w: invalid header field name %s", ErrMalformed, quote(name))
		}
		h.Fields = append(h.Fields, [2]string{name, trimOWS(value)})
	}

	for _, f := range h.Fields {
		switch f[0] {
		case "content-type":
			h.ContentType = join(h.ContentType, f[1])
		case "transfer-encoding":
			h.TransferEncoding = join(h.TransferEncoding, f[1])
		case "content-encoding":
			h.ContentEncoding = join(h.ContentEncoding, f[1])
		case "connection":
			h.Connection = join(h.Connection, f[1])
		case "location":
			h.Location = join(h.Location, f[1])
		case "content-length":
			n, err := parseContentLength(f[1])
			if err != nil {
				return nil, err
			}
			if h.ContentLength >= 0 && n != h.ContentLength {
				return nil, fmt.Errorf("%w: conflicting Content-Length %d and %d", ErrMalformed, h.ContentLength, n)
			}
			h.ContentLength = n
		}
	}
	return h, nil
}

// lowerNames copies raw into a string, lower-casing each field name (the bytes
// before the first colon of every line after the status line, except
// continuation lines).
func lowerNames(raw []byte) string {
	var sb strings.Builder
	sb.Grow(len(raw))
	first := true
	for len(raw) > 0 {
		line := raw
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			line = raw[:i+1]
		}
		raw = raw[len(line):]
		if first || line[0] == ' ' || line[0] == '\t' {
			first = false
			sb.Write(line)
			continue
		}
		colon := bytes.IndexByte(line, ':')
		if colon < 0 { // malformed; keep it as seen for the error
			colon = 0
		}
		for _, c := range line[:colon] {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			sb.WriteByte(c)
		}
		sb.Write(line[colon:])
	}
	return sb.String()
}

// nextLine returns the first line of s without its LF and one CR before it,
// and the rest after the LF. s always ends with LF here.
func nextLine(s string) (line, rest string) {
	i := strings.IndexByte(s, '\n')
	if i < 0 {
		return s, ""
	}
	line, rest = s[:i], s[i+1:]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, rest
}

// parseStatusLine parses "HTTP/1.x SP 3DIGIT [SP reason]".
func parseStatusLine(line string, h *Head) error {
	proto, rest, _ := strings.Cut(line, " ")
	if len(proto) != len("HTTP/1.1") || !strings.HasPrefix(proto, "HTTP/1.") || proto[7] < '0' || proto[7] > '9' {
		return fmt.Errorf("%w: status line %s does not start with HTTP/1.x", ErrMalformed, quote(line))
	}
	code, reason, _ := strings.Cut(rest, " ")
	status := 0
	for i := 0; i < len(code); i++ {
		c := code[i]
		if c < '0' || c > '9' {
			status = -1
			break
		}
		status = status*10 + int(c-'0')
	}
	if len(code) != 3 || status < 100 || status > 599 {
		return fmt.Errorf("%w: status line %s has no status code 100-599", ErrMalformed, quote(line))
	}
	if strings.IndexByte(line, '\r') >= 0 || strings.IndexByte(line, 0) >= 0 {
		return fmt.Errorf("%w: control character in status line %s", ErrMalformed, quote(line))
	}
	h.Proto, h.Status, h.Reason = proto, status, reason
	return nil
}

// parseContentLength parses a Content-Length value: decimal digits, or a list
// of identical values ("42, 42"), which RFC 9110 §8.6 lets a recipient accept.
func parseContentLength(v string) (int64, error) {
	n := int64(-1)
	for part := range strings.SplitSeq(v, ",") {
		p := trimOWS(part)
		m, ok := parseDecimal(p)
		if !ok {
			return 0, fmt.Errorf("%w: Content-Length %s is not a non-negative decimal integer", ErrMalformed, quote(v))
		}
		if n >= 0 && m != n {
			return 0, fmt.Errorf("%w: conflicting Content-Length %s", ErrMalformed, quote(v))
		}
		n = m
	}
	return n, nil
}

func parseDecimal(s string) (int64, bool) {
	if s == "" || len(s) > 18 { // 18 digits cannot overflow int64
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// lastCodingChunked reports whether chunked is the final transfer coding in a
// Transfer-Encoding value such as "gzip, chunked".
func lastCodingChunked(te string) bool {
	if i := strings.LastIndexByte(te, ','); i >= 0 {
		te = te[i+1:]
	}
	return strings.EqualFold(trimOWS(te), "chunked")
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + ", " + b
}

func trimOWS(s string) string {
	return strings.Trim(s, " \t")
}

// isToken reports whether s is a non-empty RFC 9110 token (tchar*).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTchar(s[i]) {
			return false
		}
	}
	return true
}

func isTchar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// quote quotes s for an error message, shortened to keep logs readable.
func quote(s string) string {
	const limit = 80
	if len(s) > limit {
		return fmt.Sprintf("%q...", s[:limit])
	}
	return fmt.Sprintf("%q", s)
}
