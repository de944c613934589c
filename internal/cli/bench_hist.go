package cli

import (
	"math"
	"math/bits"
	"time"
)

// latencyHist is a fixed-size log-linear latency histogram in the style of
// HdrHistogram: values below 2·histSub nanoseconds get a bucket each, and
// every power of two above that is split into histSub equal buckets, so a
// recorded value is known to within 1/histSub (under 0.8%) of itself.
// Values from one nanosecond up to about 18 minutes fit; larger ones count
// in the last bucket (Max stays exact).
//
// The zero value is ready to use. A latencyHist is not safe for concurrent
// use: each load worker records into its own and the results are merged
// when the run ends, so the hot path takes no lock.
type latencyHist struct {
	counts [histBuckets]uint64
	n      uint64
	max    int64
}

const (
	histSubBits = 7
	histSub     = 1 << histSubBits // buckets per power of two
	// histGroups is how many powers of two above 2·histSub are covered:
	// up to 2^40 ns.
	histGroups  = 40 - histSubBits - 1
	histBuckets = histSub * (histGroups + 2)
)

// histIndex returns the bucket holding v (v >= 0).
func histIndex(v uint64) int {
	l := bits.Len64(v)
	if l <= histSubBits+1 {
		return int(v) // below 2·histSub: one bucket per value
	}
	g := l - histSubBits - 1
	if g > histGroups {
		return histBuckets - 1
	}
	return histSub*(g+1) + int(v>>uint(g)-histSub)
}

// histHigh returns the largest value that falls in bucket i.
func histHigh(i int) int64 {
	if i < 2*histSub {
		return int64(i)
	}
	g := i/histSub - 1
	off := i % histSub
	low := int64(histSub+off) << uint(g)
	return low + int64(1)<<uint(g) - 1
}

// record adds one latency. Negative durations count as zero.
func (h *latencyHist) record(d time.Duration) {
	v := int64(d)
	if v < 0 {
		v = 0
	}
	h.counts[histIndex(uint64(v))]++
	h.n++
	if v > h.max {
		h.max = v
	}
}

// merge adds the values recorded in o to h.
func (h *latencyHist) merge(o *latencyHist) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// count returns how many values were recorded.
func (h *latencyHist) count() uint64 { return h.n }

// maxValue returns the largest value recorded, exactly; 0 when empty.
func (h *latencyHist) maxValue() time.Duration { return time.Duration(h.max) }

// quantile returns the nearest-rank q-quantile (0 < q <= 1): the smallest
// recorded value v such that at least q of all values are <= v, rounded up
// to the top of its bucket (never above the maximum, which is exact). It
// is 0 when the histogram is empty.
func (h *latencyHist) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			if rank == h.n || i == histBuckets-1 {
				return time.Duration(h.max) // known exactly
			}
			return time.Duration(min(histHigh(i), h.max))
		}
	}
	return time.Duration(h.max)
}
