package suggest

import "testing"

func TestDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"seed", "seed", 0},
		{"stedy", "steady", 1},
		{"steady", "stedy", 1},
		{"sede", "seed", 1}, // a swap counts once
		{"nginx-stok", "nginx-stock", 1},
		{"conections", "connections", 1},
		{"", "run", 3},
		{"kitten", "sitting", 3},
	} {
		if got := Distance(tc.a, tc.b); got != tc.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestClosest(t *testing.T) {
	scenarios := []string{"devices", "idle-timeout", "origin-restart", "proxy-reload", "seed", "slow-consumer", "steady"}
	targets := []string{"direct", "nginx-stock", "nginx-sse", "haproxy-stock", "haproxy-sse", "caddy-stock", "caddy-sse"}
	for _, tc := range []struct {
		s     string
		cands []string
		want  string
	}{
		{"stedy", scenarios, "steady"},
		{"sede", scenarios, "seed"},
		{"seeds", scenarios, "seed"},
		{"idle", scenarios, "idle-timeout"},
		{"devcies", scenarios, "devices"},
		{"burst", scenarios, ""},
		{"x", scenarios, ""},
		{"nginx-stok", targets, "nginx-stock"},
		{"nginx", targets, ""}, // starts two: no guess
		{"drect", targets, "direct"},
		{"rn", []string{"run", "report"}, "run"},
		{"r", []string{"run", "report"}, ""},
	} {
		if got := Closest(tc.s, tc.cands); got != tc.want {
			t.Errorf("Closest(%q) = %q, want %q", tc.s, got, tc.want)
		}
	}
}
