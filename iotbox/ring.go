package iotbox

import (
	"math"
	"sort"
	"sync"
)

// event is one device event as the poll returns it. body is the JSON
// object of the event without its closing brace, so that each poll only
// appends its own session_id.
type event struct {
	time   float64 // strictly increasing along the ring: the poll cursor
	device string  // device_identifier
	body   []byte
}

// ring holds the recent events in time order and wakes waiting polls when
// one arrives. Events leave it when older than the buffer window or when
// it holds more than max.
type ring struct {
	mu     sync.Mutex
	events []event
	first  uint64        // sequence number of events[0]
	last   float64       // time of the newest event ever added
	wake   chan struct{} // closed and replaced by every add
	window float64       // seconds an event stays replayable
	max    int
}

func newRing(window float64, max int) *ring {
	return &ring{wake: make(chan struct{}), window: window, max: max}
}

// stamp returns the time an event reported at t enters the ring with:
// never earlier than or equal to the previous one, so that a client whose
// cursor is the previous event's time cannot skip it.
func (r *ring) stamp(t float64) float64 {
	if t <= r.last {
		t = math.Max(r.last+1e-6, math.Nextafter(r.last, math.Inf(1)))
	}
	return t
}

// add appends an event built by build from its final time, drops what is
// too old at now (epoch seconds) or beyond max, and wakes the waiting
// polls.
func (r *ring) add(device string, t, now float64, build func(t float64) []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t = r.stamp(t)
	r.last = t
	r.events = append(r.events, event{time: t, device: device, body: build(t)})
	drop := r.firstAfter(now-r.window, false)
	if n := len(r.events) - r.max; n > drop {
		drop = n
	}
	if drop > 0 {
		// Copy down rather than reslice so that the backing array does not
		// grow without bound.
		n := copy(r.events, r.events[drop:])
		clear(r.events[n:])
		r.events = r.events[:n]
		r.first += uint64(drop)
	}
	close(r.wake)
	r.wake = make(chan struct{})
}

// firstAfter is the index of the first event with time > t (or >= t when
// inclusive); times are sorted.
func (r *ring) firstAfter(t float64, inclusive bool) int {
	return sort.Search(len(r.events), func(i int) bool {
		if inclusive {
			return r.events[i].time >= t
		}
		return r.events[i].time > t
	})
}

// next returns the oldest event newer than cursor for one of devices,
// looking only at sequence numbers from seq on (what an earlier call did
// not see) and at events not older than the window at now. When there is
// none it returns the sequence number to continue from and a channel that
// is closed when the next event arrives; both come from the same locked
// view, so no event can slip in between.
func (r *ring) next(cursor float64, seq uint64, now float64, devices map[string]bool) (ev *event, nextSeq uint64, wake <-chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	start := r.firstAfter(cursor, false)
	if i := r.firstAfter(now-r.window, true); i > start {
		start = i
	}
	if seq > r.first {
		if i := int(min(seq-r.first, uint64(len(r.events)))); i > start {
			start = i
		}
	}
	for i := start; i < len(r.events); i++ {
		if devices[r.events[i].device] {
			e := r.events[i]
			return &e, 0, nil
		}
	}
	return nil, r.first + uint64(len(r.events)), r.wake
}

// len reports how many events the ring holds.
func (r *ring) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}
