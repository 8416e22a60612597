package scenarios

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// MaxFailed is yaml key "max_failed": how many of a target's streams may
// fail before the run's junit.xml marks that target's connections as
// failed, either a count of streams ("3") or a share of the streams
// requested per target ("5%"). The zero value, the default, allows none: a
// run in which any stream failed does not pass by accident.
type MaxFailed struct {
	// Count is the failed streams allowed per target, when !IsPercent.
	Count int
	// Percent is the share of each target's requested streams allowed to
	// fail, 0 to 100, when IsPercent.
	Percent   float64
	IsPercent bool
}

// ParseMaxFailed parses "3" (a count of streams) or "5%" (a share of the
// streams requested per target).
func ParseMaxFailed(s string) (MaxFailed, error) {
	s = strings.TrimSpace(s)
	if p, ok := strings.CutSuffix(s, "%"); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(f) || f < 0 || f > 100 {
			return MaxFailed{}, fmt.Errorf("%q: a share of the streams is a percentage from 0%% to 100%%, such as 5%%", s)
		}
		return MaxFailed{Percent: f, IsPercent: true}, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return MaxFailed{}, fmt.Errorf("%q: write a count of streams such as 3, or a share of the streams requested per target such as 5%%", s)
	}
	return MaxFailed{Count: n}, nil
}

// String writes m as ParseMaxFailed reads it: "3", "5%".
func (m MaxFailed) String() string {
	if m.IsPercent {
		return strconv.FormatFloat(m.Percent, 'g', -1, 64) + "%"
	}
	return strconv.Itoa(m.Count)
}

// Allowed is how many of requested streams may fail: the count, or the
// share of requested rounded down (5% of 30 streams allows 1).
func (m MaxFailed) Allowed(requested int64) int64 {
	if !m.IsPercent {
		return int64(m.Count)
	}
	// Multiplied first: 29 * 100 / 100 is exactly 29, while 0.29 * 100
	// is 28.999…; the epsilon absorbs what rounding is left.
	return int64(math.Floor(m.Percent*float64(requested)/100 + 1e-9))
}

// problem says what is wrong with m, or "" (Validate).
func (m MaxFailed) problem() string {
	switch {
	case m.IsPercent && (math.IsNaN(m.Percent) || m.Percent < 0 || m.Percent > 100):
		return fmt.Sprintf("%v%% is not a share from 0%% to 100%% (such as 5%%)", m.Percent)
	case !m.IsPercent && m.Count < 0:
		return fmt.Sprintf("%d is negative (use 0, the default, to allow no failed stream; a count such as 3; or a share such as 5%%)", m.Count)
	}
	return ""
}
