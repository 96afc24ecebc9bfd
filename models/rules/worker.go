package rules

import (
	"bytes"
	"container/heap"
	"context"
	"strconv"
	"sync"
	"time"
)

// job is one action to do: a rule's firing, due now or after its delay,
// and tried again after a failure at QoS 1 or 2.
type job struct {
	rule  *rule // as compiled when it fired
	t     trigger
	due   time.Time
	tries int // failed attempts so far
	size  int // bytes it holds of the queue's budget
	seq   uint64
	index int // in the heap, -1 once out
	// pending keys a delayed job waiting for its first try: a firing of
	// the same rule on the same topic replaces it.
	pending pendingKey
}

// pendingKey names a rule's delayed follow-up on one trigger key.
type pendingKey struct {
	rule int64
	key  string
}

// jobOverhead is what a job costs beyond its payload, roughly.
const jobOverhead = 256

func newJob(ru *rule, t trigger) *job {
	t.payload = bytes.Clone(t.payload) // the caller's buffer is not ours to keep
	// Due from now, not from the message's time: a clock that differs
	// must not delay or hurry the action.
	j := &job{rule: ru, t: t, due: time.Now().Add(ru.delay), size: jobOverhead + len(t.payload) + len(t.topic) + len(t.value.text)}
	if ru.delay > 0 {
		key := t.key
		if key == "" {
			key = t.topic
		}
		j.pending = pendingKey{rule: ru.id, key: key}
	}
	return j
}

// laneKey names an action's target, so that the actions on one target
// run in firing order.
func (j *job) laneKey() string {
	ru := j.rule
	switch ru.action {
	case ActionSendSignal:
		return "signal " + strconv.FormatInt(ru.signalID, 10)
	case ActionDeviceAction, ActionDeviceCommand:
		return "device " + strconv.FormatInt(ru.deviceID, 10)
	case ActionPublish:
		return "publish " + ru.topicTmpl
	}
	return "rule " + strconv.FormatInt(ru.id, 10)
}

// worker holds the jobs: one heap ordered by due time (then firing
// order) for the due and the delayed ones, whose bytes are bounded; a job
// holds its bytes from its firing until it is done or given up. The
// dispatcher (Run) hands due jobs to the lanes.
type worker struct {
	opts Options

	mu      sync.Mutex
	jobs    jobHeap
	delayed map[pendingKey]*job // delayed jobs not yet due, by rule and topic
	seq     uint64
	bytes   int
	space   chan struct{} // closed when bytes were released, then replaced
	wake    chan struct{} // wakes the dispatcher

	devMu   sync.Mutex
	devices []deviceEvent // device state changes waiting for Run
	devWake chan struct{}

	rec *recorder
}

// maxDeviceEvents bounds the device events waiting for Run (a flood of
// devices going offline together); past it the oldest are dropped and
// logged.
const maxDeviceEvents = 10000

func newWorker(opts Options) *worker {
	return &worker{opts: opts, delayed: map[pendingKey]*job{}, space: make(chan struct{}), wake: make(chan struct{}, 1), devWake: make(chan struct{}, 1), rec: newRecorder()}
}

// push queues a job, waiting while the queue's bytes are used up (a job
// larger than the whole budget goes in alone).
func (w *worker) push(ctx context.Context, j *job) error {
	for {
		w.mu.Lock()
		if j.pending.rule != 0 {
			// A delayed follow-up fired again before its time starts over:
			// one pending per rule and topic ("off 5 minutes after the last
			// motion"), which also bounds them.
			if old := w.delayed[j.pending]; old != nil && old.index >= 0 {
				heap.Remove(&w.jobs, old.index)
				w.release(old)
			}
			delete(w.delayed, j.pending)
		}
		if w.bytes == 0 || w.bytes+j.size <= w.opts.QueueBytes {
			if j.pending.rule != 0 {
				w.delayed[j.pending] = j
			}
			w.bytes += j.size
			w.seq++
			j.seq = w.seq
			heap.Push(&w.jobs, j)
			w.mu.Unlock()
			signal(w.wake)
			return nil
		}
		space := w.space
		w.mu.Unlock()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-space:
		}
	}
}

// again queues a job that failed for another try at its due time; its
// bytes are still counted.
func (w *worker) again(j *job) {
	w.mu.Lock()
	heap.Push(&w.jobs, j)
	w.mu.Unlock()
	signal(w.wake)
}

// done releases a job's bytes.
func (w *worker) done(j *job) {
	w.mu.Lock()
	w.release(j)
	w.mu.Unlock()
}

// release gives a job's bytes back; w.mu is held.
func (w *worker) release(j *job) {
	w.bytes -= j.size
	close(w.space)
	w.space = make(chan struct{})
}

// next returns the first due job, or how long until one is (0: none
// queued).
func (w *worker) next(now time.Time) (*job, time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.jobs) == 0 {
		return nil, 0
	}
	if j := w.jobs[0]; !j.due.After(now) {
		heap.Pop(&w.jobs)
		if j.pending.rule != 0 && w.delayed[j.pending] == j {
			delete(w.delayed, j.pending) // due: no longer replaceable
		}
		return j, 0
	}
	return nil, w.jobs[0].due.Sub(now)
}

// deviceEvent queues a device state change for Run.
func (w *worker) deviceEvent(ev deviceEvent) {
	w.devMu.Lock()
	if len(w.devices) >= maxDeviceEvents {
		w.devices = w.devices[1:]
	}
	w.devices = append(w.devices, ev)
	w.devMu.Unlock()
	signal(w.devWake)
}

// takeDeviceEvents returns the queued device events.
func (w *worker) takeDeviceEvents() []deviceEvent {
	w.devMu.Lock()
	defer w.devMu.Unlock()
	out := w.devices
	w.devices = nil
	return out
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// jobHeap orders jobs by due time, then firing order.
type jobHeap []*job

func (h jobHeap) Len() int { return len(h) }
func (h jobHeap) Less(i, k int) bool {
	if !h[i].due.Equal(h[k].due) {
		return h[i].due.Before(h[k].due)
	}
	return h[i].seq < h[k].seq
}
func (h jobHeap) Swap(i, k int) {
	h[i], h[k] = h[k], h[i]
	h[i].index, h[k].index = i, k
}
func (h *jobHeap) Push(x any) {
	j := x.(*job)
	j.index = len(*h)
	*h = append(*h, j)
}
func (h *jobHeap) Pop() any {
	old := *h
	j := old[len(old)-1]
	old[len(old)-1] = nil
	j.index = -1
	*h = old[:len(old)-1]
	return j
}
