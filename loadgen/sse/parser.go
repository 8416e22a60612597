// Package sse is a push parser for the text/event-stream format, following
// WHATWG HTML §9.2.6 "Interpreting an event stream".
//
// It is the hot path of a load generator holding tens of thousands of
// streams, so it is shaped around three costs:
//
//   - State per stream: a Parser is a few slices and flags (144 bytes on 64-bit)
//     and allocates nothing until it must hold bytes across Feed calls.
//   - Work per byte: complete lines are parsed in place from the caller's
//     read buffer; only the tail of an incomplete line is copied (into the
//     carry buffer) and only data field values are copied (into the data
//     buffer, which must outlive the Feed call). Bytes are scanned once:
//     a line split over many reads is searched for its end only in the new
//     bytes, so a large slow event costs time linear in its size.
//   - Work per event: none allocated in steady state; buffers keep their
//     capacity from event to event.
//
// There are no goroutines and no channels: the caller pushes bytes with
// Feed and the parser calls Handler.Event synchronously.
//
// # Decoding
//
// The spec decodes the whole stream as UTF-8 (stripping one leading BOM and
// replacing ill-formed sequences with U+FFFD) and then splits it into lines.
// The parser works on bytes instead, which gives the same result: every
// delimiter the grammar uses (CR, LF, ':' and the space after it) is ASCII,
// an ASCII byte is never part of a multi-byte sequence, and the UTF-8 decoder
// never swallows an ASCII byte into an ill-formed one. So field names compare
// equal byte-wise or not at all, and decoding each value separately produces
// exactly the bytes that decoding the whole stream would. Values are checked
// with utf8.Valid when they are stored; only an invalid value takes the slow
// path that applies the decoder's replacement rule (one U+FFFD per maximal
// ill-formed subpart, as the WHATWG "UTF-8 decode" does, which is not what
// Go's utf8.DecodeRune loop or bytes.ToValidUTF8 produce).
package sse

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"unicode/utf8"
)

// DefaultMaxEventBytes is the limit a zero Parser applies to one line and to
// one event's data.
const DefaultMaxEventBytes = 1 << 20

// ErrTooLarge reports that a line or an event's data exceeded
// Parser.MaxEventBytes. Feed wraps it with the sizes involved.
var ErrTooLarge = errors.New("sse: line or event data exceeds MaxEventBytes")

// errNeedReset is returned by Feed on a parser that failed earlier.
var errNeedReset = errors.New("sse: parser failed on an earlier Feed; call Reset before feeding a new stream")

// Event is one dispatched event. Its slices alias the parser's buffers and
// are valid only during Handler.Event: copy what must outlive the call. The
// handler must not write to the bytes of LastEventID (it is the parser's
// last event ID buffer); reassigning the fields or appending is harmless.
type Event struct {
	Type        []byte // the event field's value, or "message" when none was given
	Data        []byte // data lines joined with LF, the final LF removed
	LastEventID []byte // the parser's last event ID buffer at dispatch time
}

// Handler receives the events a Parser dispatches.
type Handler interface{ Event(ev *Event) }

// HandlerFunc adapts a plain function to Handler.
type HandlerFunc func(ev *Event)

// Event calls f(ev).
func (f HandlerFunc) Event(ev *Event) { f(ev) }

var _ Handler = HandlerFunc(nil)

// Parser parses one event stream at a time, pushed to it with Feed. The zero
// value is ready to use with DefaultMaxEventBytes. A Parser is not safe for
// concurrent use.
//
// Memory: the carry buffer holds at most MaxEventBytes (one line), the data
// buffer at most MaxEventBytes (one event's data); both are allocated on
// first need, grow by doubling but never past MaxEventBytes, and keep their
// capacity for reuse until Reset releases the large ones.
type Parser struct {
	// MaxEventBytes limits the length of one line (excluding its line end)
	// and of one event's data buffer (its lines joined with LF, counting the
	// final LF, after U+FFFD replacement). 0 means DefaultMaxEventBytes.
	MaxEventBytes int

	// ev holds the spec's per-stream buffers so that dispatch can hand out
	// &p.ev without allocating: Type is the event type buffer, Data the
	// data buffer and LastEventID the last event ID buffer.
	ev Event
	// lastID is the spec's "last event ID string" of the EventSource: the
	// last event ID buffer as it was at the latest blank line. A reconnect
	// sends it as Last-Event-ID, so an id field of an event that was cut off
	// before its blank line must not reach it.
	lastID []byte
	// carry holds the incomplete line at the end of the last Feed.
	carry []byte
	retry int64

	retryOK bool  // retry holds a value
	idSet   bool  // an id field was accepted since the last blank line
	cr      bool  // the last byte fed was a CR that ended a line: swallow one LF
	failed  bool  // Feed returned an error; only Reset clears it
	bom     uint8 // BOM bytes matched at stream start; bomDone once decided
}

const (
	bom     = "\xEF\xBB\xBF"
	bomDone = uint8(len(bom)) + 1

	// resetKeepCap is the largest buffer capacity Reset keeps for reuse.
	// One oversized event should not pin a megabyte in every idle stream.
	resetKeepCap = 4 << 10
	// minGrow is the first capacity of a buffer: a typical line or event.
	minGrow = 128
)

// Feed parses b, which may end anywhere (mid-line, between CR and LF,
// mid-BOM), and calls h.Event for every event completed in b; h may be nil to
// discard events. It returns an error wrapping ErrTooLarge when a single line
// or the accumulated data of one event exceeds MaxEventBytes; events
// completed before the offending line have been delivered. After an error the
// parser must be Reset before reuse. b is not retained after Feed returns.
//
// At the end of a stream an incomplete event is discarded, as the spec
// requires: there is deliberately no method to flush it.
func (p *Parser) Feed(b []byte, h Handler) error {
	if p.failed {
		return errNeedReset
	}
	limit := p.MaxEventBytes
	if limit == 0 {
		limit = DefaultMaxEventBytes
	} else if limit < 0 {
		p.failed = true
		return fmt.Errorf("sse: Parser.MaxEventBytes is %d: set a positive byte limit, or 0 for the default %d", limit, DefaultMaxEventBytes)
	}

	// The decoder strips one BOM, only at the very start of the stream. A
	// BOM split over Feed calls is matched byte by byte; if the stream turns
	// out not to start with one, the bytes matched so far are line content.
	if p.bom < bomDone {
		for len(b) > 0 && p.bom < uint8(len(bom)) && b[0] == bom[p.bom] {
			p.bom++
			b = b[1:]
		}
		if len(b) == 0 && p.bom < uint8(len(bom)) {
			return nil // still undecided
		}
		if k := p.bom; k < uint8(len(bom)) && k > 0 {
			if err := p.appendCarry([]byte(bom[:k]), limit); err != nil {
				return err
			}
		}
		p.bom = bomDone
	}

	// A CR ends its line at once (the line was processed by the previous
	// Feed); an LF right after it belongs to the same line end. Deciding this
	// only when the next byte arrives avoids the phantom blank line that a
	// CRLF split over two reads would otherwise produce.
	if p.cr {
		if len(b) == 0 {
			return nil
		}
		p.cr = false
		if b[0] == '\n' {
			b = b[1:]
		}
	}

	// lf and cr are the positions of the next LF and the next CR at or after
	// start (len(b) when there is none). Each is searched again only once
	// start has passed it, so every byte is scanned at most once per byte
	// value, even for CR-only streams with no LF at all.
	n := len(b)
	lf, cr := indexFrom(b, 0, '\n'), indexFrom(b, 0, '\r')
	start := 0
	for {
		end := min(lf, cr)
		if end == n {
			break
		}
		line := b[start:end]
		if len(p.carry) > 0 {
			if err := p.appendCarry(line, limit); err != nil {
				return err
			}
			line = p.carry
		} else if len(line) > limit {
			return p.tooLarge("line", len(line), limit)
		}
		if err := p.line(line, h, limit); err != nil {
			return err
		}
		p.carry = p.carry[:0]
		start = end + 1
		if end == cr {
			if start == n {
				p.cr = true
				return nil
			}
			if b[start] == '\n' {
				start++
			}
			cr = indexFrom(b, start, '\r')
		}
		if lf < start {
			lf = indexFrom(b, start, '\n')
		}
	}
	if start < n {
		return p.appendCarry(b[start:], limit)
	}
	return nil
}

// indexFrom returns the index of the first c in b at or after from, or
// len(b) if there is none.
func indexFrom(b []byte, from int, c byte) int {
	if i := bytes.IndexByte(b[from:], c); i >= 0 {
		return from + i
	}
	return len(b)
}

// appendCarry appends part of an incomplete line to the carry buffer,
// failing before the buffer would grow past limit.
func (p *Parser) appendCarry(b []byte, limit int) error {
	if len(p.carry)+len(b) > limit {
		return p.tooLarge("incomplete line", len(p.carry)+len(b), limit)
	}
	p.carry = append(grow(p.carry, len(b), limit), b...)
	return nil
}

// tooLarge marks the parser failed and describes what outgrew the limit.
func (p *Parser) tooLarge(what string, n, limit int) error {
	p.failed = true
	return fmt.Errorf("sse: %s of %d bytes exceeds the limit of %d (raise Parser.MaxEventBytes if the stream is legitimate): %w", what, n, limit, ErrTooLarge)
}

// grow returns b with room for n more bytes. Capacity doubles but is capped
// at limit, so a buffer never holds more memory than the limit allows; callers
// have checked that len(b)+n <= limit.
func grow(b []byte, n, limit int) []byte {
	need := len(b) + n
	if need <= cap(b) {
		return b
	}
	c := max(2*cap(b), need, minGrow)
	if c > limit {
		c = limit
	}
	nb := make([]byte, len(b), c)
	copy(nb, b)
	return nb
}

// line interprets one line, without its line end (§9.2.6).
func (p *Parser) line(l []byte, h Handler, limit int) error {
	if len(l) == 0 {
		p.dispatch(h)
		return nil
	}
	if l[0] == ':' {
		return nil // comment
	}
	name, value := l, l[len(l):]
	if i := bytes.IndexByte(l, ':'); i >= 0 {
		name, value = l[:i], l[i+1:]
		if len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
	}
	switch string(name) { // compiled without a string allocation
	case "data":
		return p.appendData(value, limit)
	case "event":
		p.ev.Type = setDecoded(p.ev.Type, value)
	case "id":
		if bytes.IndexByte(value, 0) < 0 {
			p.ev.LastEventID = setDecoded(p.ev.LastEventID, value)
			p.idSet = true
		}
	case "retry":
		if ms, ok := parseRetry(value); ok {
			p.retry, p.retryOK = ms, true
		}
	}
	return nil
}

// appendData appends value and an LF to the data buffer.
func (p *Parser) appendData(value []byte, limit int) error {
	d := p.ev.Data
	valid := utf8.Valid(value)
	n := len(value)
	if !valid {
		n = decodedLen(value)
	}
	if len(d)+n+1 > limit {
		return p.tooLarge("event data", len(d)+n+1, limit)
	}
	d = grow(d, n+1, limit)
	if valid {
		d = append(d, value...)
	} else {
		d = appendDecoded(d, value)
	}
	p.ev.Data = append(d, '\n')
	return nil
}

// setDecoded overwrites dst with the UTF-8 decoding of v.
func setDecoded(dst, v []byte) []byte {
	if utf8.Valid(v) {
		return append(dst[:0], v...)
	}
	return appendDecoded(dst[:0], v)
}

// parseRetry accepts a value of ASCII digits only. An empty value is not a
// number (as in Chromium), and a value beyond int64 milliseconds
// (292 million years) is ignored like any other invalid one.
func parseRetry(v []byte) (int64, bool) {
	if len(v) == 0 {
		return 0, false
	}
	var ms int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := int64(c - '0')
		if ms > (math.MaxInt64-d)/10 {
			return 0, false
		}
		ms = ms*10 + d
	}
	return ms, true
}

// dispatch runs the spec's "dispatch the event" steps for a blank line.
func (p *Parser) dispatch(h Handler) {
	// Step 1: the last event ID string takes the buffer's value, whether or
	// not an event follows.
	if p.idSet {
		p.lastID = append(p.lastID[:0], p.ev.LastEventID...)
		p.idSet = false
	}
	data, typ, id := p.ev.Data, p.ev.Type, p.ev.LastEventID
	if len(data) == 0 {
		p.ev.Type = typ[:0]
		return
	}
	if len(typ) == 0 {
		typ = append(typ, "message"...)
	}
	if h != nil {
		p.ev = Event{Type: typ, Data: data[:len(data)-1], LastEventID: id}
		h.Event(&p.ev)
	}
	// Restore from locals, so a handler that reassigns the fields cannot
	// corrupt the buffers.
	p.ev = Event{Type: typ[:0], Data: data[:0], LastEventID: id}
}

// Retry returns the latest valid retry field value in milliseconds, and
// whether one was seen. It survives Reset.
func (p *Parser) Retry() (ms int64, ok bool) { return p.retry, p.retryOK }

// LastEventID returns the EventSource's last event ID string: the value of
// the last accepted id field as of the latest blank line. This is what a
// reconnect sends as Last-Event-ID; an id field of an event cut off before
// its blank line does not count. The slice aliases the parser and is valid
// until the next Feed or Reset.
func (p *Parser) LastEventID() []byte { return p.lastID }

// Reset prepares the parser for a new stream of the same EventSource (a
// reconnect): it clears the line, event and BOM state and any error, and
// keeps the last event ID and the retry value. As browsers do, the new
// stream's last event ID buffer starts from LastEventID. Buffers larger than
// a few KiB are released rather than kept.
func (p *Parser) Reset() {
	p.carry = shrink(p.carry)
	p.ev.Data = shrink(p.ev.Data)
	p.ev.Type = shrink(p.ev.Type)
	if p.idSet {
		p.ev.LastEventID = append(p.ev.LastEventID[:0], p.lastID...)
		p.idSet = false
	}
	p.cr, p.failed, p.bom = false, false, 0
}

func shrink(b []byte) []byte {
	if cap(b) > resetKeepCap {
		return nil
	}
	return b[:0]
}

// The UTF-8 decoder below is the WHATWG Encoding Standard's "UTF-8 decoder"
// in replacement mode: an ill-formed sequence becomes one U+FFFD per maximal
// subpart (the longest prefix of a well-formed sequence), and the byte that
// broke the sequence is decoded afresh.

const replacement = "\uFFFD"

// decodeStep returns the length of the well-formed sequence at the start of
// s (ok) or of the maximal ill-formed subpart there (!ok). len(s) > 0.
func decodeStep(s []byte) (n int, ok bool) {
	c := s[0]
	lo, hi := byte(0x80), byte(0xBF) // bounds of the next continuation byte
	var need int
	switch {
	case c < 0x80:
		return 1, true
	case c >= 0xC2 && c <= 0xDF:
		need = 1
	case c >= 0xE0 && c <= 0xEF:
		need = 2
		if c == 0xE0 {
			lo = 0xA0 // no overlong forms
		} else if c == 0xED {
			hi = 0x9F // no surrogates
		}
	case c >= 0xF0 && c <= 0xF4:
		need = 3
		if c == 0xF0 {
			lo = 0x90 // no overlong forms
		} else if c == 0xF4 {
			hi = 0x8F // nothing above U+10FFFF
		}
	default:
		return 1, false
	}
	for k := 1; k <= need; k++ {
		if k >= len(s) || s[k] < lo || s[k] > hi {
			return k, false
		}
		lo, hi = 0x80, 0xBF
	}
	return need + 1, true
}

// appendDecoded appends the decoding of src to dst.
func appendDecoded(dst, src []byte) []byte {
	for len(src) > 0 {
		n, ok := decodeStep(src)
		if ok {
			dst = append(dst, src[:n]...)
		} else {
			dst = append(dst, replacement...)
		}
		src = src[n:]
	}
	return dst
}

// decodedLen returns len(appendDecoded(nil, src)).
func decodedLen(src []byte) int {
	total := 0
	for len(src) > 0 {
		n, ok := decodeStep(src)
		if ok {
			total += n
		} else {
			total += len(replacement)
		}
		src = src[n:]
	}
	return total
}
