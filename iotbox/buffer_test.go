package iotbox

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestPollBufferBoundedInBytes: however large the device events, the box
// keeps at most BufferMaxBytes of them, the newest; a client whose cursor
// is older than every kept event (the ones after it were evicted) resumes
// from the oldest kept one, and walks the rest in order.
func TestPollBufferBoundedInBytes(t *testing.T) {
	cases := []struct {
		name        string
		opts        Options
		value       int // bytes of each event's value
		events      int
		wantAtLeast int // events the bound leaves room for, at least
	}{
		{"large events over the byte bound", Options{BufferMaxBytes: 256 << 10}, 16 << 10, 40, 10},
		{"small events, small bound", Options{BufferMaxBytes: 8 << 10}, 1 << 10, 30, 4},
		{"the count bound still applies", Options{BufferMax: 3, BufferMaxBytes: 64 << 20}, 1 << 10, 10, 3},
		{"an event larger than the bound is not kept", Options{BufferMaxBytes: 4 << 10}, 8 << 10, 3, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.opts.PollTimeout = 10 * time.Millisecond
			f := newFixture(t, c.opts)
			opts := f.box.opts
			var values []string
			for i := range c.events {
				v := fmt.Sprintf("%04d%s", i, strings.Repeat("v", c.value))
				values = append(values, v)
				f.publish(t, "dev1", v)
				n, bytes := f.box.ring.held()
				if bytes > opts.BufferMaxBytes || n > opts.BufferMax {
					t.Fatalf("after event %d the box holds %d events, %d bytes: over the bounds (%d events, %d bytes)",
						i, n, bytes, opts.BufferMax, opts.BufferMaxBytes)
				}
				if sum := f.box.ring.sum(); sum != bytes {
					t.Fatalf("ring counts %d bytes, its events hold %d", bytes, sum)
				}
			}
			kept, _ := f.box.ring.held()
			if kept < c.wantAtLeast || kept >= c.events {
				t.Fatalf("kept %d of %d events, want at least %d and not all", kept, c.events, c.wantAtLeast)
			}

			// From cursor 0, long evicted: the kept events, newest ones, in order.
			cursor := 0.0
			for _, want := range values[c.events-kept:] {
				ev := mustEvent(t, f.poll(t, "s1", cursor, "dev1"))
				if string(ev.Value) != `"`+want+`"` {
					t.Fatalf("resumed with value %.12s…, want %.12s…", ev.Value, want)
				}
				cursor = ev.Time
			}
			if r := f.poll(t, "s1", cursor, "dev1"); r.Result != nil {
				t.Fatalf("an event after the newest: %.80s", r.raw)
			}
		})
	}
}

// sum is the size of the held events, counted afresh.
func (r *ring) sum() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var s int64
	for _, e := range r.events {
		s += e.size()
	}
	return s
}
