package jsonfield

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestParseUnit(t *testing.T) {
	for s, want := range map[string]Unit{"auto": Auto, "ns": Nanoseconds, "us": Microseconds, "µs": Microseconds,
		"μs": Microseconds, "ms": Milliseconds, "s": Seconds} {
		got, err := ParseUnit(s)
		if err != nil || got != want {
			t.Errorf("ParseUnit(%q) = %v, %v; want %v", s, got, err, want)
		}
		if back, err := ParseUnit(got.String()); err != nil || back != got {
			t.Errorf("ParseUnit(%v.String()) = %v, %v", got, back, err)
		}
	}
	for _, s := range []string{"", "sec", "MS", "nanos", "m"} {
		_, err := ParseUnit(s)
		if err == nil {
			t.Errorf("ParseUnit(%q) accepted", s)
		} else if !strings.Contains(err.Error(), "auto, ns, us (or µs), ms, s") || !strings.Contains(err.Error(), `"`+s+`"`) {
			t.Errorf("ParseUnit(%q) error %q does not name the input and the valid units", s, err)
		}
	}
}

// 2024-11-25T00:00:00Z and fractions of it in every unit.
const base = 1732492800

func TestUnixNanos(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		unit Unit
		want int64
		ok   bool
	}{
		// Auto, by magnitude.
		{"1732492800", Auto, base * 1e9, true},
		{"1732492800.5", Auto, base*1e9 + 5e8, true},
		{"1732492800.123456789", Auto, base*1e9 + 123456789, true},
		{"1732492800.1234567891", Auto, base*1e9 + 123456789, true}, // below 1 ns truncated
		{"1.7324928e9", Auto, base * 1e9, true},
		{"1732492800123", Auto, base*1e9 + 123e6, true},
		{"1732492800123.456", Auto, base*1e9 + 123456e3, true},
		{"1732492800123456", Auto, base*1e9 + 123456e3, true},
		{"1732492800123456789", Auto, base*1e9 + 123456789, true},
		{"1.732492800123456789e18", Auto, base*1e9 + 123456789, true},
		{"1732492800123456789.9", Auto, base*1e9 + 123456789, true},
		{"-1732492800", Auto, -base * 1e9, true},
		{"0", Auto, 0, true},
		{"-0.0", Auto, 0, true},
		{"0.000000001", Auto, 1, true},

		// Magnitude boundaries: 1e11 and above is ms, 1e14 µs, 1e17 ns.
		{"99999999999", Auto, 0, false},             // seconds: year 5138, overflows int64 ns
		{"9000000000", Auto, 9e18, true},            // seconds (year 2255)
		{"100000000000", Auto, 1e11 * 1e6, true},    // ms
		{"99999999999999", Auto, 0, false},          // ms, year 5138: overflows
		{"100000000000000", Auto, 1e14 * 1e3, true}, // µs
		{"99999999999999999", Auto, 0, false},       // µs, year 5138: overflows
		{"9000000000000000", Auto, 9e18, true},      // µs (year 2255)
		{"100000000000000000", Auto, 1e17, true},    // ns
		{"1e17", Auto, 1e17, true},
		{"1E14", Auto, 1e17, true},

		// Explicit units.
		{"1732492800123456789", Nanoseconds, base*1e9 + 123456789, true},
		{"1732492800", Nanoseconds, base, true},
		{"1732492800123456", Microseconds, base*1e9 + 123456e3, true},
		{"1732492800", Microseconds, base * 1e3, true},
		{"1732492800123", Milliseconds, base*1e9 + 123e6, true},
		{"1.5", Milliseconds, 1500000, true},
		{"1732492800", Seconds, base * 1e9, true},
		{"1732492800123", Seconds, 0, false}, // overflows int64 nanoseconds
		{"9223372036.854775807", Seconds, math.MaxInt64, true},
		{"9223372036.854775808", Seconds, 0, false},
		{"1e-10", Seconds, 0, true},
		{"1e999999999999", Seconds, 0, false},
		{"1e-999999999999", Seconds, 0, true},

		// RFC 3339, any unit.
		{"2024-11-25T00:00:00Z", Auto, base * 1e9, true},
		{"2024-11-25T00:00:00.123456789Z", Milliseconds, base*1e9 + 123456789, true},
		{"2024-11-25T01:30:00.5+01:30", Auto, base*1e9 + 5e8, true},
		{"2024-11-24T23:00:00-01:00", Auto, base * 1e9, true},
		{"2024-11-25t00:00:00z", Auto, base * 1e9, true},
		{"2024-11-25 00:00:00Z", Auto, base * 1e9, true},
		{"2024-02-30T00:00:00Z", Auto, 0, false},
		{"2024-11-25T24:00:00Z", Auto, 0, false},
		{"2024-11-25T00:00:60Z", Auto, 0, false},
		{"2024-11-25T00:00:00", Auto, 0, false},
		{"2024-11-25T00:00:00.Z", Auto, 0, false},
		{"2024-11-25T00:00:00+0100", Auto, 0, false},
		{"2024-11-25T00:00:00Zjunk", Auto, 0, false},
		{"3024-11-25T00:00:00Z", Auto, 0, false},

		// Not timestamps.
		{"", Auto, 0, false},
		{"-", Auto, 0, false},
		{"abc", Auto, 0, false},
		{"1.", Auto, 0, false},
		{".5", Auto, 0, false},
		{"01", Auto, 0, false},
		{"+1", Auto, 0, false},
		{"1e", Auto, 0, false},
		{"1 ", Auto, 0, false},
		{"0x10", Auto, 0, false},
		{"null", Auto, 0, false},
		{"1", Unit(99), 0, false},
	} {
		got, ok := UnixNanos([]byte(tc.raw), tc.unit)
		if ok != tc.ok || ok && got != tc.want {
			t.Errorf("UnixNanos(%q, %v) = %d, %v; want %d, %v", tc.raw, tc.unit, got, ok, tc.want, tc.ok)
		}
	}
}

// TestUnixNanosRFC3339 checks the hand-written RFC 3339 parser against
// time.Parse.
func TestUnixNanosRFC3339(t *testing.T) {
	for _, s := range []string{
		"1970-01-01T00:00:00Z", "2000-02-29T23:59:59.999999999Z", "2024-11-25T00:00:00.1+14:00",
		"1999-12-31T23:59:59-12:00", "2261-12-31T23:59:59Z", "1678-01-01T00:00:00Z", "2024-06-30T12:34:56.000001+05:45",
	} {
		want, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := UnixNanos([]byte(s), Auto); !ok || got != want.UnixNano() {
			t.Errorf("UnixNanos(%q) = %d, %v; time.Parse says %d", s, got, ok, want.UnixNano())
		}
	}
}

// TestAutoUnit checks the magnitude thresholds exactly, including values that
// would overflow int64 nanoseconds once scaled.
func TestAutoUnit(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want Unit
	}{
		{"1", Seconds}, {"99999999999", Seconds}, {"99999999999.99", Seconds},
		{"100000000000", Milliseconds}, {"1e11", Milliseconds}, {"99999999999999.9", Milliseconds},
		{"100000000000000", Microseconds}, {"99999999999999999", Microseconds},
		{"100000000000000000", Nanoseconds}, {"1.0e17", Nanoseconds}, {"123456789012345678901234", Nanoseconds},
		{"0.5", Seconds}, {"-1732492800123", Milliseconds},
	} {
		_, mant, exp, ok := parseDecimal([]byte(tc.raw))
		if !ok {
			t.Fatalf("parseDecimal(%q) failed", tc.raw)
		}
		if got := autoUnit(mant, exp); got != tc.want {
			t.Errorf("autoUnit(%s) = %v, want %v", tc.raw, got, tc.want)
		}
	}
}

func TestInt(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"12345", 12345, true}, {"-7", -7, true},
		{"9223372036854775807", math.MaxInt64, true}, {"-9223372036854775808", math.MinInt64, true},
		{"9223372036854775808", 0, false}, {"-9223372036854775809", 0, false}, {"99999999999999999999", 0, false},
		{"", 0, false}, {"-", 0, false}, {"1.0", 0, false}, {"1e3", 0, false}, {"+1", 0, false}, {" 1", 0, false}, {"x", 0, false},
	} {
		got, ok := Int([]byte(tc.raw))
		if ok != tc.ok || got != tc.want {
			t.Errorf("Int(%q) = %d, %v; want %d, %v", tc.raw, got, ok, tc.want, tc.ok)
		}
	}
}

func TestConversionAllocs(t *testing.T) {
	num := []byte("1732492800123.456")
	ts := []byte("2024-11-25T00:00:00.123456789+01:00")
	seq := []byte("12345")
	allocs := testing.AllocsPerRun(100, func() {
		if _, ok := UnixNanos(num, Auto); !ok {
			t.Fatal("number not parsed")
		}
		if _, ok := UnixNanos(ts, Auto); !ok {
			t.Fatal("RFC 3339 not parsed")
		}
		if _, ok := Int(seq); !ok {
			t.Fatal("int not parsed")
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations, want 0", allocs)
	}
}
