package iotbox

import (
	"fmt"
	"testing"
)

func addAt(r *ring, device string, t, now float64) float64 {
	var got float64
	r.add(device, t, now, func(t float64) []byte { got = t; return []byte(fmt.Sprintf(`{"t":%v`, t)) })
	return got
}

// Events that share a time, or come with an older one, enter the ring
// with strictly increasing times: a cursor equal to one event's time must
// never hide the next.
func TestRingStampsStrictlyIncreasing(t *testing.T) {
	r := newRing(60, 100, 1<<30)
	times := []float64{1700000000.5, 1700000000.5, 1700000000.5, 1700000000.1, 1700000001}
	var prev float64
	for i, tm := range times {
		got := addAt(r, "d", tm, 1700000001)
		if got <= prev {
			t.Fatalf("event %d: time %v not after %v", i, got, prev)
		}
		if tm > prev && got != tm {
			t.Fatalf("event %d: time %v changed to %v though it was already the newest", i, tm, got)
		}
		prev = got
	}
	// Walk the cursor: every event comes back once, in order.
	cursor, seen := 0.0, 0
	for {
		ev, _, _ := r.next(cursor, 0, 1700000001, map[string]bool{"d": true})
		if ev == nil {
			break
		}
		cursor = ev.time
		seen++
	}
	if seen != len(times) {
		t.Fatalf("cursor walk saw %d events, want %d", seen, len(times))
	}
}

func TestRingNext(t *testing.T) {
	r := newRing(10, 100, 1<<30)
	addAt(r, "a", 100, 100)
	addAt(r, "b", 101, 101)
	addAt(r, "a", 102, 102)
	cases := []struct {
		name    string
		cursor  float64
		now     float64
		devices []string
		want    float64 // 0: none
	}{
		{"oldest newer than cursor", 0, 102, []string{"a", "b"}, 100},
		{"cursor is exclusive", 100, 102, []string{"a", "b"}, 101},
		{"device filter", 100, 102, []string{"a"}, 102},
		{"unknown device", 0, 102, []string{"c"}, 0},
		{"nothing after the last", 102, 102, []string{"a", "b"}, 0},
		{"older than the window is not replayed", 0, 111, []string{"a", "b"}, 101},
		{"all expired", 0, 200, []string{"a", "b"}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			devs := map[string]bool{}
			for _, d := range c.devices {
				devs[d] = true
			}
			ev, _, wake := r.next(c.cursor, 0, c.now, devs)
			switch {
			case c.want == 0 && ev != nil:
				t.Fatalf("got event at %v, want none", ev.time)
			case c.want == 0 && wake == nil:
				t.Fatal("no event and no wake channel")
			case c.want != 0 && (ev == nil || ev.time != c.want):
				t.Fatalf("got %+v, want the event at %v", ev, c.want)
			}
		})
	}
}

// A waiter is woken by the next add, and resuming from the sequence number
// it got sees exactly the new events.
func TestRingWakeAndResume(t *testing.T) {
	r := newRing(60, 100, 1<<30)
	addAt(r, "a", 1, 1)
	ev, seq, wake := r.next(1, 0, 1, map[string]bool{"a": true})
	if ev != nil {
		t.Fatal("no event should be newer than the cursor")
	}
	select {
	case <-wake:
		t.Fatal("woken before any add")
	default:
	}
	addAt(r, "b", 2, 2)
	<-wake // closed by the add, or the test hangs
	ev, seq, wake = r.next(1, seq, 2, map[string]bool{"a": true})
	if ev != nil {
		t.Fatal("an event of another device must not match")
	}
	addAt(r, "a", 3, 3)
	<-wake
	if ev, _, _ = r.next(1, seq, 3, map[string]bool{"a": true}); ev == nil || ev.time != 3 {
		t.Fatalf("after resume got %+v, want the event at 3", ev)
	}
}

func TestRingMax(t *testing.T) {
	r := newRing(60, 3, 1<<30)
	for i := 1; i <= 5; i++ {
		addAt(r, "a", float64(i), 5)
	}
	if n := r.len(); n != 3 {
		t.Fatalf("ring holds %d events, want 3", n)
	}
	if ev, _, _ := r.next(0, 0, 5, map[string]bool{"a": true}); ev == nil || ev.time != 3 {
		t.Fatalf("oldest kept event %+v, want the one at 3", ev)
	}
	// A waiter's sequence number from before the drop still resumes at
	// the right place.
	_, seq, _ := r.next(5, 0, 5, map[string]bool{"a": true})
	addAt(r, "a", 6, 6)
	addAt(r, "a", 7, 7)
	if ev, _, _ := r.next(5, seq, 7, map[string]bool{"a": true}); ev == nil || ev.time != 6 {
		t.Fatalf("resume after drops got %+v, want the event at 6", ev)
	}
}
