//go:build !linux

package loadgen

// cpuCounters is empty: no machine CPU counters are read here.
const cpuCounters = ""

// cpuSampler has no machine CPU counters to read off Linux (/proc/stat):
// every sample reports not ok, and the harness verdict then says which
// check it could not make (Engine.unchecked) instead of passing
// it.
type cpuSampler struct{}

// sample reports that the machine's CPU share is unknown here.
func (c *cpuSampler) sample() (share float64, ok bool) { return 0, false }
