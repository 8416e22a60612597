package testenv

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/sseload/sseload/internal/childproc"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Prometheus is a real Prometheus server (Debian's `prometheus`, 2.42)
// started for one test by StartPrometheus.
type Prometheus struct {
	// URL is its HTTP API's base, http://127.0.0.1:PORT.
	URL string

	mu  sync.Mutex
	log bytes.Buffer
}

// StartPrometheus starts Prometheus on a free loopback port, with a
// temporary config and data directory, scraping targets (host:port, path
// /metrics) every second with native histograms enabled; it is stopped
// when the test ends (and killed if the test binary dies). When the binary
// is missing the test fails under CI=true and is skipped elsewhere, with
// the apt-get line.
func StartPrometheus(t testing.TB, targets ...string) *Prometheus {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		Missing(t, "this test runs a real Prometheus, which is not installed: apt-get install prometheus (Debian's package, 2.42; scripts/install-deps installs it)")
		return nil
	}
	dir := t.TempDir()
	quoted := make([]string, len(targets))
	for i, a := range targets {
		quoted[i] = strconv.Quote(a)
	}
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 900ms
scrape_configs:
  - job_name: sseload
    static_configs:
      - targets: [%s]
`, strings.Join(quoted, ", "))
	cfgFile := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := FreeLoopbackAddr(t)
	cmd := exec.Command(bin,
		"--config.file="+cfgFile,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--enable-feature=native-histograms",
		"--log.level=info",
	)
	childproc.Setup(cmd, false)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start prometheus: %v", err)
	}
	p := &Prometheus{URL: "http://" + addr}
	// Prometheus says when it serves queries; the log is kept for failure
	// messages and drained until it exits.
	ready := make(chan struct{})
	logDone := make(chan struct{})
	go func() {
		defer close(logDone)
		sc := bufio.NewScanner(stderr)
		said := false
		for sc.Scan() {
			p.mu.Lock()
			p.log.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			if !said && strings.Contains(sc.Text(), "Server is ready to receive web requests") {
				said = true
				close(ready)
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	exited := make(chan error, 1)
	go func() { <-logDone; exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	select {
	case <-ready:
	case err := <-exited:
		exited <- err // for the cleanup
		t.Fatalf("prometheus exited before it was ready (%v):\n%s", err, p.Log())
	case <-time.After(60 * time.Second):
		t.Fatalf("prometheus was not ready within a minute:\n%s", p.Log())
	}
	return p
}

// WaitScraping waits until Prometheus has tried to scrape every one of its
// targets once (whether or not anything answered yet): from then on it
// scrapes each every second. Its scrape manager takes up to 5 s after the
// start to begin; a run that starts before may end unscraped. Prometheus
// says this only through its API, which is asked every 100 ms.
func (p *Prometheus) WaitScraping(ctx context.Context) error {
	for {
		ok, err := p.allTried(ctx)
		if err == nil && ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("prometheus did not scrape its targets (%v): %w", err, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// allTried reports whether every active target has had a scrape.
func (p *Prometheus) allTried(ctx context.Context) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+"/api/v1/targets?state=active", nil)
	if err != nil {
		return false, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			ActiveTargets []struct {
				Health string `json:"health"`
			} `json:"activeTargets"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return false, err
	}
	if len(body.Data.ActiveTargets) == 0 {
		return false, nil
	}
	for _, t := range body.Data.ActiveTargets {
		if t.Health == "unknown" {
			return false, nil
		}
	}
	return true, nil
}

// Log is what Prometheus has logged so far.
func (p *Prometheus) Log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// Sample is one element of an instant query's result vector.
type Sample struct {
	Metric map[string]string
	Value  float64
}

// Query evaluates expr at time at (GET /api/v1/query) and returns its
// vector; expr must return floats (e.g. histogram_quantile, not a raw
// native histogram). A scraped program that has exited is marked stale at
// Prometheus' next failed scrape, after which its series are gone from
// queries at later times: query a finished run at its end.
func (p *Prometheus) Query(ctx context.Context, expr string, at time.Time) ([]Sample, error) {
	q := url.Values{"query": {expr}, "time": {strconv.FormatFloat(float64(at.UnixNano())/1e9, 'f', 3, 64)}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+"/api/v1/query?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("query %s: %s: %w", expr, resp.Status, err)
	}
	if body.Status != "success" {
		return nil, fmt.Errorf("query %s: %s: %s", expr, resp.Status, body.Error)
	}
	if body.Data.ResultType != "vector" {
		return nil, fmt.Errorf("query %s: result type %q, want vector", expr, body.Data.ResultType)
	}
	out := make([]Sample, 0, len(body.Data.Result))
	for _, r := range body.Data.Result {
		s, _ := r.Value[1].(string)
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("query %s: value %v: %w", expr, r.Value[1], err)
		}
		out = append(out, Sample{Metric: r.Metric, Value: v})
	}
	return out, nil
}

// LastScrape is the time of the latest scrape of job that returned
// samples (from scrape_samples_scraped, which Prometheus records for every
// scrape); zero when there was none. Once the scraped program has exited,
// that is its final scrape, and queries at that time see what it served
// last.
func (p *Prometheus) LastScrape(ctx context.Context, job string) (time.Time, error) {
	q := url.Values{"query": {`scrape_samples_scraped{job="` + job + `"}[10m]`}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+"/api/v1/query?"+q.Encode(), nil)
	if err != nil {
		return time.Time{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return time.Time{}, err
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Values [][2]any `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return time.Time{}, err
	}
	if body.Status != "success" {
		return time.Time{}, fmt.Errorf("scrape_samples_scraped: %s", body.Error)
	}
	var last time.Time
	for _, r := range body.Data.Result {
		for _, v := range r.Values {
			ts, _ := v[0].(float64)
			n, _ := v[1].(string)
			if n != "0" && n != "" {
				last = time.Unix(0, int64(ts*1e9))
			}
		}
	}
	return last, nil
}

// Raw is the JSON answer of Prometheus to expr at time at, for failure
// messages (a range selector such as up[1m] shows each scrape).
func (p *Prometheus) Raw(ctx context.Context, expr string, at time.Time) string {
	q := url.Values{"query": {expr}, "time": {strconv.FormatFloat(float64(at.UnixNano())/1e9, 'f', 3, 64)}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+"/api/v1/query?"+q.Encode(), nil)
	if err != nil {
		return err.Error()
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// FreeLoopbackAddr returns 127.0.0.1:PORT with a port that was free a
// moment ago, for a program that takes its listen address as a flag.
func FreeLoopbackAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
