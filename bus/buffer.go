package bus

import (
	"sort"
	"time"
)

// ring holds the recent notes in id order, for replay on resume. It is
// bounded by count, by bytes (Note.size) and by age; the Bus guards it
// with its mutex. Whatever bound is hit, the oldest notes go first.
type ring struct {
	notes    []Note
	max      int
	maxBytes int64
	bytes    int64 // sum of the held notes' size
}

// add appends notes (ids above every held one) and drops the oldest over
// the count or the byte bound. A note larger than the byte bound on its
// own is dropped too: it was delivered live, it cannot be replayed.
func (r *ring) add(notes []Note) {
	for _, n := range notes {
		r.bytes += n.size()
	}
	r.notes = append(r.notes, notes...)
	over := len(r.notes) - r.max
	if r.bytes > r.maxBytes {
		over = max(over, r.overBytes())
	}
	r.drop(over)
}

// overBytes is how many of the oldest notes must go for the rest to fit
// in maxBytes.
func (r *ring) overBytes() int {
	excess, n := r.bytes-r.maxBytes, 0
	for ; excess > 0 && n < len(r.notes); n++ {
		excess -= r.notes[n].size()
	}
	return n
}

// expire drops the notes accepted before cutoff.
func (r *ring) expire(cutoff time.Time) {
	n := sort.Search(len(r.notes), func(i int) bool { return !r.notes[i].Time.Before(cutoff) })
	r.drop(n)
}

// drop removes the n oldest notes. Re-slicing alone would keep the dropped
// notes' payloads reachable until the next growth, so they are cleared.
func (r *ring) drop(n int) {
	if n <= 0 {
		return
	}
	for _, note := range r.notes[:n] {
		r.bytes -= note.size()
	}
	clear(r.notes[:n])
	r.notes = r.notes[n:]
	if len(r.notes) == 0 {
		r.notes, r.bytes = nil, 0
	}
}

// since returns the held notes with id > last on channels (all channels
// when channels is nil), in id order, in a new slice. A last older than
// every held note (its notes were dropped) gets all the held ones, as
// Odoo's bus does once its rows are gone: the client resumes from the
// oldest note still kept.
func (r *ring) since(channels map[string]bool, last int64) []Note {
	i := sort.Search(len(r.notes), func(i int) bool { return r.notes[i].ID > last })
	var out []Note
	for _, n := range r.notes[i:] {
		if channels == nil || channels[n.Channel] {
			out = append(out, n)
		}
	}
	return out
}

// oldest is the id of the oldest held note, 0 when empty.
func (r *ring) oldest() int64 {
	if len(r.notes) == 0 {
		return 0
	}
	return r.notes[0].ID
}
