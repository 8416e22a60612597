package render

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sseload/sseload/internal/testenv"
	"github.com/sseload/sseload/reports"
	"github.com/sseload/sseload/reports/hlog"
	"github.com/sseload/sseload/reports/internal/testrun"
)

// writeTestRun writes a results directory the way a run does: the
// intervals streamed through HlogSet and Timeline, then the reports and
// summary.json.
func writeTestRun(t *testing.T, dir string) reports.Summary {
	t.Helper()
	res := testrun.Result(t)
	hl, err := hlog.NewSet(dir, []string{"direct", "nginx-stock"})
	if err != nil {
		t.Fatal(err)
	}
	tl, err := reports.NewTimeline(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range testrun.Reports(t) {
		hl.Add(r)
		tl.Add(r)
	}
	if err := hl.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := tl.Commit(); err != nil {
		t.Fatal(err)
	}
	meta := reports.Meta{
		Scenario: "seed", Topology: "local", Version: "0.1.0",
		Command: []string{"sseload", "run", "seed"},
		Config:  reports.RunConfig{Mode: "broadcast", IntervalMS: 1000, Events: 6, Payload: 64, Connections: 20, Ramp: 100, DurationS: 7},
		Targets: map[string]reports.TargetMeta{"nginx-stock": {Proxy: "nginx/1.22.1", ProxyKind: "nginx", ConfigSHA256: "abc123"}},
	}
	s := reports.Summarize(res, meta)
	ths, err := reports.ParseThresholds([]string{"latency.p99 < 50ms"})
	if err != nil {
		t.Fatal(err)
	}
	s.Thresholds = reports.EvaluateThresholds(s, ths)
	if err := WriteReports(dir, s); err != nil {
		t.Fatal(err)
	}
	if err := reports.WriteSummary(dir, s); err != nil {
		t.Fatal(err)
	}
	return s
}

var seriesPath = regexp.MustCompile(`<path class="series" data-series="[^"]+" d="M[0-9.]+ [0-9.]+[LHV][^"]+"`)

func TestWriteReportsHTML(t *testing.T) {
	dir := t.TempDir()
	writeTestRun(t, dir)
	for _, f := range []string{reports.SummaryFile, MarkdownFile, HTMLFile, JUnitFile, reports.TimelineFile, "direct.latency.hlog"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	if n := strings.Count(page, "<svg"); n < 4 {
		t.Errorf("%d <svg> charts, want at least 4", n)
	}
	if n := len(seriesPath.FindAllString(page, -1)); n < 3 {
		t.Errorf("%d data paths, want at least 3 (percentiles, over time, established)", n)
	}
	// Self-contained: nothing to fetch, nothing to run.
	for _, bad := range []string{"<script", "<link", "src=", "href=", "url(", "@import", "@font-face"} {
		if strings.Contains(page, bad) {
			t.Errorf("report.html contains %q: it must be self-contained", bad)
		}
	}
	// p50 and p99 over time differ by more than colour: p99 solid, p50
	// dashed, in the lines and in the legend's samples.
	p99 := regexp.MustCompile(`data-series="direct p99" d="[^"]+"[^>]*>`).FindString(page)
	p50 := regexp.MustCompile(`data-series="direct p50" d="[^"]+"[^>]*>`).FindString(page)
	if p99 == "" || p50 == "" || strings.Contains(p99, "stroke-dasharray") || !strings.Contains(p50, "stroke-dasharray") {
		t.Errorf("over time: p99 %q, p50 %q; want p99 solid, p50 dashed", p99, p50)
	}
	if !regexp.MustCompile(`<line [^>]*stroke-dasharray="6 4"/>(<circle[^>]*/>)?<text [^>]*>direct p50</text>`).MatchString(page) {
		t.Error("legend: direct p50's sample is not dashed")
	}
	// The nines axis is labelled, and ends where the data does: direct's
	// 150 latency samples reach 99.33 %, so 99 % is its last tick.
	if !strings.Contains(page, ">99%<") || strings.Contains(page, ">99.9%<") {
		t.Error("percentile axis: want a 99% tick and none past the data (99.9%)")
	}
	for _, want := range []string{"FAIL: 1 of 2 thresholds failed", "reset_by_peer", "Harness", "Latency by percentile", "Connections established over time",
		"Events received per interval", `class="arrivals" data-series="direct"`, "time since start (s)", ">percentile<", "latency (µs)",
		"Latency over time: p99 solid, p50 dashed", "command: <code>sseload run seed</code>",
		"<b>Diagnosis</b>", "response buffering (proxy_buffering on)", "time_to_headers p50 30.0s vs direct 1.30ms"} {
		if !strings.Contains(page, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}

	// sseload report DIR writes the same files again from summary.json.
	before := page
	if err := os.Remove(filepath.Join(dir, HTMLFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := RegenerateReports(dir); err != nil {
		t.Fatal(err)
	}
	after, err := os.ReadFile(filepath.Join(dir, HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	if string(after) != before {
		t.Error("regenerated report.html differs from the run's")
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(ents, func(e os.DirEntry) bool { return strings.Contains(e.Name(), ".tmp-") }); i >= 0 {
		t.Errorf("temporary file left: %s", ents[i].Name())
	}
}

func TestHTMLUnreliableAndEmpty(t *testing.T) {
	s := reports.Summary{Scenario: "x", Targets: []reports.Target{{Name: "a<b", Errors: map[string]int64{}}},
		Harness: reports.Harness{Reliable: false, Note: "scheduling lag p99 25 ms > 10 ms"}}
	var buf bytes.Buffer
	if err := WriteHTML(&buf, &reports.RunData{Summary: s}); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, want := range []string{"Harness NOT RELIABLE", "short of CPU", "no samples: no event carried a readable publish time", "no timeline.csv", "a&lt;b"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "a<b") {
		t.Error("target name not escaped")
	}
}

// findChromium returns a headless-capable Chromium, failing under CI=true
// when there is none (CI must install it) and skipping elsewhere.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	testenv.Missing(t, "this test renders report.html in headless Chromium, which is missing: apt-get install -y chromium (scripts/install-deps installs it)")
	return ""
}

// TestHTMLRendersInChromium renders report.html in real headless Chromium
// and checks the screenshot: a PNG of the window's size whose pixels show
// the chart lines in the first two targets' colours.
func TestHTMLRendersInChromium(t *testing.T) {
	bin := findChromium(t)
	dir := t.TempDir()
	writeTestRun(t, dir)
	shot := filepath.Join(dir, "report.png")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--screenshot="+shot, "--window-size=1280,2200",
		"file://"+filepath.Join(dir, HTMLFile))
	cmd.Env = append(os.Environ(), "HOME="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	if fi.Size() < 20_000 {
		t.Errorf("screenshot is %d bytes: too small for a page of tables and charts", fi.Size())
	}
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 2200 {
		t.Errorf("screenshot %v, want 1280x2200", b)
	}
	// Count pixels close to each of the first two series colours
	// (Okabe-Ito blue and vermilion).
	want := [][3]int{{0x00, 0x72, 0xb2}, {0xd5, 0x5e, 0x00}}
	counts := make([]int, len(want))
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			for i, c := range want {
				if absDiff(int(r>>8), c[0]) < 24 && absDiff(int(g>>8), c[1]) < 24 && absDiff(int(bl>>8), c[2]) < 24 {
					counts[i]++
				}
			}
		}
	}
	// direct has lines in the percentile, over-time and established charts;
	// nginx-stock only its swatch, legend entries and one time-to-headers
	// point (no latency samples, one connection timed).
	if counts[0] < 500 || counts[1] < 30 {
		t.Errorf("series pixels: direct %d, nginx-stock %d; the charts did not render", counts[0], counts[1])
	}
}

func absDiff(a, b int) int {
	if a > b {
		return a - b
	}
	return b - a
}
