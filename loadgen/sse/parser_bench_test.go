package sse

import (
	"bytes"
	"testing"
)

// benchEvent is the event the origin writes for every publish.
var benchEvent = []byte("id: 12345\ndata: " + benchData + "\n\n")

const benchData = `{"seq":12345,"sched":1732492800000000000,"sent":1732492800000123456}`

// BenchmarkParse feeds one typical event per Feed, as a stream with one
// event per read delivers it. It must report 0 allocs/op: the data, type and
// ID buffers keep their capacity from event to event.
func BenchmarkParse(b *testing.B) {
	var p Parser
	var h countHandler
	b.ReportAllocs()
	b.SetBytes(int64(len(benchEvent)))
	for b.Loop() {
		if err := p.Feed(benchEvent, &h); err != nil {
			b.Fatal(err)
		}
	}
	if h.n == 0 || h.bytes != h.n*len(benchData) {
		b.Fatalf("dispatched %d events with %d data bytes", h.n, h.bytes)
	}
}

// BenchmarkParseSplit feeds the same event cut at awkward places: mid field
// name, mid value, between CR and LF, and between the two line ends of the
// blank line. Every cut costs a copy into the carry buffer; still 0 allocs/op.
func BenchmarkParseSplit(b *testing.B) {
	crlf := bytes.ReplaceAll(benchEvent, []byte("\n"), []byte("\r\n"))
	cases := []struct {
		name   string
		event  []byte
		chunks []int // chunk sizes, the last one takes the rest
	}{
		{"LF/mid-name,mid-value,before-blank", benchEvent, []int{2, 14, 40, len(benchEvent) - 2 - 14 - 40 - 1}},
		{"LF/7-byte-chunks", benchEvent, nil},
		{"CRLF/between-CR-and-LF", crlf, []int{10, 78}},
		{"CRLF/7-byte-chunks", crlf, nil},
	}
	for _, c := range cases {
		var pieces [][]byte
		if c.chunks == nil {
			for rest := c.event; len(rest) > 0; {
				n := min(7, len(rest))
				pieces = append(pieces, rest[:n])
				rest = rest[n:]
			}
		} else {
			rest := c.event
			for _, n := range c.chunks {
				pieces = append(pieces, rest[:n])
				rest = rest[n:]
			}
			pieces = append(pieces, rest)
		}
		b.Run(c.name, func(b *testing.B) {
			var p Parser
			var h countHandler
			b.ReportAllocs()
			b.SetBytes(int64(len(c.event)))
			for b.Loop() {
				for _, piece := range pieces {
					if err := p.Feed(piece, &h); err != nil {
						b.Fatal(err)
					}
				}
			}
			if h.n == 0 || h.bytes != h.n*len(benchData) {
				b.Fatalf("dispatched %d events with %d data bytes", h.n, h.bytes)
			}
		})
	}
}

// BenchmarkParseBatch feeds a 32 KiB read full of typical events (a busy
// stream read by a worker), cut at the read size like a socket would.
func BenchmarkParseBatch(b *testing.B) {
	stream := bytes.Repeat(benchEvent, 32<<10/len(benchEvent)+1)[:32<<10]
	var p Parser
	var h countHandler
	b.ReportAllocs()
	b.SetBytes(int64(len(stream)))
	for b.Loop() {
		if err := p.Feed(stream, &h); err != nil {
			b.Fatal(err)
		}
	}
	if h.n == 0 {
		b.Fatal("no events")
	}
}

// BenchmarkParseLargeEvent feeds a 512 KiB single-line event in 1 KiB reads.
// MB/s should match BenchmarkParseBatch's order of magnitude: each read costs
// a scan and a copy of its own bytes only, never of the carried line.
func BenchmarkParseLargeEvent(b *testing.B) {
	event := []byte("data: " + string(bytes.Repeat([]byte("x"), 512<<10)) + "\n\n")
	var p Parser
	var h countHandler
	b.ReportAllocs()
	b.SetBytes(int64(len(event)))
	for b.Loop() {
		for rest := event; len(rest) > 0; {
			n := min(1024, len(rest))
			if err := p.Feed(rest[:n], &h); err != nil {
				b.Fatal(err)
			}
			rest = rest[n:]
		}
	}
	if h.n == 0 || h.bytes != h.n*(512<<10) {
		b.Fatalf("dispatched %d events with %d data bytes", h.n, h.bytes)
	}
}
