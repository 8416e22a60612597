package loadgen

import (
	"strings"
	"testing"
)

func TestVerdictSaysWhyNumbersAreNotToBeTrusted(t *testing.T) {
	for _, tc := range []struct {
		name     string
		lagUS    int64
		busy     float64
		cpu      float64
		skewed   int64
		reliable bool
		note     []string
	}{
		{name: "healthy", lagUS: 300, busy: 0.2, reliable: true},
		{name: "just under the limits", lagUS: maxLagP99US - 10, busy: maxBusy, reliable: true},
		{name: "scheduling lag", lagUS: 25_000, busy: 0.2, note: []string{"scheduling lag p99", "25.0 ms", "short of CPU"}},
		{name: "saturated worker", lagUS: 300, busy: 0.97, note: []string{"busy 97%", "saturated"}},
		{name: "machine saturated", lagUS: 300, busy: 0.1, cpu: 0.99, note: []string{"machine was 99% busy"}},
		{name: "clock skew", lagUS: 300, busy: 0.1, skewed: 12, note: []string{"a: 12 events arrived before their publish time", "not synchronised"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lag := NewHistogram()
			for i := 0; i < 100; i++ {
				_ = lag.RecordValue(tc.lagUS)
			}
			h := verdict(lag, tc.busy, tc.cpu, []*TargetResult{{Name: "a", ClockSkewed: tc.skewed}})
			if h.Reliable != tc.reliable {
				t.Errorf("reliable %v, want %v (note %q)", h.Reliable, tc.reliable, h.Note)
			}
			if tc.reliable && h.Note != "" {
				t.Errorf("note %q on a reliable run", h.Note)
			}
			for _, want := range tc.note {
				if !strings.Contains(h.Note, want) {
					t.Errorf("note %q lacks %q", h.Note, want)
				}
			}
			if h.LagP99US < tc.lagUS*999/1000 || h.BusyMax != tc.busy {
				t.Errorf("lag p99 %d busy %v, want ~%d and %v", h.LagP99US, h.BusyMax, tc.lagUS, tc.busy)
			}
		})
	}
}
