package metrics

import (
	"math"
	"math/bits"
	"sort"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// A histogram's buckets as Prometheus sees them.
//
// Native buckets: schema 5, so bucket i holds the values in
// (2^((i-1)/32), 2^(i/32)] seconds, each bucket 2.19 % wider than the one
// below. That is what client_golang's HistogramOpts gives for a
// NativeHistogramBucketFactor of 1.03 (the largest schema whose factor is
// at most 1.03). Over sseload's histogram range, 1 µs to 1 h, there are at
// most 1,016 of them; a run populates the few hundred its values span.
// histogram_quantile interpolates within the bucket its rank falls in, so
// its estimate is within 2.19 % of the true value (plus HdrHistogram's own
// 0.1 %, below).
//
// Classic buckets (classicBounds), for a Prometheus that does not ingest
// native histograms (2.x without --enable-feature=native-histograms): the
// same data in 18 fixed `le` buckets from 100 µs to 60 s. A Prometheus that
// ingests native histograms keeps only the native buckets.
const nativeSchema = 5

// NativeBucketFactor is the growth factor of the native buckets, 2^(1/32):
// a quantile that histogram_quantile estimates from them is within
// NativeBucketFactor − 1 (2.19 %) of HdrHistogram's value at that rank,
// plus HdrHistogram's own 0.1 %.
var NativeBucketFactor = math.Exp2(math.Exp2(-nativeSchema))

// classicBounds are the classic buckets' upper bounds, seconds.
var classicBounds = []float64{
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
}

// nativeBounds are the fractions at which schema 5's buckets split one
// power of two (math.Frexp's mantissa, 0.5 to 1), computed as
// client_golang computes its own table (nativeHistogramBounds), so that
// every value lands in the bucket a prometheus.Histogram would put it in.
var nativeBounds = func() []float64 {
	table := [][]float64{{0.5}}
	n := 1
	for s := 1; s <= nativeSchema; s++ {
		n *= 2
		factor := math.Exp2(math.Exp2(float64(-s)))
		bounds := []float64{0.5}
		for j := 0; j < n-1; j++ {
			if (j+1)%2 == 0 {
				bounds = append(bounds, table[s-1][j/2+1])
			} else {
				bounds = append(bounds, bounds[j]*factor)
			}
		}
		table = append(table, bounds)
	}
	return table[nativeSchema]
}()

// nativeKey is the index of the native bucket holding v > 0 seconds:
// bucket k's upper bound is 2^(k/32).
func nativeKey(v float64) int {
	frac, exp := math.Frexp(v)
	return sort.SearchFloat64s(nativeBounds, frac) + (exp-1)*len(nativeBounds)
}

// hdrBucketWidth is the width, in µs, of the HdrHistogram bucket whose
// lowest value is v, for loadgen's histograms (1 µs resolution, 3
// significant digits): the 2,048 values below 2,048 µs have a bucket each,
// and from there each power of two is split in 1,024 buckets. A test
// checks this against hdrhistogram's own ValuesAreEquivalent.
func hdrBucketWidth(v int64) int64 {
	const exact = 2048 // 2 × 10^3 rounded up to a power of two
	if v < exact {
		return 1
	}
	return 1 << (bits.Len64(uint64(v)) - 1 - 10)
}

// hist is one cumulative histogram as Prometheus sees it, built from
// HdrHistogram interval histograms. Its size is fixed by the range of
// values, not by how many were recorded: one count per native bucket that
// saw a value (at most 1,016) and one per classic bucket.
type hist struct {
	count   uint64
	sum     float64       // seconds
	native  map[int]int64 // native bucket key -> count
	classic []uint64      // per classicBounds, not cumulative
}

// add adds every value of one interval's HdrHistogram (µs) to h. It walks
// the populated HdrHistogram buckets once (scratch is a reused sparse
// copy, so it allocates nothing once warm): the work is per distinct value
// recorded, not per event, and one event or a million in the interval
// cost the same. Each HdrHistogram bucket's count goes to the native and
// classic buckets of its middle value; its values are within 0.1 % of it.
// The sum is Σ count × middle value, as exact as the histogram.
func (h *hist) add(src *hdrhistogram.Histogram, scratch *hdrhistogram.PackedHistogram) {
	if src == nil || src.TotalCount() == 0 {
		return
	}
	scratch.Reset()
	scratch.MergeFrom(src)
	if h.native == nil {
		h.native = map[int]int64{}
		h.classic = make([]uint64, len(classicBounds))
	}
	for low, n := range scratch.ForEachBucket {
		mid := float64(low) + float64(hdrBucketWidth(low)-1)/2
		v := mid / 1e6
		h.count += uint64(n)
		h.sum += float64(n) * v
		h.native[nativeKey(v)] += n
		if i := sort.SearchFloat64s(classicBounds, v); i < len(classicBounds) {
			h.classic[i] += uint64(n)
		}
	}
}

// metric is h as a constant Prometheus histogram with both native and
// classic buckets, for one scrape.
func (h *hist) metric(desc *prometheus.Desc, created time.Time, labels ...string) (prometheus.Metric, error) {
	m, err := prometheus.NewConstNativeHistogram(desc, h.count, h.sum, h.native, nil, 0,
		nativeSchema, prometheus.DefNativeHistogramZeroThreshold, created, labels...)
	if err != nil {
		return nil, err
	}
	buckets := make([]*dto.Bucket, len(classicBounds))
	var cum uint64
	for i := range classicBounds {
		if h.classic != nil {
			cum += h.classic[i]
		}
		buckets[i] = &dto.Bucket{CumulativeCount: new(cum), UpperBound: new(classicBounds[i])}
	}
	return withClassic{Metric: m, buckets: buckets}, nil
}

// withClassic adds classic buckets to a constant native histogram
// (client_golang's NewConstNativeHistogram writes only the native ones).
type withClassic struct {
	prometheus.Metric
	buckets []*dto.Bucket
}

func (m withClassic) Write(out *dto.Metric) error {
	if err := m.Metric.Write(out); err != nil {
		return err
	}
	out.Histogram.Bucket = m.buckets
	return nil
}
