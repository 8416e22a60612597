package procs

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/sseload/sseload/loadgen"
)

// ResolveWorkers turns `--workers LIST` into worker addresses: LIST is
// host:port,host:port,… or dns:NAME:PORT, every A and AAAA record of NAME
// (Swarm's tasks.<service>, a Kubernetes headless Service), in the
// resolver's order sorted for determinism.
func ResolveWorkers(ctx context.Context, list string) ([]string, error) {
	list = strings.TrimSpace(list)
	if list == "" {
		return nil, fmt.Errorf("--workers is empty: want host:port,host:port or dns:NAME:PORT")
	}
	if rest, ok := strings.CutPrefix(list, "dns:"); ok {
		name, port, err := net.SplitHostPort(rest)
		if err != nil || name == "" {
			return nil, fmt.Errorf("--workers %s: want dns:NAME:PORT, e.g. dns:tasks.sseload-worker:7070", list)
		}
		if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
			return nil, fmt.Errorf("--workers %s: port %q: want 1 to 65535", list, port)
		}
		ips, err := net.DefaultResolver.LookupIPAddr(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("--workers %s: resolve %s: %w", list, name, err)
		}
		if len(ips) == 0 {
			return nil, fmt.Errorf("--workers %s: %s has no addresses", list, name)
		}
		addrs := make([]string, 0, len(ips))
		for _, ip := range ips {
			addrs = append(addrs, net.JoinHostPort(ip.String(), port))
		}
		return dedupSorted(addrs), nil
	}
	var addrs []string
	seen := map[string]bool{}
	for _, a := range strings.Split(list, ",") {
		a = strings.TrimSpace(a)
		host, port, err := net.SplitHostPort(a)
		if err != nil || host == "" {
			return nil, fmt.Errorf("--workers: %q is not host:port (LIST is host:port,host:port or dns:NAME:PORT)", a)
		}
		if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
			return nil, fmt.Errorf("--workers: %q: port %q: want 1 to 65535", a, port)
		}
		if seen[a] {
			return nil, fmt.Errorf("--workers: %s named twice", a)
		}
		seen[a] = true
		addrs = append(addrs, a)
	}
	return addrs, nil
}

func dedupSorted(addrs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, a := range addrs {
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	slices.Sort(out) // the same records give the same shares
	return out
}

// Segment returns share i of n of cfg, as `sseload run --segment I/N`
// runs it: the same deterministic split the parent gives its children
// (splitConfig: every target's streams and the ramp divided, the remainder
// to the first shares), so that n runs, one per segment, open the
// scenario's streams between them.
func Segment(cfg loadgen.Config, i, n int) (loadgen.Config, error) {
	if n < 1 || i < 0 || i >= n {
		return cfg, fmt.Errorf("--segment %d/%d: want I/N with 0 <= I < N", i, n)
	}
	if m := maxChildren(cfg); n > m {
		return cfg, fmt.Errorf("--segment %d/%d: a target has only %d streams, fewer than the %d segments: every segment needs one stream of every target", i, n, m, n)
	}
	seg := splitConfig(cfg, n, nil)[i]
	// A segment runs in this process: it keeps what a child leaves out.
	seg.OnInterval, seg.Warn, seg.TLSConfig = cfg.OnInterval, cfg.Warn, cfg.TLSConfig
	return seg, nil
}

// ParseSegment parses "I/N" (also "$JOB_COMPLETION_INDEX/N" once the shell
// expanded it).
func ParseSegment(s string) (i, n int, err error) {
	a, b, ok := strings.Cut(s, "/")
	if ok {
		i, err = strconv.Atoi(strings.TrimSpace(a))
		if err == nil {
			n, err = strconv.Atoi(strings.TrimSpace(b))
		}
	}
	if !ok || err != nil || n < 1 || i < 0 || i >= n {
		return 0, 0, fmt.Errorf("--segment %q: want I/N with 0 <= I < N, e.g. --segment 0/4 or --segment $JOB_COMPLETION_INDEX/4", s)
	}
	return i, n, nil
}
