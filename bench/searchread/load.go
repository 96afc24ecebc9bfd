package main

// The closed-loop driver: n workers each call, wait for the answer, and
// call again until the time is up; every latency is kept for percentiles.

import (
	"context"
	"slices"
	"sync"
	"time"
)

// result is one path's figures, summed over its rounds.
type result struct {
	name    string
	lat     []time.Duration // every request's latency, unsorted until done
	elapsed time.Duration
	peakRSS int64 // kB, 0 when not sampled
	usage   usage // resources spent during the measured windows
}

func (r *result) requests() int      { return len(r.lat) }
func (r *result) perSecond() float64 { return float64(len(r.lat)) / r.elapsed.Seconds() }

// add merges one round into r.
func (r *result) add(o result) {
	r.lat = append(r.lat, o.lat...)
	r.elapsed += o.elapsed
	r.peakRSS = max(r.peakRSS, o.peakRSS)
	r.usage = r.usage.Plus(o.usage)
}

// percentile of the latencies, nearest rank (sorts them in place).
func (r *result) percentile(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	if !slices.IsSorted(r.lat) {
		slices.Sort(r.lat)
	}
	i := int(p*float64(len(r.lat))+0.5) - 1
	return r.lat[max(0, min(i, len(r.lat)-1))]
}

// runLoad runs call from n workers for d. The first error stops every
// worker and is returned. stats, when not nil, measures the window.
func runLoad(ctx context.Context, n int, d time.Duration, call func(context.Context, int) error, stats *statSource) (result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
		lat      = make([][]time.Duration, n)
		before   usage
	)
	if stats != nil {
		before = stats.snapshot()
	}
	start := time.Now()
	deadline := start.Add(d)
	for w := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := make([]time.Duration, 0, 4096)
			for ctx.Err() == nil {
				t0 := time.Now()
				if t0.After(deadline) {
					break
				}
				if err := call(ctx, w); err != nil {
					if ctx.Err() == nil {
						errOnce.Do(func() { firstErr = err; cancel() })
					}
					break
				}
				mine = append(mine, time.Since(t0))
			}
			lat[w] = mine
		}()
	}
	wg.Wait()
	r := result{elapsed: time.Since(start)}
	if firstErr != nil {
		return r, firstErr
	}
	if err := ctx.Err(); err != nil {
		return r, err
	}
	if stats != nil {
		r.usage = stats.snapshot().Minus(before)
	}
	r.lat = slices.Concat(lat...)
	return r, nil
}
