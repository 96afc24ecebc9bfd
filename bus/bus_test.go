package bus

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/iotdevice"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// TestSubscribeReplayThenLive: a Go subscriber resuming from an id gets
// the buffered notes after it, then the live ones, in order, once each.
func TestSubscribeReplayThenLive(t *testing.T) {
	for _, m := range modes(t) {
		t.Run(m.name, func(t *testing.T) {
			modelstest.CheckLeaks(t)
			e := newEnv(t, m, Options{})
			first := e.publish(note(1), note(2), note(3))
			if !slices.IsSorted(ids(first)) || first[0].ID <= 0 {
				t.Fatalf("ids %v: want positive and increasing", ids(first))
			}
			var p map[string]any
			if err := json.Unmarshal(first[1].Payload, &p); err != nil || p["n"] != float64(2) || first[1].Type != mqtt.NoteMessage || first[1].Channel != mqtt.ChannelRealtime {
				t.Fatalf("note 2 = %+v (payload %s)", first[1], first[1].Payload)
			}

			sub := e.bus.Subscribe([]string{mqtt.ChannelRealtime}, first[0].ID)
			defer sub.Close()
			live := e.publish(note(4), note(5))
			got := collect(t, sub, 4)
			want := append(ids(first[1:]), ids(live)...)
			if !slices.Equal(ids(got), want) {
				t.Fatalf("replay then live = %v, want %v", ids(got), want)
			}
			if since := e.bus.Since([]string{mqtt.ChannelRealtime}, first[2].ID); !slices.Equal(ids(since), ids(live)) {
				t.Fatalf("Since = %v, want %v", ids(since), ids(live))
			}
			if got := e.bus.LastID(); got != live[1].ID {
				t.Fatalf("LastID = %d, want %d", got, live[1].ID)
			}
		})
	}
}

// TestResumeRules: Odoo's rule that a last id from the future means
// everything buffered, and channel filtering.
func TestResumeRules(t *testing.T) {
	modelstest.CheckLeaks(t)
	e := newEnv(t, modes(t)[0], Options{})
	a := e.publish(note(1), models.Notification{Channel: mqtt.ChannelListener, Type: mqtt.NoteListenerState, Payload: "x"}, note(3))
	rt := []int64{a[0].ID, a[2].ID}
	cases := []struct {
		name     string
		channels []string
		last     int64
		want     []int64
	}{
		{"from zero", []string{mqtt.ChannelRealtime}, 0, rt},
		{"from the future", []string{mqtt.ChannelRealtime}, a[2].ID + 1000, rt},
		{"negative", []string{mqtt.ChannelRealtime}, -5, rt},
		{"from the newest", []string{mqtt.ChannelRealtime}, a[2].ID, nil},
		{"other channel", []string{mqtt.ChannelListener}, 0, []int64{a[1].ID}},
		{"both", []string{mqtt.ChannelListener, mqtt.ChannelRealtime}, a[0].ID, ids(a[1:])},
		{"none", nil, 0, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := ids(e.bus.Since(c.channels, c.last)); !slices.Equal(got, c.want) && len(got)+len(c.want) > 0 {
				t.Fatalf("Since = %v, want %v", got, c.want)
			}
			sub := e.bus.Subscribe(c.channels, c.last)
			defer sub.Close()
			var got []int64
			select {
			case batch := <-sub.Notes():
				got = ids(batch)
			default: // nothing to replay: nothing is pending
			}
			if !slices.Equal(got, c.want) && len(got)+len(c.want) > 0 {
				t.Fatalf("Subscribe replay = %v, want %v", got, c.want)
			}
		})
	}
}

// TestSlowSubscriber: a subscriber that leaves more than SubscriberBuffer
// notes unread is cut off with ErrTooSlow after receiving what it was owed,
// and resumes without a gap from its last id.
func TestSlowSubscriber(t *testing.T) {
	modelstest.CheckLeaks(t)
	e := newEnv(t, modes(t)[0], Options{SubscriberBuffer: 10})
	from := e.bus.LastID()
	slow := e.bus.Subscribe([]string{mqtt.ChannelRealtime}, from)
	defer slow.Close()
	var first, second []models.Notification
	for i := range 8 {
		first = append(first, note(i))
		second = append(second, note(100+i))
	}
	a := e.publish(first...)
	b := e.publish(second...) // 16 unread > 10
	var got []Note
	for batch := range slow.Notes() {
		got = append(got, batch...)
	}
	if !errors.Is(slow.Err(), ErrTooSlow) {
		t.Fatalf("Err = %v, want ErrTooSlow", slow.Err())
	}
	// What arrived before the cut-off depends on how the batcher grouped
	// the notes; it must be a gap-free start of what was published, and
	// resuming from its last id must bring exactly the rest.
	all := append(ids(a), ids(b)...)
	if len(got) >= len(all) || !slices.Equal(ids(got), all[:len(got)]) {
		t.Fatalf("before the cut-off got %v, want a proper start of %v", ids(got), all)
	}
	rest := all[len(got):]
	if len(got) > 0 {
		from = got[len(got)-1].ID
	}
	resumed := e.bus.Subscribe([]string{mqtt.ChannelRealtime}, from)
	defer resumed.Close()
	if more := collect(t, resumed, len(rest)); !slices.Equal(ids(more), rest) {
		t.Fatalf("resumed with %v, want %v", ids(more), rest)
	}
	var m dto.Metric
	if err := e.bus.metrics.slow.Write(&m); err != nil || m.GetCounter().GetValue() != 1 {
		t.Fatalf("slow subscribers counted %v (%v), want 1", m.GetCounter().GetValue(), err)
	}
}

// TestNotifyNeverBlocks: with the queue full (nothing running), Notify
// drops and counts instead of waiting; unencodable payloads are dropped too.
func TestNotifyNeverBlocks(t *testing.T) {
	b, err := New(Options{QueueSize: 2, Logger: modelstest.LoggerAt(t, slog.LevelDebug)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	b.Notify(ctx, note(1), note(2), note(3), note(4))
	b.Notify(ctx, models.Notification{Channel: mqtt.ChannelRealtime, Type: "bad", Payload: func() {}})
	b.Notify(ctx, models.Notification{Type: "no channel"})
	if got := b.Dropped(); got != 4 {
		t.Fatalf("Dropped = %d, want 4 (2 over the queue, 1 unencodable, 1 without channel)", got)
	}
}

// TestSubscriptionLifecycle: Close and the bus's stop close the feed with
// their reason; Run refuses a second call; Subscribe after the stop comes
// back closed.
func TestSubscriptionLifecycle(t *testing.T) {
	modelstest.CheckLeaks(t)
	e := newEnv(t, modes(t)[0], Options{})
	closed := e.bus.Subscribe([]string{mqtt.ChannelRealtime}, 0)
	closed.Close()
	closed.Close() // idempotent
	if _, ok := <-closed.Notes(); ok || !errors.Is(closed.Err(), ErrClosed) {
		t.Fatalf("after Close: open=%v err=%v", ok, closed.Err())
	}
	testkit.Eventually(t, guard, "Run to start", e.bus.started.Load)
	if err := e.bus.Run(context.Background()); err == nil {
		t.Fatal("second Run: want an error")
	}
	live := e.bus.Subscribe([]string{mqtt.ChannelRealtime}, 0)
	e.stop()
	if _, ok := <-live.Notes(); ok || !errors.Is(live.Err(), ErrStopped) {
		t.Fatalf("after stop: open=%v err=%v", ok, live.Err())
	}
	late := e.bus.Subscribe([]string{mqtt.ChannelRealtime}, 0)
	if _, ok := <-late.Notes(); ok || !errors.Is(late.Err(), ErrStopped) {
		t.Fatalf("Subscribe after stop: open=%v err=%v", ok, late.Err())
	}
	if e.bus.subCount() != 0 {
		t.Fatalf("%d subscriptions left after stop", e.bus.subCount())
	}
}

// TestNotifierContract: the registry's notifications reach the bus (the
// models.Notifier wiring), payloads of every plain kind encode once.
func TestNotifierContract(t *testing.T) {
	modelstest.CheckLeaks(t)
	e := newEnv(t, modes(t)[0], Options{})
	d := models.NewDict(2)
	d.Set("b", 2)
	d.Set("a", "<script>")
	sub := e.bus.Subscribe([]string{iotdevice.ChannelDevices}, e.bus.LastID())
	defer sub.Close()
	e.reg.Notify(context.Background(), models.Notification{Channel: iotdevice.ChannelDevices, Type: iotdevice.NoteDeviceEvent, Payload: d})
	got := collect(t, sub, 1)
	if string(got[0].Payload) != `{"b":2,"a":"\u003cscript\u003e"}` {
		t.Fatalf("payload %s", got[0].Payload)
	}
	wantWire := `{"id":` + strconv.FormatInt(got[0].ID, 10) + `,"message":{"type":"iot_device_event","payload":{"b":2,"a":"\u003cscript\u003e"}}}`
	if string(got[0].wire) != wantWire {
		t.Fatalf("wire %s, want %s", got[0].wire, wantWire)
	}
}
