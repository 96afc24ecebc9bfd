package main

// A latency histogram with bounded memory: 1,000 WebSocket clients
// receiving 500 notifications a second for 10 s are 5 million samples,
// too many to keep and sort. Buckets are log-linear in microseconds (64
// per power of two), so a percentile is off by at most 1/64 (1.6%); the
// count and the maximum are exact.

import (
	"math/bits"
	"time"
)

const (
	histSub     = 64 // buckets per power of two
	histBuckets = histSub * 40
)

// hist is not safe for concurrent use: each goroutine keeps its own, and
// they are merged once the goroutines are done.
type hist struct {
	counts [histBuckets]uint32
	n      int64
	max    time.Duration
}

func bucketOf(us uint64) int {
	if us < histSub {
		return int(us)
	}
	shift := bits.Len64(us) - 7 // us>>shift is in [64, 128)
	i := histSub*(shift+1) + int(us>>shift) - histSub
	return min(i, histBuckets-1)
}

// lowerBound is the smallest value, in µs, of bucket i.
func lowerBound(i int) uint64 {
	if i < histSub {
		return uint64(i)
	}
	shift := i/histSub - 1
	return uint64(i%histSub+histSub) << shift
}

// add records one latency; a negative one (clocks are the same here, so
// only rounding) counts as zero.
func (h *hist) add(d time.Duration) {
	d = max(d, 0)
	h.counts[bucketOf(uint64(d/time.Microsecond))]++
	h.n++
	h.max = max(h.max, d)
}

func (h *hist) merge(o *hist) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// quantile is the value under which a fraction q of the samples lie: the
// middle of the bucket holding the sample of rank ceil(q·n), never above
// the maximum. 0 when empty.
func (h *hist) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := int64(q*float64(h.n) + 0.999999)
	rank = min(max(rank, 1), h.n)
	var seen int64
	for i, c := range h.counts {
		seen += int64(c)
		if seen >= rank {
			lo, hi := lowerBound(i), lowerBound(i+1)
			mid := time.Duration((lo+hi)/2) * time.Microsecond
			return min(mid, h.max)
		}
	}
	return h.max
}
