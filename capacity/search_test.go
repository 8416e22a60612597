package capacity

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
)

// knee is a fake target that carries up to k streams: the search logic is
// tested against it without I/O. It records the counts probed.
type knee struct {
	k     int
	tried []int
}

func (f *knee) Probe(_ context.Context, n int) (bool, error) {
	f.tried = append(f.tried, n)
	return n <= f.k, nil
}

func TestSearchFindsTheKneeWithinTolerance(t *testing.T) {
	for _, tc := range []struct {
		name  string
		plan  Plan
		k     int
		tried []int
		found Found
	}{
		// The acceptance case: Debian's nginx carries 766.
		{"debian nginx", Plan{}, 766, []int{100, 200, 400, 800, 600, 700, 750, 775}, Found{750, 775}},
		{"knee at start", Plan{}, 100, []int{100, 200, 150, 125, 112, 106, 103}, Found{100, 103}},
		{"knee below start", Plan{}, 37, []int{100, 1, 50, 25, 37, 43, 40, 38}, Found{37, 38}},
		{"nothing carried", Plan{}, 0, []int{100, 1}, Found{0, 1}},
		{"start of one fails", Plan{Start: 1}, 0, []int{1}, Found{0, 1}},
		{"max holds", Plan{Start: 100, Max: 500}, 10000, []int{100, 200, 400, 500}, Found{500, 0}},
		{"max fails", Plan{Start: 100, Max: 500}, 450, []int{100, 200, 400, 500, 450, 475, 462}, Found{450, 462}},
		{"growth 3, tolerance 20%", Plan{Start: 10, Growth: 3, Tolerance: 0.2}, 200, []int{10, 30, 90, 270, 180, 225, 202}, Found{180, 202}},
		{"one stream carried", Plan{Start: 8}, 1, []int{8, 1, 4, 2}, Found{1, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &knee{k: tc.k}
			got, err := tc.plan.Search(context.Background(), f)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.found || !slices.Equal(f.tried, tc.tried) {
				t.Errorf("knee %d: found %+v after %v; want %+v after %v", tc.k, got, f.tried, tc.found, tc.tried)
			}
		})
	}
}

// TestSearchInvariants checks, for every knee up to 3000, that the answer is
// the knee to within the tolerance, that no count is probed twice, and
// that the search stays short.
func TestSearchInvariants(t *testing.T) {
	for k := 0; k <= 3000; k++ {
		f := &knee{k: k}
		got, err := Plan{Max: 2000}.Search(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[int]bool{}
		for _, n := range f.tried {
			if seen[n] {
				t.Fatalf("knee %d: probed %d twice: %v", k, n, f.tried)
			}
			seen[n] = true
		}
		switch {
		case k >= 2000:
			if got != (Found{2000, 0}) {
				t.Fatalf("knee %d past --max: found %+v", k, got)
			}
		case got.MaxOK > k || got.FirstFailed <= k:
			t.Fatalf("knee %d: found %+v does not bracket it", k, got)
		case k > 0 && float64(k-got.MaxOK) > 0.05*float64(k):
			t.Fatalf("knee %d: found %d, more than 5%% below", k, got.MaxOK)
		}
		if len(f.tried) > 16 {
			t.Fatalf("knee %d: %d steps: %v", k, len(f.tried), f.tried)
		}
	}
}

func TestSearchStopsOnProbeErrorAndCancel(t *testing.T) {
	boom := errors.New("nginx did not start")
	n := 0
	got, err := Plan{}.Search(context.Background(), ProbeFunc(func(_ context.Context, c int) (bool, error) {
		n++
		if c == 400 {
			return false, boom
		}
		return true, nil
	}))
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "400") || got.MaxOK != 200 || n != 3 {
		t.Errorf("probe error at 400: found %+v, err %v after %d probes; want max_ok 200 and the error naming the step", got, err, n)
	}

	ctx, cancel := context.WithCancel(context.Background())
	_, err = Plan{}.Search(ctx, ProbeFunc(func(_ context.Context, c int) (bool, error) {
		cancel()
		return true, nil
	}))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled search: err %v, want context.Canceled", err)
	}
}

func TestPlanValidateNamesTheFlag(t *testing.T) {
	for _, tc := range []struct {
		p    Plan
		want string
	}{
		{Plan{Start: -1}, "--start -1"},
		{Plan{Start: 500, Max: 100}, "--max 100 is below --start 500"},
		{Plan{Growth: 1}, "growth"},
		{Plan{Tolerance: 1.5}, "tolerance"},
	} {
		if err := tc.p.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err %v, want one naming %q", tc.p, err, tc.want)
		}
	}
	if err := (Plan{}).Validate(); err != nil {
		t.Errorf("default plan: %v", err)
	}
}
