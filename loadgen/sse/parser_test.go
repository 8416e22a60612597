package sse

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// rec is a copy of a dispatched Event (the Event itself aliases the parser).
type rec struct{ Type, Data, ID string }

func (r rec) String() string { return fmt.Sprintf("{%q %q id=%q}", r.Type, r.Data, r.ID) }

type recorder struct{ evs []rec }

func (r *recorder) Event(ev *Event) {
	r.evs = append(r.evs, rec{string(ev.Type), string(ev.Data), string(ev.LastEventID)})
}

func msg(data string) rec           { return rec{"message", data, ""} }
func msgID(data, id string) rec     { return rec{"message", data, id} }
func typed(typ, data string) rec    { return rec{typ, data, ""} }
func evs(rs ...rec) []rec           { return rs }
func repeat(s string, n int) string { return strings.Repeat(s, n) }

// vector is one stream and what the spec says it yields.
type vector struct {
	name    string
	in      string
	want    []rec
	id      string // LastEventID after the stream
	retry   int64
	retryOK bool
}

// vectors is a table of every rule of §9.2.6; each is also fed split at
// every position and one byte at a time. FuzzParse uses them as seeds.
var vectors = []vector{
	// Dispatch.
	{name: "simple", in: "data: hello\n\n", want: evs(msg("hello"))},
	{name: "two events", in: "data: a\n\ndata: b\n\n", want: evs(msg("a"), msg("b"))},
	{name: "data lines joined with LF", in: "data: a\ndata: b\ndata: c\n\n", want: evs(msg("a\nb\nc"))},
	{name: "blank lines without data dispatch nothing", in: "\n\n\n\r\n\r\r"},
	{name: "empty data value dispatches empty data", in: "data: \n\n", want: evs(msg(""))},
	{name: "two empty data lines give one LF", in: "data\ndata\n\n", want: evs(msg("\n"))},
	{name: "data with only LF lines", in: "data:\ndata:\ndata:\n\n", want: evs(msg("\n\n"))},
	{name: "incomplete event at end is not dispatched", in: "data: a\n\ndata: b\n", want: evs(msg("a"))},
	{name: "unterminated last line is not dispatched", in: "data: a\n\ndata: b", want: evs(msg("a"))},
	{name: "single LF after data is not a dispatch", in: "data: a\n"},
	{name: "NUL in data is kept", in: "data: a\x00b\n\n", want: evs(msg("a\x00b"))},
	{name: "large data line", in: "data: " + repeat("x", 3000) + "\n\n", want: evs(msg(repeat("x", 3000)))},

	// Line ends.
	{name: "LF", in: "data: a\n\n", want: evs(msg("a"))},
	{name: "CR", in: "data: a\r\r", want: evs(msg("a"))},
	{name: "CRLF", in: "data: a\r\n\r\n", want: evs(msg("a"))},
	{name: "mixed line ends in one event", in: "data: a\rdata: b\ndata: c\r\ndata: d\r\r", want: evs(msg("a\nb\nc\nd"))},
	{name: "CRLF is one line end, not a blank line", in: "data: a\r\ndata: b\r\n\r\n", want: evs(msg("a\nb"))},
	{name: "CR CR is a blank line", in: "data: a\r\rdata: b\r\r", want: evs(msg("a"), msg("b"))},
	{name: "LF CR is a blank line", in: "data: a\n\rdata: b\n\n", want: evs(msg("a"), msg("b"))},
	{name: "CR LF LF dispatches once", in: "data: a\r\n\ndata: b\r\n\n", want: evs(msg("a"), msg("b"))},
	{name: "CR LF CR LF CR", in: "data: a\r\n\r\n\rdata: b\n\n", want: evs(msg("a"), msg("b"))},
	{name: "trailing CR at end of stream ends the line", in: "data: a\n\r", want: evs(msg("a"))},

	// BOM.
	{name: "BOM stripped at start", in: "\xEF\xBB\xBFdata: a\n\n", want: evs(msg("a"))},
	{name: "BOM stripped only once", in: "\xEF\xBB\xBF\xEF\xBB\xBFdata: a\n\ndata: b\n\n", want: evs(msg("b"))},
	{name: "BOM alone", in: "\xEF\xBB\xBF"},
	{name: "BOM before blank line", in: "\xEF\xBB\xBF\ndata: a\n\n", want: evs(msg("a"))},
	{name: "BOM later in data is data", in: "data: a\n\ndata: \xEF\xBB\xBFb\n\n", want: evs(msg("a"), msg("\uFEFFb"))},
	{name: "BOM at start of a later line is not stripped", in: "data: a\n\xEF\xBB\xBFdata: b\n\n", want: evs(msg("a"))},
	{name: "partial BOM is invalid UTF-8, not a BOM", in: "\xEF\xBBdata: a\n\ndata: b\n\n", want: evs(msg("b"))},
	{name: "one BOM byte then colon", in: "\xEF:x\ndata: a\n\n", want: evs(msg("a"))},
	{name: "two BOM bytes then line end", in: "\xEF\xBB\ndata: a\n\n", want: evs(msg("a"))},

	// Fields.
	{name: "no space after colon", in: "data:a\n\n", want: evs(msg("a"))},
	{name: "only one leading space removed", in: "data:  a\n\n", want: evs(msg(" a"))},
	{name: "tab is not removed", in: "data:\ta\n\n", want: evs(msg("\ta"))},
	{name: "trailing space kept", in: "data: a \n\n", want: evs(msg("a "))},
	{name: "colon in value", in: "data: a:b: c\n\n", want: evs(msg("a:b: c"))},
	{name: "line without colon is a name with empty value", in: "data\n\n", want: evs(msg(""))},
	{name: "comment ignored", in: ": hello\ndata: a\n: between\ndata: b\n\n", want: evs(msg("a\nb"))},
	{name: "bare colon is a comment", in: ":\n\n:\ndata: a\n:\n\n", want: evs(msg("a"))},
	{name: "comment only does not dispatch", in: ": keepalive\n\n"},
	{name: "unknown field ignored", in: "foo: bar\ndata: a\nbaz\n\n", want: evs(msg("a"))},
	{name: "field names are case sensitive", in: "Data: a\nDATA: b\n\n"},
	{name: "space before colon is part of the name", in: "data : a\n\n"},
	{name: "leading space makes another name", in: " data: a\n\n"},

	// event.
	{name: "event type", in: "event: ping\ndata: x\n\n", want: evs(typed("ping", "x"))},
	{name: "custom types dispatched like any other", in: "event: tick\ndata: 1\n\nevent: tock\ndata: 2\n\ndata: 3\n\n", want: evs(typed("tick", "1"), typed("tock", "2"), msg("3"))},
	{name: "type reset after dispatch", in: "event: a\ndata: x\n\ndata: y\n\n", want: evs(typed("a", "x"), msg("y"))},
	{name: "type reset by blank line without data", in: "event: a\n\ndata: y\n\n", want: evs(msg("y"))},
	{name: "empty event value means message", in: "event: a\nevent\ndata: x\n\n", want: evs(msg("x"))},
	{name: "last event field wins", in: "event: a\nevent: b\ndata: x\n\n", want: evs(typed("b", "x"))},
	{name: "event after data", in: "data: x\nevent: late\n\n", want: evs(typed("late", "x"))},
	{name: "explicit message type", in: "event: message\ndata: x\n\n", want: evs(msg("x"))},
	{name: "event with empty data", in: "event: e\ndata\n\n", want: evs(typed("e", ""))},

	// id.
	{name: "id", in: "id: 1\ndata: x\n\n", want: evs(msgID("x", "1")), id: "1"},
	{name: "id persists across events", in: "id: 1\ndata: x\n\ndata: y\n\n", want: evs(msgID("x", "1"), msgID("y", "1")), id: "1"},
	{name: "id after data in same event", in: "data: x\nid: 7\n\n", want: evs(msgID("x", "7")), id: "7"},
	{name: "id without data updates last event ID", in: "id: 5\n\ndata: x\n\n", want: evs(msgID("x", "5")), id: "5"},
	{name: "empty id clears", in: "id: 1\ndata: x\n\nid\ndata: y\n\n", want: evs(msgID("x", "1"), msg("y")), id: ""},
	{name: "id with colon value clears", in: "id: 1\n\nid:\n\n", id: ""},
	{name: "id with NUL ignored", in: "id: 1\ndata: x\n\nid: a\x00b\ndata: y\n\n", want: evs(msgID("x", "1"), msgID("y", "1")), id: "1"},
	{name: "id of an incomplete event is not the last event ID", in: "id: 1\ndata: x\n\nid: 2\ndata: y\n", want: evs(msgID("x", "1")), id: "1"},
	{name: "id keeps spaces", in: "id:  a b \n\n", id: " a b "},

	// retry.
	{name: "retry", in: "retry: 1000\n", retry: 1000, retryOK: true},
	{name: "retry without space", in: "retry:250\n", retry: 250, retryOK: true},
	{name: "retry leading zeros", in: "retry: 007\n", retry: 7, retryOK: true},
	{name: "retry zero", in: "retry: 0\n", retry: 0, retryOK: true},
	{name: "latest valid retry wins", in: "retry: 1\nretry: 2\nretry: x\n", retry: 2, retryOK: true},
	{name: "retry with letters ignored", in: "retry: 10a\n"},
	{name: "negative retry ignored", in: "retry: -1\n"},
	{name: "retry with sign ignored", in: "retry: +5\n"},
	{name: "empty retry ignored", in: "retry:\nretry\n"},
	{name: "retry with trailing space ignored", in: "retry: 5 \n"},
	{name: "retry with two leading spaces ignored", in: "retry:  5\n"},
	{name: "retry fraction ignored", in: "retry: 1.5\n"},
	{name: "retry max int64", in: "retry: 9223372036854775807\n", retry: 1<<63 - 1, retryOK: true},
	{name: "retry overflow ignored", in: "retry: 3\nretry: 9223372036854775808\n", retry: 3, retryOK: true},
	{name: "retry does not dispatch", in: "retry: 5\n\n", retry: 5, retryOK: true},
	{name: "unterminated retry line is not processed", in: "data: x\nretry: 9"},
	{name: "retry line in event", in: "data: x\nretry: 9\n\n", want: evs(msg("x")), retry: 9, retryOK: true},

	// UTF-8 decoding: one U+FFFD per maximal ill-formed subpart.
	{name: "invalid byte", in: "data: \xff\n\n", want: evs(msg("\uFFFD"))},
	{name: "truncated 3-byte sequence is one replacement", in: "data: a\xe2\x82b\n\n", want: evs(msg("a\uFFFDb"))},
	{name: "truncated 4-byte sequence at line end", in: "data: \xf0\x9f\x98\n\n", want: evs(msg("\uFFFD"))},
	{name: "surrogate is three replacements", in: "data: \xed\xa0\x80\n\n", want: evs(msg("\uFFFD\uFFFD\uFFFD"))},
	{name: "overlong is two replacements", in: "data: \xc0\xaf\n\n", want: evs(msg("\uFFFD\uFFFD"))},
	{name: "above U+10FFFF", in: "data: \xf4\x90\x80\x80\n\n", want: evs(msg("\uFFFD\uFFFD\uFFFD\uFFFD"))},
	{name: "stray continuation bytes", in: "data: \x80\x80x\n\n", want: evs(msg("\uFFFD\uFFFDx"))},
	{name: "valid multibyte kept", in: "data: h\u00e9llo \u4e16\u754c \U0001F600\n\n", want: evs(msg("h\u00e9llo \u4e16\u754c \U0001F600"))},
	{name: "sequence cut by line end", in: "data: \xe2\x82\ndata: \xac\n\n", want: evs(msg("\uFFFD\n\uFFFD"))},
	{name: "invalid event type", in: "event: \xffx\ndata: a\n\n", want: evs(typed("\uFFFDx", "a"))},
	{name: "invalid id", in: "id: \xc3\ndata: a\n\n", want: evs(msgID("a", "\uFFFD")), id: "\uFFFD"},
	{name: "invalid bytes in field name", in: "dat\xe1: a\n\n"},
	{name: "invalid data then valid event", in: "data: \xfe\n\ndata: ok\n\n", want: evs(msg("\uFFFD"), msg("ok"))},

	// A typical stream from the origin.
	{name: "origin event", in: "id: 12345\ndata: {\"seq\":12345,\"sched\":1732492800000000000,\"sent\":1732492800000123456}\n\n",
		want: evs(msgID(`{"seq":12345,"sched":1732492800000000000,"sent":1732492800000123456}`, "12345")), id: "12345"},
	{name: "stream with retry, comments and CRLF", in: ": hi\r\nretry: 3000\r\n\r\nid: 1\r\nevent: tick\r\ndata: a\r\n\r\n: ping\r\n\r\nid: 2\r\ndata: b\r\ndata: c\r\n\r\n",
		want: evs(rec{"tick", "a", "1"}, msgID("b\nc", "2")), id: "2", retry: 3000, retryOK: true},
}

// feed feeds a copy of b and clobbers the copy afterwards, so that a parser
// retaining b shows up as corrupted events.
func feed(t testing.TB, p *Parser, b []byte, h Handler) {
	t.Helper()
	scratch := append([]byte(nil), b...)
	if err := p.Feed(scratch, h); err != nil {
		t.Fatalf("Feed(%q): %v", b, err)
	}
	for i := range scratch {
		scratch[i] = '\n'
	}
}

// check asserts what a parser yielded for v.
func check(t *testing.T, how string, v vector, p *Parser, r *recorder) {
	t.Helper()
	if !reflect.DeepEqual(r.evs, v.want) {
		t.Errorf("%s: events\n got %v\nwant %v", how, r.evs, v.want)
	}
	if got := string(p.LastEventID()); got != v.id {
		t.Errorf("%s: LastEventID = %q, want %q", how, got, v.id)
	}
	if ms, ok := p.Retry(); ms != v.retry || ok != v.retryOK {
		t.Errorf("%s: Retry = %d, %v; want %d, %v", how, ms, ok, v.retry, v.retryOK)
	}
}

func TestVectors(t *testing.T) {
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			{
				var p Parser
				var r recorder
				feed(t, &p, []byte(v.in), &r)
				check(t, "whole", v, &p, &r)
			}
			for i := 0; i <= len(v.in); i++ {
				var p Parser
				var r recorder
				feed(t, &p, []byte(v.in[:i]), &r)
				feed(t, &p, []byte(v.in[i:]), &r)
				check(t, fmt.Sprintf("split at %d", i), v, &p, &r)
			}
			{
				// One byte per Read into a single reused buffer.
				var p Parser
				var r recorder
				if err := feedReader(&p, iotest.OneByteReader(strings.NewReader(v.in)), &r); err != nil {
					t.Fatal(err)
				}
				check(t, "one byte per Feed", v, &p, &r)
			}
			{
				// Empty Feeds between all bytes must change nothing.
				var p Parser
				var r recorder
				for i := 0; i < len(v.in); i++ {
					feed(t, &p, nil, &r)
					feed(t, &p, []byte(v.in[i:i+1]), &r)
				}
				check(t, "empty Feeds interleaved", v, &p, &r)
			}
		})
	}
}

// feedReader feeds everything r yields, reading into one reused buffer the
// way the engine does.
func feedReader(p *Parser, r io.Reader, h Handler) error {
	buf := make([]byte, 512)
	for {
		n, err := r.Read(buf)
		if ferr := p.Feed(buf[:n], h); ferr != nil {
			return ferr
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// TestCRLFAcrossFeeds is the phantom-event bug: a CR ending one read and the
// LF starting the next are one line end. The line is processed at the CR.
func TestCRLFAcrossFeeds(t *testing.T) {
	var p Parser
	var r recorder
	feed(t, &p, []byte("data: a\r"), &r)
	if buffered(&p) != len("a\n") {
		t.Fatalf("after CR the data line should be processed already: Buffered = %d", buffered(&p))
	}
	feed(t, &p, []byte("\ndata: b\r"), &r)
	feed(t, &p, []byte("\n\r"), &r)
	if want := evs(msg("a\nb")); !reflect.DeepEqual(r.evs, want) {
		t.Fatalf("got %v, want %v", r.evs, want)
	}
	feed(t, &p, []byte("\ndata: c\r"), &r) // this LF follows the blank line's CR
	feed(t, &p, []byte("\r"), &r)
	if want := evs(msg("a\nb"), msg("c")); !reflect.DeepEqual(r.evs, want) {
		t.Fatalf("got %v, want %v", r.evs, want)
	}
}

// TestDispatchAtCR checks that a blank line ended by CR dispatches at once,
// without waiting for the next byte to rule out an LF.
func TestDispatchAtCR(t *testing.T) {
	var p Parser
	var r recorder
	feed(t, &p, []byte("data: a\r\r"), &r)
	if want := evs(msg("a")); !reflect.DeepEqual(r.evs, want) {
		t.Fatalf("got %v, want %v", r.evs, want)
	}
}

func TestBOMSplitAcrossFeeds(t *testing.T) {
	for _, tc := range []struct {
		name   string
		chunks []string
		want   []rec
	}{
		{"BOM in three Feeds", []string{"\xEF", "\xBB", "\xBF", "data: a\n\n"}, evs(msg("a"))},
		{"BOM split then second BOM", []string{"\xEF\xBB", "\xBF\xEF\xBB\xBFdata: a\n\n", "data: b\n\n"}, evs(msg("b"))},
		{"partial BOM then other bytes", []string{"\xEF\xBB", "data: a\n\n", "data: b\n\n"}, evs(msg("b"))},
		{"partial BOM then blank line", []string{"\xEF", "\n", "data: b\n\n"}, evs(msg("b"))},
		{"no BOM, first byte split", []string{"d", "ata: a\n\n"}, evs(msg("a"))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p Parser
			var r recorder
			for _, c := range tc.chunks {
				feed(t, &p, []byte(c), &r)
			}
			if !reflect.DeepEqual(r.evs, tc.want) {
				t.Fatalf("got %v, want %v", r.evs, tc.want)
			}
		})
	}
}

func TestRetryAndLastEventIDZeroValue(t *testing.T) {
	var p Parser
	if ms, ok := p.Retry(); ms != 0 || ok {
		t.Errorf("zero Parser Retry = %d, %v; want 0, false", ms, ok)
	}
	if id := p.LastEventID(); len(id) != 0 {
		t.Errorf("zero Parser LastEventID = %q, want empty", id)
	}
	if n := buffered(&p); n != 0 {
		t.Errorf("zero Parser Buffered = %d, want 0", n)
	}
}

func TestReset(t *testing.T) {
	var p Parser
	var r recorder
	feed(t, &p, []byte("retry: 1500\nid: 1\ndata: a\n\nid: 2\nevent: half\ndata: partial\ndata: cut"), &r)
	if got := string(p.LastEventID()); got != "1" {
		t.Fatalf("LastEventID before Reset = %q, want 1 (id 2 belongs to an event never completed)", got)
	}
	if buffered(&p) == 0 {
		t.Fatal("Buffered = 0 with a pending event and an incomplete line")
	}
	p.Reset()
	if n := buffered(&p); n != 0 {
		t.Fatalf("Buffered after Reset = %d, want 0", n)
	}
	if ms, ok := p.Retry(); ms != 1500 || !ok {
		t.Fatalf("Retry after Reset = %d, %v; want 1500, true", ms, ok)
	}
	if got := string(p.LastEventID()); got != "1" {
		t.Fatalf("LastEventID after Reset = %q, want 1", got)
	}
	// The new stream starts with a BOM (stripped again), no pending type or
	// data, and a last event ID buffer of "1" (not "2").
	feed(t, &p, []byte("\xEF\xBB\xBFdata: b\n\n"), &r)
	want := evs(msgID("a", "1"), msgID("b", "1"))
	if !reflect.DeepEqual(r.evs, want) {
		t.Fatalf("got %v, want %v", r.evs, want)
	}
}

// TestResetForgetsCR checks that a CR ending the old stream does not swallow
// an LF starting the new one.
func TestResetForgetsCR(t *testing.T) {
	var p Parser
	var r recorder
	feed(t, &p, []byte("data: a\r"), &r)
	p.Reset()
	feed(t, &p, []byte("data: b\n"), &r)
	// If the CR were remembered, this LF would be swallowed and no event
	// would be dispatched.
	feed(t, &p, []byte("\n"), &r)
	if want := evs(msg("b")); !reflect.DeepEqual(r.evs, want) {
		t.Fatalf("got %v, want %v", r.evs, want)
	}
	p.Reset()
	feed(t, &p, []byte("data: c\r"), &r)
	p.Reset()
	feed(t, &p, []byte("\ndata: d\n\n"), &r) // the LF is a blank line of the new stream
	if want := evs(msg("b"), msg("d")); !reflect.DeepEqual(r.evs, want) {
		t.Fatalf("got %v, want %v", r.evs, want)
	}
}

func TestResetReleasesLargeBuffers(t *testing.T) {
	p := Parser{}
	var r recorder
	feed(t, &p, []byte("data: "+repeat("x", 64<<10)+"\ndata: "+repeat("y", 64<<10)), &r)
	p.Reset()
	if p.carry != nil || p.ev.Data != nil {
		t.Fatalf("Reset kept buffers of cap %d and %d", cap(p.carry), cap(p.ev.Data))
	}
	feed(t, &p, []byte("data: small\n\ndata: x"), &r)
	p.Reset()
	if cap(p.carry) == 0 || cap(p.ev.Data) == 0 {
		t.Fatal("Reset dropped small buffers that should be reused")
	}
}

// TestLazyBuffers checks that a parser that never needed to hold bytes
// across Feed calls holds no buffer.
func TestLazyBuffers(t *testing.T) {
	var p Parser
	feed(t, &p, []byte(": comment\n\nfoo: bar\nevent: x\n\n"), nil)
	if p.carry != nil || p.ev.Data != nil || p.lastID != nil {
		t.Fatalf("buffers allocated without need: carry %d, data %d, id %d", cap(p.carry), cap(p.ev.Data), cap(p.lastID))
	}
}

func TestNilHandler(t *testing.T) {
	var p Parser
	feed(t, &p, []byte("id: 3\ndata: x\n\n"), nil)
	if got := string(p.LastEventID()); got != "3" {
		t.Fatalf("LastEventID = %q, want 3", got)
	}
}

// TestHandlerReassigningFields checks that a handler that reassigns the
// Event's slices cannot corrupt the parser.
func TestHandlerReassigningFields(t *testing.T) {
	var p Parser
	var r recorder
	vandal := HandlerFunc(func(ev *Event) {
		r.Event(ev)
		*ev = Event{Type: []byte("junk"), Data: []byte("junk"), LastEventID: []byte("junk")}
	})
	feed(t, &p, []byte("id: 1\ndata: a\n\ndata: b\n\n"), vandal)
	if want := evs(msgID("a", "1"), msgID("b", "1")); !reflect.DeepEqual(r.evs, want) {
		t.Fatalf("got %v, want %v", r.evs, want)
	}
}

func TestSteadyStateAllocs(t *testing.T) {
	ev := []byte("id: 12345\ndata: {\"seq\":12345,\"sched\":1732492800000000000,\"sent\":1732492800000123456}\n\n")
	var p Parser
	var h countHandler
	split := len(ev) / 3
	run := func() {
		if err := p.Feed(ev[:split], &h); err != nil {
			t.Fatal(err)
		}
		if err := p.Feed(ev[split:], &h); err != nil {
			t.Fatal(err)
		}
	}
	run() // allocate the buffers
	if allocs := testing.AllocsPerRun(100, run); allocs != 0 {
		t.Fatalf("%v allocations per event in steady state, want 0", allocs)
	}
	if h.n != 102 {
		t.Fatalf("dispatched %d events, want 102", h.n)
	}
}

type countHandler struct{ n, bytes int }

func (h *countHandler) Event(ev *Event) { h.n++; h.bytes += len(ev.Data) }

func TestLimitEndlessLine(t *testing.T) {
	for _, prefix := range []string{"data: ", ": ", "event: ", ""} {
		t.Run(fmt.Sprintf("%q", prefix), func(t *testing.T) {
			const limit = 1000
			p := Parser{MaxEventBytes: limit}
			var r recorder
			feed(t, &p, []byte("data: before\n\n"+prefix), &r)
			chunk := []byte(repeat("x", 64))
			var err error
			for i := 0; i < 100 && err == nil; i++ {
				err = p.Feed(chunk, &r)
				if buffered(&p) > limit || cap(p.carry) > limit {
					t.Fatalf("after %d chunks Buffered = %d, cap(carry) = %d: past the limit %d", i+1, buffered(&p), cap(p.carry), limit)
				}
			}
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("err = %v, want ErrTooLarge", err)
			}
			if want := evs(msg("before")); !reflect.DeepEqual(r.evs, want) {
				t.Fatalf("events before the long line: got %v, want %v", r.evs, want)
			}
			if err := p.Feed([]byte("\n\ndata: x\n\n"), &r); err == nil {
				t.Fatal("Feed after an error succeeded without Reset")
			}
			p.Reset()
			feed(t, &p, []byte("data: after\n\n"), &r)
			if want := evs(msg("before"), msg("after")); !reflect.DeepEqual(r.evs, want) {
				t.Fatalf("after Reset: got %v, want %v", r.evs, want)
			}
		})
	}
}

func TestLimitManyDataLines(t *testing.T) {
	const limit = 1000
	p := Parser{MaxEventBytes: limit}
	var r recorder
	line := []byte("data: " + repeat("y", 50) + "\n") // 51 bytes of data each
	var err error
	lines := 0
	for ; lines < 100 && err == nil; lines++ {
		err = p.Feed(line, &r)
		if buffered(&p) > limit || cap(p.ev.Data) > limit {
			t.Fatalf("after %d lines Buffered = %d, cap(data) = %d: past the limit %d", lines+1, buffered(&p), cap(p.ev.Data), limit)
		}
	}
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	if want := limit/51 + 1; lines != want {
		t.Fatalf("failed at line %d, want %d (the first line that does not fit)", lines, want)
	}
	if len(r.evs) != 0 {
		t.Fatalf("dispatched %v from an event that failed", r.evs)
	}
}

// TestLimitSplitDataLines feeds many data lines cut at odd places: the carry
// and the data buffer together stay within the limit plus one line.
func TestLimitSplitDataLines(t *testing.T) {
	const limit = 4096
	p := Parser{MaxEventBytes: limit}
	stream := []byte(repeat("data: "+repeat("z", 90)+"\r\n", 100))
	var err error
	for i := 0; i < len(stream) && err == nil; i += 37 {
		err = p.Feed(stream[i:min(i+37, len(stream))], nil)
		if buffered(&p) > limit+100 {
			t.Fatalf("Buffered = %d, past the limit %d + one line", buffered(&p), limit)
		}
	}
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
}

func TestLimitBoundaries(t *testing.T) {
	for _, tc := range []struct {
		name    string
		limit   int
		in      string
		want    []rec
		tooMuch bool
	}{
		{"line exactly at the limit", 16, "data: 0123456789\n\n", evs(msg("0123456789")), false},
		{"line one past the limit", 16, "data: 0123456789A\n\n", nil, true},
		{"comment one past the limit", 16, ":0123456789ABCDEF\n", nil, true},
		{"data exactly at the limit", 16, "data:abcdefg\ndata:hijklmn\n\n", evs(msg("abcdefg\nhijklmn")), false},
		{"data one past the limit", 16, "data:abcdefg\ndata:hijklmno\n\n", nil, true},
		{"data counts U+FFFD replacements", 16, "data:\xff\xff\xff\xff\xff\xff\n\n", nil, true},
		{"line ends do not count", 8, "data: a\r\n\r\n", evs(msg("a")), false},
		{"events before the long line are delivered", 10, "data: a\n\n" + repeat("x", 11) + "\n", evs(msg("a")), true},
		{"unterminated long line", 10, "data: a\n\n" + repeat("x", 11), evs(msg("a")), true},
		{"partial BOM counts as line bytes", 1, "\xEF\xBB\n", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i := 0; i <= len(tc.in); i++ {
				p := Parser{MaxEventBytes: tc.limit}
				var r recorder
				err := p.Feed([]byte(tc.in[:i]), &r)
				if err == nil {
					err = p.Feed([]byte(tc.in[i:]), &r)
				}
				if got := errors.Is(err, ErrTooLarge); got != tc.tooMuch {
					t.Fatalf("split at %d: err = %v, want ErrTooLarge: %v", i, err, tc.tooMuch)
				}
				if !reflect.DeepEqual(r.evs, tc.want) {
					t.Fatalf("split at %d: got %v, want %v", i, r.evs, tc.want)
				}
			}
		})
	}
}

func TestNegativeLimit(t *testing.T) {
	p := Parser{MaxEventBytes: -1}
	err := p.Feed([]byte("data: a\n\n"), nil)
	if err == nil || !strings.Contains(err.Error(), "MaxEventBytes is -1") {
		t.Fatalf("err = %v, want an error naming MaxEventBytes", err)
	}
}

func TestErrorMessage(t *testing.T) {
	p := Parser{MaxEventBytes: 4}
	err := p.Feed([]byte("data: abc\n"), nil)
	want := "sse: line of 9 bytes exceeds the limit of 4 (raise Parser.MaxEventBytes if the stream is legitimate): sse: line or event data exceeds MaxEventBytes"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
}

// TestDecodeStep checks the WHATWG decoder against the maximal-subpart
// examples of the Unicode Standard, §3.9 (Table 3-8 and its neighbours).
func TestDecodeStep(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"abc", "abc"},
		{"\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64", "a\uFFFD\uFFFD\uFFFDb\uFFFDc\uFFFD\uFFFDd"},
		{"\xC0\xAF\xE0\x80\xBF\xF0\x81\x82\x41", "\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFDA"},
		{"\xED\xA0\x80\xED\xBF\xBF\xED\xAF\x41", "\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFDA"},
		{"\xF4\x91\x92\x93\xFF\x41\x80\xBF\x42", "\uFFFD\uFFFD\uFFFD\uFFFD\uFFFDA\uFFFD\uFFFDB"},
		{"\xE1\x80\xE2\xF0\x91\x92\xF1\xBF\x41", "\uFFFD\uFFFD\uFFFD\uFFFDA"},
		{"\xEF\xBF\xBD", "\uFFFD"},
		{"\U0010FFFF\u0800\u07FF", "\U0010FFFF\u0800\u07FF"},
	} {
		got := appendDecoded(nil, []byte(tc.in))
		if string(got) != tc.want {
			t.Errorf("decode(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if n := decodedLen([]byte(tc.in)); n != len(tc.want) {
			t.Errorf("decodedLen(%q) = %d, want %d", tc.in, n, len(tc.want))
		}
	}
}

// TestLargeLineSplitOverManyFeeds feeds one 1 MiB data line in 1 KiB pieces:
// the event arrives whole and the carry grows by doubling, not per Feed.
// (BenchmarkParseLargeEvent shows the cost per byte stays flat.)
func TestLargeLineSplitOverManyFeeds(t *testing.T) {
	const size = 1 << 20
	p := Parser{MaxEventBytes: 2 << 20}
	stream := []byte("data: " + repeat("q", size) + "\n\n")
	var h countHandler
	grows := 0
	prevCap := 0
	for i := 0; i < len(stream); i += 1024 {
		feed(t, &p, stream[i:min(i+1024, len(stream))], &h)
		if cap(p.carry) != prevCap {
			grows++
			prevCap = cap(p.carry)
		}
	}
	if h.n != 1 || h.bytes != size {
		t.Fatalf("got %d events with %d bytes, want 1 with %d", h.n, h.bytes, size)
	}
	// Doubling growth: about log2(1 MiB / 128) reallocations, not one per Feed.
	if grows > 20 {
		t.Fatalf("carry reallocated %d times for one line", grows)
	}
}

func ExampleParser() {
	stream := "retry: 3000\n\nid: 7\nevent: tick\ndata: hello\ndata: world\n\n: keepalive\n\ndata: {\"seq\":8}\r\n\r\n"
	var p Parser
	h := HandlerFunc(func(ev *Event) {
		fmt.Printf("%s id=%s %q\n", ev.Type, ev.LastEventID, ev.Data)
	})
	// Feed in pieces, as reads would arrive.
	for len(stream) > 0 {
		n := min(len(stream), 10)
		if err := p.Feed([]byte(stream[:n]), h); err != nil {
			fmt.Println(err)
			return
		}
		stream = stream[n:]
	}
	ms, _ := p.Retry()
	fmt.Printf("retry %d ms, last event ID %s, %d bytes buffered\n", ms, p.LastEventID(), buffered(&p))
	// Output:
	// tick id=7 "hello\nworld"
	// message id=7 "{\"seq\":8}"
	// retry 3000 ms, last event ID 7, 0 bytes buffered
}

// buffered is the bytes the parser holds between Feed calls: the carry of
// an incomplete line plus the pending event's data and type. Each of the
// carry and the data is at most MaxEventBytes.
func buffered(p *Parser) int { return len(p.carry) + len(p.ev.Data) + len(p.ev.Type) }
