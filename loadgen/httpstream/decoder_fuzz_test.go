package httpstream

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
)

// FuzzDecoder feeds arbitrary bytes and checks that the Decoder never panics,
// that every error it makes wraps one of its sentinels, and that feeding the
// input whole or split at a fuzzer-chosen point gives the identical outcome
// (heads, body, Done, error text). It also encodes the input as a chunked
// body in chunks of a fuzzer-chosen size and checks that it decodes back to
// the input exactly, whole and split.
func FuzzDecoder(f *testing.F) {
	for i, v := range vectors {
		f.Add([]byte(v.in), uint(i*7))
	}
	f.Fuzz(func(t *testing.T, data []byte, split uint) {
		maxHead := 0
		if split%3 == 0 {
			maxHead = 16 + int(split>>2)%256
		}
		k := int(split % uint(len(data)+1))
		whole, feedErr, _ := decode(maxHead, data)
		if feedErr != nil && !errors.Is(feedErr, ErrMalformed) && !errors.Is(feedErr, ErrHeadTooLarge) {
			t.Fatalf("Feed error %v wraps no sentinel", feedErr)
		}
		if got, _, _ := decode(maxHead, data[:k:k], data[k:]); !reflect.DeepEqual(got, whole) {
			t.Fatalf("split at %d of %q:\n got %v\nwant %v", k, data, got, whole)
		}

		size := int(split%31) + 1
		enc := []byte(sseHead)
		for rest := data; len(rest) > 0; {
			n := min(size, len(rest))
			enc = fmt.Appendf(enc, "%x\r\n", n)
			enc = append(enc, rest[:n]...)
			enc = append(enc, "\r\n"...)
			rest = rest[n:]
		}
		enc = append(enc, "0\r\n\r\n"...)
		k = int(split % uint(len(enc)+1))
		for _, pieces := range [][][]byte{{enc}, {enc[:k:k], enc[k:]}} {
			got, err, cerr := decode(0, pieces...)
			if err != nil || cerr != nil || !got.Done || got.Body != string(data) {
				t.Fatalf("chunked round trip (chunks of %d, split at %d): %v", size, k, got)
			}
		}
	})
}
