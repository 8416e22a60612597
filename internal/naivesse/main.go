// Command naivesse is the obvious Go SSE load client: one goroutine per
// stream, net/http, bufio line reading, encoding/json per event, one shared
// HDR histogram behind a mutex. It exists only as the baseline that
// scripts/selfbench runs beside sseload on the same origin, so that
// docs/benchmarks.md can state sseload's costs as ratios.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

func main() {
	url := flag.String("url", "", "event stream URL (sseload origin)")
	n := flag.Int("n", 100, "concurrent streams")
	ramp := flag.Int("ramp", 1000, "streams opened per second")
	hold := flag.Duration("duration", 20*time.Second, "how long streams are held after the ramp")
	flag.Parse()
	if *url == "" {
		fmt.Fprintln(os.Stderr, "naivesse: -url is required")
		os.Exit(2)
	}
	rampTime := time.Duration(float64(*n) / float64(*ramp) * float64(time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), rampTime+*hold)
	defer cancel()

	var (
		mu          sync.Mutex
		hist        = hdrhistogram.New(1, 3_600_000_000, 3)
		established atomic.Int64
		events      atomic.Int64
		wg          sync.WaitGroup
	)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: -1, DisableCompression: true}}
	start := time.Now()
	for i := 0; i < *n; i++ {
		time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(*ramp))))
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
			if err != nil {
				return
			}
			req.Header.Set("Accept", "text/event-stream")
			resp, err := client.Do(req)
			if err != nil {
				return
			}
			defer resp.Body.Close()
			established.Add(1)
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				data, ok := strings.CutPrefix(sc.Text(), "data: ")
				if !ok {
					continue
				}
				var ev struct {
					Sched int64 `json:"sched"`
				}
				if json.Unmarshal([]byte(data), &ev) != nil {
					continue
				}
				lat := (time.Now().UnixNano() - ev.Sched) / 1000
				events.Add(1)
				mu.Lock()
				_ = hist.RecordValue(max(lat, 1))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	fmt.Printf("established %d events %d latency_p50_us %d latency_p99_us %d\n",
		established.Load(), events.Load(), hist.ValueAtQuantile(50), hist.ValueAtQuantile(99))
}
