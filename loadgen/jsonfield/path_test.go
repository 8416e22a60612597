package jsonfield

import (
	"strings"
	"testing"
)

func TestParsePath(t *testing.T) {
	for _, s := range []string{"ts", "meta.sent_ms", "a.b.c.d", "with space", "ü"} {
		p, err := ParsePath(s)
		if err != nil {
			t.Errorf("ParsePath(%q): %v", s, err)
		} else if p.String() != s {
			t.Errorf("ParsePath(%q).String() = %q", s, p.String())
		}
	}
	for _, s := range []string{"", ".", "a.", ".a", "a..b", " ts", "meta. sent"} {
		_, err := ParsePath(s)
		if err == nil {
			t.Errorf("ParsePath(%q) accepted", s)
			continue
		}
		if !strings.Contains(err.Error(), `want dot-separated object keys such as "ts"`) {
			t.Errorf("ParsePath(%q) error %q does not name the expected form", s, err)
		}
		if s != "" && !strings.Contains(err.Error(), "path "+quoteGo(s)) {
			t.Errorf("ParsePath(%q) error %q does not name the path", s, err)
		}
	}
	if _, ok := (Path{}).Lookup([]byte(`{"":1}`)); ok {
		t.Error("the zero Path matched")
	}
}

func quoteGo(s string) string { return `"` + s + `"` }

func TestLookup(t *testing.T) {
	const ev = `{"seq":12345,"sched":1732492800000000000,"sent":1732492800000123456,"pad":"xxxx"}`
	for _, tc := range []struct {
		name, data, path string
		want             string
		ok               bool
	}{
		{"first key", ev, "seq", "12345", true},
		{"middle key", ev, "sched", "1732492800000000000", true},
		{"string value", ev, "pad", "xxxx", true},
		{"absent", ev, "nope", "", false},
		{"prefix of a key", ev, "se", "", false},
		{"key is a prefix", `{"sched_ms":1,"sched":2}`, "sched", "2", true},

		{"nested", `{"meta":{"sent_ms":1732492800123,"x":1},"ts":5}`, "meta.sent_ms", "1732492800123", true},
		{"deeply nested", `{"a":{"b":{"c":{"d":-1.5e3}}}}`, "a.b.c.d", "-1.5e3", true},
		{"nested object value", `{"a":{"b":[1,2]}}`, "a", `{"b":[1,2]}`, true},
		{"key only at a nested depth", `{"meta":{"ts":1},"other":2}`, "ts", "", false},
		{"key nested before top-level", `{"meta":{"ts":1},"ts":2}`, "ts", "2", true},
		{"key inside an array", `{"list":[{"ts":1}],"ts":3}`, "ts", "3", true},
		{"key inside a string value", `{"note":"\"ts\":9","ts":4}`, "ts", "4", true},
		{"key text as a value", `{"a":"ts","b":"ts:1"}`, "ts", "", false},
		{"path through a non-object", `{"meta":5}`, "meta.ts", "", false},
		{"path through an array", `{"meta":[{"ts":1}]}`, "meta.ts", "", false},
		{"path through a string", `{"meta":"{\"ts\":1}"}`, "meta.ts", "", false},
		{"intermediate absent", `{"x":{"ts":1}}`, "meta.ts", "", false},

		{"escaped quotes in strings", `{"a":"say \"hi\" \\","ts":7}`, "ts", "7", true},
		{"escaped backslash before quote", `{"a":"\\\\","ts":8}`, "ts", "8", true},
		{"string value keeps escapes", `{"ts":"a\"b\\n"}`, "ts", `a\"b\\n`, true},
		{"brackets inside strings", `{"a":{"s":"}]{["},"ts":9}`, "ts", "9", true},
		{"escaped key", `{"\u0074s":10}`, "ts", "10", true},
		{"escaped key with surrogate pair", `{"\ud83d\ude00":11}`, "😀", "11", true},
		{"escaped key mismatch", `{"t\u0073x":1}`, "ts", "", false},
		{"escaped slash in key", `{"a\/b":12}`, "a/b", "12", true},
		{"first duplicate wins", `{"ts":1,"ts":2}`, "ts", "1", true},

		{"whitespace everywhere", " \n\t{ \"a\" : [ 1 , { } ] ,\r\n \"ts\" :\t 42 \n}\n", "ts", "42", true},
		{"arrays skipped", `{"a":[[1,[2,{"ts":0}]],"x"],"ts":13}`, "ts", "13", true},
		{"literals skipped", `{"a":true,"b":false,"c":null,"ts":14}`, "ts", "14", true},
		{"literal value", `{"ts":null}`, "ts", "null", true},
		{"negative exponent number", `{"ts":1.7e-3}`, "ts", "1.7e-3", true},
		{"empty object", `{}`, "ts", "", false},

		{"empty input", ``, "ts", "", false},
		{"not an object", `[{"ts":1}]`, "ts", "", false},
		{"number document", `12`, "ts", "", false},
		{"unterminated key", `{"ts`, "ts", "", false},
		{"missing colon", `{"ts" 1}`, "ts", "", false},
		{"missing value", `{"ts":`, "ts", "", false},
		{"missing comma", `{"a":1 "ts":2}`, "ts", "", false},
		{"unterminated string value", `{"ts":"abc`, "ts", "", false},
		{"unterminated nested object", `{"a":{"b":1,"ts":2`, "ts", "", false},
		{"bad number", `{"ts":01}`, "ts", "", false},
		{"bad number fraction", `{"ts":1.}`, "ts", "", false},
		{"bare word", `{"ts":tru}`, "ts", "", false},
		{"unquoted key", `{ts:1}`, "ts", "", false},
		{"trailing comma", `{"a":1,}`, "ts", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParsePath(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := p.Lookup([]byte(tc.data))
			if ok != tc.ok || string(got) != tc.want {
				t.Errorf("Lookup(%s, %q) = %q, %v; want %q, %v", tc.path, tc.data, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestLookupAllocs(t *testing.T) {
	p, _ := ParsePath("meta.sent_ms")
	data := []byte(`{"seq":1,"note":"a\"b","meta":{"arr":[1,{"x":"y"}],"\u0073ent_ms":1732492800123}}`)
	allocs := testing.AllocsPerRun(100, func() {
		if _, ok := p.Lookup(data); !ok {
			t.Fatal("not found")
		}
	})
	if allocs != 0 {
		t.Errorf("Lookup: %v allocations, want 0", allocs)
	}
}

// BenchmarkLookup looks up the scheduled publish time in a typical event, as
// the engine does for every event. It must report 0 allocs/op.
func BenchmarkLookup(b *testing.B) {
	data := []byte(`{"seq":12345,"sched":1732492800000000000,"sent":1732492800000123456,"pad":"xxxx"}`)
	p, err := ParsePath("sched")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if raw, ok := p.Lookup(data); !ok || len(raw) != 19 {
			b.Fatalf("Lookup = %q, %v", raw, ok)
		}
	}
}

// TestLookupPair checks that LookupPair returns what two Lookups return, for
// pairs in one object (one pass) and in different ones (two lookups), on
// well-formed and malformed data.
func TestLookupPair(t *testing.T) {
	for _, tc := range []struct {
		p, q, data string
		rp, rq     string
		okp, okq   bool
	}{
		{"sched", "sent", `{"seq":1,"sched":10,"sent":12,"pad":"x"}`, "10", "12", true, true},
		{"sched", "sent", `{"sent":12,"sched":10}`, "10", "12", true, true},
		{"sched", "sent", `{"sched":10}`, "10", "", true, false},
		{"sched", "sent", `{"sent":"12"}`, "", "12", false, true},
		{"sched", "sched", `{"sched":10,"sched":11}`, "10", "10", true, true},
		{"sched", "sent", `{"sched":10,"sched":11,"sent":1,"sent":2}`, "10", "1", true, true},
		{"meta.ts", "meta.sent", `{"ts":0,"meta":{"ts":5,"x":[1,{"sent":9}],"sent":6}}`, "5", "6", true, true},
		{"ts", "meta.sent", `{"meta":{"sent":6},"ts":5}`, "5", "6", true, true},
		{"sched", "sent", `{"sched":10,"x":?,"sent":12}`, "10", "", true, false},
		{"sched", "sent", `{"sched":01,"sent":12}`, "", "", false, false},
		{"sched", "sent", `{"sent":12 "sched":10}`, "", "", false, false},
		{"sched", "sent", `[{"sched":10}]`, "", "", false, false},
		{"a.sched", "a.sent", `{"a":1}`, "", "", false, false},
	} {
		p, err := ParsePath(tc.p)
		if err != nil {
			t.Fatal(err)
		}
		q, err := ParsePath(tc.q)
		if err != nil {
			t.Fatal(err)
		}
		data := []byte(tc.data)
		rp, okp, rq, okq := LookupPair(data, p, q)
		if string(rp) != tc.rp || okp != tc.okp || string(rq) != tc.rq || okq != tc.okq {
			t.Errorf("LookupPair(%s, %s, %s) = %q, %v, %q, %v; want %q, %v, %q, %v",
				tc.data, tc.p, tc.q, rp, okp, rq, okq, tc.rp, tc.okp, tc.rq, tc.okq)
		}
		wp, wokp := p.Lookup(data)
		wq, wokq := q.Lookup(data)
		if string(rp) != string(wp) || okp != wokp || string(rq) != string(wq) || okq != wokq {
			t.Errorf("LookupPair(%s, %s, %s) = %q, %v, %q, %v; Lookup finds %q, %v and %q, %v",
				tc.data, tc.p, tc.q, rp, okp, rq, okq, wp, wokp, wq, wokq)
		}
	}
	if _, okp, _, okq := LookupPair([]byte(`{"":1}`), Path{}, Path{}); okp || okq {
		t.Error("LookupPair with zero Paths found something")
	}
}

func TestLookupPairAllocs(t *testing.T) {
	p, _ := ParsePath("meta.sched")
	q, _ := ParsePath("meta.sent")
	data := []byte(`{"seq":1,"meta":{"arr":[1,{"x":"y"}],"sched":1732492800123,"\u0073ent":1732492800124}}`)
	allocs := testing.AllocsPerRun(100, func() {
		if _, okp, _, okq := LookupPair(data, p, q); !okp || !okq {
			t.Fatal("not found")
		}
	})
	if allocs != 0 {
		t.Errorf("LookupPair: %v allocations, want 0", allocs)
	}
}

// BenchmarkLookupPair looks up the scheduled publish time and the write time
// in a typical event in one pass, as the engine does for every event when
// it measures the latency split. It must report 0 allocs/op; compare with
// BenchmarkLookup (one field) and BenchmarkLookupTwice (two passes).
func BenchmarkLookupPair(b *testing.B) {
	data := []byte(`{"seq":12345,"sched":1732492800000000000,"sent":1732492800000123456,"pad":"xxxx"}`)
	p, _ := ParsePath("sched")
	q, _ := ParsePath("sent")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if rp, okp, rq, okq := LookupPair(data, p, q); !okp || !okq || len(rp) != 19 || len(rq) != 19 {
			b.Fatalf("LookupPair = %q, %v, %q, %v", rp, okp, rq, okq)
		}
	}
}

// BenchmarkLookupTwice is BenchmarkLookupPair with two Lookups: what the
// one pass saves.
func BenchmarkLookupTwice(b *testing.B) {
	data := []byte(`{"seq":12345,"sched":1732492800000000000,"sent":1732492800000123456,"pad":"xxxx"}`)
	p, _ := ParsePath("sched")
	q, _ := ParsePath("sent")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		rp, okp := p.Lookup(data)
		rq, okq := q.Lookup(data)
		if !okp || !okq || len(rp) != 19 || len(rq) != 19 {
			b.Fatalf("Lookup = %q, %v, %q, %v", rp, okp, rq, okq)
		}
	}
}
