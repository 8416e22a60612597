package metrics

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/sseload/sseload/loadgen"
)

// listen starts an exporter on a loopback port, closed at the test's end.
func listen(t *testing.T) *Exporter {
	t.Helper()
	e, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_ = e.Close(ctx)
	})
	return e
}

// interval is a report of targets a and b: a's latency holds lat (µs).
func interval(start time.Time, a loadgen.Interval, lat ...int64) loadgen.IntervalReport {
	a.Hist[loadgen.Latency] = loadgen.NewHistogram()
	for _, v := range lat {
		_ = a.Hist[loadgen.Latency].RecordValue(v)
	}
	lag := loadgen.NewHistogram()
	_ = lag.RecordValue(150)
	return loadgen.IntervalReport{
		Start: start, End: start.Add(time.Second),
		Targets:   []loadgen.TargetInterval{{Name: "a", Interval: a}, {Name: "b"}},
		Generator: loadgen.GeneratorInterval{Lag: lag, BusyMax: 0.25, MachineCPU: 0.5},
	}
}

// scrape fetches /metrics in the given format and decodes every family.
func scrape(t *testing.T, e *Exporter, format expfmt.Format) map[string]*dto.MetricFamily {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.URL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", string(format))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %s\n%s", e.URL(), resp.Status, b)
	}
	got := expfmt.ResponseFormat(resp.Header)
	if got.FormatType() != format.FormatType() {
		t.Fatalf("served %s, asked for %s", got, format)
	}
	out := map[string]*dto.MetricFamily{}
	dec := expfmt.NewDecoder(resp.Body, got)
	for {
		var mf dto.MetricFamily
		if err := dec.Decode(&mf); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		out[mf.GetName()] = &mf
	}
	return out
}

// series returns the metric of family name whose labels include want.
func series(t *testing.T, fams map[string]*dto.MetricFamily, name string, want ...string) *dto.Metric {
	t.Helper()
	mf := fams[name]
	if mf == nil {
		t.Fatalf("no family %s", name)
	}
next:
	for _, m := range mf.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(want); i += 2 {
			if v, ok := have[want[i]]; !ok || v != want[i+1] {
				continue next
			}
		}
		return m
	}
	t.Fatalf("%s has no series with labels %v", name, want)
	return nil
}

var (
	protoFormat = expfmt.NewFormat(expfmt.TypeProtoDelim)
	textFormat  = expfmt.NewFormat(expfmt.TypeTextPlain)
)

// TestExporterServesIntervals feeds two intervals and scrapes them as
// Prometheus does: protobuf (native histograms) and text (classic).
func TestExporterServesIntervals(t *testing.T) {
	e := listen(t)
	t0 := time.Now()
	if fams := scrape(t, e, textFormat); len(fams) != 0 {
		t.Errorf("before the first interval: %d families, want none", len(fams))
	}
	e.Add(interval(t0, loadgen.Interval{Established: 3, Open: 3, EventsReceived: 10}, 700, 900, 1_500))
	e.Add(interval(t0.Add(time.Second), loadgen.Interval{
		Established: 4, Open: 2, Failed: 1, Reconnects: 5, EventsReceived: 25,
		Errors:      map[string]int64{"http_status": 3, "connect_refused": 2},
		ErrorValues: loadgen.ErrorValues{"http_status": {"404": 2, "502": 1}},
	}, 800, 240_000))

	fams := scrape(t, e, protoFormat)
	for _, name := range Names() {
		if fams[name] == nil {
			t.Errorf("no family %s", name)
		}
	}
	lat := series(t, fams, "sseload_latency_seconds", "target", "a").GetHistogram()
	if lat.GetSampleCount() != 5 || lat.GetSchema() != nativeSchema || len(lat.GetPositiveSpan()) == 0 {
		t.Errorf("latency: count %d schema %d spans %v; want 5 values in schema %d native buckets", lat.GetSampleCount(), lat.GetSchema(), lat.GetPositiveSpan(), nativeSchema)
	}
	if s := lat.GetSampleSum(); s < 0.2438 || s > 0.2440 {
		t.Errorf("latency sum %v s, want 0.2439", s)
	}
	if c := series(t, fams, "sseload_latency_seconds", "target", "b").GetHistogram().GetSampleCount(); c != 0 {
		t.Errorf("b's latency count %d, want 0", c)
	}
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"sseload_streams_open", []string{"target", "a"}, 2},
		{"sseload_streams_established_total", []string{"target", "a"}, 4},
		{"sseload_streams_failed_total", []string{"target", "a"}, 1},
		{"sseload_reconnects_total", []string{"target", "a"}, 5},
		{"sseload_events_received_total", []string{"target", "a"}, 25},
		{"sseload_errors_total", []string{"target", "a", "kind", "http_status", "value", "404"}, 2},
		{"sseload_errors_total", []string{"target", "a", "kind", "http_status", "value", "502"}, 1},
		{"sseload_errors_total", []string{"target", "a", "kind", "connect_refused", "value", ""}, 2},
		{"sseload_harness_busy_ratio", nil, 0.25},
		{"sseload_harness_machine_cpu_ratio", nil, 0.5},
	} {
		m := series(t, fams, c.name, c.labels...)
		v := m.GetCounter().GetValue() + m.GetGauge().GetValue()
		if v != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, v, c.want)
		}
	}
	if n := len(fams["sseload_errors_total"].GetMetric()); n != 3 {
		t.Errorf("%d error series, want 3 (http_status 404, 502; connect_refused)", n)
	}
	if c := series(t, fams, "sseload_harness_lag_seconds").GetHistogram().GetSampleCount(); c != 2 {
		t.Errorf("lag count %d, want 2 (one sample per interval)", c)
	}

	// The text format has the classic buckets: 700, 800 and 900 µs are
	// at most 1 ms, 1.5 ms at most 2.5 ms, 240 ms at most 250 ms.
	text := scrape(t, e, textFormat)
	for _, b := range series(t, text, "sseload_latency_seconds", "target", "a").GetHistogram().GetBucket() {
		want := map[float64]uint64{0.0005: 0, 0.001: 3, 0.0025: 4, 0.1: 4, 0.25: 5, 60: 5}
		if w, ok := want[b.GetUpperBound()]; ok && b.GetCumulativeCount() != w {
			t.Errorf("classic bucket le=%v: %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), w)
		}
	}
}

// TestExporterNextRun: counters keep rising over the runs of a capacity
// search; the open gauge is the current run's.
func TestExporterNextRun(t *testing.T) {
	e := listen(t)
	t0 := time.Now()
	e.Add(interval(t0, loadgen.Interval{Established: 3, Open: 3, EventsReceived: 10, Errors: map[string]int64{"reset_by_peer": 1}}, 500))
	e.NextRun()
	e.Add(interval(t0.Add(5*time.Second), loadgen.Interval{Established: 2, Open: 1, EventsReceived: 4}, 600))
	fams := scrape(t, e, protoFormat)
	if v := series(t, fams, "sseload_events_received_total", "target", "a").GetCounter().GetValue(); v != 14 {
		t.Errorf("events %v, want 10 + 4", v)
	}
	if v := series(t, fams, "sseload_streams_established_total", "target", "a").GetCounter().GetValue(); v != 5 {
		t.Errorf("established %v, want 3 + 2", v)
	}
	if v := series(t, fams, "sseload_streams_open", "target", "a").GetGauge().GetValue(); v != 1 {
		t.Errorf("open %v, want the second run's 1", v)
	}
	if v := series(t, fams, "sseload_errors_total", "target", "a", "kind", "reset_by_peer").GetCounter().GetValue(); v != 1 {
		t.Errorf("reset_by_peer %v, want the first run's 1", v)
	}
	if c := series(t, fams, "sseload_latency_seconds", "target", "a").GetHistogram().GetSampleCount(); c != 2 {
		t.Errorf("latency count %d, want both runs' 2", c)
	}
}

// TestExporterCloseWaitsForFinalScrape: Close returns once a scrape has
// read the last interval; without a scrape in the observed period it says
// so; never scraped, it does not wait.
func TestExporterCloseWaitsForFinalScrape(t *testing.T) {
	t0 := time.Now()
	t.Run("scraped", func(t *testing.T) {
		e := listen(t)
		e.Add(interval(t0, loadgen.Interval{Open: 1}, 500))
		scrape(t, e, textFormat)
		e.Add(interval(t0.Add(time.Second), loadgen.Interval{Open: 1}, 500))
		if e.Linger() == 0 {
			t.Fatal("Linger 0 with the last interval not scraped")
		}
		done := make(chan error, 1)
		go func() { done <- e.Close(context.Background()) }()
		scrape(t, e, textFormat) // before or while Close waits: either way the final figures are read
		if err := <-done; err != nil {
			t.Errorf("Close after the final scrape: %v", err)
		}
		if _, err := http.Get(e.URL()); err == nil {
			t.Error("still serving after Close")
		}
	})
	t.Run("not scraped", func(t *testing.T) {
		e := listen(t)
		e.Add(interval(t0, loadgen.Interval{}, 500))
		scrape(t, e, textFormat)
		scrape(t, e, textFormat) // two scrapes close together: Close waits its floor, 1 s
		e.Add(interval(t0.Add(time.Second), loadgen.Interval{}, 500))
		if w := e.Linger(); w != time.Second {
			t.Errorf("Linger %v, want the 1 s floor", w)
		}
		start := time.Now()
		err := e.Close(context.Background())
		if !errors.Is(err, ErrNotScraped) || time.Since(start) < time.Second {
			t.Errorf("Close without a final scrape: %v after %v; want ErrNotScraped after 1 s", err, time.Since(start))
		}
	})
	t.Run("never scraped", func(t *testing.T) {
		e := listen(t)
		e.Add(interval(t0, loadgen.Interval{}, 500))
		err := e.Close(context.Background())
		if !errors.Is(err, ErrNotScraped) || !strings.Contains(err.Error(), "nothing scraped") {
			t.Errorf("Close never scraped: %v, want ErrNotScraped saying nothing scraped", err)
		}
	})
	t.Run("interrupted", func(t *testing.T) {
		e := listen(t)
		e.Add(interval(t0, loadgen.Interval{}, 500))
		scrape(t, e, textFormat)
		e.Add(interval(t0.Add(time.Second), loadgen.Interval{}, 500))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := e.Close(ctx); err != nil {
			t.Errorf("Close with ctx done: %v, want nil at once", err)
		}
	})
}

// TestListenRefusesBusyAddress: a second exporter on the same address is
// an error, not a silent no-op.
func TestListenRefusesBusyAddress(t *testing.T) {
	e := listen(t)
	if e2, err := Listen(e.Addr()); err == nil {
		e2.Close(context.Background())
		t.Fatalf("Listen(%s) twice succeeded", e.Addr())
	}
}
