package bus

import (
	"slices"
	"strings"
	"testing"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// TestBufferBoundedInBytes: however large the notes, the buffer kept for
// resuming never holds more than MaxBufferedBytes; it keeps the newest
// notes, and a client resuming from an evicted id gets the kept ones (as
// Odoo's bus, whose rows are gone, returns what it still has).
func TestBufferBoundedInBytes(t *testing.T) {
	cases := []struct {
		name        string
		opts        Options
		payload     int // bytes of each note's payload
		batches     int // published one after the other
		perBatch    int
		wantAtLeast int // notes the bound leaves room for, at least
	}{
		{"large notes over the byte bound", Options{MaxBufferedBytes: 1 << 20}, 64 << 10, 8, 10, 10},
		{"one note per batch", Options{MaxBufferedBytes: 256 << 10}, 30 << 10, 20, 1, 5},
		{"the count bound still applies", Options{MaxBuffered: 5, MaxBufferedBytes: 64 << 20}, 1 << 10, 4, 5, 5},
		{"a note larger than the bound is not kept", Options{MaxBufferedBytes: 100 << 10}, 200 << 10, 3, 1, 0},
	}
	for _, m := range modes(t) {
		for _, c := range cases {
			t.Run(m.name+"/"+c.name, func(t *testing.T) {
				modelstest.CheckLeaks(t)
				e := newEnv(t, m, c.opts)
				opts := e.bus.opts
				var published []Note
				for i := range c.batches {
					batch := make([]models.Notification, c.perBatch)
					for j := range batch {
						batch[j] = bigNote(i*c.perBatch+j, c.payload)
					}
					published = append(published, e.publish(batch...)...)
					n, bytes := e.bus.buffered(t)
					if bytes > opts.MaxBufferedBytes || n > opts.MaxBuffered {
						t.Fatalf("after batch %d the buffer holds %d notes, %d bytes: over the bounds (%d notes, %d bytes)",
							i, n, bytes, opts.MaxBuffered, opts.MaxBufferedBytes)
					}
				}

				kept := e.bus.Since([]string{mqtt.ChannelRealtime}, 0)
				if len(kept) < c.wantAtLeast || len(kept) >= len(published) {
					t.Fatalf("kept %d of %d notes, want at least %d and not all", len(kept), len(published), c.wantAtLeast)
				}
				if newest := ids(published[len(published)-len(kept):]); !slices.Equal(ids(kept), newest) {
					t.Fatalf("kept %v, want the newest %v", ids(kept), newest)
				}
				for _, k := range kept {
					if len(k.Payload) < c.payload {
						t.Fatalf("note %d kept with a %d-byte payload, want its %d bytes", k.ID, len(k.Payload), c.payload)
					}
				}

				// Resuming from the first id, long evicted.
				sub := e.bus.Subscribe([]string{mqtt.ChannelRealtime}, published[0].ID)
				defer sub.Close()
				var replay []Note
				select {
				case replay = <-sub.Notes():
				default: // nothing kept: nothing pending
				}
				if !slices.Equal(ids(replay), ids(kept)) {
					t.Fatalf("resuming from evicted id %d replayed %v, want the kept %v", published[0].ID, ids(replay), ids(kept))
				}
				// And it still gets what comes next.
				live := e.publish(bigNote(-1, 16))
				if got := collect(t, sub, 1); !slices.Equal(ids(got), ids(live)) {
					t.Fatalf("after the replay got %v, want %v", ids(got), ids(live))
				}
			})
		}
	}
}

// bigNote is a realtime note whose payload encodes to at least size bytes.
func bigNote(i, size int) models.Notification {
	return models.Notification{Channel: mqtt.ChannelRealtime, Type: mqtt.NoteMessage,
		Payload: map[string]any{"n": i, "payload": strings.Repeat("p", size)}}
}

// buffered reports the notes and bytes the ring holds, checking that its
// running byte count matches its notes.
func (b *Bus) buffered(t testing.TB) (int, int64) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var sum int64
	for _, n := range b.buf.notes {
		sum += n.size()
	}
	if sum != b.buf.bytes {
		t.Fatalf("ring counts %d bytes, its notes hold %d", b.buf.bytes, sum)
	}
	return len(b.buf.notes), sum
}

// TestQueueBoundedInBytes: notifications waiting to be published hold at
// most QueueBytes; the rest are dropped and counted, except one note on
// its own, however large; published notes give their bytes back.
func TestQueueBoundedInBytes(t *testing.T) {
	cases := []struct {
		name        string
		opts        Options
		payload     int
		notes       int
		wantQueued  int // notes that fit while nothing publishes
		wantDropped int64
	}{
		{"large notes over the byte bound", Options{QueueBytes: 1 << 20}, 100 << 10, 30, 10, 20},
		{"the count bound still applies", Options{QueueSize: 4, QueueBytes: 64 << 20}, 1 << 10, 10, 4, 6},
		{"one note larger than the bound passes an empty queue", Options{QueueBytes: 64 << 10}, 100 << 10, 3, 1, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			modelstest.CheckLeaks(t)
			b := newBus(t, c.opts)
			for i := range c.notes {
				b.Notify(t.Context(), bigNote(i, c.payload))
				if q := b.queued.Load(); q > b.opts.QueueBytes && len(b.queue) > 1 {
					t.Fatalf("after note %d the queue holds %d bytes in %d notes, over %d", i, q, len(b.queue), b.opts.QueueBytes)
				}
			}
			if len(b.queue) != c.wantQueued || b.Dropped() != c.wantDropped {
				t.Fatalf("queued %d, dropped %d; want %d and %d", len(b.queue), b.Dropped(), c.wantQueued, c.wantDropped)
			}
			// Once published, the queue's bytes are free again.
			serveBus(t, modelstest.New(t, modelstest.Options{Notifier: b}), b)
			if !testkit.Poll(guard, func() bool { return len(b.queue) == 0 && b.queued.Load() == 0 }) {
				t.Fatalf("queue holds %d bytes in %d notes though the bus runs", b.queued.Load(), len(b.queue))
			}
		})
	}
}
