// Package capacity finds the largest number of concurrent streams a target
// carries while every SLO holds: `sseload capacity`. The search (this file)
// is pure logic over a Prober; run.go measures each step with runner.Run and
// reason.go turns the failing step into words.
package capacity

import (
	"context"
	"fmt"
	"math"
)

// Prober measures one connection count and says whether every SLO held.
// The search calls it once per count, never twice for the same count.
type Prober interface {
	Probe(ctx context.Context, n int) (ok bool, err error)
}

// ProbeFunc adapts a plain function to Prober.
type ProbeFunc func(ctx context.Context, n int) (bool, error)

// Probe calls f.
func (f ProbeFunc) Probe(ctx context.Context, n int) (bool, error) { return f(ctx, n) }

var _ Prober = ProbeFunc(nil)

// Defaults of Plan.
const (
	DefaultStart     = 100
	DefaultMax       = 10000
	DefaultGrowth    = 2.0
	DefaultTolerance = 0.05
)

// Plan is how the search moves.
//
// Growth: probe Start, Start·g, Start·g², … (capped at Max) until one fails
// or Max holds. If Start itself fails, probe 1: a target that fails with a
// single stream carries nothing, and one that does not has its knee below
// Start. Then bisect the bracket [lo ok, hi failed] at its midpoint until
// hi − lo ≤ Tolerance·lo (or hi = lo + 1). The true knee k (the largest
// count that holds, assuming more streams never make it better) lies in
// [lo, hi), so lo underestimates it by less than Tolerance: with the
// default 5 %, and knee 766 from Start 100, that is 100 200 400 800 ✗,
// then 600 700 750 775 ✗ — eight steps, answer 750.
type Plan struct {
	Start     int     // first count probed; 0 = DefaultStart
	Max       int     // largest count probed; 0 = DefaultMax
	Growth    float64 // factor between growing steps, > 1; 0 = DefaultGrowth
	Tolerance float64 // relative width at which bisection stops, in (0, 1); 0 = DefaultTolerance
}

// withDefaults fills zero fields and checks the rest.
func (p Plan) withDefaults() (Plan, error) {
	if p.Start == 0 {
		p.Start = DefaultStart
	}
	if p.Max == 0 {
		p.Max = max(DefaultMax, p.Start)
	}
	if p.Growth == 0 {
		p.Growth = DefaultGrowth
	}
	if p.Tolerance == 0 {
		p.Tolerance = DefaultTolerance
	}
	switch {
	case p.Start < 1:
		return p, fmt.Errorf("--start %d: must be at least 1", p.Start)
	case p.Max < p.Start:
		return p, fmt.Errorf("--max %d is below --start %d: raise --max or lower --start", p.Max, p.Start)
	case p.Growth <= 1 || math.IsNaN(p.Growth) || math.IsInf(p.Growth, 0):
		return p, fmt.Errorf("growth %v: must be greater than 1", p.Growth)
	case !(p.Tolerance > 0 && p.Tolerance < 1):
		return p, fmt.Errorf("tolerance %v: must be between 0 and 1", p.Tolerance)
	}
	return p, nil
}

// Found is the search's answer.
type Found struct {
	MaxOK       int // largest count that held; 0 when none did
	FirstFailed int // smallest count that failed; 0 when none did (Max held)
}

// Validate checks the plan without searching.
func (p Plan) Validate() error {
	_, err := p.withDefaults()
	return err
}

// Search runs the plan against probe. An error from probe stops the search
// and is returned with what was found so far.
func (p Plan) Search(ctx context.Context, probe Prober) (Found, error) {
	p, err := p.withDefaults()
	if err != nil {
		return Found{}, err
	}
	var f Found
	try := func(n int) (bool, error) {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		ok, err := probe.Probe(ctx, n)
		if err != nil {
			return false, fmt.Errorf("step %d streams: %w", n, err)
		}
		if ok {
			f.MaxOK = max(f.MaxOK, n)
		} else if f.FirstFailed == 0 || n < f.FirstFailed {
			f.FirstFailed = n
		}
		return ok, nil
	}

	// Grow from Start until a step fails or Max holds.
	for n := p.Start; ; {
		ok, err := try(n)
		if err != nil {
			return f, err
		}
		if !ok {
			break
		}
		if n >= p.Max {
			return f, nil
		}
		next := int(math.Ceil(float64(n) * p.Growth))
		n = min(max(next, n+1), p.Max)
	}
	if f.MaxOK == 0 && f.FirstFailed > 1 {
		// Start failed: does the target carry even one stream?
		ok, err := try(1)
		if err != nil {
			return f, err
		}
		if !ok {
			return f, nil
		}
	}
	if f.MaxOK == 0 {
		return f, nil
	}
	// Bisect [MaxOK ok, FirstFailed failed].
	for f.FirstFailed-f.MaxOK > 1 && float64(f.FirstFailed-f.MaxOK) > p.Tolerance*float64(f.MaxOK) {
		if _, err := try(f.MaxOK + (f.FirstFailed-f.MaxOK)/2); err != nil {
			return f, err
		}
	}
	return f, nil
}
