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

// eventOverhead approximates what a held event costs besides its device
// and body bytes: the event itself and its string and slice headers.
const eventOverhead = 64

// size is the approximate memory a held event keeps, which the ring's byte
// bound counts.
func (e event) size() int64 { return int64(len(e.device)+cap(e.body)) + eventOverhead }

// ring holds the recent events in time order and wakes waiting polls when
// one arrives. Events leave it, oldest first, when older than the buffer
// window or when it holds more than max events or maxBytes bytes.
type ring struct {
	mu       sync.Mutex
	events   []event
	bytes    int64         // sum of the held events' size
	first    uint64        // sequence number of events[0]
	last     float64       // time of the newest event ever added
	wake     chan struct{} // closed and replaced by every add
	window   float64       // seconds an event stays replayable
	max      int
	maxBytes int64
}

func newRing(window float64, max int, maxBytes int64) *ring {
	return &ring{wake: make(chan struct{}), window: window, max: max, maxBytes: maxBytes}
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
// too old at now (epoch seconds) or beyond max or maxBytes, and wakes the
// waiting polls. An event larger than maxBytes on its own is dropped at
// once: polls waiting now still miss it, as they would a later one.
func (r *ring) add(device string, t, now float64, build func(t float64) []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t = r.stamp(t)
	r.last = t
	ev := event{time: t, device: device, body: build(t)}
	r.events = append(r.events, ev)
	r.bytes += ev.size()
	drop := r.firstAfter(now-r.window, false)
	if n := len(r.events) - r.max; n > drop {
		drop = n
	}
	excess := r.bytes - r.maxBytes
	for _, e := range r.events[:drop] {
		excess -= e.size()
	}
	for ; excess > 0 && drop < len(r.events); drop++ {
		excess -= r.events[drop].size()
	}
	if drop > 0 {
		for _, e := range r.events[:drop] {
			r.bytes -= e.size()
		}
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

// held reports how many events and bytes the ring holds.
func (r *ring) held() (int, int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events), r.bytes
}
