package loadgen

import (
	"net/netip"
	"slices"
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

func TestSourceAddrsSpreadLoopbackStreams(t *testing.T) {
	lo := netip.MustParseAddrPort("127.0.0.1:8080")
	if got := sourceAddrs(nil, lo, streamsPerSource); got != nil {
		t.Errorf("%d streams: sources %v, want none (one address suffices)", streamsPerSource, got)
	}
	got := sourceAddrs(nil, lo, 2*streamsPerSource+1)
	want := []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("127.0.0.2"), netip.MustParseAddr("127.0.0.3")}
	if !slices.Equal(got, want) {
		t.Errorf("sources %v, want %v", got, want)
	}
	if got := sourceAddrs(nil, netip.MustParseAddrPort("10.0.0.1:80"), 100_000); got != nil {
		t.Errorf("remote target: sources %v, want none", got)
	}
	given := []netip.Addr{netip.MustParseAddr("127.0.0.9")}
	if got := sourceAddrs(given, lo, 1); !slices.Equal(got, given) {
		t.Errorf("given sources %v, got %v", given, got)
	}
}
