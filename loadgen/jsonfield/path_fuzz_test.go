package jsonfield

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzLookup checks that Lookup never panics and, for valid JSON, agrees with
// a reference built on encoding/json: the same value found or not, and for a
// number the same literal (for a string, the same raw contents).
func FuzzLookup(f *testing.F) {
	for _, s := range []struct{ data, path string }{
		{`{"seq":12345,"sched":1732492800000000000,"sent":1732492800000123456,"pad":"xxxx"}`, "sched"},
		{`{"meta":{"sent_ms":1732492800123},"ts":1}`, "meta.sent_ms"},
		{`{"a":[{"ts":1}],"b":"\"ts\":2","ts":-3.5e2}`, "ts"},
		{`{"\u0074s":1,"ts":2}`, "ts"},
		{`{"a":{"b":{"c":"x\\\"y"}}}`, "a.b.c"},
		{` { "x" : [ [ ] , { } , "}" ] , "y" : null } `, "y"},
		{`{"ts":01}`, "ts"},
	} {
		f.Add([]byte(s.data), s.path)
	}
	f.Fuzz(func(t *testing.T, data []byte, path string) {
		p, err := ParsePath(path)
		if err != nil {
			return
		}
		raw, ok := p.Lookup(data)
		if ok && len(raw) > len(data) {
			t.Fatalf("raw %q longer than data", raw)
		}
		// encoding/json replaces invalid UTF-8 when it decodes keys; keep
		// to inputs where both compare the same strings.
		if !json.Valid(data) || !utf8.Valid(data) || !utf8.ValidString(path) {
			return
		}
		want, found := refLookup(t, data, strings.Split(path, "."))
		if found != ok {
			t.Fatalf("Lookup(%s, %q) = %q, %v; encoding/json finds %q, %v", path, data, raw, ok, want, found)
		}
		if !found {
			return
		}
		if want[0] == '"' {
			want = want[1 : len(want)-1]
		}
		if !bytes.Equal(raw, want) {
			t.Fatalf("Lookup(%s, %q) = %q; encoding/json finds %q", path, data, raw, want)
		}
		if c := want[0]; c == '-' || '0' <= c && c <= '9' {
			var n json.Number
			if err := json.Unmarshal(want, &n); err != nil || string(n) != string(raw) {
				t.Fatalf("number %q: encoding/json reads %q, %v", raw, n, err)
			}
		}
	})
}

// refLookup walks valid JSON with encoding/json's tokenizer: at each level
// the first member whose decoded key equals the path key.
func refLookup(t *testing.T, data []byte, keys []string) (json.RawMessage, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	for _, key := range keys {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("reference: %v", err)
		}
		if d, isDelim := tok.(json.Delim); !isDelim || d != '{' {
			return nil, false
		}
		for {
			if !dec.More() {
				return nil, false
			}
			tok, err := dec.Token()
			if err != nil {
				t.Fatalf("reference: %v", err)
			}
			if tok.(string) == key {
				break
			}
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				t.Fatalf("reference: %v", err)
			}
		}
	}
	var v json.RawMessage
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("reference: %v", err)
	}
	return v, true
}

// FuzzLookupPair checks that LookupPair never panics and returns exactly
// what two Lookups return, on any input, valid JSON or not.
func FuzzLookupPair(f *testing.F) {
	for _, s := range []struct{ data, p, q string }{
		{`{"seq":12345,"sched":1732492800000000000,"sent":1732492800000123456,"pad":"xxxx"}`, "sched", "sent"},
		{`{"sent":1,"sched":2}`, "sched", "sent"},
		{`{"meta":{"sent_ms":1732492800123,"ts":1},"ts":1}`, "meta.ts", "meta.sent_ms"},
		{`{"a":{"x":1},"b":{"x":2}}`, "a.x", "b.x"},
		{`{"\u0074s":1,"ts":2,"t\u0073":3}`, "ts", "ts"},
		{`{"ts":1,"x":?,"sent":2}`, "ts", "sent"},
		{`{"ts":01,"sent":2}`, "ts", "sent"},
	} {
		f.Add([]byte(s.data), s.p, s.q)
	}
	f.Fuzz(func(t *testing.T, data []byte, ps, qs string) {
		p, err := ParsePath(ps)
		if err != nil {
			return
		}
		q, err := ParsePath(qs)
		if err != nil {
			return
		}
		rp, okp, rq, okq := LookupPair(data, p, q)
		wp, wokp := p.Lookup(data)
		wq, wokq := q.Lookup(data)
		if okp != wokp || !bytes.Equal(rp, wp) || okq != wokq || !bytes.Equal(rq, wq) {
			t.Fatalf("LookupPair(%q, %s, %s) = %q, %v, %q, %v; Lookup finds %q, %v and %q, %v",
				data, ps, qs, rp, okp, rq, okq, wp, wokp, wq, wokq)
		}
	})
}
