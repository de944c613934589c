package cli

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// nearestRank is the reference quantile: the smallest value with at least
// q of the sorted values at or below it.
func nearestRank(sorted []int64, q float64) int64 {
	rank := int(math.Ceil(q * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// checkQuantiles compares the histogram of values with the exact
// quantiles: a bucket's top is at most 1/histSub above the true value,
// never below it, and never above the maximum.
func checkQuantiles(t *testing.T, values []int64) {
	t.Helper()
	var h latencyHist
	for _, v := range values {
		h.record(time.Duration(v))
	}
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	if h.count() != uint64(len(values)) {
		t.Fatalf("count = %d, want %d", h.count(), len(values))
	}
	if got, want := int64(h.maxValue()), sorted[len(sorted)-1]; got != want {
		t.Fatalf("max = %d, want %d", got, want)
	}
	for _, q := range []float64{0.001, 0.1, 0.5, 0.9, 0.99, 0.999, 1} {
		want := nearestRank(sorted, q)
		got := int64(h.quantile(q))
		if got < want || float64(got-want) > float64(want)/histSub || got > sorted[len(sorted)-1] {
			t.Errorf("quantile(%v) = %d, want %d (within 1/%d above)", q, got, want, histSub)
		}
	}
}

func TestHistQuantilesSmallValuesAreExact(t *testing.T) {
	values := make([]int64, 0, 200)
	for i := range int64(200) {
		values = append(values, 199-i)
	}
	checkQuantiles(t, values)
	var h latencyHist
	for _, v := range values {
		h.record(time.Duration(v))
	}
	// Below 2·histSub every value has its own bucket.
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 99}, {0.9, 179}, {0.99, 197}, {1, 199}} {
		if got := h.quantile(c.q); got != c.want {
			t.Errorf("quantile(%v) = %d, want %d", c.q, got, c.want)
		}
	}
}

func TestHistQuantilesLatencyLike(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	values := make([]int64, 50_000)
	for i := range values {
		// Log-normal around 300µs with a long tail, as loopback latencies go.
		values[i] = int64(math.Exp(rng.NormFloat64()*0.8) * 300e3)
	}
	values = append(values, int64(2*time.Second), 1) // outliers
	checkQuantiles(t, values)
}

func TestHistQuantilesWideRange(t *testing.T) {
	var values []int64
	for v := int64(1); v < int64(time.Minute); v = v*3 + 7 {
		values = append(values, v)
	}
	checkQuantiles(t, values)
}

func TestHistHugeValuesClampToLastBucket(t *testing.T) {
	var h latencyHist
	h.record(time.Hour) // beyond the covered range
	h.record(-5)        // counts as zero
	if h.quantile(1) != time.Hour || h.maxValue() != time.Hour {
		t.Errorf("quantile(1) = %v, max = %v, want 1h both", h.quantile(1), h.maxValue())
	}
	if h.quantile(0.5) != 0 {
		t.Errorf("quantile(0.5) = %v, want 0", h.quantile(0.5))
	}
}

func TestHistBucketsTileTheRange(t *testing.T) {
	// Each bucket starts right after the previous one ends.
	for i := 1; i < histBuckets; i++ {
		low := histHigh(i-1) + 1
		if histIndex(uint64(low)) != i {
			t.Fatalf("value %d after bucket %d lands in bucket %d, want %d", low, i-1, histIndex(uint64(low)), i)
		}
		if histIndex(uint64(histHigh(i))) != i {
			t.Fatalf("top of bucket %d (%d) lands in bucket %d", i, histHigh(i), histIndex(uint64(histHigh(i))))
		}
	}
}

func TestHistMergeEqualsOneHistogram(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var all, a, b latencyHist
	for i := range 10_000 {
		v := time.Duration(rng.Int64N(int64(50 * time.Millisecond)))
		all.record(v)
		if i%3 == 0 {
			a.record(v)
		} else {
			b.record(v)
		}
	}
	var merged latencyHist
	merged.merge(&a)
	merged.merge(&b)
	if merged != all {
		t.Fatal("merging two halves differs from recording everything in one histogram")
	}
}

func TestHistEmpty(t *testing.T) {
	var h latencyHist
	if h.quantile(0.5) != 0 || h.maxValue() != 0 || h.count() != 0 {
		t.Errorf("empty histogram: quantile %v, max %v, count %d", h.quantile(0.5), h.maxValue(), h.count())
	}
}
