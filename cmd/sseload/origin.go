package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/sseload/sseload/origin"
)

const originExamples = `
Examples:
  sseload origin                                   # broadcast, 1 event/s on 127.0.0.1:8080
  sseload origin --mode per-connection --interval 5s --events 6
  sseload origin --listen 0.0.0.0:8080 --x-accel   # in a container, behind nginx
`

// originCmd runs the measurement origin until SIGINT or SIGTERM.
func originCmd(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("origin", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8080", "address to listen on (loopback by default)")
	mode := fs.String("mode", string(origin.Broadcast), "broadcast (one schedule for all streams) or per-connection (each stream its own, then the response ends)")
	interval := fs.Duration("interval", defaultInterval, "time between publishes")
	events := fs.Int("events", 0, "per-connection: events per stream (default 6); broadcast: stop after N publishes (0 = never)")
	payload := fs.Int("payload", 0, "bytes of padding in each event")
	xaccel := fs.Bool("x-accel", false, "send X-Accel-Buffering: no (the origin-side fix for nginx buffering)")
	retry := fs.Int("retry", 0, "send retry: MS at the start of each stream (0 = none)")
	headWithFirst := fs.Bool("head-with-first-event", false, "hold the response head until the first event, as net/http and Express do when nothing flushes (default: send it as soon as a stream is accepted)")
	heartbeat := fs.Duration("heartbeat", 0, "write a \": heartbeat\" comment to a stream that has had nothing for this long, e.g. 15s (0 = never)")
	clockSkew := fs.Duration("clock-skew", 0, "harness self-test: run with the clock shifted by this much (e.g. 250ms): every sched, sent and GET /time reads the shifted clock, so remote workers' clock offset correction can be checked on one machine (docs/distributed.md)")
	epoch := fs.Int64("epoch", 0, "broadcast schedule origin, Unix nanoseconds: publish k is due at epoch + k×interval (0 = now). Origins given the same epoch publish the same events; a restarted one resumes the schedule")
	fs.Usage = func() {
		showHelp(stdout, fs, fmt.Sprintf("Usage: sseload origin [flags]\n\nServes GET /events (text/event-stream), GET /time (its clock, Unix ns)\nand GET /healthz. A request with\nLast-Event-ID: N resumes after event N.\n\nFlags:\n%s%s", fs.FlagUsages(), originExamples))
	}
	if err := fs.Parse(args); err != nil {
		if err == pflag.ErrHelp {
			return nil
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usagef("origin takes no arguments, got %q", fs.Args())
	}
	cfg := origin.Config{Mode: origin.Mode(*mode), Interval: *interval, Events: *events, Payload: *payload, XAccel: *xaccel, RetryMS: *retry, HeadWithFirstEvent: *headWithFirst, Heartbeat: *heartbeat, ClockSkew: *clockSkew}
	if *epoch < 0 {
		return usagef("--epoch %d: want Unix nanoseconds (0 = now), e.g. --epoch $(date +%%s%%N)", *epoch)
	}
	if *epoch > 0 {
		cfg.Epoch = time.Unix(0, *epoch)
	}
	if cfg.Mode == origin.PerConnection && !fs.Changed("events") {
		cfg.Events = 6
	}
	srv, err := origin.New(cfg)
	if err != nil {
		return usageError{err}
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return usagef("--listen %s: %v", *listen, err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	// The first line is read by `sseload run` when it starts the origin as
	// a child process (runner.startOriginProcess): keep its prefix.
	fmt.Fprintf(stdout, "sseload origin: listening on %s\n", ln.Addr())
	fmt.Fprintf(stdout, "sseload origin: %s mode, every %s, on http://%s/events\n", cfg.Mode, cfg.Interval, ln.Addr())
	return srv.Serve(ctx, ln)
}
