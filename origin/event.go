package origin

import (
	"slices"
	"strconv"
	"time"
)

// AppendEvent appends the wire form of event seq (scheduled at sched) to dst,
// with sent as the actual write time, and returns the extended slice:
//
//	id: <seq>
//	data: {"seq":<seq>,"sched":<Unix ns>,"sent":<Unix ns>[,"pad":"<payload x's>"]}
//	<blank line>
//
// sched is what latency is measured against; sent lets a client separate the
// origin's own lateness (sent - sched) from the path's (receipt - sent).
// payload <= 0 omits "pad". It is exported so that tests and the engine's
// benchmarks build byte-identical events. With a dst of sufficient capacity
// it does not allocate.
func AppendEvent(dst []byte, seq int64, sched, sent time.Time, payload int) []byte {
	dst = append(dst, "id: "...)
	dst = strconv.AppendInt(dst, seq, 10)
	dst = append(dst, "\ndata: {\"seq\":"...)
	dst = strconv.AppendInt(dst, seq, 10)
	dst = append(dst, ",\"sched\":"...)
	dst = strconv.AppendInt(dst, sched.UnixNano(), 10)
	dst = append(dst, ",\"sent\":"...)
	dst = strconv.AppendInt(dst, sent.UnixNano(), 10)
	if payload > 0 {
		dst = append(dst, ",\"pad\":\""...)
		dst = appendX(dst, payload)
		dst = append(dst, '"')
	}
	return append(dst, "}\n\n"...)
}

// appendX appends n 'x' bytes by doubling copies: log2(n) memmoves instead
// of n byte stores.
func appendX(dst []byte, n int) []byte {
	start := len(dst)
	dst = slices.Grow(dst, n)[:start+n]
	p := dst[start:]
	p[0] = 'x'
	for filled := 1; filled < n; filled *= 2 {
		copy(p[filled:], p[:filled])
	}
	return dst
}

// eventSize bounds the length of one event with the given padding: the fixed
// text plus three int64s of at most 20 bytes each.
func eventSize(payload int) int {
	return len("id: \ndata: {\"seq\":,\"sched\":,\"sent\":,\"pad\":\"\"}\n\n") + 4*20 + payload
}
