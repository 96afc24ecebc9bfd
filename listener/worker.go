package listener

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// worker is one of the Service's after-commit workers (device ingestion,
// rule evaluation): the queue it takes jobs from, what it does with each,
// and how it counts and tells its failures.
type worker[M any] struct {
	q             *jobQueue[M]
	call          func(ctx context.Context, brokerID int64, msgs []M) error
	retries, lost prometheus.Counter
	// Log messages: the first failure of an outage, the success after
	// it, and what shutdown gave up.
	failing, recovered, gaveUp string
}

// runWorker runs w's jobs in order until its queue is closed and empty.
// It retries a failed job with capped exponential backoff until it
// succeeds or ctx ends (the drain deadline at shutdown); then it counts
// the rest lost.
func runWorker[M any](ctx context.Context, log *slog.Logger, w worker[M]) {
	failing := false
	lost := 0
	var lastErr error
	for {
		j, ok := w.q.pop()
		if !ok {
			break
		}
		if err := runJob(ctx, log, w, j, &failing); err != nil {
			lost += len(j.msgs)
			lastErr = err
		}
		w.q.done(j)
	}
	lost += w.q.takeLost()
	if lost > 0 {
		if lastErr == nil { // only the writer's, refused at the deadline
			lastErr = ctx.Err()
		}
		w.lost.Add(float64(lost))
		log.Error(w.gaveUp, slog.Int("messages", lost), slog.Any("error", lastErr))
	}
}

// runJob runs one job, retrying until it succeeds or ctx ends. failing
// is the worker's state between a failure and the next success, so that
// an outage is logged once.
func runJob[M any](ctx context.Context, log *slog.Logger, w worker[M], j job[M], failing *bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	retry := &backoff{initial: 50 * time.Millisecond, factor: 2, max: 5 * time.Second}
	for {
		err := w.call(ctx, j.broker, j.msgs)
		if err == nil {
			if *failing {
				*failing = false
				log.Info(w.recovered)
			}
			return nil
		}
		if ctx.Err() != nil {
			return err
		}
		w.retries.Inc()
		if !*failing {
			*failing = true
			log.Warn(w.failing, slog.Int64("broker_id", j.broker), slog.Int("messages", len(j.msgs)), slog.Any("error", err))
		}
		t := time.NewTimer(retry.next())
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return err
		}
	}
}
