package bus

import (
	"errors"
	"slices"
)

// Why a subscription's channel was closed (Subscription.Err).
var (
	ErrClosed  = errors.New("bus: subscription closed")
	ErrStopped = errors.New("bus: stopped")
	ErrTooSlow = errors.New("bus: subscriber fell too far behind; resume from the last id received")
)

// Subscription is a live feed of the notes on some channels. Its channel
// carries batches of notes in id order; batches the reader has not taken
// yet are merged, so a reader gets everything pending in one receive.
type Subscription struct {
	b        *Bus
	channels map[string]bool
	list     []string

	// Guarded by b.mu: every send and the close happen under it, so a
	// send never races the close and the merge below never blocks.
	ch     chan []Note
	unread int64 // size of the notes in ch (Note.size), when it is full
	err    error
	closed bool
}

// Notes returns the feed. It is closed on Close, when the bus stops, or
// when the subscriber fell too far behind (Err tells which).
func (s *Subscription) Notes() <-chan []Note { return s.ch }

// Channels returns the channels subscribed to.
func (s *Subscription) Channels() []string { return slices.Clone(s.list) }

// Err reports why the feed was closed: ErrClosed, ErrStopped or
// ErrTooSlow; nil while it is open.
func (s *Subscription) Err() error {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	return s.err
}

// Close ends the subscription. A batch already pending may still be
// received before the closed channel.
func (s *Subscription) Close() {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	s.b.endLocked(s, ErrClosed)
}

// push hands notes (of size bytes in all) to the reader, merging them
// with a batch it has not taken yet. It reports false when that leaves
// more than limit notes or limitBytes bytes unread: the subscriber is too
// slow. A batch into an empty channel always goes, however large, as the
// count bound lets it: the reader keeps up, the notes are shared with the
// buffer. b.mu is held, so this goroutine is the only sender and the
// channel (capacity 1) is empty once drained.
func (s *Subscription) push(notes []Note, size int64, limit int, limitBytes int64) bool {
	select {
	case old := <-s.ch:
		if len(old)+len(notes) > limit || s.unread+size > limitBytes {
			s.ch <- old // the reader still gets what it was owed so far
			return false
		}
		// old was never seen by the reader, so it may grow; a batch shared
		// between subscribers has no spare capacity (fanOut clips it), so
		// append copies it instead of writing into another's view.
		notes = append(old, notes...)
		size += s.unread
	default:
	}
	s.ch <- notes
	s.unread = size
	return true
}

// notesSize is the bytes notes hold, as the buffers count them.
func notesSize(notes []Note) int64 {
	var n int64
	for _, note := range notes {
		n += note.size()
	}
	return n
}

// matchCount reports how many of the batch's distinct channels s listens to.
func (s *Subscription) matchCount(chans []string) int {
	n := 0
	for _, c := range chans {
		if s.channels[c] {
			n++
		}
	}
	return n
}

// filter returns the notes of notes on s's channels, in a new slice.
func (s *Subscription) filter(notes []Note) []Note {
	var out []Note
	for _, n := range notes {
		if s.channels[n.Channel] {
			out = append(out, n)
		}
	}
	return out
}
