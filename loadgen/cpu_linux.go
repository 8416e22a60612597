package loadgen

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// cpuCounters names where the machine's CPU time counters are read.
const cpuCounters = "/proc/stat"

// cpuSampler reads the machine's CPU time counters from /proc/stat, to tell
// how busy the whole machine was between two samples. The generator shares
// the machine with the origin and the proxies; when the machine has no idle
// CPU, every latency measured includes time spent waiting for a CPU, and
// the numbers describe the machine, not the proxy.
type cpuSampler struct {
	busy, total uint64
	ok          bool
}

// sample returns the share of CPU time (0..1) the machine spent busy since
// the previous sample; ok is false on the first call or when /proc/stat
// cannot be read.
func (c *cpuSampler) sample() (share float64, ok bool) {
	busy, total, err := readProcStat()
	if err != nil {
		c.ok = false
		return 0, false
	}
	prevOK := c.ok
	db, dt := busy-c.busy, total-c.total
	c.busy, c.total, c.ok = busy, total, true
	if !prevOK || dt == 0 || busy < db {
		return 0, false
	}
	return float64(db) / float64(dt), true
}

// readProcStat sums the aggregate "cpu" line: idle and iowait are idle,
// everything else (user, nice, system, irq, softirq, steal) is busy.
func readProcStat() (busy, total uint64, err error) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 || fields[0] != "cpu" {
			continue
		}
		for i, v := range fields[1:] {
			if i >= 8 { // guest and guest_nice are already in user and nice
				break
			}
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return 0, 0, err
			}
			total += n
			if i != 3 && i != 4 { // idle, iowait
				busy += n
			}
		}
		return busy, total, nil
	}
	return 0, 0, os.ErrNotExist
}
