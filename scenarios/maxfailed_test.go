package scenarios

import (
	"strings"
	"testing"
)

func TestMaxFailed(t *testing.T) {
	for _, tc := range []struct {
		yaml      string
		requested int64
		allowed   int64
		str       string
	}{
		{"max_failed: 3", 100, 3, "3"},
		{"max_failed: 0", 100, 0, "0"},
		{"max_failed: 5%", 100, 5, "5%"},
		{"max_failed: 5%", 30, 1, "5%"}, // 1.5 rounds down
		{"max_failed: 29%", 100, 29, "29%"},
		{`max_failed: "2.5%"`, 1000, 25, "2.5%"},
		{"max_failed: 100%", 7, 7, "100%"},
	} {
		sc, err := Parse("m.yaml", []byte(tc.yaml+"\n"))
		if err != nil {
			t.Errorf("%s: %v", tc.yaml, err)
			continue
		}
		if got := sc.MaxFailed.Allowed(tc.requested); got != tc.allowed {
			t.Errorf("%s: Allowed(%d) = %d, want %d", tc.yaml, tc.requested, got, tc.allowed)
		}
		if got := sc.MaxFailed.String(); got != tc.str {
			t.Errorf("%s: String = %q, want %q", tc.yaml, got, tc.str)
		}
	}
	// Absent: none allowed.
	sc, err := Parse("m.yaml", []byte("connections: 5\n"))
	if err != nil || sc.MaxFailed.Allowed(5) != 0 {
		t.Errorf("absent max_failed: %v, allowed %d; want 0", err, sc.MaxFailed.Allowed(5))
	}
}

func TestMaxFailedErrors(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"max_failed: -1", `m.yaml:1: max_failed "-1": write a count of streams such as 3, or a share of the streams requested per target such as 5%`},
		{"max_failed: five", `m.yaml:1: max_failed "five": write a count`},
		{"max_failed: 150%", `m.yaml:1: max_failed "150%": a share of the streams is a percentage from 0% to 100%, such as 5%`},
		{"max_failed: [1]", "m.yaml:1: max_failed: expected a count such as 3 or a share such as 5%, got a list"},
	} {
		_, err := Parse("m.yaml", []byte(tc.yaml+"\n"))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.yaml, err, tc.want)
		}
	}
	// Validate, for a value set in code (flags, the compose generator).
	sc, err := Load("steady")
	if err != nil {
		t.Fatal(err)
	}
	sc.MaxFailed = MaxFailed{Count: -2}
	if err := sc.Validate(); err == nil || !strings.Contains(err.Error(), "max_failed: -2 is negative") {
		t.Errorf("Validate = %v, want max_failed named", err)
	}
}
