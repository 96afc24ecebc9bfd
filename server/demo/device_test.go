package demo

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/topic"
)

func deviceByID(t *testing.T, id string) *device {
	t.Helper()
	for _, d := range devices() {
		if d.id == id {
			return d
		}
	}
	t.Fatalf("no device %s", id)
	return nil
}

func decode(t *testing.T, m message) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(m.payload, &v); err != nil {
		t.Fatalf("%s: payload %q is not a JSON object: %v", m.topic, m.payload, err)
	}
	return v
}

func TestLampObeysActions(t *testing.T) {
	d := deviceByID(t, LampID)
	now := time.Unix(1700000000, 0)
	if got := d.stateMessages(now); len(got) != 1 || decode(t, got[0])["state"] != "off" || !got[0].retain {
		t.Fatalf("initial state = %+v", got)
	}
	steps := []struct {
		topic, payload string
		want           string // new state, "" when nothing is published
	}{
		{LampToggleTopic, `{"action":"toggle"}`, "on"},
		{LampSwitchTopic, `{"state":"on"}`, ""}, // already on: no event
		{LampSwitchTopic, "OFF", "off"},
		{LampToggleTopic, "", "on"},
		{"device/lamp-1/action/dance", "", ""},
		{"device/lamp-2/action/toggle", "", ""},
		{LampSwitchTopic, `{"state":"maybe"}`, ""},
	}
	for _, s := range steps {
		msgs := d.act(now, s.topic, []byte(s.payload))
		if s.want == "" {
			if len(msgs) != 0 {
				t.Errorf("%s %q: published %+v, want nothing", s.topic, s.payload, msgs)
			}
			continue
		}
		if len(msgs) == 0 || msgs[0].topic != "device/lamp-1/event" || !msgs[0].retain || msgs[0].qos != 1 {
			t.Fatalf("%s %q: published %+v, want a retained QoS 1 event first", s.topic, s.payload, msgs)
		}
		if ev := decode(t, msgs[0]); ev["event"] != "switch" || ev["state"] != s.want {
			t.Errorf("%s %q: event %v, want state %s", s.topic, s.payload, ev, s.want)
		}
	}
}

func TestDeviceTelemetry(t *testing.T) {
	now := time.Unix(1700000000, 0)
	for _, d := range devices() {
		seen := map[string]bool{}
		for i := 0; i < 200; i++ {
			for _, m := range d.tick(now) {
				seen[m.topic] = true
				v := decode(t, m)
				if strings.HasSuffix(m.topic, "/event") {
					if !m.retain || (v["state"] != "alert" && v["state"] != "normal") {
						t.Errorf("%s: event %+v", d.id, m)
					}
					continue
				}
				if m.retain {
					t.Errorf("%s: telemetry %s is retained", d.id, m.topic)
				}
			}
		}
		var want []string
		switch d.id {
		case ThermoID:
			want = []string{"device/thermo-1/telemetry/temperature", "device/thermo-1/event"}
		case ClimateID:
			want = []string{"device/climate-1/telemetry/temperature", "device/climate-1/telemetry/humidity", "device/climate-1/event"}
		case LampID:
			want = []string{"device/lamp-1/telemetry/switch"}
		case ESP32ID:
			want = []string{"/homecontrol/device/data/esp32-kitchen"}
		}
		for _, topic := range want {
			if !seen[topic] {
				t.Errorf("%s: never published %s (published %v)", d.id, topic, seen)
			}
		}
		if !d.esp32 {
			info := d.infoMessage()
			if info.topic != "device/"+d.id+"/info" || !info.retain || decode(t, info)["deviceId"] != d.id {
				t.Errorf("%s: info %+v", d.id, info)
			}
		}
	}
}

func TestAvailability(t *testing.T) {
	for _, d := range devices() {
		on, okOn := d.availability(true)
		off, okOff := d.availability(false)
		if d.esp32 {
			if okOn || okOff {
				t.Errorf("%s: the ESP32 firmware has no availability topic", d.id)
			}
			continue
		}
		topic := "device/" + d.id + "/availability"
		if !okOn || on.topic != topic || string(on.payload) != "online" || !on.retain || on.qos != 1 {
			t.Errorf("%s: online %+v", d.id, on)
		}
		if !okOff || off.topic != topic || string(off.payload) != "offline" || !off.retain {
			t.Errorf("%s: offline %+v", d.id, off)
		}
	}
}

// Every topic a device publishes on is matched by one of the demo
// subscriptions, so the history shows all of it.
func TestSubscriptionsCoverDevices(t *testing.T) {
	now := time.Unix(1700000000, 0)
	for _, d := range devices() {
		msgs := append(d.tick(now), d.infoMessage())
		msgs = append(msgs, d.act(now, LampToggleTopic, nil)...)
		for _, online := range []bool{true, false} {
			if m, ok := d.availability(online); ok {
				msgs = append(msgs, m)
			}
		}
		for _, m := range msgs {
			if d.esp32 && strings.HasSuffix(m.topic, "/info") {
				continue
			}
			ok := false
			for _, s := range Subscriptions {
				ok = ok || topic.Match(s.Topic, m.topic)
			}
			if !ok {
				t.Errorf("no demo subscription matches %s", m.topic)
			}
		}
	}
}
