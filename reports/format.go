package reports

import (
	"math"
	"strconv"
)

// How reports spells figures in the words it stores in summary.json
// (diagnosis evidence, threshold reasons, capacity answers, compare noise
// notes). The renderers (reports/render) spell figures the same way, with
// these functions, so a figure reads alike in every output.

// FormatMicros formats a duration given in microseconds by magnitude:
// whole µs below 1 ms, ms with two decimals below 10 ms and one below 1 s,
// seconds with two decimals below 10 s and one above. Rounding never prints
// "1000.0ms": a value that would round to it moves to the next unit.
func FormatMicros(us int64) string {
	if us < 1000 {
		return strconv.FormatInt(us, 10) + "µs"
	}
	ms := float64(us) / 1e3
	if math.Round(ms*100)/100 < 10 {
		return strconv.FormatFloat(ms, 'f', 2, 64) + "ms"
	}
	if math.Round(ms*10)/10 < 1000 {
		return strconv.FormatFloat(ms, 'f', 1, 64) + "ms"
	}
	sec := float64(us) / 1e6
	if math.Round(sec*100)/100 < 10 {
		return strconv.FormatFloat(sec, 'f', 2, 64) + "s"
	}
	return strconv.FormatFloat(sec, 'f', 1, 64) + "s"
}

// FormatFigure formats a metric's value for people: a duration for time
// figures (FormatMicros), a number otherwise.
func FormatFigure(metric string, v float64) string {
	if isTimeMetric(metric) {
		if v < 0 {
			return "-" + FormatMicros(int64(math.Round(-v)))
		}
		if v != math.Trunc(v) && v < 1000 {
			return strconv.FormatFloat(v, 'f', 1, 64) + "µs"
		}
		return FormatMicros(int64(math.Round(v)))
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}
