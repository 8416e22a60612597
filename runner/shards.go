package runner

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/sseload/sseload/topology"
)

// originSet is the local topology's running origin: one process (or an
// in-process server), or several shards.
type originSet struct {
	addrs  []string      // client addresses, shard 0 first
	procs  []*originProc // the child processes; none for an in-process origin
	stopIn func()        // stops an in-process origin
}

// stop stops every origin process, all at once: each ends its streams and
// may take a while.
func (o *originSet) stop() {
	if o.stopIn != nil {
		o.stopIn()
	}
	var wg sync.WaitGroup
	for _, p := range o.procs {
		wg.Go(p.stop)
	}
	wg.Wait()
}

// restart kills every origin process at once (SIGKILL, a crash), waits
// down, and starts them again on their addresses, with the same schedule.
func (o *originSet) restart(ctx context.Context, down time.Duration) error {
	if len(o.procs) == 0 {
		return errors.New("the origin runs inside sseload and cannot be restarted")
	}
	errs := make([]error, len(o.procs))
	var wg sync.WaitGroup
	for i, p := range o.procs {
		wg.Go(func() { errs[i] = p.restart(ctx, down) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// startOrigins starts the local topology's origin: in this process when
// there is no executable to run it with (opts.OriginExec), else n ≥ 1
// `sseload origin` child processes, shards on loopback ports of their own
// (one process may hold only so many open files). Every shard gets the
// same config, one --epoch included, so all of them publish the same
// events on the same schedule and a stream measures the same whichever
// shard it reached. Shard 0 listens on opts.OriginListen.
func startOrigins(ctx context.Context, opts Options, n int) (*originSet, error) {
	cfg := originConfig(opts.Scenario)
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	listen := opts.OriginListen
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	if opts.OriginExec == "" {
		addr, stop, err := startOriginInProcess(cfg, listen)
		if err != nil {
			return nil, err
		}
		client, err := topology.OriginHostPort(addr)
		if err != nil {
			stop()
			return nil, err
		}
		return &originSet{addrs: []string{client}, stopIn: stop}, nil
	}
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, fmt.Errorf("origin listen %s: %w", listen, err)
	}
	set := &originSet{}
	n = max(n, 1)
	for i := range n {
		l := listen
		if i > 0 {
			l = net.JoinHostPort(host, "0")
		}
		p, err := startOriginProcess(ctx, opts.OriginExec, l, cfg)
		if err != nil {
			set.stop()
			if n == 1 {
				return nil, err
			}
			return nil, fmt.Errorf("origin shard %d of %d: %w", i+1, n, err)
		}
		set.procs = append(set.procs, p)
		client, err := topology.OriginHostPort(p.address())
		if err != nil {
			set.stop()
			return nil, err
		}
		set.addrs = append(set.addrs, client)
	}
	return set, nil
}
