package topology_test

// killZero has no kill(2) to call on Windows; the process tests that use
// it read /proc and run on Linux.
func killZero(int) error { return nil }
