package iotbox

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/websession"
)

// Nothing happens within PollTimeout: the box's answer without result.
func TestPollTimeout(t *testing.T) {
	f := newFixture(t, Options{PollTimeout: 50 * time.Millisecond})
	f.publish(t, "other", "x") // an event of a device nobody listens to
	r := f.poll(t, "s1", 0, "dev1")
	if r.status != http.StatusOK || strings.TrimSpace(r.raw) != `{"jsonrpc":"2.0","id":null}` {
		t.Fatalf("timeout answer = %d %s, want 200 {\"jsonrpc\":\"2.0\",\"id\":null}", r.status, r.raw)
	}
}

// Buffered events newer than last_event come back at once, oldest first,
// with the box's keys.
func TestPollReplay(t *testing.T) {
	f := newFixture(t, Options{PollTimeout: time.Minute})
	for _, v := range []string{"a", "b", "c"} {
		f.publish(t, "dev1", v)
	}
	r := f.poll(t, "s1", 0, "dev1")
	ev := mustEvent(t, r)
	if ev.Device != "dev1" || string(ev.Value) != `"a"` || ev.Session != "s1" || ev.Owner != nil || string(ev.RequestData) != "null" || ev.Time <= 0 {
		t.Fatalf("first replayed event = %s", r.Result)
	}
	var keys map[string]json.RawMessage
	_ = json.Unmarshal(r.Result, &keys)
	for _, k := range []string{"device_identifier", "time", "value", "owner", "request_data", "session_id", "device_id", "broker_id"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("event lacks %q: %s", k, r.Result)
		}
	}
	if string(r.ID) != "null" {
		t.Errorf("id = %s, want null", r.ID)
	}
}

// The cursor: successive polls, each from the time of the event before,
// walk every event of the listened devices once, in order; events at or
// before last_event never come back.
func TestPollCursor(t *testing.T) {
	f := newFixture(t, Options{PollTimeout: 50 * time.Millisecond})
	var want []string
	for i := range 6 {
		v := fmt.Sprint(i)
		f.publish(t, "dev1", v)
		f.publish(t, "dev2", "other-"+v) // not listened to
		want = append(want, `"`+v+`"`)
	}
	var got []string
	var times []float64
	last := 0.0
	for range len(want) + 1 {
		r := f.poll(t, "s1", last, "dev1")
		if r.Result == nil {
			break
		}
		ev := mustEvent(t, r)
		if ev.Device != "dev1" {
			t.Fatalf("event of %s for a dev1 listener", ev.Device)
		}
		if ev.Time <= last {
			t.Fatalf("event time %v not after last_event %v", ev.Time, last)
		}
		got = append(got, string(ev.Value))
		times = append(times, ev.Time)
		last = ev.Time
	}
	if !slices.Equal(got, want) {
		t.Fatalf("cursor walk got %v, want %v", got, want)
	}
	// From the middle: the event at last_event is excluded.
	ev := mustEvent(t, f.poll(t, "s1", times[2], "dev1"))
	if string(ev.Value) != want[3] {
		t.Fatalf("poll from the 3rd event's time got %s, want %s", ev.Value, want[3])
	}
}

func TestPollDeviceFilter(t *testing.T) {
	f := newFixture(t, Options{PollTimeout: 50 * time.Millisecond})
	f.publish(t, "dev1", "one")
	f.publish(t, "dev2", "two")
	cases := []struct {
		name    string
		devices []string
		want    string // "" = no result
	}{
		{"first listened device", []string{"dev2"}, "dev2"},
		{"either device: oldest", []string{"dev2", "dev1"}, "dev1"},
		{"unknown device", []string{"dev3"}, ""},
		{"no device", nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := f.poll(t, "s-"+c.name, 0, c.devices...)
			if c.want == "" {
				if r.Result != nil || r.Error != nil {
					t.Fatalf("want no result, got %s", r.raw)
				}
				return
			}
			if ev := mustEvent(t, r); ev.Device != c.want {
				t.Fatalf("got event of %s, want %s", ev.Device, c.want)
			}
		})
	}
}

// A waiting poll returns with the event published while it waits.
func TestPollWokenByLiveEvent(t *testing.T) {
	f := newFixture(t, Options{PollTimeout: time.Minute})
	f.publish(t, "dev1", "old")
	old := mustEvent(t, f.poll(t, "s1", 0, "dev1"))
	done := make(chan reply, 1)
	go func() { done <- f.poll(t, "s1", old.Time, "dev1") }()
	f.waitPolling(t, 1)
	f.publish(t, "dev1", "live")
	select {
	case r := <-done:
		if ev := mustEvent(t, r); string(ev.Value) != `"live"` {
			t.Fatalf("woken poll got %s, want the live event", ev.Value)
		}
	case <-time.After(waitLimit):
		t.Fatal("the waiting poll did not return after the event")
	}
}

// A newer poll with the same session_id ends the waiting one (the client
// aborted it) with no result; the newer one gets the next event. Another
// user's poll with the same session_id is not affected.
func TestNewerPollAbortsOlder(t *testing.T) {
	f := newFixture(t, Options{PollTimeout: time.Minute})
	start := float64(time.Now().UnixNano()) / 1e9
	first := make(chan reply, 1)
	go func() { first <- f.poll(t, "s1", start, "dev1") }()
	f.waitPolling(t, 1)
	second := make(chan reply, 1)
	go func() { second <- f.poll(t, "s1", start, "dev1") }()
	select {
	case r := <-first:
		if r.status != http.StatusOK || r.Result != nil || r.Error != nil {
			t.Fatalf("aborted poll answered %d %s, want no result", r.status, r.raw)
		}
	case <-time.After(waitLimit):
		t.Fatal("the older poll was not ended by the newer one")
	}
	f.waitPolling(t, 1)
	f.publish(t, "dev1", "v")
	select {
	case r := <-second:
		mustEvent(t, r)
	case <-time.After(waitLimit):
		t.Fatal("the newer poll did not get the event")
	}
}

// A poll whose client went away ends at once and frees its listener.
func TestPollClientGone(t *testing.T) {
	f := newFixture(t, Options{PollTimeout: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		r, _ := http.NewRequestWithContext(ctx, http.MethodPost, f.srv.URL+EventPath, strings.NewReader(pollBody("s1", 0, "dev1")))
		r.Header.Set("Content-Type", "application/json")
		r.AddCookie(&http.Cookie{Name: websession.Cookie, Value: f.sid})
		if resp, err := f.srv.Client().Do(r); err == nil {
			resp.Body.Close()
		}
	}()
	f.waitPolling(t, 1)
	cancel()
	<-done
	testkit.Eventually(t, waitLimit, "the poll of a gone client to stop waiting", func() bool {
		f.box.listeners.mu.Lock()
		defer f.box.listeners.mu.Unlock()
		l := f.box.listeners.m[listenerKey{2, "s1"}]
		return l == nil || l.abort == nil
	})
}

// Listeners that stop polling are dropped after 70 s; polling ones stay.
func TestIdleListenerExpiry(t *testing.T) {
	f := newFixture(t, Options{PollTimeout: 10 * time.Millisecond})
	f.poll(t, "gone", 0, "dev1")
	if n := f.box.listeners.len(); n != 1 {
		t.Fatalf("%d listeners, want 1", n)
	}
	f.clock.advance(listenerIdle + time.Minute)
	f.poll(t, "fresh", 0, "dev1")
	f.box.listeners.mu.Lock()
	_, gone := f.box.listeners.m[listenerKey{2, "gone"}]
	_, fresh := f.box.listeners.m[listenerKey{2, "fresh"}]
	f.box.listeners.mu.Unlock()
	if gone || !fresh {
		t.Fatalf("after %v idle: old listener kept=%v, new one kept=%v; want false, true", listenerIdle+time.Minute, gone, fresh)
	}
}

// Events older than the buffer window are not replayed.
func TestPollBufferWindow(t *testing.T) {
	f := newFixture(t, Options{PollTimeout: 10 * time.Millisecond, Buffer: time.Minute})
	f.publish(t, "dev1", "old")
	f.clock.advance(2 * time.Minute)
	if r := f.poll(t, "s1", 0, "dev1"); r.Result != nil {
		t.Fatalf("an event older than the buffer was replayed: %s", r.raw)
	}
}
