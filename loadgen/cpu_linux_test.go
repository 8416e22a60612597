package loadgen

import "testing"

func TestCPUSamplerReadsProcStat(t *testing.T) {
	var c cpuSampler
	if _, ok := c.sample(); ok {
		t.Fatal("first sample claimed a share: there is nothing to compare with yet")
	}
	// Wait until the counters move (a clock tick) before the second sample.
	busy0, total0, err := readProcStat()
	if err != nil {
		t.Fatal(err)
	}
	for {
		_, total, err := readProcStat()
		if err != nil {
			t.Fatal(err)
		}
		if total > total0 {
			break
		}
	}
	share, ok := c.sample()
	if !ok || share < 0 || share > 1 {
		t.Errorf("share %v ok %v, want a share in [0, 1]", share, ok)
	}
	if busy0 > total0 {
		t.Errorf("busy %d > total %d", busy0, total0)
	}
}
