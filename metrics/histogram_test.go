package metrics

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/sseload/sseload/loadgen"
)

// TestHDRBucketWidth checks hdrBucketWidth against HdrHistogram itself:
// every populated bucket of a loadgen histogram spans exactly that many
// values, across every power of two up to an hour.
func TestHDRBucketWidth(t *testing.T) {
	h := loadgen.NewHistogram()
	for v := int64(1); v < loadgen.HistMaxUS; v = v*17/16 + 1 {
		_ = h.RecordValue(v)
		_ = h.RecordValue(v + 1)
	}
	p := hdrhistogram.NewPacked(loadgen.HistMinUS, loadgen.HistMaxUS, loadgen.HistDigits)
	p.MergeFrom(h)
	n := 0
	for low := range p.ForEachBucket {
		w := hdrBucketWidth(low)
		if !h.ValuesAreEquivalent(low, low+w-1) || h.ValuesAreEquivalent(low, low+w) || (low > 1 && h.ValuesAreEquivalent(low-1, low)) {
			t.Fatalf("bucket at %d µs: width %d is not HdrHistogram's", low, w)
		}
		n++
	}
	if n < 300 {
		t.Fatalf("checked %d buckets, want the range covered", n)
	}
}

// TestNativeFactor: schema 5, as client_golang picks it for a bucket
// factor of 1.03.
func TestNativeFactor(t *testing.T) {
	if math.Abs(NativeBucketFactor-1.0219) > 0.0001 {
		t.Errorf("NativeBucketFactor %v, want 2^(1/32) = 1.0219", NativeBucketFactor)
	}
}

// TestHistMatchesClientGolang feeds the same values, as several interval
// HdrHistograms, to hist and to a real prometheus.Histogram with the same
// native schema and classic buckets (each value observed at the middle of
// its HdrHistogram bucket, which is what hist adds it at), and compares
// what the two write: count, sum, native spans and deltas, classic buckets.
func TestHistMatchesClientGolang(t *testing.T) {
	ref := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:                        "ref_seconds",
		Help:                        "reference",
		Buckets:                     classicBounds,
		NativeHistogramBucketFactor: 1.03,
	})
	var got hist
	scratch := hdrhistogram.NewPacked(loadgen.HistMinUS, loadgen.HistMaxUS, loadgen.HistDigits)
	r := rand.New(rand.NewPCG(1, 2))
	for iv := 0; iv < 5; iv++ {
		h := loadgen.NewHistogram()
		for i := 0; i < 20_000; i++ {
			// Log-uniform from 1 µs to 100 s, plus repeats of a few values.
			v := int64(math.Exp(r.Float64() * math.Log(1e8)))
			if i%10 == 0 {
				v = 700
			}
			v = max(v, loadgen.HistMinUS)
			_ = h.RecordValue(v)
			w := hdrBucketWidth(v)
			low := v &^ (w - 1)
			ref.Observe((float64(low) + float64(w-1)/2) / 1e6)
		}
		got.add(h, scratch)
	}
	var want dto.Metric
	if err := ref.Write(&want); err != nil {
		t.Fatal(err)
	}
	m, err := got.metric(prometheus.NewDesc("x_seconds", "x", nil, nil), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var have dto.Metric
	if err := m.Write(&have); err != nil {
		t.Fatal(err)
	}
	wh, hh := want.GetHistogram(), have.GetHistogram()
	if hh.GetSampleCount() != 100_000 || hh.GetSampleCount() != wh.GetSampleCount() {
		t.Errorf("count %d, reference %d, want 100000", hh.GetSampleCount(), wh.GetSampleCount())
	}
	if math.Abs(hh.GetSampleSum()-wh.GetSampleSum()) > 1e-9*wh.GetSampleSum() {
		t.Errorf("sum %v, reference %v", hh.GetSampleSum(), wh.GetSampleSum())
	}
	if hh.GetSchema() != wh.GetSchema() || hh.GetSchema() != nativeSchema {
		t.Errorf("schema %d, reference %d, want %d", hh.GetSchema(), wh.GetSchema(), nativeSchema)
	}
	if !reflect.DeepEqual(expand(hh), expand(wh)) {
		t.Errorf("native buckets differ from the reference:\n got %v\nwant %v", expand(hh), expand(wh))
	}
	if len(hh.GetBucket()) != len(wh.GetBucket()) {
		t.Fatalf("%d classic buckets, reference %d", len(hh.GetBucket()), len(wh.GetBucket()))
	}
	for i, b := range hh.GetBucket() {
		wb := wh.GetBucket()[i]
		if b.GetUpperBound() != wb.GetUpperBound() || b.GetCumulativeCount() != wb.GetCumulativeCount() {
			t.Errorf("classic bucket le=%v: %d, reference le=%v: %d", b.GetUpperBound(), b.GetCumulativeCount(), wb.GetUpperBound(), wb.GetCumulativeCount())
		}
	}
}

// expand turns native spans and deltas into bucket key -> count.
func expand(h *dto.Histogram) map[int32]int64 {
	out := map[int32]int64{}
	var key int32
	var count int64
	d := 0
	for _, s := range h.GetPositiveSpan() {
		key += s.GetOffset()
		for i := uint32(0); i < s.GetLength(); i++ {
			count += h.GetPositiveDelta()[d]
			d++
			if count != 0 {
				out[key] = count
			}
			key++
		}
	}
	return out
}
