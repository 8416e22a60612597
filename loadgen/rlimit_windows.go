package loadgen

import "math"

// raiseFileLimit has nothing to raise on Windows: sockets are handles, with
// no per-process limit of the RLIMIT_NOFILE kind (memory bounds them), so
// the limit reported is unbounded and checkFileLimit never warns.
func raiseFileLimit() (soft, hard uint64, err error) {
	return math.MaxUint64, math.MaxUint64, nil
}
