package procs

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/sseload/sseload/loadgen"
)

// Latency is a receipt time on the worker's clock minus a publish time on
// the origin's: when the two clocks differ, every latency is off by the
// difference. A worker given a time source (Message.TimeURL: sseload's
// origin's GET /time, or --time-url) measures the difference NTP-style and
// corrects its receipt times by it before recording (Engine.SetClockOffset).
//
// One sample: local time t0, GET the source's clock T, local time t1. T
// was read at some moment within [t0, t1]; taking the midpoint, the
// offset (local minus source) is (t0+t1)/2 − T, wrong by at most half the
// round trip t1 − t0. Of clockSamples samples the one with the lowest
// round trip wins (queueing only ever adds to a round trip), and the
// estimate is repeated every clockPeriod during the run to follow drift.

const (
	clockSamples = 8
	clockPeriod  = 5 * time.Second
	// clockTolerance is the least uncertainty a run tolerates; above it,
	// 5 % of the merged latency p50 (judgeClocks).
	clockTolerance      = time.Millisecond
	clockToleranceShare = 0.05
)

// WireClock is a worker's clock offset estimate, with its result.
type WireClock struct {
	// OffsetUS is the worker's clock minus the time source's, µs;
	// UncertaintyUS half the winning sample's round trip.
	OffsetUS      int64 `json:"offset_us"`
	UncertaintyUS int64 `json:"uncertainty_us"`
	// Corrected says receipt times were corrected by the offset.
	Corrected bool `json:"corrected,omitempty"`
	// Error says why no estimate was made (the source unreachable or
	// not answering a time).
	Error string `json:"error,omitempty"`
}

// ClockEstimate is one estimate of the offset between this machine's
// clock and a time source's.
type ClockEstimate struct {
	Offset      time.Duration // local minus source
	Uncertainty time.Duration // half the winning round trip
}

// EstimateClock takes samples of the source at url and returns the
// estimate of the one with the lowest round trip. The source answers GET
// with its Unix time in nanoseconds, in decimal (docs/distributed.md).
func EstimateClock(ctx context.Context, client *http.Client, url string, samples int) (ClockEstimate, error) {
	best := ClockEstimate{Uncertainty: -1}
	var lastErr error
	for range max(samples, 1) {
		e, err := clockSample(ctx, client, url)
		if err != nil {
			lastErr = err
			if ctx.Err() != nil {
				break
			}
			continue
		}
		if best.Uncertainty < 0 || e.Uncertainty < best.Uncertainty {
			best = e
		}
	}
	if best.Uncertainty < 0 {
		return best, fmt.Errorf("clock offset from %s: %w", url, lastErr)
	}
	return best, nil
}

func clockSample(ctx context.Context, client *http.Client, url string) (ClockEstimate, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return ClockEstimate{}, err
	}
	t0 := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return ClockEstimate{}, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64))
	resp.Body.Close()
	t1 := time.Now()
	if err != nil {
		return ClockEstimate{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return ClockEstimate{}, fmt.Errorf("status %s, want 200 with the Unix time in ns", resp.Status)
	}
	ns, err := strconv.ParseInt(strings.TrimSpace(string(body)), 10, 64)
	if err != nil {
		return ClockEstimate{}, fmt.Errorf("body %q is not a Unix time in ns", clip(body))
	}
	rtt := t1.Sub(t0) // monotonic
	mid := t0.Add(rtt / 2).UnixNano()
	return ClockEstimate{Offset: time.Duration(mid - ns), Uncertainty: rtt / 2}, nil
}

// clockTracker estimates the offset before the run and every clockPeriod
// during it, and corrects the engine's receipt times by the latest.
type clockTracker struct {
	url     string
	correct bool
	client  *http.Client
	set     func(time.Duration) // the engine's SetClockOffset; nil before it exists
	last    ClockEstimate
	err     error
}

func newClockTracker(url string, correct bool) *clockTracker {
	return &clockTracker{url: url, correct: correct, client: &http.Client{Timeout: 5 * time.Second}}
}

// measure takes one estimate; a failed one keeps the previous.
func (c *clockTracker) measure(ctx context.Context) {
	e, err := EstimateClock(ctx, c.client, c.url, clockSamples)
	if err != nil {
		if c.err == nil && c.last == (ClockEstimate{}) {
			c.err = err
		}
		return
	}
	c.last, c.err = e, nil
	if c.correct && c.set != nil {
		c.set(e.Offset)
	}
}

// run re-estimates every clockPeriod until ctx ends. Only run's goroutine
// touches the tracker until it returns.
func (c *clockTracker) run(ctx context.Context) {
	t := time.NewTicker(clockPeriod)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c.measure(ctx)
		}
	}
}

func (c *clockTracker) wire() *WireClock {
	if c.err != nil {
		return &WireClock{Error: c.err.Error()}
	}
	return &WireClock{OffsetUS: c.last.Offset.Microseconds(), UncertaintyUS: c.last.Uncertainty.Microseconds(), Corrected: c.correct}
}

// UnsyncedClocksNote is the harness note of a run whose latencies are a
// receipt time read on one clock (whose: "the workers' clocks", "this
// machine's clock") minus a publish time the origin wrote with another,
// with no time source to measure the difference: the latencies are only as
// true as the two clocks are synchronised (NTP keeps machines within a few
// ms at best, which is the whole of a good p50). One sentence for every
// path that says it (remote workers here, one machine in package runner).
func UnsyncedClocksNote(whose string) loadgen.HarnessNote {
	return loadgen.HarnessNote{Kind: loadgen.NoteUnchecked, Target: loadgen.NoteClock, Text: fmt.Sprintf(
		"no time source (sseload's origin or --workers with --time-url): latencies are receipt times on %s minus publish times written by the origin's, and assume the two are synchronised", whose)}
}

// judgeClocks marks res unreliable, with the reason, for every worker whose
// offset could not be measured or is more uncertain than the tolerance:
// 1 ms, or 5 % of the merged latency p50 when that is larger. Without a
// time source (timed false) the latencies assume synchronised clocks,
// which workers on other machines cannot: said once.
func judgeClocks(res *loadgen.Result, timed bool) {
	if !timed {
		res.Harness.AddUnchecked(UnsyncedClocksNote("the workers' clocks"))
		return
	}
	all := hdrhistogram.New(loadgen.HistMinUS, loadgen.HistMaxUS, 3)
	for _, t := range res.Targets {
		if h := t.Hist[loadgen.Latency]; h != nil {
			all.Merge(h)
		}
	}
	tol := clockTolerance
	if p50 := time.Duration(all.ValueAtQuantile(50)) * time.Microsecond; time.Duration(float64(p50)*clockToleranceShare) > tol {
		tol = time.Duration(float64(p50) * clockToleranceShare)
	}
	for i, w := range res.Workers {
		switch u := time.Duration(w.ClockUncertaintyUS) * time.Microsecond; {
		case w.ClockError != "":
			res.Workers[i].Reliable = false
			res.Harness.AddNote(loadgen.HarnessNote{Kind: loadgen.NoteClock, Target: w.Address, Text: fmt.Sprintf(
				"worker %s: clock offset not measured (%s): its latencies assume synchronised clocks", w.Address, w.ClockError)})
		case u > tol:
			res.Workers[i].Reliable = false
			res.Harness.AddNote(loadgen.HarnessNote{Kind: loadgen.NoteClock, Target: w.Address, Value: float64(w.ClockUncertaintyUS), Text: fmt.Sprintf(
				"worker %s: clock offset %.3f ms ± %.3f ms, more uncertain than the tolerance of %.3f ms (1 ms or 5%% of latency p50): its latencies may be off by that much",
				w.Address, float64(w.ClockOffsetUS)/1000, float64(w.ClockUncertaintyUS)/1000, float64(tol.Microseconds())/1000)})
		}
	}
}
