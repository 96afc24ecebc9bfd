package rpc

import (
	"fmt"
	"testing"
	"time"
)

// fakeClock is a settable time source for the limiter.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newTestLimiter(limit, max int) (*loginLimiter, *fakeClock) {
	clock := &fakeClock{t: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := newLoginLimiter(limit, time.Minute, max)
	l.now = clock.now
	return l, clock
}

func TestLoginLimiter(t *testing.T) {
	type step struct {
		op    string // "fail", "wait"
		addr  string
		wait  time.Duration
		allow map[string]bool // expected allow() afterwards
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"under the limit", []step{
			{op: "fail", addr: "a", allow: map[string]bool{"a": true}},
			{op: "fail", addr: "a", allow: map[string]bool{"a": true}},
		}},
		{"blocked at the limit, others unaffected", []step{
			{op: "fail", addr: "a"}, {op: "fail", addr: "a"},
			{op: "fail", addr: "a", allow: map[string]bool{"a": false, "b": true}},
		}},
		{"window expires", []step{
			{op: "fail", addr: "a"}, {op: "fail", addr: "a"}, {op: "fail", addr: "a"},
			{op: "wait", wait: 59 * time.Second, allow: map[string]bool{"a": false}},
			{op: "wait", wait: time.Second, allow: map[string]bool{"a": true}},
		}},
		{"window starts at the first failure", []step{
			{op: "fail", addr: "a"},
			{op: "wait", wait: 50 * time.Second},
			{op: "fail", addr: "a"},
			{op: "wait", wait: 10 * time.Second},
			{op: "fail", addr: "a"}, {op: "fail", addr: "a"},
			{op: "fail", addr: "a", allow: map[string]bool{"a": false}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, clock := newTestLimiter(3, 100)
			for i, s := range tt.steps {
				switch s.op {
				case "fail":
					l.fail(s.addr)
				case "wait":
					clock.advance(s.wait)
				}
				for addr, want := range s.allow {
					if got := l.allow(addr); got != want {
						t.Errorf("step %d: allow(%s) = %v, want %v", i, addr, got, want)
					}
				}
			}
		})
	}
}

// TestLoginLimiterReportsTheBlockingFailure: fail says when a key has just
// used up its allowance, once, so the throttle logs a cooldown once.
func TestLoginLimiterReportsTheBlockingFailure(t *testing.T) {
	l, clock := newTestLimiter(3, 100)
	var got []bool
	for range 5 {
		got = append(got, l.fail("a"))
	}
	clock.advance(time.Minute)
	got = append(got, l.fail("a"))
	if want := []bool{false, false, true, false, false, false}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("fail() = %v, want %v", got, want)
	}
}

// TestLoginLimiterBounded checks that a flood of addresses cannot grow the
// map past its bound, that expired entries go first, and that a blocked
// address stays blocked while it is not the oldest.
func TestLoginLimiterBounded(t *testing.T) {
	l, clock := newTestLimiter(1, 10)
	l.fail("victim-old")
	clock.advance(time.Second)
	l.fail("blocked")
	for i := 0; i < 1000; i++ {
		clock.advance(time.Millisecond)
		l.fail(fmt.Sprintf("flood-%d", i))
		if n := l.size(); n > 10 {
			t.Fatalf("size %d after %d addresses, bound 10", n, i)
		}
	}
	if !l.allow("victim-old") {
		t.Error("the oldest entry should have been evicted")
	}

	l2, clock2 := newTestLimiter(1, 3)
	l2.fail("a")
	l2.fail("b")
	clock2.advance(2 * time.Minute)
	l2.fail("c")
	l2.fail("d") // full: a and b expired, both swept
	if n := l2.size(); n != 2 {
		t.Errorf("size = %d, want 2 (expired swept)", n)
	}
	if l2.allow("c") || l2.allow("d") {
		t.Error("c and d should be blocked")
	}
}
