// Package httpstream decodes one HTTP/1.1 response that is pushed to it in
// pieces, as an epoll loop reads them: the client side of a plain-HTTP GET for
// an event stream.
//
// The engine holds tens of thousands of streams without a goroutine or a read
// buffer per stream, so the decoder is push-style (Feed whatever bytes arrived,
// split anywhere), owns no goroutine and no io.Reader, and keeps 80 bytes of
// state. Body bytes are handed to the Sink as sub-slices of the
// caller's buffer: decoding a body allocates nothing and copies nothing. Only
// the response head is buffered (when it spans reads) and converted to strings,
// once per response.
//
// Framing follows RFC 9112 §6.3: responses to 1xx (except 101), 204 and 304
// have no body; otherwise Transfer-Encoding with chunked as the final coding
// means chunked, a Transfer-Encoding without it means close-delimited,
// Content-Length means a fixed length, and nothing means close-delimited.
package httpstream

import (
	"bytes"
	"errors"
	"fmt"
	"math"
)

// DefaultMaxHeadBytes bounds a response head (status line, fields and the
// blank line) when Decoder.MaxHeadBytes is zero. Trailers get the same bound.
const DefaultMaxHeadBytes = 64 << 10

// maxChunkLine bounds a chunk-size line, extensions included. net/http uses
// the same 4096; a real server writes a few hex digits.
const maxChunkLine = 4096

// maxInterim bounds the 1xx responses skipped before the final head, so a
// server cannot keep a stream in the head state forever (net/http allows 5).
const maxInterim = 8

// Sentinel errors. Errors returned by the Decoder wrap one of them with what
// was seen, so callers count failures by kind with errors.Is and log the text.
var (
	// ErrHeadTooLarge: the response head or the trailers exceed MaxHeadBytes.
	ErrHeadTooLarge = errors.New("httpstream: response head too large")
	// ErrMalformed: the bytes are not an HTTP/1.x response.
	ErrMalformed = errors.New("httpstream: malformed response")
	// ErrUnexpectedEOF: the connection ended before the response did.
	ErrUnexpectedEOF = errors.New("httpstream: unexpected EOF")
)

// Head is a parsed response head. It is allocated once per final response and
// not retained by the Decoder: the Sink may keep it.
type Head struct {
	Proto  string // "HTTP/1.1"
	Status int
	Reason string

	// Selected fields, raw values (a repeated field's values joined by ", ").
	ContentType      string
	TransferEncoding string
	ContentEncoding  string
	Connection       string
	Location         string
	ContentLength    int64 // -1 when absent

	// Fields holds every header field as (lower-cased name, value) in the
	// order received, for diagnosis: differences between a direct and a
	// proxied head point at the layer that changed the response.
	Fields [][2]string
}

// Sink receives the decoded response. Head is called once, when the final head
// is complete (1xx interim heads are not passed on). Body is called with
// de-framed body bytes (chunked framing removed), never with an empty slice;
// p aliases the buffer given to Feed and is valid only during the call. An
// error from the Sink stops decoding and is returned by Feed unchanged.
type Sink interface {
	Head(h *Head) error
	Body(p []byte) error
}

// Decoder states.
const (
	stHead     uint8 = iota // buffering the head up to the blank line
	stLength                // Content-Length body; remain bytes left
	stClose                 // close-delimited body
	stSize                  // chunk-size hex digits; total accumulates the size
	stSizeRest              // after the digits: BWS, extensions, line end
	stSizeLF                // chunk-size line: CR seen, LF expected
	stData                  // chunk data; remain bytes left of total
	stDataCR                // after chunk data: CR expected
	stDataLF                // after chunk data: LF expected
	stTrailer               // trailer section up to the blank line
	stDone                  // the body ended by its framing
)

// Line states for finding the blank line that ends a head or trailers: it is
// empty or a lone CR, and a read may end between the CR and the LF.
const (
	lineEmpty uint8 = iota // nothing on the current line yet
	lineCR                 // the current line so far is a single CR
	lineText               // the current line has content
)

// Decoder decodes one HTTP/1.1 response pushed to it with Feed. The zero value
// is ready to use; Reset prepares it for the next response. A Decoder is not
// safe for concurrent use.
type Decoder struct {
	// MaxHeadBytes bounds the response head and the trailers; 0 means
	// DefaultMaxHeadBytes.
	MaxHeadBytes int

	head   []byte // head bytes buffered while a head spans Feeds; reused
	err    error  // sticky: the first error returned by Feed
	remain int64  // bytes left in the Content-Length body or current chunk
	total  int64  // Content-Length, or the size of the current chunk
	n      int    // bytes of the current chunk-size line, or of the trailers

	state   uint8
	line    uint8 // line state while scanning a head or trailers
	ext     bool  // chunk-size line: inside extensions
	interim uint8 // 1xx heads skipped
}

// Feed consumes b, which may end anywhere: mid status line, mid chunk-size
// line, between CR and LF, mid chunk data. It calls s.Head when the final head
// is complete and s.Body for each run of body bytes in b. Bytes after the end
// of the response are an error: requests are not pipelined, so they mean a
// framing fault (a wrong length, a body on a 204). After an error every later
// Feed returns the same error.
func (d *Decoder) Feed(b []byte, s Sink) error {
	if d.err != nil {
		return d.err
	}
	if err := d.feed(b, s); err != nil {
		d.err = err
		return err
	}
	return nil
}

func (d *Decoder) feed(b []byte, s Sink) error {
	var err error
	for len(b) > 0 {
		switch d.state {
		case stHead:
			b, err = d.feedHead(b, s)
		case stLength, stData:
			n := len(b)
			if int64(n) > d.remain {
				n = int(d.remain)
			}
			if err := s.Body(b[:n]); err != nil {
				return err
			}
			b = b[n:]
			d.remain -= int64(n)
			if d.remain == 0 {
				if d.state == stLength {
					d.state = stDone
				} else {
					d.state = stDataCR
				}
			}
		case stClose:
			if err := s.Body(b); err != nil {
				return err
			}
			b = nil
		case stSize, stSizeRest, stSizeLF:
			b, err = d.feedSizeLine(b)
		case stDataCR, stDataLF:
			want := byte('\r')
			if d.state == stDataLF {
				want = '\n'
			}
			if b[0] != want {
				return fmt.Errorf("%w: chunk data not followed by CRLF (got %q after %d bytes of data)", ErrMalformed, b[0], d.total)
			}
			b = b[1:]
			if d.state == stDataCR {
				d.state = stDataLF
			} else {
				d.state, d.total, d.n = stSize, 0, 0
			}
		case stTrailer:
			b, err = d.feedTrailer(b)
		case stDone:
			return fmt.Errorf("%w: data after the end of the response (starting %q)", ErrMalformed, b[0])
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Done reports whether the body has ended by its framing: the last chunk and
// trailers, Content-Length reached, or a status without a body (204, 304).
// A close-delimited body is never Done; it ends at EOF (see Close).
func (d *Decoder) Done() bool { return d.state == stDone && d.err == nil }

// Close is called when the connection reaches EOF. It returns nil when the
// response ended cleanly (Done, or a close-delimited body), else an error
// wrapping ErrUnexpectedEOF that says where the response was cut. If an
// earlier Feed failed, Close returns that error.
func (d *Decoder) Close() error {
	if d.err != nil {
		return d.err
	}
	switch d.state {
	case stDone, stClose:
		return nil
	case stHead:
		return fmt.Errorf("%w in response head (%d bytes received)", ErrUnexpectedEOF, len(d.head))
	case stLength:
		return fmt.Errorf("%w in body (%d of %d bytes)", ErrUnexpectedEOF, d.total-d.remain, d.total)
	case stSize, stSizeRest, stSizeLF:
		return fmt.Errorf("%w in chunk size", ErrUnexpectedEOF)
	case stData:
		return fmt.Errorf("%w in chunk data (%d of %d bytes)", ErrUnexpectedEOF, d.total-d.remain, d.total)
	case stDataCR, stDataLF:
		return fmt.Errorf("%w after chunk data (want CRLF)", ErrUnexpectedEOF)
	case stTrailer:
		return fmt.Errorf("%w in trailers", ErrUnexpectedEOF)
	}
	return fmt.Errorf("%w in unknown state %d", ErrUnexpectedEOF, d.state)
}

// Reset prepares d for a new response, keeping MaxHeadBytes and the capacity
// of the head buffer.
func (d *Decoder) Reset() {
	*d = Decoder{MaxHeadBytes: d.MaxHeadBytes, head: d.head[:0]}
}

func (d *Decoder) maxHead() int {
	if d.MaxHeadBytes > 0 {
		return d.MaxHeadBytes
	}
	return DefaultMaxHeadBytes
}

// nextLineState returns the line state after seg, a non-empty run of bytes
// without LF on the current line.
func nextLineState(st uint8, seg []byte) uint8 {
	if st == lineEmpty && len(seg) == 1 && seg[0] == '\r' {
		return lineCR
	}
	return lineText
}

// endsBlock reports whether seg, the bytes before an LF on the current line,
// make that line blank (empty or a lone CR): the end of a head or trailers.
func endsBlock(st uint8, seg []byte) bool {
	switch st {
	case lineEmpty:
		return len(seg) == 0 || len(seg) == 1 && seg[0] == '\r'
	case lineCR:
		return len(seg) == 0
	}
	return false
}

// feedHead scans b for the blank line that ends the head. A head that arrives
// whole in b is parsed in place; one that spans Feeds is buffered in d.head.
// It returns the bytes after the head.
func (d *Decoder) feedHead(b []byte, s Sink) ([]byte, error) {
	limit := d.maxHead()
	i := 0
	for {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			if i < len(b) {
				d.line = nextLineState(d.line, b[i:])
			}
			if len(d.head)+len(b) > limit {
				return nil, d.tooLarge(limit)
			}
			d.head = append(d.head, b...)
			return nil, nil
		}
		end := endsBlock(d.line, b[i:i+j])
		i += j + 1
		d.line = lineEmpty
		if !end {
			continue
		}
		if len(d.head)+i > limit {
			return nil, d.tooLarge(limit)
		}
		raw := b[:i]
		if len(d.head) > 0 {
			d.head = append(d.head, raw...)
			raw = d.head
		}
		return b[i:], d.endHead(raw, s)
	}
}

func (d *Decoder) tooLarge(limit int) error {
	return fmt.Errorf("%w: no blank line within %d bytes (raise Decoder.MaxHeadBytes if the server is right)", ErrHeadTooLarge, limit)
}

// endHead parses a complete head, skips it if it is a 1xx interim response,
// else hands it to the Sink and chooses the body framing.
func (d *Decoder) endHead(raw []byte, s Sink) error {
	h, err := parseHead(raw)
	d.head = d.head[:0]
	if err != nil {
		return err
	}
	if h.Status < 200 && h.Status != 101 {
		d.interim++
		if d.interim > maxInterim {
			return fmt.Errorf("%w: more than %d 1xx interim responses", ErrMalformed, maxInterim)
		}
		return nil
	}
	if err := s.Head(h); err != nil {
		return err
	}
	switch {
	case h.Status == 204 || h.Status == 304:
		d.state = stDone
	case h.Status == 101:
		// The connection now speaks another protocol until it closes.
		d.state = stClose
	case h.TransferEncoding != "" && h.Proto != "HTTP/1.0":
		// Transfer-Encoding overrides Content-Length; HTTP/1.0 has no
		// transfer codings, so there it is ignored, as net/http does.
		if lastCodingChunked(h.TransferEncoding) {
			d.state, d.total, d.n = stSize, 0, 0
		} else {
			d.state = stClose
		}
	case h.ContentLength == 0:
		d.state = stDone
	case h.ContentLength > 0:
		d.state, d.remain, d.total = stLength, h.ContentLength, h.ContentLength
	default:
		d.state = stClose
	}
	return nil
}

// unhex returns the value of the hex digit c, or -1.
func unhex(c byte) int64 {
	switch {
	case '0' <= c && c <= '9':
		return int64(c - '0')
	case 'a' <= c && c <= 'f':
		return int64(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int64(c-'A') + 10
	}
	return -1
}

// feedSizeLine parses a chunk-size line: hex digits, optional whitespace and
// extensions (ignored), CRLF or a bare LF (tolerated, as net/http does).
func (d *Decoder) feedSizeLine(b []byte) ([]byte, error) {
	for i, c := range b {
		d.n++
		if d.n > maxChunkLine {
			return nil, fmt.Errorf("%w: chunk size line longer than %d bytes", ErrMalformed, maxChunkLine)
		}
		switch d.state {
		case stSize:
			if v := unhex(c); v >= 0 {
				if d.total > math.MaxInt64>>4 {
					return nil, fmt.Errorf("%w: chunk size overflows int64 (more than %d hex digits)", ErrMalformed, d.n-1)
				}
				d.total = d.total<<4 | v
				continue
			}
			if d.n == 1 {
				return nil, fmt.Errorf("%w: chunk size line starts with %q, want hex digits", ErrMalformed, c)
			}
			d.state = stSizeRest
			fallthrough
		case stSizeRest:
			switch {
			case c == '\n':
				return b[i+1:], d.endSizeLine()
			case c == '\r':
				d.state = stSizeLF
			case d.ext:
			case c == ';':
				d.ext = true
			case c == ' ' || c == '\t':
			default:
				return nil, fmt.Errorf("%w: invalid byte %q after chunk size %#x", ErrMalformed, c, d.total)
			}
		case stSizeLF:
			if c != '\n' {
				return nil, fmt.Errorf("%w: CR not followed by LF in chunk size line (got %q)", ErrMalformed, c)
			}
			return b[i+1:], d.endSizeLine()
		}
	}
	return nil, nil
}

func (d *Decoder) endSizeLine() error {
	d.n, d.ext = 0, false
	if d.total == 0 {
		d.state, d.line = stTrailer, lineEmpty
		return nil
	}
	d.state, d.remain = stData, d.total
	return nil
}

// feedTrailer skips trailer fields up to the blank line, bounded like a head.
func (d *Decoder) feedTrailer(b []byte) ([]byte, error) {
	limit := d.maxHead()
	for len(b) > 0 {
		j := bytes.IndexByte(b, '\n')
		if j < 0 {
			d.line = nextLineState(d.line, b)
			d.n += len(b)
			if d.n > limit {
				return nil, fmt.Errorf("%w: trailers exceed %d bytes", ErrHeadTooLarge, limit)
			}
			return nil, nil
		}
		end := endsBlock(d.line, b[:j])
		d.n += j + 1
		if d.n > limit {
			return nil, fmt.Errorf("%w: trailers exceed %d bytes", ErrHeadTooLarge, limit)
		}
		b = b[j+1:]
		d.line = lineEmpty
		if end {
			d.state = stDone
			return b, nil
		}
	}
	return b, nil
}
