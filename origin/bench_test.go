package origin

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

// BenchmarkBroadcast fans b.N publishes, 200 µs apart, out to N subscribers
// over loopback (net/http clients on the same two cores as the origin, so
// the figures are a floor). One op is one publish; events/s counts events
// delivered to all subscribers per second of schedule; lat-* is receipt
// minus scheduled time, which includes the clients' own scheduling;
// origin-* is the event's "sent" minus its scheduled time: the origin's own
// share (when its fan-out reached that subscriber, to within refreshEvery
// writes). At 1,000 subscribers the publishes overlap (a fan-out takes
// longer than 200 µs), so the origin is measured saturated.
func BenchmarkBroadcast(b *testing.B) {
	for _, subs := range []int{10, 100, 500, 1000} {
		b.Run(fmt.Sprintf("subs=%d", subs), func(b *testing.B) {
			const iv = 200 * time.Microsecond
			// Publish 1 is due after every subscriber has joined.
			epoch := time.Now().Add(200*time.Millisecond + time.Duration(subs)*time.Millisecond)
			s := mustNew(b, Config{Mode: Broadcast, Interval: iv, Events: b.N, Epoch: epoch})
			ts := httptest.NewServer(s)
			defer ts.Close()
			tr := &http.Transport{MaxIdleConnsPerHost: subs, DisableCompression: true}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr}

			type result struct {
				events               int
				sum, worst           time.Duration
				originSum, originMax time.Duration
				err                  error
			}
			results := make(chan result, subs)
			for range subs {
				go func() {
					var res result
					defer func() { results <- res }()
					resp, err := client.Get(ts.URL + "/events")
					if err != nil {
						res.err = err
						return
					}
					defer resp.Body.Close()
					br := bufio.NewReaderSize(resp.Body, 4096)
					for {
						line, err := br.ReadSlice('\n')
						if err != nil {
							return // EOF after the last publish
						}
						i := bytes.Index(line, []byte(`"sched":`))
						if i < 0 {
							continue
						}
						rest := line[i+len(`"sched":`):]
						j := bytes.IndexByte(rest, ',')
						sched, err := strconv.ParseInt(string(rest[:j]), 10, 64)
						if err != nil {
							res.err = err
							return
						}
						lat := time.Duration(time.Now().UnixNano() - sched)
						rest = rest[j+len(`,"sent":`):]
						j = bytes.IndexAny(rest, ",}")
						sent, err := strconv.ParseInt(string(rest[:j]), 10, 64)
						if err != nil {
							res.err = err
							return
						}
						res.originSum += time.Duration(sent - sched)
						res.originMax = max(res.originMax, time.Duration(sent-sched))
						res.events++
						res.sum += lat
						res.worst = max(res.worst, lat)
					}
				}()
			}
			waitFor(b, "subscribers", func() bool { return s.Subscribers() == subs })
			if time.Now().After(epoch.Add(iv)) {
				b.Fatalf("subscribers joined after publish 1")
			}
			b.ResetTimer()
			var total result
			for range subs {
				r := <-results
				if r.err != nil {
					b.Fatal(r.err)
				}
				total.events += r.events
				total.sum += r.sum
				total.worst = max(total.worst, r.worst)
				total.originSum += r.originSum
				total.originMax = max(total.originMax, r.originMax)
			}
			elapsed := time.Since(epoch)
			b.StopTimer()
			if total.events != subs*b.N {
				b.Fatalf("delivered %d events, want %d", total.events, subs*b.N)
			}
			b.ReportMetric(float64(total.events)/elapsed.Seconds(), "events/s")
			b.ReportMetric(float64(total.sum.Microseconds())/float64(total.events), "lat-mean-µs")
			b.ReportMetric(float64(total.worst.Microseconds()), "lat-max-µs")
			b.ReportMetric(float64(total.originSum.Microseconds())/float64(total.events), "origin-mean-µs")
			b.ReportMetric(float64(total.originMax.Microseconds()), "origin-max-µs")
		})
	}
}
