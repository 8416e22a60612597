// Package jsonfield reads one field of an event's JSON data without decoding
// the document and without allocating: the engine looks up the publish time
// (and the sequence number) of every event it receives, tens of thousands of
// times a second per worker, in bytes that alias its read buffer.
//
// Lookup is a scanner, not a validator: it walks the object just far enough
// to find the field, skipping the values of other keys (nested objects,
// arrays, strings with escapes) by their delimiters, and never looks past the
// value it returns and the delimiter after it. For valid JSON it agrees with
// encoding/json (object keys compared exactly after unescaping; the first
// occurrence of a duplicate key wins); for malformed input it returns
// ok=false or the raw bytes at the path, and never panics.
package jsonfield

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Path is a dotted sequence of object keys, such as "meta.sent_ms". The zero
// Path matches nothing.
type Path struct {
	s string // the dotted form; keys are split on the fly, so Lookup allocates nothing
}

// ParsePath parses a dotted path of object keys such as "ts" or
// "meta.sent_ms". Keys cannot contain dots; array indexes are not supported.
func ParsePath(s string) (Path, error) {
	if s == "" {
		return Path{}, fmt.Errorf(`jsonfield: empty path: want dot-separated object keys such as "ts" or "meta.sent_ms"`)
	}
	for key := range strings.SplitSeq(s, ".") {
		if key == "" {
			return Path{}, fmt.Errorf(`jsonfield: path %q has an empty key: want dot-separated object keys such as "ts" or "meta.sent_ms"`, s)
		}
		if strings.TrimSpace(key) != key {
			return Path{}, fmt.Errorf(`jsonfield: path %q: key %q has surrounding whitespace: want dot-separated object keys such as "ts" or "meta.sent_ms"`, s, key)
		}
	}
	return Path{s: s}, nil
}

// String returns the path as it was parsed.
func (p Path) String() string { return p.s }

// Lookup returns the raw bytes of the value at p in the JSON object data: for
// a number the literal, for a string its contents without the quotes (escapes
// not decoded), for true, false and null the literal, for an object or array
// its text. ok is false when the path is absent, when data or an intermediate
// value is not an object, or when the input is malformed on the way to the
// value. raw aliases data. Lookup allocates nothing.
func (p Path) Lookup(data []byte) (raw []byte, ok bool) {
	if p.s == "" {
		return nil, false
	}
	i := skipWS(data, 0)
	rest := p.s
	for {
		key, more := rest, ""
		if j := strings.IndexByte(rest, '.'); j >= 0 {
			key, more = rest[:j], rest[j+1:]
		}
		// data[i] must open an object holding key.
		i, ok = findKey(data, i, key)
		if !ok {
			return nil, false
		}
		if more == "" {
			return valueAt(data, i)
		}
		rest = more
	}
}

// LookupPair returns p.Lookup(data) and q.Lookup(data). When p and q name
// members of one object (they differ only in their last key, as "sched" and
// "sent", or "meta.ts" and "meta.sent") the object is scanned once, up to
// whichever of the two comes last; otherwise it makes the two lookups. The
// engine reads an event's publish time and its write time this way, for
// the price of about one lookup. It allocates nothing.
func LookupPair(data []byte, p, q Path) (rp []byte, okp bool, rq []byte, okq bool) {
	pParent, pKey := p.split()
	qParent, qKey := q.split()
	if p.s == "" || q.s == "" || pParent != qParent {
		rp, okp = p.Lookup(data)
		rq, okq = q.Lookup(data)
		return rp, okp, rq, okq
	}
	i := skipWS(data, 0)
	for rest := pParent; rest != ""; {
		key, more := rest, ""
		if j := strings.IndexByte(rest, '.'); j >= 0 {
			key, more = rest[:j], rest[j+1:]
		}
		var ok bool
		if i, ok = findKey(data, i, key); !ok {
			return nil, false, nil, false
		}
		rest = more
	}
	vp, ep, vq, eq := findPair(data, i, pKey, qKey)
	switch {
	case ep >= 0:
		rp, okp = valueTo(data, vp, ep)
	case vp >= 0:
		rp, okp = valueAt(data, vp)
	}
	switch {
	case eq >= 0:
		rq, okq = valueTo(data, vq, eq)
	case vq >= 0:
		rq, okq = valueAt(data, vq)
	}
	return rp, okp, rq, okq
}

// split returns the path's parent (all keys but the last, dotted; "" for a
// top-level key) and its last key.
func (p Path) split() (parent, key string) {
	if j := strings.LastIndexByte(p.s, '.'); j >= 0 {
		return p.s[:j], p.s[j+1:]
	}
	return "", p.s
}

// findPair is findKey for two keys at once: it scans the object starting at
// data[i] until it has found both, and returns the index of each one's
// value, or -1 for a key it did not find. Each index is the one findKey
// returns for that key alone: the scan reads the same members the same way
// and stops no earlier than findKey would. When it had to skip over a found
// value to look for the other key, it also returns the index after that
// value (ep, eq; else -1), so that it is not scanned twice.
func findPair(data []byte, i int, kp, kq string) (vp, ep, vq, eq int) {
	vp, ep, vq, eq = -1, -1, -1, -1
	if i >= len(data) || data[i] != '{' {
		return
	}
	i++
	for {
		i = skipWS(data, i)
		if i >= len(data) || data[i] != '"' {
			return
		}
		end, ok := skipString(data, i)
		if !ok {
			return
		}
		raw := data[i+1 : end-1]
		var mp, mq bool
		if bytes.IndexByte(raw, '\\') < 0 {
			mp = vp < 0 && string(raw) == kp
			mq = vq < 0 && string(raw) == kq
		} else {
			mp = vp < 0 && keyEqual(raw, kp)
			mq = vq < 0 && keyEqual(raw, kq)
		}
		i = skipWS(data, end)
		if i >= len(data) || data[i] != ':' {
			return
		}
		i = skipWS(data, i+1)
		if mp {
			vp = i
		}
		if mq {
			vq = i
		}
		if vp >= 0 && vq >= 0 {
			return
		}
		if end, ok = skipValue(data, i); !ok {
			// A value that does not end: Lookup fails on it too.
			if mp {
				vp = -1
			}
			if mq {
				vq = -1
			}
			return
		}
		if mp {
			ep = end
		}
		if mq {
			eq = end
		}
		i = skipWS(data, end)
		if i >= len(data) || data[i] != ',' {
			return
		}
		i++
	}
}

// findKey scans the object starting at data[i] for key and returns the index
// of its value.
func findKey(data []byte, i int, key string) (int, bool) {
	if i >= len(data) || data[i] != '{' {
		return 0, false
	}
	i++
	for {
		i = skipWS(data, i)
		if i >= len(data) || data[i] != '"' {
			return 0, false // '}' (not found) or malformed
		}
		end, ok := skipString(data, i)
		if !ok {
			return 0, false
		}
		match := keyEqual(data[i+1:end-1], key)
		i = skipWS(data, end)
		if i >= len(data) || data[i] != ':' {
			return 0, false
		}
		i = skipWS(data, i+1)
		if match {
			return i, true
		}
		if i, ok = skipValue(data, i); !ok {
			return 0, false
		}
		i = skipWS(data, i)
		if i >= len(data) || data[i] != ',' {
			return 0, false
		}
		i++
	}
}

// valueAt returns the raw value starting at data[i], which must be followed
// by the ',' or '}' that ends an object member ("01" is not the number 0).
func valueAt(data []byte, i int) ([]byte, bool) {
	end, ok := skipValue(data, i)
	if !ok {
		return nil, false
	}
	return valueTo(data, i, end)
}

// valueTo is valueAt for a value already skipped: it starts at data[i] and
// ends before data[end].
func valueTo(data []byte, i, end int) ([]byte, bool) {
	if j := skipWS(data, end); j >= len(data) || data[j] != ',' && data[j] != '}' {
		return nil, false
	}
	if data[i] == '"' {
		return data[i+1 : end-1], true
	}
	return data[i:end], true
}

func skipWS(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skipString returns the index after the string starting at data[i] (a
// quote). A quote ends the string when an even number of backslashes precede
// it, so the scan jumps from quote to quote.
func skipString(data []byte, i int) (int, bool) {
	start := i + 1
	j := start
	for {
		k := bytes.IndexByte(data[j:], '"')
		if k < 0 {
			return 0, false
		}
		j += k
		n := 0
		for b := j - 1; b >= start && data[b] == '\\'; b-- {
			n++
		}
		if n%2 == 0 {
			return j + 1, true
		}
		j++
	}
}

// skipValue returns the index after the value starting at data[i]. Objects
// and arrays are skipped by counting brackets outside strings; scalars run to
// the next delimiter.
func skipValue(data []byte, i int) (int, bool) {
	if i >= len(data) {
		return 0, false
	}
	switch data[i] {
	case '"':
		return skipString(data, i)
	case '{', '[':
		depth := 0
		for i < len(data) {
			switch data[i] {
			case '"':
				end, ok := skipString(data, i)
				if !ok {
					return 0, false
				}
				i = end
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, true
				}
			}
			i++
		}
		return 0, false
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return scanNumber(data, i)
	}
	for _, lit := range [...]string{"true", "false", "null"} {
		if len(data)-i >= len(lit) && string(data[i:i+len(lit)]) == lit {
			return i + len(lit), true
		}
	}
	return 0, false
}

// scanNumber returns the index after the JSON number starting at data[i]:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func scanNumber(data []byte, i int) (int, bool) {
	if i < len(data) && data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case i < len(data) && '1' <= data[i] && data[i] <= '9':
		i = digits(data, i)
	default:
		return 0, false
	}
	if i < len(data) && data[i] == '.' {
		j := digits(data, i+1)
		if j == i+1 {
			return 0, false
		}
		i = j
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		j := digits(data, i)
		if j == i {
			return 0, false
		}
		i = j
	}
	return i, true
}

func digits(data []byte, i int) int {
	for i < len(data) && '0' <= data[i] && data[i] <= '9' {
		i++
	}
	return i
}

// keyEqual reports whether the raw (still escaped) key equals key, decoding
// escapes as encoding/json does: \uXXXX surrogate pairs combine, a lone
// surrogate becomes U+FFFD. Invalid UTF-8 is compared byte for byte.
func keyEqual(raw []byte, key string) bool {
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw) == key
	}
	var buf [utf8.UTFMax]byte
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			if len(key) == 0 || key[0] != c {
				return false
			}
			key = key[1:]
			i++
			continue
		}
		if i+1 >= len(raw) {
			return false
		}
		var r rune
		switch raw[i+1] {
		case '"', '\\', '/':
			r = rune(raw[i+1])
		case 'b':
			r = '\b'
		case 'f':
			r = '\f'
		case 'n':
			r = '\n'
		case 'r':
			r = '\r'
		case 't':
			r = '\t'
		case 'u':
			r = hex4(raw[i+2:])
			if r < 0 {
				return false
			}
			i += 4
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if i+3 < len(raw) && raw[i+2] == '\\' && raw[i+3] == 'u' {
					r2 = hex4(raw[i+4:])
				}
				if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
		default:
			return false
		}
		i += 2
		n := utf8.EncodeRune(buf[:], r)
		if len(key) < n || key[:n] != string(buf[:n]) {
			return false
		}
		key = key[n:]
	}
	return len(key) == 0
}

// hex4 decodes four hex digits at the start of b, or returns -1.
func hex4(b []byte) rune {
	if len(b) < 4 {
		return -1
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}
