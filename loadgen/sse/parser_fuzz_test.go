package sse

import (
	"bytes"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse feeds the input to a Parser in chunks whose sizes the fuzzer
// chooses (splits, cycled; a 0 makes an empty Feed) under a fuzzer-chosen
// limit (0 = default), and compares everything observable with refParse,
// which reads the whole input at once the way the spec is written.
func FuzzParse(f *testing.F) {
	for _, v := range vectors {
		f.Add([]byte(v.in), []byte{1}, uint16(0))
		f.Add([]byte(v.in), []byte{3, 0, 7}, uint16(0))
		f.Add([]byte(v.in), []byte{255}, uint16(12))
	}
	f.Fuzz(func(t *testing.T, in, splits []byte, limit uint16) {
		want := refParse(in, int(limit))

		p := Parser{MaxEventBytes: int(limit)}
		maxBytes := p.MaxEventBytes
		if maxBytes == 0 {
			maxBytes = DefaultMaxEventBytes
		}
		var r recorder
		var err error
		onlyEmpty := allZero(splits) // every Feed would be empty: stop early
		rest := in
		for k := 0; len(rest) > 0 && err == nil; k++ {
			n := len(rest)
			if len(splits) > 0 {
				n = min(int(splits[k%len(splits)]), len(rest))
			}
			chunk := append([]byte(nil), rest[:n]...)
			err = p.Feed(chunk, &r)
			clear(chunk) // a parser that retained b would now see NULs
			rest = rest[n:]
			if n == 0 && onlyEmpty {
				break // avoid looping on empty Feeds forever
			}
			if cap(p.carry) > maxBytes || cap(p.ev.Data) > maxBytes {
				t.Fatalf("buffers past the limit %d: cap(carry) = %d, cap(data) = %d", maxBytes, cap(p.carry), cap(p.ev.Data))
			}
		}
		if len(rest) > 0 && err == nil {
			err = p.Feed(rest, &r)
		}

		if !reflect.DeepEqual(r.evs, want.evs) {
			t.Fatalf("events\n got %v\nwant %v", r.evs, want.evs)
		}
		if gotErr := err != nil; gotErr != want.tooLarge {
			t.Fatalf("err = %v, reference tooLarge = %v", err, want.tooLarge)
		}
		if err != nil {
			return
		}
		if got := string(p.LastEventID()); got != want.lastID {
			t.Fatalf("LastEventID = %q, want %q", got, want.lastID)
		}
		if ms, ok := p.Retry(); ms != want.retry || ok != want.retryOK {
			t.Fatalf("Retry = %d, %v; want %d, %v", ms, ok, want.retry, want.retryOK)
		}
	})
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

type refResult struct {
	evs      []rec
	lastID   string
	retry    int64
	retryOK  bool
	tooLarge bool
}

// refParse is the spec read literally, with no streaming: strip a BOM,
// decode, split into lines, interpret each line. It shares no code with the
// Parser. The limit (0 = DefaultMaxEventBytes) applies to each raw line and
// to the decoded data buffer, as documented on Parser.MaxEventBytes.
func refParse(in []byte, limit int) refResult {
	if limit == 0 {
		limit = DefaultMaxEventBytes
	}
	var res refResult
	// A stream that is a proper prefix of a BOM has not yet told the parser
	// whether it starts with one; it holds no line bytes yet.
	if len(in) < 3 && bytes.HasPrefix([]byte("\xEF\xBB\xBF"), in) {
		return res
	}
	in = bytes.TrimPrefix(in, []byte("\xEF\xBB\xBF"))

	// Split the raw bytes into lines; rest is the unterminated last line.
	var raw [][]byte
	rest := in
	for {
		i := bytes.IndexAny(rest, "\r\n")
		if i < 0 {
			break
		}
		raw = append(raw, rest[:i])
		if rest[i] == '\r' && i+1 < len(rest) && rest[i+1] == '\n' {
			i++
		}
		rest = rest[i+1:]
	}

	// The spec decodes the stream first and splits the text into lines;
	// check that decoding line by line is the same thing.
	text := refDecode(in)
	var decodedLines []string
	for {
		i := strings.IndexAny(text, "\r\n")
		if i < 0 {
			break
		}
		decodedLines = append(decodedLines, text[:i])
		if text[i] == '\r' && i+1 < len(text) && text[i+1] == '\n' {
			i++
		}
		text = text[i+1:]
	}
	if len(decodedLines) != len(raw) {
		panic("reference: line counts differ between raw and decoded splitting")
	}
	for i, l := range raw {
		if refDecode(l) != decodedLines[i] {
			panic("reference: decoding per line differs from decoding the stream")
		}
	}

	var data, typ, idBuf strings.Builder
	for i, l := range raw {
		if len(l) > limit {
			res.tooLarge = true
			return res
		}
		line := decodedLines[i]
		switch {
		case line == "":
			res.lastID = idBuf.String()
			if data.Len() == 0 {
				typ.Reset()
				continue
			}
			d := strings.TrimSuffix(data.String(), "\n")
			t := typ.String()
			if t == "" {
				t = "message"
			}
			res.evs = append(res.evs, rec{t, d, idBuf.String()})
			data.Reset()
			typ.Reset()
			continue
		case line[0] == ':':
			continue
		}
		name, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch name {
		case "event":
			typ.Reset()
			typ.WriteString(value)
		case "data":
			if data.Len()+len(value)+1 > limit {
				res.tooLarge = true
				return res
			}
			data.WriteString(value)
			data.WriteByte('\n')
		case "id":
			if !strings.Contains(value, "\x00") {
				idBuf.Reset()
				idBuf.WriteString(value)
			}
		case "retry":
			if value != "" && strings.Trim(value, "0123456789") == "" {
				if ms, err := strconv.ParseInt(value, 10, 64); err == nil {
					res.retry, res.retryOK = ms, true
				}
			}
		}
	}
	if len(rest) > limit {
		res.tooLarge = true
	}
	return res
}

// refDecode is the WHATWG UTF-8 decode with replacement, written
// differently from the parser's: at an ill-formed position, the maximal
// subpart is the longest prefix (up to 3 bytes) that utf8.FullRune reports
// as an incomplete but valid start of a sequence.
func refDecode(b []byte) string {
	var sb strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r != utf8.RuneError || n > 1 {
			sb.Write(b[:n])
			b = b[n:]
			continue
		}
		k := 1
		for j := min(3, len(b)); j >= 1; j-- {
			if !utf8.FullRune(b[:j]) {
				k = j
				break
			}
		}
		sb.WriteRune(utf8.RuneError)
		b = b[k:]
	}
	return sb.String()
}
