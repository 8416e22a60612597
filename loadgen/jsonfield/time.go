package jsonfield

import (
	"fmt"
	"math"
	"time"
)

// Unit is the unit of a numeric timestamp.
type Unit int

const (
	// Auto picks the unit by the magnitude of the value (see UnixNanos).
	Auto Unit = iota
	Nanoseconds
	Microseconds
	Milliseconds
	Seconds
)

// ParseUnit parses "auto", "ns", "us" (or "µs"), "ms" or "s".
func ParseUnit(s string) (Unit, error) {
	switch s {
	case "auto":
		return Auto, nil
	case "ns":
		return Nanoseconds, nil
	case "us", "µs", "μs": // U+00B5 micro sign or U+03BC mu
		return Microseconds, nil
	case "ms":
		return Milliseconds, nil
	case "s":
		return Seconds, nil
	}
	return Auto, fmt.Errorf("jsonfield: unknown time unit %q: want one of auto, ns, us (or µs), ms, s", s)
}

// String returns the unit as ParseUnit accepts it.
func (u Unit) String() string {
	switch u {
	case Auto:
		return "auto"
	case Nanoseconds:
		return "ns"
	case Microseconds:
		return "us"
	case Milliseconds:
		return "ms"
	case Seconds:
		return "s"
	}
	return fmt.Sprintf("Unit(%d)", int(u))
}

// exp10 is the power of ten that turns one of the unit into nanoseconds.
func (u Unit) exp10() int {
	switch u {
	case Microseconds:
		return 3
	case Milliseconds:
		return 6
	case Seconds:
		return 9
	}
	return 0
}

// UnixNanos converts a timestamp value, raw as Lookup returns it, into Unix
// nanoseconds. raw is a JSON number (integer, decimal or exponent form) or
// the contents of a string holding one, in unit; or an RFC 3339 timestamp
// ("2024-11-25T00:00:00.123456Z", any offset), for which unit is ignored.
// ok is false when raw is neither, or the instant does not fit in int64
// nanoseconds (years 1678-2262).
//
// Auto picks the unit by magnitude, which is unambiguous for present-day
// times: a value >= 1e17 is nanoseconds (1e17 ns is 1973), >= 1e14
// microseconds, >= 1e11 milliseconds (1e11 ms is 1973; 1e11 s is year 5138),
// else seconds, fractions allowed.
//
// Numbers are converted exactly in integer arithmetic, not through float64,
// whose 53-bit mantissa cannot hold a present-day time in nanoseconds (it
// would round by up to 256 ns); digits below a nanosecond are truncated. No
// allocation, for numbers or RFC 3339.
func UnixNanos(raw []byte, unit Unit) (ns int64, ok bool) {
	if unit < Auto || unit > Seconds {
		return 0, false
	}
	if len(raw) >= len("2006-01-02T15:04:05Z") && raw[4] == '-' {
		return rfc3339Nanos(raw)
	}
	neg, mant, exp, ok := parseDecimal(raw)
	if !ok {
		return 0, false
	}
	if mant == 0 {
		return 0, true
	}
	if unit == Auto {
		unit = autoUnit(mant, exp)
	}
	v := mant
	e := exp + unit.exp10()
	for ; e > 0; e-- {
		if v > math.MaxInt64/10 {
			return 0, false
		}
		v *= 10
	}
	if e < -maxSig {
		v = 0 // below a nanosecond
	}
	for ; e < 0 && v > 0; e++ {
		v /= 10 // truncate digits below a nanosecond
	}
	if v > math.MaxInt64 {
		return 0, false
	}
	if neg {
		return -int64(v), true
	}
	return int64(v), true
}

// autoUnit picks the unit of a value mant × 10^exp (mant > 0) by its
// magnitude, floor(log10(value)).
func autoUnit(mant uint64, exp int) Unit {
	switch mag := numDigits(mant) - 1 + exp; {
	case mag >= 17:
		return Nanoseconds
	case mag >= 14:
		return Microseconds
	case mag >= 11:
		return Milliseconds
	}
	return Seconds
}

func numDigits(v uint64) int {
	n := 1
	for v >= 10 {
		v /= 10
		n++
	}
	return n
}

// maxSig is the number of significant digits kept: 19 always fit in a uint64
// and cover a present-day time in nanoseconds, or in seconds with nine
// fractional digits.
const maxSig = 19

// parseDecimal parses a JSON number, -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?,
// into value = mant × 10^exp, keeping the first maxSig significant digits.
func parseDecimal(b []byte) (neg bool, mant uint64, exp int, ok bool) {
	i := 0
	if i < len(b) && b[i] == '-' {
		neg = true
		i++
	}
	if i >= len(b) || b[i] < '0' || b[i] > '9' || b[i] == '0' && i+1 < len(b) && '0' <= b[i+1] && b[i+1] <= '9' {
		return false, 0, 0, false
	}
	sig := 0
	for ; i < len(b) && '0' <= b[i] && b[i] <= '9'; i++ {
		if sig < maxSig {
			mant = mant*10 + uint64(b[i]-'0')
			if mant != 0 {
				sig++
			}
		} else {
			exp++ // a dropped integer digit still scales the value
		}
	}
	if i < len(b) && b[i] == '.' {
		i++
		start := i
		for ; i < len(b) && '0' <= b[i] && b[i] <= '9'; i++ {
			if sig < maxSig {
				mant = mant*10 + uint64(b[i]-'0')
				exp--
				if mant != 0 {
					sig++
				}
			}
		}
		if i == start {
			return false, 0, 0, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		eneg := false
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			eneg = b[i] == '-'
			i++
		}
		start := i
		e := 0
		for ; i < len(b) && '0' <= b[i] && b[i] <= '9'; i++ {
			if e < 1e6 { // far beyond any int64 time either way
				e = e*10 + int(b[i]-'0')
			}
		}
		if i == start {
			return false, 0, 0, false
		}
		if eneg {
			e = -e
		}
		exp += e
	}
	if i != len(b) {
		return false, 0, 0, false
	}
	return neg, mant, exp, true
}

// Int parses a raw JSON integer literal, such as the "seq" field, or the
// contents of a string holding one: an optional minus sign and decimal
// digits. ok is false for anything else (fractions, exponents, overflow).
func Int(raw []byte) (int64, bool) {
	i := 0
	neg := len(raw) > 0 && raw[0] == '-'
	if neg {
		i++
	}
	if i == len(raw) {
		return 0, false
	}
	var v uint64
	for ; i < len(raw); i++ {
		c := raw[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if v > (math.MaxInt64+1)/10 {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
		if v > math.MaxInt64+1 {
			return 0, false
		}
	}
	if neg {
		return -int64(v), true // v == MaxInt64+1 wraps to MinInt64, as intended
	}
	if v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}

// rfc3339Nanos parses YYYY-MM-DD(T|t| )HH:MM:SS[.fraction](Z|z|±HH:MM), the
// RFC 3339 forms time.Parse(time.RFC3339Nano) accepts (plus the lower-case
// and space separators RFC 3339 allows), without allocating. Fractions below
// a nanosecond are truncated; leap second 60 is rejected, as time.Parse does.
func rfc3339Nanos(b []byte) (int64, bool) {
	num := func(i, n int) int {
		v := 0
		for _, c := range b[i : i+n] {
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	// The caller checked len(b) >= 20.
	year, month, day := num(0, 4), num(5, 2), num(8, 2)
	hour, minute, sec := num(11, 2), num(14, 2), num(17, 2)
	if b[4] != '-' || b[7] != '-' || b[13] != ':' || b[16] != ':' ||
		b[10] != 'T' && b[10] != 't' && b[10] != ' ' {
		return 0, false
	}
	if year < 1678 || year > 2261 || month < 1 || month > 12 || day < 1 ||
		hour < 0 || hour > 23 || minute < 0 || minute > 59 || sec < 0 || sec > 59 {
		return 0, false
	}
	if day > time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day() {
		return 0, false
	}
	i := 19
	nsec := 0
	if i < len(b) && b[i] == '.' {
		i++
		start := i
		for ; i < len(b) && '0' <= b[i] && b[i] <= '9'; i++ {
			if i-start < 9 {
				nsec = nsec*10 + int(b[i]-'0')
			}
		}
		if i == start {
			return 0, false
		}
		for n := i - start; n < 9; n++ {
			nsec *= 10
		}
	}
	offset := 0
	switch {
	case i == len(b)-1 && (b[i] == 'Z' || b[i] == 'z'):
	case i == len(b)-6 && (b[i] == '+' || b[i] == '-') && b[i+3] == ':':
		oh, om := num(i+1, 2), num(i+4, 2)
		if oh < 0 || oh > 23 || om < 0 || om > 59 {
			return 0, false
		}
		offset = (oh*60 + om) * 60
		if b[i] == '-' {
			offset = -offset
		}
	default:
		return 0, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	return t.Unix()*1e9 - int64(offset)*1e9 + int64(t.Nanosecond()), true
}
