package httpstream

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// recorder is a Sink that keeps what it was given.
type recorder struct {
	heads      []Head
	body       []byte
	emptyBody  int   // Body calls with an empty slice (must stay 0)
	failHead   error // returned by Head
	failBodyAt int   // when > 0, Body fails once the body reaches this length
}

var errSink = errors.New("sink says stop")

func (r *recorder) Head(h *Head) error {
	r.heads = append(r.heads, *h)
	return r.failHead
}

func (r *recorder) Body(p []byte) error {
	if len(p) == 0 {
		r.emptyBody++
	}
	r.body = append(r.body, p...)
	if r.failBodyAt > 0 && len(r.body) >= r.failBodyAt {
		return errSink
	}
	return nil
}

// outcome is everything observable about decoding one input; feeding the same
// bytes split differently must give an identical outcome.
type outcome struct {
	Heads     []Head
	Body      string
	EmptyBody int
	FeedErr   string
	Done      bool
	CloseErr  string
}

func (o outcome) String() string {
	var statuses []int
	for _, h := range o.Heads {
		statuses = append(statuses, h.Status)
	}
	return fmt.Sprintf("heads %v body %q feedErr %q done %v closeErr %q", statuses, o.Body, o.FeedErr, o.Done, o.CloseErr)
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// decode feeds the pieces in order, stopping at the first error, then reports
// Done and Close.
func decode(maxHead int, pieces ...[]byte) (outcome, error, error) {
	d := Decoder{MaxHeadBytes: maxHead}
	r := &recorder{}
	var feedErr error
	for _, p := range pieces {
		if feedErr = d.Feed(p, r); feedErr != nil {
			break
		}
	}
	closeErr := d.Close()
	return outcome{
		Heads:     r.heads,
		Body:      string(r.body),
		EmptyBody: r.emptyBody,
		FeedErr:   errString(feedErr),
		Done:      d.Done(),
		CloseErr:  errString(closeErr),
	}, feedErr, closeErr
}

const sseHead = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"

type vector struct {
	name    string
	in      string
	maxHead int

	status   int    // of the one final head; 0: no head expected
	body     string // decoded body
	done     bool
	feedErr  error  // sentinel the Feed error wraps; nil: no error
	feedMsg  string // substring of the Feed error
	closeErr error  // sentinel the Close error wraps; nil: Close returns nil
	closeMsg string // substring of the Close error
}

var vectors = []vector{
	// Chunked.
	{name: "chunked", in: sseHead + "5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n",
		status: 200, body: "hello, world", done: true},
	{name: "chunked hex sizes", in: sseHead + "0A\r\n0123456789\r\n1f\r\n" + strings.Repeat("x", 31) + "\r\n000\r\n\r\n",
		status: 200, body: "0123456789" + strings.Repeat("x", 31), done: true},
	{name: "chunk extensions", in: sseHead + "5;name=value\r\nhello\r\n6 ; a=\"b;c\" \r\n world\r\n0;last\r\n\r\n",
		status: 200, body: "hello world", done: true},
	{name: "trailers", in: sseHead + "2\r\nhi\r\n0\r\nX-Checksum: abc\r\nX-Other: d\r\n\r\n",
		status: 200, body: "hi", done: true},
	{name: "chunk lines with bare LF", in: sseHead + "2\nhi\r\n0\nX: y\n\n",
		status: 200, body: "hi", done: true},
	{name: "chunked stream still open", in: sseHead + "7\r\ndata: a\r\n",
		status: 200, body: "data: a", closeErr: ErrUnexpectedEOF, closeMsg: "in chunk size"},
	{name: "chunked overrides content-length", in: "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
		status: 200, body: "hi", done: true},
	{name: "gzip then chunked", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n2\r\n\x1f\x8b\r\n0\r\n\r\n",
		status: 200, body: "\x1f\x8b", done: true},
	{name: "transfer-encoding without chunked is close-delimited", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 1\r\n\r\nabc",
		status: 200, body: "abc"},
	{name: "transfer-encoding ignored in HTTP/1.0", in: "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n",
		status: 200, body: "2\r\nhi\r\n"},

	// Content-Length.
	{name: "content-length", in: "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world",
		status: 200, body: "hello world", done: true},
	{name: "content-length zero", in: "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
		status: 200, done: true},
	{name: "content-length repeated identical", in: "HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\ncontent-length: 3\r\n\r\nabc",
		status: 200, body: "abc", done: true},
	{name: "content-length cut short", in: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
		status: 200, body: "abc", closeErr: ErrUnexpectedEOF, closeMsg: "in body (3 of 10 bytes)"},
	{name: "bytes after content-length", in: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiXYZ",
		status: 200, body: "hi", feedErr: ErrMalformed, feedMsg: `data after the end of the response (starting 'X')`},

	// Close-delimited.
	{name: "close-delimited HTTP/1.0", in: "HTTP/1.0 200 OK\r\nContent-Type: text/event-stream\r\n\r\ndata: a\n\ndata: b\n\n",
		status: 200, body: "data: a\n\ndata: b\n\n"},
	{name: "close-delimited HTTP/1.1", in: "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nabc",
		status: 200, body: "abc"},
	{name: "close-delimited empty", in: "HTTP/1.1 200 OK\r\n\r\n", status: 200},
	{name: "101 switches to a close-delimited stream", in: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\nraw",
		status: 101, body: "raw"},

	// Interim responses and bodiless statuses.
	{name: "1xx before 200", in: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>; rel=preload\r\n\r\n" +
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
		status: 200, body: "hi", done: true},
	{name: "too many 1xx", in: strings.Repeat("HTTP/1.1 100 Continue\r\n\r\n", maxInterim+1),
		feedErr: ErrMalformed, feedMsg: "more than 8 1xx interim responses"},
	{name: "204", in: "HTTP/1.1 204 No Content\r\n\r\n", status: 204, done: true},
	{name: "304 ignores content-length", in: "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", status: 304, done: true},
	{name: "204 followed by junk", in: "HTTP/1.1 204 No Content\r\n\r\nhello",
		status: 204, feedErr: ErrMalformed, feedMsg: "data after the end of the response (starting 'h')"},

	// Head syntax.
	{name: "LF-only head", in: "HTTP/1.1 200 OK\nContent-Length: 3\n\nabc", status: 200, body: "abc", done: true},
	{name: "head ends LF CRLF", in: "HTTP/1.1 200 OK\r\nContent-Length: 3\n\r\nabc", status: 200, body: "abc", done: true},
	{name: "head ends CRLF LF", in: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\nabc", status: 200, body: "abc", done: true},
	{name: "status line without reason", in: "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", status: 200, done: true},
	{name: "obs-fold", in: "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream;\r\n charset=utf-8\r\nContent-Length: 0\r\n\r\n", status: 200, done: true},

	// Malformed heads.
	{name: "empty status line", in: "\r\nHTTP/1.1 200 OK\r\n\r\n", feedErr: ErrMalformed, feedMsg: `status line "" does not start with HTTP/1.x`},
	{name: "not HTTP", in: "SSH-2.0-OpenSSH\r\n\r\n", feedErr: ErrMalformed, feedMsg: `status line "SSH-2.0-OpenSSH"`},
	{name: "HTTP/2 status line", in: "HTTP/2 200 OK\r\n\r\n", feedErr: ErrMalformed, feedMsg: "does not start with HTTP/1.x"},
	{name: "letters in status code", in: "HTTP/1.1 2OO OK\r\n\r\n", feedErr: ErrMalformed, feedMsg: `status line "HTTP/1.1 2OO OK" has no status code 100-599`},
	{name: "status code out of range", in: "HTTP/1.1 600 Nope\r\n\r\n", feedErr: ErrMalformed, feedMsg: "has no status code"},
	{name: "short status code", in: "HTTP/1.1 20 OK\r\n\r\n", feedErr: ErrMalformed, feedMsg: "has no status code"},
	{name: "header without colon", in: "HTTP/1.1 200 OK\r\nContent-Type text/plain\r\n\r\n", feedErr: ErrMalformed, feedMsg: `header line "Content-Type text/plain" has no colon`},
	{name: "space before colon", in: "HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\nhello", feedErr: ErrMalformed, feedMsg: `invalid header field name "content-length "`},
	{name: "bare CR in header", in: "HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n", feedErr: ErrMalformed, feedMsg: "CR or NUL in header line"},
	{name: "continuation first", in: "HTTP/1.1 200 OK\r\n folded\r\n\r\n", feedErr: ErrMalformed, feedMsg: "continuation line"},
	{name: "conflicting content-length", in: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello", feedErr: ErrMalformed, feedMsg: "conflicting Content-Length 5 and 6"},
	{name: "conflicting content-length list", in: "HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello", feedErr: ErrMalformed, feedMsg: `conflicting Content-Length "5, 6"`},
	{name: "negative content-length", in: "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", feedErr: ErrMalformed, feedMsg: `Content-Length "-1" is not a non-negative decimal integer`},
	{name: "huge content-length", in: "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", feedErr: ErrMalformed, feedMsg: "is not a non-negative decimal integer"},
	{name: "malformed interim head", in: "HTTP/1.1 103 Early Hints\r\nbad\r\n\r\n", feedErr: ErrMalformed, feedMsg: "has no colon"},

	// Head size limit.
	{name: "head too large", in: "HTTP/1.1 200 OK\r\nX-Pad: " + strings.Repeat("p", 100) + "\r\n\r\n", maxHead: 64,
		feedErr: ErrHeadTooLarge, feedMsg: "no blank line within 64 bytes"},
	{name: "head exactly at limit", in: "HTTP/1.1 200 OK\r\nX: 1234\r\n\r\nab", maxHead: len("HTTP/1.1 200 OK\r\nX: 1234\r\n\r\n"),
		status: 200, body: "ab"},
	{name: "head one over limit", in: "HTTP/1.1 200 OK\r\nX: 12345\r\n\r\nab", maxHead: len("HTTP/1.1 200 OK\r\nX: 1234\r\n\r\n"),
		feedErr: ErrHeadTooLarge},
	{name: "trailers too large", in: sseHead + "0\r\nX-Pad: " + strings.Repeat("p", 200) + "\r\n\r\n", maxHead: 128,
		status: 200, feedErr: ErrHeadTooLarge, feedMsg: "trailers exceed 128 bytes"},

	// Malformed chunked framing.
	{name: "chunk size not hex", in: sseHead + "zz\r\n", status: 200, feedErr: ErrMalformed, feedMsg: `chunk size line starts with 'z', want hex digits`},
	{name: "empty chunk size line", in: sseHead + "\r\n", status: 200, feedErr: ErrMalformed, feedMsg: `starts with '\r'`},
	{name: "junk after chunk size", in: sseHead + "5x\r\nhello\r\n", status: 200, feedErr: ErrMalformed, feedMsg: `invalid byte 'x' after chunk size 0x5`},
	{name: "chunk size overflow", in: sseHead + "8000000000000000\r\n", status: 200, feedErr: ErrMalformed, feedMsg: "chunk size overflows int64"},
	{name: "largest chunk size", in: sseHead + "7fffffffffffffff\r\nab", status: 200, body: "ab",
		closeErr: ErrUnexpectedEOF, closeMsg: "in chunk data (2 of 9223372036854775807 bytes)"},
	{name: "CR without LF in chunk size line", in: sseHead + "5\rhello", status: 200, feedErr: ErrMalformed, feedMsg: `CR not followed by LF in chunk size line (got 'h')`},
	{name: "chunk size line too long", in: sseHead + "5;" + strings.Repeat("e", maxChunkLine) + "\r\nhello\r\n", status: 200,
		feedErr: ErrMalformed, feedMsg: "chunk size line longer than 4096 bytes"},
	{name: "chunk data too long", in: sseHead + "5\r\nhelloXX\r\n", status: 200, body: "hello",
		feedErr: ErrMalformed, feedMsg: `chunk data not followed by CRLF (got 'X' after 5 bytes of data)`},
	{name: "chunk data with bare LF", in: sseHead + "5\r\nhello\n0\r\n\r\n", status: 200, body: "hello",
		feedErr: ErrMalformed, feedMsg: `chunk data not followed by CRLF (got '\n'`},
	{name: "chunk data CR then junk", in: sseHead + "5\r\nhello\rX", status: 200, body: "hello",
		feedErr: ErrMalformed, feedMsg: `got 'X'`},

	// EOF at each stage.
	{name: "EOF before anything", in: "", closeErr: ErrUnexpectedEOF, closeMsg: "in response head (0 bytes received)"},
	{name: "EOF in status line", in: "HTTP/1.1 2", closeErr: ErrUnexpectedEOF, closeMsg: "in response head (10 bytes received)"},
	{name: "EOF between CR and LF of the blank line", in: "HTTP/1.1 200 OK\r\n\r", closeErr: ErrUnexpectedEOF, closeMsg: "in response head (18 bytes received)"},
	{name: "EOF after 1xx", in: "HTTP/1.1 100 Continue\r\n\r\n", closeErr: ErrUnexpectedEOF, closeMsg: "in response head (0 bytes received)"},
	{name: "EOF in chunk size", in: sseHead + "1", status: 200, closeErr: ErrUnexpectedEOF, closeMsg: "in chunk size"},
	{name: "EOF in chunk extension", in: sseHead + "1;a=b\r", status: 200, closeErr: ErrUnexpectedEOF, closeMsg: "in chunk size"},
	{name: "EOF in chunk data", in: sseHead + "5\r\nhel", status: 200, body: "hel", closeErr: ErrUnexpectedEOF, closeMsg: "in chunk data (3 of 5 bytes)"},
	{name: "EOF after chunk data", in: sseHead + "5\r\nhello\r", status: 200, body: "hello", closeErr: ErrUnexpectedEOF, closeMsg: "after chunk data (want CRLF)"},
	{name: "EOF in last chunk line", in: sseHead + "0\r", status: 200, closeErr: ErrUnexpectedEOF, closeMsg: "in chunk size"},
	{name: "EOF in trailers", in: sseHead + "0\r\nX: y\r\n", status: 200, closeErr: ErrUnexpectedEOF, closeMsg: "in trailers"},
	{name: "EOF before final CRLF", in: sseHead + "0\r\n", status: 200, closeErr: ErrUnexpectedEOF, closeMsg: "in trailers"},
}

func checkVector(t *testing.T, v vector, got outcome, feedErr, closeErr error) {
	t.Helper()
	switch {
	case v.status == 0 && len(got.Heads) != 0:
		t.Errorf("got %d heads (first status %d), want none", len(got.Heads), got.Heads[0].Status)
	case v.status != 0 && (len(got.Heads) != 1 || got.Heads[0].Status != v.status):
		t.Errorf("got %v, want one head with status %d", got, v.status)
	}
	if got.Body != v.body {
		t.Errorf("body = %q, want %q", got.Body, v.body)
	}
	if got.EmptyBody != 0 {
		t.Errorf("Body called %d times with an empty slice", got.EmptyBody)
	}
	if got.Done != v.done {
		t.Errorf("Done() = %v, want %v", got.Done, v.done)
	}
	if !errors.Is(feedErr, v.feedErr) || (v.feedErr == nil) != (feedErr == nil) {
		t.Errorf("Feed error = %v, want one wrapping %v", feedErr, v.feedErr)
	}
	if !strings.Contains(got.FeedErr, v.feedMsg) {
		t.Errorf("Feed error %q does not say %q", got.FeedErr, v.feedMsg)
	}
	wantClose, wantCloseMsg := v.closeErr, v.closeMsg
	if v.feedErr != nil { // Close repeats the sticky Feed error
		wantClose, wantCloseMsg = v.feedErr, v.feedMsg
	}
	if !errors.Is(closeErr, wantClose) || (wantClose == nil) != (closeErr == nil) {
		t.Errorf("Close error = %v, want one wrapping %v", closeErr, wantClose)
	}
	if !strings.Contains(got.CloseErr, wantCloseMsg) {
		t.Errorf("Close error %q does not say %q", got.CloseErr, wantCloseMsg)
	}
}

// TestDecoder checks every vector fed whole, split at every position, and one
// byte at a time: all three must give the same outcome, and the expected one.
func TestDecoder(t *testing.T) {
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			in := []byte(v.in)
			whole, feedErr, closeErr := decode(v.maxHead, in)
			checkVector(t, v, whole, feedErr, closeErr)

			for i := 0; i <= len(in); i++ {
				got, _, _ := decode(v.maxHead, in[:i:i], in[i:])
				if !reflect.DeepEqual(got, whole) {
					t.Fatalf("split at %d:\n got %v\nwant %v", i, got, whole)
				}
			}
			pieces := make([][]byte, len(in))
			for i := range in {
				pieces[i] = in[i : i+1 : i+1]
			}
			if got, _, _ := decode(v.maxHead, pieces...); !reflect.DeepEqual(got, whole) {
				t.Fatalf("one byte at a time:\n got %v\nwant %v", got, whole)
			}
		})
	}
}

func TestHeadFields(t *testing.T) {
	in := "HTTP/1.1 200 OK\r\n" +
		"Content-Type: text/event-stream\r\n" +
		"cache-CONTROL:no-cache \r\n" +
		"X-Folded: a\r\n\tb\r\n" +
		"Content-Encoding: identity\r\n" +
		"Connection: keep-alive\r\n" +
		"Location: /elsewhere\r\n" +
		"Via: 1.1 one\r\n" +
		"Via: 1.1 two\r\n" +
		"Transfer-Encoding: chunked\r\n" +
		"Empty:\r\n" +
		"\r\n"
	got, _, _ := decode(0, []byte(in))
	if len(got.Heads) != 1 {
		t.Fatalf("got %d heads, want 1", len(got.Heads))
	}
	want := Head{
		Proto: "HTTP/1.1", Status: 200, Reason: "OK",
		ContentType:      "text/event-stream",
		TransferEncoding: "chunked",
		ContentEncoding:  "identity",
		Connection:       "keep-alive",
		Location:         "/elsewhere",
		ContentLength:    -1,
		Fields: [][2]string{
			{"content-type", "text/event-stream"},
			{"cache-control", "no-cache"},
			{"x-folded", "a b"},
			{"content-encoding", "identity"},
			{"connection", "keep-alive"},
			{"location", "/elsewhere"},
			{"via", "1.1 one"},
			{"via", "1.1 two"},
			{"transfer-encoding", "chunked"},
			{"empty", ""},
		},
	}
	if !reflect.DeepEqual(got.Heads[0], want) {
		t.Errorf("head:\n got %+v\nwant %+v", got.Heads[0], want)
	}

	got, _, _ = decode(0, []byte("HTTP/1.0 404 Not Found Here\nContent-Type: a\nContent-Type: b\nContent-Length: 0\n\n"))
	want = Head{Proto: "HTTP/1.0", Status: 404, Reason: "Not Found Here", ContentType: "a, b", ContentLength: 0,
		Fields: [][2]string{{"content-type", "a"}, {"content-type", "b"}, {"content-length", "0"}}}
	if len(got.Heads) != 1 || !reflect.DeepEqual(got.Heads[0], want) {
		t.Errorf("head:\n got %+v\nwant %+v", got.Heads, want)
	}
}

// TestSinkErrors checks that a Sink's error comes back from Feed unchanged,
// stops decoding, and sticks.
func TestSinkErrors(t *testing.T) {
	in := []byte(sseHead + "5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n")

	var d Decoder
	r := &recorder{failHead: errSink}
	if err := d.Feed(in, r); err != errSink {
		t.Fatalf("Feed with failing Head = %v, want the sink's error unchanged", err)
	}
	if len(r.body) != 0 {
		t.Errorf("body %q decoded after Head failed", r.body)
	}
	if err := d.Feed(in, r); err != errSink {
		t.Errorf("second Feed = %v, want the sticky sink error", err)
	}
	if err := d.Close(); err != errSink {
		t.Errorf("Close = %v, want the sticky sink error", err)
	}
	if d.Done() {
		t.Error("Done after a failed Feed")
	}

	d.Reset()
	r = &recorder{failBodyAt: 5}
	if err := d.Feed(in, r); err != errSink {
		t.Fatalf("Feed with failing Body = %v, want the sink's error unchanged", err)
	}
	if string(r.body) != "hello" {
		t.Errorf("body = %q, want decoding to stop after %q", r.body, "hello")
	}
}

// TestReset checks that a Decoder can be reused for the next response and
// keeps its head buffer.
func TestReset(t *testing.T) {
	d := Decoder{MaxHeadBytes: 1 << 10}
	r := &recorder{}
	first := []byte("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na")
	for i := range first { // byte at a time so the head is buffered
		if err := d.Feed(first[i:i+1], r); err != nil {
			t.Fatal(err)
		}
	}
	if !d.Done() || d.Close() != nil {
		t.Fatalf("first response: Done %v Close %v", d.Done(), d.Close())
	}
	headCap := cap(d.head)
	d.Reset()
	if d.MaxHeadBytes != 1<<10 || cap(d.head) != headCap || headCap == 0 {
		t.Errorf("Reset: MaxHeadBytes %d cap %d, want 1024 and the old capacity %d", d.MaxHeadBytes, cap(d.head), headCap)
	}
	if d.Done() {
		t.Error("Done right after Reset")
	}
	if err := d.Feed([]byte(sseHead+"1\r\nb\r\n0\r\n\r\n"), r); err != nil {
		t.Fatal(err)
	}
	if !d.Done() || string(r.body) != "ab" || len(r.heads) != 2 {
		t.Errorf("after Reset: Done %v body %q heads %d, want true, %q, 2", d.Done(), r.body, len(r.heads), "ab")
	}
}

// countSink counts body bytes without keeping them.
type countSink struct{ n int }

func (c *countSink) Head(*Head) error    { return nil }
func (c *countSink) Body(p []byte) error { c.n += len(p); return nil }

// TestBodyAllocs checks the hot-path promise: no allocation per body byte.
func TestBodyAllocs(t *testing.T) {
	var d Decoder
	s := &countSink{}
	if err := d.Feed([]byte(sseHead), s); err != nil {
		t.Fatal(err)
	}
	payload := "data: {\"seq\":1,\"sched\":17}\n\n"
	chunk := []byte(fmt.Sprintf("%x;ext=1\r\n%s\r\n", len(payload), payload))
	allocs := testing.AllocsPerRun(100, func() {
		for i := range chunk { // the worst split: one byte at a time
			if err := d.Feed(chunk[i:i+1], s); err != nil {
				t.Fatal(err)
			}
		}
		if err := d.Feed(chunk, s); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per chunked body run, want 0", allocs)
	}
}

// BenchmarkDecodeChunked decodes an endless chunked event stream of 100-byte
// chunks, a 4 KiB read per op, as the engine does for each readable socket.
// It must report 0 allocs/op: body bytes are passed through, never copied.
func BenchmarkDecodeChunked(b *testing.B) {
	var d Decoder
	s := &countSink{}
	if err := d.Feed([]byte(sseHead), s); err != nil {
		b.Fatal(err)
	}
	chunk := "64\r\n" + strings.Repeat("d", 100) + "\r\n"
	read := []byte(strings.Repeat(chunk, 4096/len(chunk)))
	b.SetBytes(int64(len(read)))
	b.ReportAllocs()
	for b.Loop() {
		if err := d.Feed(read, s); err != nil {
			b.Fatal(err)
		}
	}
	if s.n == 0 {
		b.Fatal("no body decoded")
	}
}
