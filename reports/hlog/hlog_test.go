package hlog

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/sseload/sseload/loadgen"
	"github.com/sseload/sseload/reports/internal/testrun"
)

// readHlog reads every interval histogram with hdrhistogram-go's reader.
func readHlog(t *testing.T, r io.Reader) []*hdrhistogram.Histogram {
	t.Helper()
	lr := hdrhistogram.NewHistogramLogReader(r)
	var out []*hdrhistogram.Histogram
	for {
		h, err := lr.NextIntervalHistogram()
		if err != nil {
			t.Fatalf("read hlog: %v", err)
		}
		if h == nil {
			return out
		}
		out = append(out, h)
	}
}

func TestWriteHlogRoundTrip(t *testing.T) {
	started := testrun.Start // 123.456789 ms past the second: the base time needs its milliseconds
	ivs := []loadgen.Interval{
		{Start: started, End: started.Add(time.Second)},
		{Start: started.Add(time.Second), End: started.Add(2 * time.Second)},
		{Start: started.Add(2 * time.Second), End: started.Add(2500 * time.Millisecond)},
	}
	ivs[0].Hist[loadgen.TimeToHeaders] = testrun.Hist(t, 5, 10, 15)
	ivs[1].Hist[loadgen.TimeToHeaders] = nil // nothing recorded: written as empty
	ivs[2].Hist[loadgen.TimeToHeaders] = testrun.Hist(t, append(testrun.Seq(1, 999), 30_000_000)...)
	ivs[2].Hist[loadgen.Latency] = testrun.Hist(t, 7) // another metric: not in this file

	var buf bytes.Buffer
	if err := writeLog(&buf, started, ivs, loadgen.TimeToHeaders); err != nil {
		t.Fatal(err)
	}
	text := buf.String()
	for _, want := range []string{
		"#[Histogram log format version 1.3]\n",
		"#[StartTime: 1735787045.123 (seconds since epoch), 2025-01-02T03:04:05.123Z]\n",
		"#[BaseTime: 1735787045.123 (seconds since epoch)]\n",
		`"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"` + "\n",
		"\n0.000,1.000,0.015,HIST",
		"\n1.000,1.000,0.000,HIST",
		"\n2.000,0.500,",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("log lacks %q:\n%s", want, text)
		}
	}

	got := readHlog(t, strings.NewReader(text))
	if len(got) != len(ivs) {
		t.Fatalf("read %d intervals, want %d", len(got), len(ivs))
	}
	for i, h := range got {
		want := ivs[i].Hist[loadgen.TimeToHeaders]
		if want == nil {
			want = loadgen.NewHistogram()
		}
		if h.TotalCount() != want.TotalCount() || h.Max() != want.Max() {
			t.Errorf("interval %d: count %d max %d, want count %d max %d", i, h.TotalCount(), h.Max(), want.TotalCount(), want.Max())
		}
		if i == 2 && h.ValueAtQuantile(50) != want.ValueAtQuantile(50) {
			t.Errorf("interval 2: p50 %d, want %d", h.ValueAtQuantile(50), want.ValueAtQuantile(50))
		}
		// The reader rebuilds absolute times from BaseTime + offset in float
		// seconds, then truncates to ms: allow that one-millisecond rounding.
		if d := h.StartTimeMs() - ivs[i].Start.UnixMilli(); d < -1 || d > 1 {
			t.Errorf("interval %d: start %d ms, want %d", i, h.StartTimeMs(), ivs[i].Start.UnixMilli())
		}
	}
}

func TestWriteHlogRejects(t *testing.T) {
	iv := []loadgen.Interval{{Start: testrun.Start.Add(-time.Second), End: testrun.Start}}
	if err := writeLog(io.Discard, testrun.Start, iv, loadgen.Latency); err == nil {
		t.Error("interval before the run start: no error")
	}
	iv = []loadgen.Interval{{Start: testrun.Start.Add(time.Second), End: testrun.Start}}
	if err := writeLog(io.Discard, testrun.Start, iv, loadgen.Latency); err == nil {
		t.Error("interval ending before it starts: no error")
	}
	if err := writeLog(io.Discard, testrun.Start, nil, loadgen.Metric(7)); err == nil {
		t.Error("unknown metric: no error")
	}
}
