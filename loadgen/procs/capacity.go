package procs

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
)

// How many streams one generator process holds. A stream costs one open
// file, and a process may hold as many as its RLIMIT_NOFILE hard limit
// (the engine raises its soft limit to it): the process keeps FileReserve
// of them for itself (its epoll and eventfd descriptors, stdio, results
// files, an embedded origin's or proxy's sockets) and the rest are its
// streams. On the machines sseload targets the hard limit is 20,000, not
// raisable without root, which gives the rule `sseload run` splits a
// local run by: one generator process per StreamsPerProcess streams
// (package runner). A remote worker reports the same figure for its own
// limit in its hello (Capacity), and the coordinator gives no worker more.
const (
	// AssumedFileLimit is the open file limit of a process on the
	// machines sseload targets.
	AssumedFileLimit = 20_000
	// FileReserve is what a generator process keeps of its open file
	// limit for everything but streams.
	FileReserve = 2_000
	// StreamsPerProcess is the most streams (all targets counted) one
	// local generator process is given.
	StreamsPerProcess = AssumedFileLimit - FileReserve
)

// StreamsFor is how many streams a process whose open file limit is
// fileLimit can hold: the limit less FileReserve, at least 0.
func StreamsFor(fileLimit uint64) int {
	if fileLimit <= FileReserve {
		return 0
	}
	return int(min(fileLimit-FileReserve, 1<<31))
}

// Capacity is what a worker can take on, as it reports it in its hello
// message (docs/worker-protocol.md).
type Capacity struct {
	// Streams is the most streams it holds, all targets counted:
	// StreamsFor(FileLimit).
	Streams int `json:"streams"`
	// FileLimit is its open file limit (RLIMIT_NOFILE, hard).
	FileLimit uint64 `json:"file_limit"`
	// CPUs is how many CPUs its Go runtime schedules on (GOMAXPROCS,
	// which follows the CPU affinity and a container's CPU quota).
	CPUs int `json:"cpus"`
}

// LocalCapacity is this process's Capacity; nil when its open file limit
// cannot be read (the coordinator then splits equally).
func LocalCapacity() *Capacity {
	limit, err := fileLimit()
	if err != nil {
		return nil
	}
	return &Capacity{Streams: StreamsFor(limit), FileLimit: limit, CPUs: runtime.GOMAXPROCS(0)}
}

// weigh is how a plan's streams are spread over workers that reported
// their capacity: in proportion to their CPUs (reading, parsing and
// recording events is CPU work), never more to one than the streams it
// holds; what a capped worker cannot take goes to the others, again by
// CPUs (water-filling). It returns each worker's part of total; ok false
// when the workers cannot hold total between them (the parts are then in
// proportion to CPUs alone, so that checkCapacity names who is short).
// A nil capacity (a worker from before Capacity) makes every part equal.
func weigh(total int, caps []*Capacity) (parts []int, ok bool) {
	n := len(caps)
	cpus := make([]int, n)
	limits := make([]int, n)
	sum := 0
	for i, c := range caps {
		if c == nil {
			return apportion(total, slices.Repeat([]int{1}, n)), true
		}
		cpus[i], limits[i] = max(c.CPUs, 1), c.Streams
		sum += c.Streams
	}
	if sum < total {
		return apportion(total, cpus), false
	}
	parts = make([]int, n)
	active := make([]bool, n)
	for i := range active {
		active[i] = true
	}
	left := total
	for {
		w := make([]int, n)
		for i := range w {
			if active[i] {
				w[i] = cpus[i]
			}
		}
		a := apportion(left, w)
		capped := false
		for i := range a {
			if active[i] && a[i] > limits[i] {
				parts[i], active[i], capped = limits[i], false, true
				left -= limits[i]
			}
		}
		if !capped {
			for i := range a {
				if active[i] {
					parts[i] = a[i]
				}
			}
			return parts, true
		}
	}
}

// apportion splits total in proportion to weights by largest remainder:
// each gets ⌊total·w/W⌋, and the units left over go one each to the
// largest fractional parts, ties to the earlier index. Deterministic;
// with equal weights it is share's split (total/n each, the remainder to
// the first). All-zero weights give zeros.
func apportion(total int, weights []int) []int {
	out := make([]int, len(weights))
	sum := 0
	for _, w := range weights {
		sum += w
	}
	if sum == 0 || total <= 0 {
		return out
	}
	rem := make([]int, len(weights))
	given := 0
	for i, w := range weights {
		out[i] = total * w / sum
		rem[i] = total * w % sum
		given += out[i]
	}
	order := make([]int, len(weights))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return rem[b] - rem[a] })
	for _, i := range order[:total-given] {
		out[i]++
	}
	return out
}

// apportionEach is apportion with at least one for every weight when
// total allows (a worker's zero streams of a target would mean "the
// default" to its engine).
func apportionEach(total int, weights []int) []int {
	n := len(weights)
	if total < n {
		return apportion(total, weights)
	}
	out := apportion(total-n, weights)
	for i := range out {
		out[i]++
	}
	return out
}

// checkCapacity refuses shares a worker cannot hold, naming each such
// worker, its share and its capacity. names[i] is worker i's name; a nil
// capacity is not checked.
func checkCapacity(shares []int, caps []*Capacity, names []string) error {
	var over []string
	for i, c := range caps {
		if c != nil && shares[i] > c.Streams {
			over = append(over, fmt.Sprintf("%s was given %d streams but holds %d (open file limit %d less %d kept for itself)", names[i], shares[i], c.Streams, c.FileLimit, FileReserve))
		}
	}
	if len(over) == 0 {
		return nil
	}
	return fmt.Errorf("workers over their capacity: %s; raise their open file limit (ulimit -n, LimitNOFILE), add workers, or open fewer streams", strings.Join(over, "; "))
}
