//go:build unix

// The benchmark reads its own CPU time with getrusage(2), which Windows lacks.

package procs

import (
	"encoding/json"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/sseload/sseload/loadgen"
)

// BenchmarkCoordinatorMerge20Workers is the coordinator's own work for one
// 1 s interval of a distributed run with 20 workers: decode each worker's
// interval line (3 targets, latency, origin delay and path latency
// histograms of 2,000 events each, as 2,000 streams at one event per
// second give) and merge them by value into one report. Since one such
// round happens per second, ns/op ÷ 10⁷ is the share of one core in
// percent: %core-cpu from the process's CPU time, %core-wall from the
// wall clock.
func BenchmarkCoordinatorMerge20Workers(b *testing.B) {
	const workers, targets, events = 20, 3, 2000
	rng := rand.New(rand.NewPCG(5, 6))
	names := []string{"direct", "nginx-sse", "haproxy-sse"}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	lines := make([][]byte, workers)
	for w := range lines {
		r := loadgen.IntervalReport{Start: t0, End: t0.Add(time.Second), Generator: loadgen.GeneratorInterval{Lag: loadgen.NewHistogram()}}
		for t := range targets {
			ti := loadgen.TargetInterval{Name: names[t]}
			for m := range ti.Hist {
				ti.Hist[m] = loadgen.NewHistogram()
			}
			for range events {
				for _, m := range []loadgen.Metric{loadgen.Latency, loadgen.OriginDelay, loadgen.PathLatency} {
					_ = ti.Hist[m].RecordValue(int64(rng.ExpFloat64()*3000) + 50)
				}
			}
			ti.Established = 2000
			r.Targets = append(r.Targets, ti)
		}
		for range 100 {
			_ = r.Generator.Lag.RecordValue(int64(rng.ExpFloat64()*200) + 1)
		}
		wi, err := encodeInterval(0, r)
		if err != nil {
			b.Fatal(err)
		}
		if lines[w], err = json.Marshal(Message{Type: TypeInterval, Interval: wi}); err != nil {
			b.Fatal(err)
		}
	}
	plan := loadgen.Config{}
	for _, n := range names {
		plan.Targets = append(plan.Targets, loadgen.Target{Name: n})
	}
	var merged int64
	plan.OnInterval = func(r loadgen.IntervalReport) { merged = r.Targets[0].Hist[loadgen.Latency].TotalCount() }
	l := &loop{g: &Generator{plan: plan}}
	for i := range workers {
		l.kids = append(l.kids, &kidState{child: &child{index: i, label: "bench", kill: func() {}, wait: func() error { return nil }}, last: make([]loadgen.Interval, targets)})
	}
	l.prepare()
	b.ReportAllocs()
	cpu0 := processCPU(b)
	b.ResetTimer()
	for b.Loop() {
		for _, k := range l.kids {
			m, err := decodeFrame(lines[k.index])
			if err != nil {
				b.Fatal(err)
			}
			q, err := decodeInterval(m.Interval)
			if err != nil {
				b.Fatal(err)
			}
			k.queue = append(k.queue, *q)
		}
		l.mergeRound()
	}
	b.StopTimer()
	cpu := processCPU(b) - cpu0
	if merged != workers*events {
		b.Fatalf("merged %d latency values, want %d", merged, workers*events)
	}
	// Wall time per round overstates the cost on a machine shared with
	// other work; the process's CPU time (this benchmark runs on one
	// goroutine, the GC aside) is what the coordinator would spend.
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e7, "%core-wall")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/1e7, "%core-cpu")
}

// processCPU is this process's user and system CPU time so far.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
