package origin

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestAppendEvent(t *testing.T) {
	sched := time.Unix(1700000000, 123456789)
	sent := sched.Add(1500 * time.Microsecond)
	for _, tc := range []struct {
		payload int
		want    string
	}{
		{0, "id: 7\ndata: {\"seq\":7,\"sched\":1700000000123456789,\"sent\":1700000000124956789}\n\n"},
		{-3, "id: 7\ndata: {\"seq\":7,\"sched\":1700000000123456789,\"sent\":1700000000124956789}\n\n"},
		{1, "id: 7\ndata: {\"seq\":7,\"sched\":1700000000123456789,\"sent\":1700000000124956789,\"pad\":\"x\"}\n\n"},
		{5, "id: 7\ndata: {\"seq\":7,\"sched\":1700000000123456789,\"sent\":1700000000124956789,\"pad\":\"xxxxx\"}\n\n"},
	} {
		got := string(AppendEvent([]byte("prefix|"), 7, sched, sent, tc.payload))
		if got != "prefix|"+tc.want {
			t.Errorf("payload %d:\n got %q\nwant %q", tc.payload, got, "prefix|"+tc.want)
		}
	}
}

// TestAppendEventPadding checks the doubling fill at sizes around powers of
// two, and that the data line is valid JSON with the advertised fields.
func TestAppendEventPadding(t *testing.T) {
	sched := time.Unix(1, 2)
	for _, n := range []int{1, 2, 3, 4, 7, 8, 9, 1023, 1024, 1025, 65537} {
		ev := string(AppendEvent(nil, 42, sched, sched, n))
		if len(ev) > eventSize(n) {
			t.Errorf("payload %d: event is %d bytes, eventSize says at most %d", n, len(ev), eventSize(n))
		}
		data, ok := strings.CutPrefix(ev, "id: 42\ndata: ")
		if !ok || !strings.HasSuffix(data, "\n\n") {
			t.Fatalf("payload %d: bad framing %.60q", n, ev)
		}
		var v struct {
			Seq, Sched, Sent int64
			Pad              string
		}
		if err := json.Unmarshal([]byte(strings.TrimSuffix(data, "\n\n")), &v); err != nil {
			t.Fatalf("payload %d: data is not JSON: %v", n, err)
		}
		if v.Seq != 42 || v.Sched != sched.UnixNano() || v.Sent != sched.UnixNano() {
			t.Errorf("payload %d: fields %+v", n, v)
		}
		if len(v.Pad) != n || strings.Trim(v.Pad, "x") != "" {
			t.Errorf("payload %d: pad has %d bytes, not all x", n, len(v.Pad))
		}
	}
}

// BenchmarkAppendEvent builds one event into a reused buffer: 0 allocs/op.
func BenchmarkAppendEvent(b *testing.B) {
	for _, payload := range []int{0, 1024} {
		b.Run("pad="+strconv.Itoa(payload), func(b *testing.B) {
			buf := make([]byte, 0, eventSize(payload))
			sched := time.Now()
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				buf = AppendEvent(buf[:0], int64(i), sched, sched, payload)
			}
			b.SetBytes(int64(len(buf)))
		})
	}
}

func TestAppendEventAllocs(t *testing.T) {
	buf := make([]byte, 0, eventSize(4096))
	now := time.Now()
	if n := testing.AllocsPerRun(100, func() { buf = AppendEvent(buf[:0], 123456, now, now, 4096) }); n != 0 {
		t.Errorf("AppendEvent into a large enough buffer: %v allocs, want 0", n)
	}
}
