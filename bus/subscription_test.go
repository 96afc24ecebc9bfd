package bus

import (
	"errors"
	"slices"
	"testing"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// TestSubscriberBoundedInBytes: a subscriber that stops reading holds at
// most SubscriberBufferBytes of unread notes (as well as SubscriberBuffer
// notes); over it, it is cut off as too slow after getting what it was
// owed, and resuming from its last id brings the rest from the buffer. A
// reader that keeps up gets notes larger than the bound.
func TestSubscriberBoundedInBytes(t *testing.T) {
	cases := []struct {
		name     string
		opts     Options
		payload  int // bytes of each note's payload
		batches  int // published one after the other
		perBatch int
		reads    bool // the subscriber takes each batch as it comes
		wantCut  bool
	}{
		{"large notes over the byte bound", Options{SubscriberBufferBytes: 1 << 20}, 64 << 10, 10, 5, false, true},
		{"the count bound still applies", Options{SubscriberBuffer: 8, SubscriberBufferBytes: 64 << 20}, 1 << 10, 10, 2, false, true},
		{"a reader that keeps up takes notes larger than the bound", Options{SubscriberBufferBytes: 64 << 10}, 128 << 10, 5, 1, true, false},
	}
	for _, m := range modes(t) {
		for _, c := range cases {
			t.Run(m.name+"/"+c.name, func(t *testing.T) {
				modelstest.CheckLeaks(t)
				e := newEnv(t, m, c.opts)
				opts := e.bus.opts
				from := e.bus.LastID()
				sub := e.bus.Subscribe([]string{mqtt.ChannelRealtime}, from)
				defer func() { sub.Close() }()
				var published, got []Note
				for i := range c.batches {
					batch := make([]models.Notification, c.perBatch)
					for j := range batch {
						batch[j] = bigNote(i*c.perBatch+j, c.payload)
					}
					published = append(published, e.publish(batch...)...)
					if c.reads {
						got = append(got, collect(t, sub, len(batch))...)
					}
				}
				if !c.wantCut {
					if err := sub.Err(); err != nil || !slices.Equal(ids(got), ids(published)) {
						t.Fatalf("got %v (%v), want every note %v", ids(got), err, ids(published))
					}
					return
				}

				if !testkit.Poll(guard, func() bool { return sub.Err() != nil }) {
					t.Fatalf("a subscriber that read nothing of %d notes (%d bytes) was not cut off (bounds: %d notes, %d bytes)",
						len(published), notesSize(published), opts.SubscriberBuffer, opts.SubscriberBufferBytes)
				}
				for batch := range sub.Notes() {
					got = append(got, batch...)
				}
				if !errors.Is(sub.Err(), ErrTooSlow) {
					t.Fatalf("Err = %v, want ErrTooSlow", sub.Err())
				}
				if len(got) > opts.SubscriberBuffer || notesSize(got) > opts.SubscriberBufferBytes {
					t.Fatalf("held %d unread notes, %d bytes: over the bounds (%d notes, %d bytes)",
						len(got), notesSize(got), opts.SubscriberBuffer, opts.SubscriberBufferBytes)
				}
				if !slices.Equal(ids(got), ids(published[:len(got)])) {
					t.Fatalf("before the cut-off got %v, want a start of %v", ids(got), ids(published))
				}
				if len(got) > 0 {
					from = got[len(got)-1].ID
				}
				rest := published[len(got):]
				sub = e.bus.Subscribe([]string{mqtt.ChannelRealtime}, from)
				if more := collect(t, sub, len(rest)); !slices.Equal(ids(more), ids(rest)) {
					t.Fatalf("resumed with %v, want %v", ids(more), ids(rest))
				}
			})
		}
	}
}
