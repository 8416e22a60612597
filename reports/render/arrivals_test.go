package render

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/sseload/sseload/loadgen"
	"github.com/sseload/sseload/reports"
	"github.com/sseload/sseload/reports/hlog"
	"github.com/sseload/sseload/reports/internal/testrun"
)

// bar is one bar of an arrivals lane as drawn: "M x0 base V top H x1 V base Z".
type bar struct{ x0, x1, top, base float64 }

var (
	arrivalsPath = regexp.MustCompile(`<path class="arrivals" data-series="([^"]+)" d="([^"]+)"`)
	barPath      = regexp.MustCompile(`M([0-9.]+) ([0-9.]+)V([0-9.]+)H([0-9.]+)V([0-9.]+)Z`)
)

// lanes returns each lane's bars by target name.
func lanes(t *testing.T, svg string) map[string][]bar {
	t.Helper()
	out := map[string][]bar{}
	for _, m := range arrivalsPath.FindAllStringSubmatch(svg, -1) {
		for _, b := range barPath.FindAllStringSubmatch(m[2], -1) {
			f := func(i int) float64 {
				v, err := strconv.ParseFloat(b[i], 64)
				if err != nil {
					t.Fatal(err)
				}
				return v
			}
			out[m[1]] = append(out[m[1]], bar{x0: f(1), base: f(2), top: f(3), x1: f(4)})
		}
	}
	return out
}

// intervals is one target's latency intervals of one second each, with
// these counts.
func intervals(counts ...int64) []hlog.IntervalStat {
	var ivs []hlog.IntervalStat
	for i, n := range counts {
		ivs = append(ivs, hlog.IntervalStat{Start: time.Duration(i) * time.Second, End: time.Duration(i+1) * time.Second, Count: n})
	}
	return ivs
}

// TestArrivalsShowBatching: a stream delivered as published draws a flat
// band (a bar of the same height in every interval); one a proxy held
// back and released at the end draws an empty lane with one full-height
// spike in its last interval, at the axis's end.
func TestArrivalsShowBatching(t *testing.T) {
	d := &reports.RunData{
		Summary: reports.Summary{Targets: []reports.Target{{Name: "direct"}, {Name: "nginx-stock"}, {Name: "silent"}}},
		Latency: map[string][]hlog.IntervalStat{
			"direct":      intervals(40, 40, 40, 40, 40),
			"nginx-stock": intervals(0, 0, 0, 0, 200),
			"silent":      intervals(0, 0, 0, 0, 0),
		},
	}
	svg := arrivalsChart(d)
	got := lanes(t, svg)

	steady := got["direct"]
	if len(steady) != 5 {
		t.Fatalf("direct: %d bars, want one per interval (5): %+v", len(steady), steady)
	}
	for i, b := range steady {
		if b.top != steady[0].top || b.base-b.top < laneH-4 {
			t.Errorf("direct bar %d %+v: want every bar the lane's full height (a flat band)", i, b)
		}
		if i > 0 && math.Abs(b.x0-steady[i-1].x1) > 0.11 {
			t.Errorf("direct bar %d starts at %.1f, the previous ends at %.1f: want them side by side", i, b.x0, steady[i-1].x1)
		}
	}

	spike := got["nginx-stock"]
	if len(spike) != 1 {
		t.Fatalf("nginx-stock: %d bars, want one spike: %+v", len(spike), spike)
	}
	right := float64(chartW - laneRight)
	if b := spike[0]; b.x1 != right || b.x0 < steady[4].x0-0.1 || b.base-b.top < laneH-4 {
		t.Errorf("nginx-stock spike %+v: want the last interval (from %.1f to the axis's end %.1f), full height", b, steady[4].x0, right)
	}
	if _, ok := got["silent"]; ok {
		t.Errorf("silent: bars drawn for a lane without events: %+v", got["silent"])
	}
	for _, want := range []string{">direct<", ">max 40<", ">max 200<", ">none<", "time since start (s)"} {
		if !strings.Contains(svg, want) {
			t.Errorf("arrivals chart lacks %q", want)
		}
	}
}

// TestArrivalsShortLastInterval: a short last interval (the run ended 50
// ms into it, after a minute: well under a pixel) still draws a visible
// bar, inside the plot.
func TestArrivalsShortLastInterval(t *testing.T) {
	ivs := intervals(make([]int64, 61)...)
	ivs[60].End = ivs[60].Start + 50*time.Millisecond
	ivs[60].Count = 120
	d := &reports.RunData{Summary: reports.Summary{Targets: []reports.Target{{Name: "nginx-stock"}}}, Latency: map[string][]hlog.IntervalStat{"nginx-stock": ivs}}
	b := lanes(t, arrivalsChart(d))["nginx-stock"]
	if len(b) != 1 || b[0].x1-b[0].x0 < minBarPx-0.1 || b[0].x1 > float64(chartW-laneRight) {
		t.Errorf("bars %+v: want one of at least %d px ending by the axis's end", b, minBarPx)
	}
}

// TestAxesEndWithTheData: a 30 s run's time axis ends at 30 s, not at the
// next round number, and has no tick beyond it.
func TestAxesEndWithTheData(t *testing.T) {
	for _, end := range []float64{30, 31.2, 7.2, 0.45} {
		a := secondsAxis(end)
		if a.max != end || a.ticks[0].v != 0 || a.ticks[len(a.ticks)-1].v > end {
			t.Errorf("secondsAxis(%v): max %v, ticks %+v; want 0 to %v", end, a.max, a.ticks, end)
		}
		if a.title != "time since start (s)" {
			t.Errorf("title %q", a.title)
		}
	}
	if a := secondsAxis(30); a.ticks[len(a.ticks)-1].label != "30" {
		t.Errorf("secondsAxis(30) ticks %+v: want the last at 30", a.ticks)
	}
	if a := timeAxis(500, 3_000, "latency"); a.log || a.title != "latency (ms)" || a.max > 3_000*1.06 {
		t.Errorf("timeAxis(500µs, 3ms) = %+v: want linear in ms, ending just above 3 ms", a)
	}
	a := timeAxis(200, 25_000_000, "latency")
	if !a.log || a.title != "latency (log scale)" || a.max > 25_000_000*1.11 || a.min < 200/1.11 {
		t.Errorf("timeAxis(200µs, 25s) = %+v: want a log axis just around the data", a)
	}
	var labels []string
	for _, tk := range a.ticks {
		labels = append(labels, tk.label)
	}
	if got := strings.Join(labels, " "); got != "1ms 10ms 100ms 1s 10s" {
		t.Errorf("log ticks %q, want each in its unit", got)
	}
}

// TestPercentileAxisEndsWithTheData: the nines axis ends where the line
// with the most samples does (1 − 1/count), labelled there.
func TestPercentileAxisEndsWithTheData(t *testing.T) {
	var hs [len(loadgen.Metrics)]*hdrhistogram.Histogram
	hs[loadgen.Latency] = testrun.Hist(t, testrun.Seq(1, 20)...)
	d := &reports.RunData{Summary: reports.Summary{Targets: []reports.Target{{Name: "direct"}}}, Hists: map[string][len(loadgen.Metrics)]*hdrhistogram.Histogram{"direct": hs}}
	c := percentileChart(d, loadgen.Latency, "x")
	if want := nines(1 - 1.0/20); math.Abs(c.x.max-want) > 1e-9 {
		t.Errorf("x axis ends at %v nines, want %v (20 samples: 95 %%)", c.x.max, want)
	}
	if last := c.x.ticks[len(c.x.ticks)-1]; last.label != "95%" {
		t.Errorf("last tick %+v, want the data's end, 95%%", last)
	}
}

func TestCommandLine(t *testing.T) {
	for _, tc := range []struct {
		cmd  []string
		want string
	}{
		{[]string{"/tmp/go-build1234/b001/exe/sseload", "run", "seed", "--threshold", "latency.p99 < 50ms"}, "sseload run seed --threshold 'latency.p99 < 50ms'"},
		{[]string{"./sseload", "run", "-o", "results/it's", "--only=direct,nginx-sse"}, `sseload run -o 'results/it'\''s' --only=direct,nginx-sse`},
		{[]string{"sseload"}, "sseload"},
		{[]string{"sseload", "run", ""}, "sseload run ''"},
	} {
		if got := commandLine(tc.cmd); got != tc.want {
			t.Errorf("commandLine(%q) = %s, want %s", tc.cmd, got, tc.want)
		}
	}
}
