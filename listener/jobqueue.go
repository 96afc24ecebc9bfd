package listener

import (
	"context"
	"sync"
)

// A job queue hands work from the batch writer to one of the Service's
// workers (device ingestion, rule evaluation) after a batch is committed
// and acknowledged: one job per broker and batch, taken in order by the
// one worker, so each broker's messages keep their arrival order.

// job is one broker's messages of one batch, for a worker.
type job[M any] struct {
	broker int64
	msgs   []M
	size   int // the bytes it counts in its queue
}

// jobQueue is bounded in bytes, counting the job in progress: when the
// next job does not fit, the writer waits (back-pressure: its batches are
// committed and acknowledged, so waiting only slows intake; nothing is
// dropped). A job larger than the bound goes through alone. One producer
// (the writer), one consumer (the worker).
type jobQueue[M any] struct {
	max   int
	ready chan struct{} // a job queued, or the queue closed
	space chan struct{} // bytes released

	mu     sync.Mutex
	jobs   []job[M]
	bytes  int // queued and in progress
	msgs   int
	closed bool // no more jobs: the writer has ended
	lost   int  // messages the writer could not queue (drain deadline)
}

func newJobQueue[M any](maxBytes int) *jobQueue[M] {
	return &jobQueue[M]{max: maxBytes, ready: make(chan struct{}, 1), space: make(chan struct{}, 1)}
}

func poke(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// push queues a job, waiting for room until ctx ends; then the job is
// counted lost and push reports false. waited is called once when push
// has to wait.
func (q *jobQueue[M]) push(ctx context.Context, j job[M], waited func()) bool {
	for first := true; ; first = false {
		q.mu.Lock()
		if q.bytes == 0 || q.bytes+j.size <= q.max {
			q.jobs = append(q.jobs, j)
			q.bytes += j.size
			q.msgs += len(j.msgs)
			q.mu.Unlock()
			poke(q.ready)
			return true
		}
		if ctx.Err() != nil {
			q.lost += len(j.msgs)
			q.mu.Unlock()
			return false
		}
		q.mu.Unlock()
		if first {
			waited()
		}
		select {
		case <-q.space:
		case <-ctx.Done():
		}
	}
}

// pop returns the next job, waiting for one; false once the queue is
// closed and empty. The job's bytes stay counted until done.
func (q *jobQueue[M]) pop() (job[M], bool) {
	for {
		q.mu.Lock()
		if len(q.jobs) > 0 {
			j := q.jobs[0]
			q.jobs[0] = job[M]{}
			q.jobs = q.jobs[1:]
			if len(q.jobs) == 0 {
				q.jobs = nil
			}
			q.mu.Unlock()
			return j, true
		}
		closed := q.closed
		q.mu.Unlock()
		if closed {
			return job[M]{}, false
		}
		<-q.ready
	}
}

// done releases a popped job's bytes.
func (q *jobQueue[M]) done(j job[M]) {
	q.mu.Lock()
	q.bytes -= j.size
	q.msgs -= len(j.msgs)
	q.mu.Unlock()
	poke(q.space)
}

// close tells the worker that no job follows.
func (q *jobQueue[M]) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	poke(q.ready)
}

// takeLost returns, and resets, the messages push could not queue.
func (q *jobQueue[M]) takeLost() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := q.lost
	q.lost = 0
	return n
}

// size reports the bytes and messages queued or in progress.
func (q *jobQueue[M]) size() (bytes, msgs int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.bytes, q.msgs
}

// groupByBroker appends each batch item that keep accepts, converted by
// conv, to its broker's job, in arrival order; jobs come in the order
// their broker first appears. jobOf is a scratch map (nil: one is
// made), left empty. A first pass counts each job's messages, so that
// each job's slice is allocated once at its size: a batch is up to a
// thousand messages, and growing the slices by doubling cost more than
// the second pass over the batch (keep is called twice per item).
func groupByBroker[M any](batch []item, jobOf map[int64]int, keep func(*item) bool, conv func(*item) (M, int)) []job[M] {
	var jobs []job[M]
	if jobOf == nil {
		jobOf = map[int64]int{}
	}
	defer clear(jobOf)
	var counts []int
	for i := range batch {
		it := &batch[i]
		if !keep(it) {
			continue
		}
		k, ok := jobOf[it.broker]
		if !ok {
			k = len(counts)
			jobOf[it.broker] = k
			counts = append(counts, 0)
		}
		counts[k]++
	}
	if len(counts) == 0 {
		return nil
	}
	jobs = make([]job[M], len(counts))
	for i := range batch {
		it := &batch[i]
		if !keep(it) {
			continue
		}
		j := &jobs[jobOf[it.broker]]
		if j.msgs == nil {
			j.broker = it.broker
			j.msgs = make([]M, 0, counts[jobOf[it.broker]])
		}
		m, n := conv(it)
		j.msgs = append(j.msgs, m)
		j.size += n
	}
	return jobs
}
