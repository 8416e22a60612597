//go:build unix && !darwin

package loadgen

// fileLimitCap bounds the soft limit asked for: here, the hard limit.
func fileLimitCap(hard uint64) uint64 { return hard }
