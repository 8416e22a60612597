package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/sseload/sseload/loadgen"
	"github.com/sseload/sseload/runner"
)

// progress shows a running engine: a live mpb display on a terminal, plain
// lines every few seconds otherwise. It reads only the engine's Snapshot,
// aggregate counters, so it costs the same at 50 streams or 50,000.
type progress struct {
	out   io.Writer
	plain bool

	mu   sync.Mutex
	p    *mpb.Progress
	bar  *mpb.Bar
	done chan struct{}
	wg   sync.WaitGroup
}

const plainEvery = 5 * time.Second

func newProgress(out io.Writer, noProgress bool) *progress {
	plain := noProgress
	if f, ok := out.(*os.File); !ok || !isTerminal(f) {
		plain = true
	}
	return &progress{out: out, plain: plain, done: make(chan struct{})}
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// start attaches the display to a running generator (the engine, or
// several generator processes).
func (p *progress) start(e runner.Generator, planned time.Duration) {
	p.wg.Add(1)
	if p.plain {
		go p.lines(e, planned)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.p = mpb.New(mpb.WithOutput(p.out), mpb.WithWidth(24), mpb.WithRefreshRate(250*time.Millisecond))
	var lastEvents int64
	var lastAt time.Time
	var rate float64
	status := func(decor.Statistics) string {
		s := e.Snapshot()
		if now := time.Now(); now.Sub(lastAt) >= time.Second {
			if !lastAt.IsZero() {
				rate = float64(s.Events-lastEvents) / now.Sub(lastAt).Seconds()
			}
			lastEvents, lastAt = s.Events, now
		}
		return statusLine(s, rate, planned)
	}
	p.bar = p.p.New(0, mpb.BarStyle(), mpb.PrependDecorators(decor.Name("streams ")),
		mpb.AppendDecorators(decor.Any(status)))
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.done:
				return
			case <-t.C:
				s := e.Snapshot()
				p.bar.SetTotal(s.Requested, false)
				p.bar.SetCurrent(s.Established)
			}
		}
	}()
}

// lines prints a plain status line every few seconds.
func (p *progress) lines(e runner.Generator, planned time.Duration) {
	defer p.wg.Done()
	t := time.NewTicker(plainEvery)
	defer t.Stop()
	var last int64
	for {
		select {
		case <-p.done:
			return
		case <-t.C:
			s := e.Snapshot()
			rate := float64(s.Events-last) / plainEvery.Seconds()
			last = s.Events
			fmt.Fprintf(p.out, "sseload: %s\n", statusLine(s, rate, planned))
		}
	}
}

func statusLine(s loadgen.Snapshot, rate float64, planned time.Duration) string {
	line := fmt.Sprintf("open %d/%d  failed %d  events/s %.0f  p99 %s  %s",
		s.Established-s.Ended, s.Requested, s.Failed, rate, formatUS(s.LatencyP99US), s.Elapsed.Truncate(time.Second))
	if planned > 0 {
		left := planned - s.Elapsed
		if left < 0 {
			left = 0
		}
		line += fmt.Sprintf(" (%s left)", left.Truncate(time.Second))
	}
	return line
}

func formatUS(us int64) string {
	switch {
	case us == 0:
		return "—"
	case us < 1000:
		return fmt.Sprintf("%dµs", us)
	case us < 1_000_000:
		return fmt.Sprintf("%.1fms", float64(us)/1000)
	}
	return fmt.Sprintf("%.2fs", float64(us)/1e6)
}

// warn prints a message above the live display (or as a plain line).
func (p *progress) warn(msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.p != nil {
		fmt.Fprintf(p.p, "sseload: %s\n", msg)
		return
	}
	fmt.Fprintf(p.out, "sseload: %s\n", msg)
}

// stop ends the display; safe to call when it never started.
func (p *progress) stop() {
	close(p.done)
	p.wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.p != nil {
		p.bar.SetTotal(-1, true)
		p.p.Wait()
	}
}
