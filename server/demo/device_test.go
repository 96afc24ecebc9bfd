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
		if m, ok := d.answer(inbound{topic: d.topic("request", "r1"), payload: []byte(`{"method":"get_state"}`)}); ok {
			msgs = append(msgs, m)
		}
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

// TestLampAnswersCommands: the lamp answers get_state on the response
// topic of the request id in the topic (MQTT 3.1.1), or on the request's
// Response Topic with its Correlation Data when it has both (MQTT 5).
func TestLampAnswersCommands(t *testing.T) {
	tests := []struct {
		name      string
		req       inbound
		ok        bool
		topic     string
		corr      string
		inPayload string
	}{
		{"3.1.1", inbound{topic: "device/lamp-1/request/r1", payload: []byte(`{"method":"get_state","params":{}}`)},
			true, "device/lamp-1/response/r1", "", `"on":false`},
		{"MQTT 5", inbound{topic: "device/lamp-1/request/r2", payload: []byte(`{"method":"get_state"}`), responseTopic: "replies/x", corr: []byte("c-2")},
			true, "replies/x", "c-2", `"state":"off"`},
		{"response topic without correlation data", inbound{topic: "device/lamp-1/request/r3", payload: []byte(`{"method":"get_state"}`), responseTopic: "replies/x"},
			true, "device/lamp-1/response/r3", "", `"on":false`},
		{"unknown method", inbound{topic: "device/lamp-1/request/r4", payload: []byte(`{"method":"dance"}`)},
			true, "device/lamp-1/response/r4", "", `"error":"unknown method \"dance\""`},
		{"not JSON", inbound{topic: "device/lamp-1/request/r5", payload: []byte(`get_state`)}, false, "", "", ""},
		{"an action", inbound{topic: "device/lamp-1/action/toggle", payload: []byte(`{}`)}, false, "", "", ""},
		{"another device", inbound{topic: "device/thermo-1/request/r6", payload: []byte(`{"method":"get_state"}`)}, false, "", "", ""},
	}
	lamp := devices()[2]
	if !lamp.lamp {
		t.Fatal("devices()[2] is not the lamp")
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, ok := lamp.answer(tc.req)
			if ok != tc.ok {
				t.Fatalf("answer ok = %v, want %v", ok, tc.ok)
			}
			if !ok {
				return
			}
			if m.topic != tc.topic || string(m.corr) != tc.corr || m.qos != 1 || m.retain || !strings.Contains(string(m.payload), tc.inPayload) {
				t.Errorf("answer = %s %s corr %q qos %d retain %v", m.topic, m.payload, m.corr, m.qos, m.retain)
			}
		})
	}
}

// TestThermoCrossesRuleThresholds: the simulated thermometer goes above
// ThermoOnAbove and back below ThermoOffBelow again and again, so the demo
// rules (seed_rules.go) switch the lamp on and off while the demo runs:
// counted here as the rules count them, each re-arming past the other
// threshold.
func TestThermoCrossesRuleThresholds(t *testing.T) {
	d := deviceByID(t, ThermoID)
	now := time.Unix(1700000000, 0)
	on, off := 0, 0
	lampOn := false
	lo, hi := 100.0, -100.0
	for i := 0; i < 20*60/2; i++ { // 20 minutes of 2 s ticks
		for _, m := range d.tick(now) {
			if m.topic != "device/thermo-1/telemetry/temperature" {
				continue
			}
			v := decode(t, m)["value"].(float64)
			lo, hi = min(lo, v), max(hi, v)
			switch {
			case !lampOn && v > ThermoOnAbove:
				lampOn, on = true, on+1
			case lampOn && v < ThermoOffBelow:
				lampOn, off = false, off+1
			}
		}
	}
	if on < 3 || off < 3 {
		t.Errorf("in 20 minutes the lamp went on %d and off %d times (temperature %.1f to %.1f), want at least 3 of each", on, off, lo, hi)
	}
	if lo < 15 || hi > 32 {
		t.Errorf("temperature ranged %.1f to %.1f: not a room's", lo, hi)
	}
}
