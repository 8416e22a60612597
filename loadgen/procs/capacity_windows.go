package procs

import "errors"

// fileLimit: Windows has no per-process open file limit to read, so a
// worker there reports no capacity and the coordinator splits equally.
func fileLimit() (uint64, error) {
	return 0, errors.New("no open file limit on Windows")
}
