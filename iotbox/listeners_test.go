package iotbox

import (
	"testing"
	"time"
)

func TestListenersNewerPollAbortsOlder(t *testing.T) {
	l := newListeners()
	now := time.Unix(1700000000, 0)
	a1, done1, err := l.start(listenerKey{2, "s"}, now)
	if err != nil {
		t.Fatal(err)
	}
	other, doneOther, _ := l.start(listenerKey{3, "s"}, now) // same session id, other user
	_, done2, _ := l.start(listenerKey{2, "s"}, now)
	select {
	case <-a1:
	default:
		t.Fatal("the older poll of the same listener was not aborted")
	}
	select {
	case <-other:
		t.Fatal("another user's poll with the same session_id was aborted")
	default:
	}
	done1(now) // the aborted poll ending must not clear the newer one
	done2(now)
	doneOther(now)
}

func TestListenersIdleExpiry(t *testing.T) {
	l := newListeners()
	t0 := time.Unix(1700000000, 0)
	_, doneIdle, _ := l.start(listenerKey{2, "idle"}, t0)
	doneIdle(t0)
	_, doneBusy, _ := l.start(listenerKey{2, "busy"}, t0) // still polling
	defer doneBusy(t0)
	if n := l.len(); n != 2 {
		t.Fatalf("%d listeners, want 2", n)
	}
	// A poll within the idle time keeps both.
	_, done, _ := l.start(listenerKey{2, "new"}, t0.Add(listenerIdle))
	done(t0.Add(listenerIdle))
	if n := l.len(); n != 3 {
		t.Fatalf("%d listeners after %v, want 3", n, listenerIdle)
	}
	// Past it, the idle one goes; the one still polling stays.
	later := t0.Add(listenerIdle + listenerIdle/7 + time.Second)
	_, done, _ = l.start(listenerKey{2, "later"}, later)
	done(later)
	l.mu.Lock()
	_, idle := l.m[listenerKey{2, "idle"}]
	_, busy := l.m[listenerKey{2, "busy"}]
	l.mu.Unlock()
	if idle || !busy {
		t.Fatalf("after %v: idle listener kept=%v, polling listener kept=%v; want false, true", later.Sub(t0), idle, busy)
	}
}
