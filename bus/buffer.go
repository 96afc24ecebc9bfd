package bus

import (
	"sort"
	"time"
)

// ring holds the recent notes in id order, for replay on resume. It is
// bounded by count and by age; the Bus guards it with its mutex.
type ring struct {
	notes []Note
	max   int
}

// add appends notes (ids above every held one) and drops the oldest over
// the count bound.
func (r *ring) add(notes []Note) {
	r.notes = append(r.notes, notes...)
	if over := len(r.notes) - r.max; over > 0 {
		r.drop(over)
	}
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
	clear(r.notes[:n])
	r.notes = r.notes[n:]
	if len(r.notes) == 0 {
		r.notes = nil
	}
}

// since returns the held notes with id > last on channels (all channels
// when channels is nil), in id order, in a new slice.
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
