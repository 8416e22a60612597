package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/sseload/sseload/loadgen"
	"github.com/sseload/sseload/metrics"
)

// liveMetrics is the --metrics-addr exporter of one run or capacity
// search; nil when the flag is not set (every method is then a no-op).
type liveMetrics struct{ exp *metrics.Exporter }

// startMetrics listens on --metrics-addr, before anything runs: an address
// that is malformed or taken is a usage error naming the flag.
func (f *runFlags) startMetrics() (*liveMetrics, error) {
	if f.metricsAddr == "" {
		return nil, nil
	}
	if _, _, err := net.SplitHostPort(f.metricsAddr); err != nil {
		return nil, usagef("--metrics-addr %q: want HOST:PORT, e.g. 127.0.0.1:9464 (:9464 listens on every address)", f.metricsAddr)
	}
	exp, err := metrics.Listen(f.metricsAddr)
	if err != nil {
		return nil, usagef("--metrics-addr: %v", err)
	}
	return &liveMetrics{exp: exp}, nil
}

// sinks is what the runner feeds besides its own files.
func (l *liveMetrics) sinks() []loadgen.IntervalSink {
	if l == nil {
		return nil
	}
	return []loadgen.IntervalSink{l.exp}
}

// nextRun tells the exporter a capacity search's next step begins.
func (l *liveMetrics) nextRun() {
	if l != nil {
		l.exp.NextRun()
	}
}

// stop serves the final figures until Prometheus has scraped them (at
// most twice its scrape interval; at once when ctx is done), then stops
// serving. A missed final scrape is said, not an error of the run.
func (l *liveMetrics) stop(ctx context.Context, stderr io.Writer) {
	if l == nil {
		return
	}
	if w := l.exp.Linger(); w > 0 && ctx.Err() == nil {
		fmt.Fprintf(stderr, "sseload: metrics: serving the final figures at %s until the next scrape (at most %v)\n", l.exp.URL(), w.Round(100*time.Millisecond))
	}
	if err := l.exp.Close(ctx); err != nil {
		fmt.Fprintf(stderr, "sseload: %v\n", err)
	}
}

// abort stops serving at once.
func (l *liveMetrics) abort() {
	if l == nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = l.exp.Close(ctx)
}

// startLiveAndOut starts the live metrics endpoint, if asked for, and then
// readies the results directory: the last of the checks, because --force
// empties it. On error nothing is left listening.
func (f *runFlags) startLiveAndOut() (*liveMetrics, error) {
	live, err := f.startMetrics()
	if err != nil {
		return nil, err
	}
	if err := f.prepareOut(); err != nil {
		live.abort()
		return nil, err
	}
	return live, nil
}
