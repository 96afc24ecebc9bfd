package main

// recorder collects one path's receipts during the latency step: each
// sequence number in the measured range once, its latency from the send
// time the payload carries to the moment the bench had it.

import (
	"sync"
	"time"
)

type recorder struct {
	name string
	lo   int64 // measured sequence numbers: [lo, lo+len(seen))

	mu       sync.Mutex
	seen     []bool
	h        hist
	received int64
	dup      int64
	last     time.Time // latest receipt in range
}

func newRecorder(name string, lo int64, n int) *recorder {
	return &recorder{name: name, lo: lo, seen: make([]bool, n)}
}

// record notes seq, sent at sentNanos, received at at. Sequence numbers
// outside the range (warm-up, probes) are ignored.
func (r *recorder) record(seq, sentNanos int64, at time.Time) {
	i := seq - r.lo
	r.mu.Lock()
	defer r.mu.Unlock()
	if i < 0 || i >= int64(len(r.seen)) {
		return
	}
	if r.seen[i] {
		r.dup++
		return
	}
	r.seen[i] = true
	r.received++
	r.h.add(at.Sub(time.Unix(0, sentNanos)))
	r.last = at
}

// count is the distinct messages received so far.
func (r *recorder) count() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.received
}

// pathResult is a recorder's figures once the step is over.
type pathResult struct {
	name     string
	expected int64
	received int64
	dup      int64
	h        hist
}

func (r *recorder) result(expected int64) pathResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	return pathResult{name: r.name, expected: expected, received: r.received, dup: r.dup, h: r.h}
}

func (p pathResult) lost() int64 { return max(0, p.expected-p.received) }
