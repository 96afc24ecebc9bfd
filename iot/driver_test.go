package iot

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// smart is seed 004's lamp as its descriptor makes it.
func smart(t *testing.T) Device {
	t.Helper()
	d, err := ParseInfo([]byte(`{"deviceId":"lamp-1","producer":"Acme","resources":["switch"],"actions":["toggle","switch"]}`))
	if err != nil {
		t.Fatal(err)
	}
	d.Patterns = DefaultPatterns()
	return d
}

// recorder is a driver that supports devices of one manufacturer.
type recorder struct{ maker string }

func (r recorder) Name() string                                   { return "rec-" + r.maker }
func (r recorder) Supported(d Device) bool                        { return d.Manufacturer == r.maker }
func (recorder) Decode(Device, Message) Update                    { return Update{Data: map[string]any{"value": "rec"}} }
func (recorder) Action(Device, map[string]any) ([]Publish, error) { return nil, nil }

func TestRegistryChoosesFirstSupporting(t *testing.T) {
	r := NewRegistry(recorder{"A"}, recorder{"B"}, recorder{"A"})
	tests := []struct {
		name string
		d    Device
		want string
	}{
		{"first of two supporting", Device{Manufacturer: "A"}, "rec-A"},
		{"second", Device{Manufacturer: "B"}, "rec-B"},
		{"generic last", Device{Manufacturer: "C"}, GenericName},
	}
	for _, tc := range tests {
		if got := r.Driver(tc.d).Name(); got != tc.want {
			t.Errorf("%s: Driver = %s, want %s", tc.name, got, tc.want)
		}
	}
	names := []string{}
	for _, d := range r.Drivers() {
		names = append(names, d.Name())
	}
	if !reflect.DeepEqual(names, []string{"rec-A", "rec-B", "rec-A", GenericName}) {
		t.Errorf("drivers %v: generic must be added last", names)
	}
	if r.ByName("rec-B") == nil || r.ByName("nope") != nil {
		t.Errorf("ByName")
	}

	def := DefaultRegistry()
	if got := def.Driver(smart(t)).Name(); got != SmartObjectName {
		t.Errorf("seed 004 device: %s", got)
	}
	for _, d := range []Device{{Identifier: "esp32"}, {Info: map[string]any{"name": "x"}}} {
		if got := def.Driver(d).Name(); got != GenericName {
			t.Errorf("%+v: %s, want the generic driver", d, got)
		}
	}
}

func TestHandle(t *testing.T) {
	reg := DefaultRegistry()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	base := Device{Identifier: "dev", Patterns: DefaultPatterns()}
	msg := func(kind Kind, sensor, payload string) Message {
		return Message{Match: Match{Kind: kind, DeviceID: "dev", Sensor: sensor}, Topic: "t", Payload: []byte(payload), Time: at}
	}
	tests := []struct {
		name     string
		d        Device
		m        Message
		data     map[string]any
		readings []Reading
		event    map[string]any
		online   *bool
	}{
		{"seed 004 telemetry", base, msg(Telemetry, "temperature", `{"timestamp":1700000000123,"type":"TEMPERATURE_SENSOR","value":21.5,"unit":"°C"}`),
			map[string]any{"sensor": "temperature", "value": 21.5, "unit": "°C", "type": "TEMPERATURE_SENSOR"},
			[]Reading{{Sensor: "temperature", Value: 21.5, Unit: "°C", Type: "TEMPERATURE_SENSOR", Time: time.UnixMilli(1700000000123).UTC()}}, nil, nil},
		{"bare number", base, msg(Telemetry, "t", `21.5`), map[string]any{"sensor": "t", "value": 21.5}, []Reading{{Sensor: "t", Value: 21.5}}, nil, nil},
		{"text", base, msg(Telemetry, "door", `open`), map[string]any{"sensor": "door", "value": "open"}, []Reading{{Sensor: "door", Value: "open"}}, nil, nil},
		{"object without value", base, msg(Telemetry, "gps", `{"lat":1,"lon":2}`), map[string]any{"sensor": "gps", "value": map[string]any{"lat": 1.0, "lon": 2.0}},
			[]Reading{{Sensor: "gps", Value: map[string]any{"lat": 1.0, "lon": 2.0}}}, nil, nil},
		{"seed 002 record", base, msg(Telemetry, "", `{"device_id":"dev","timestamp":1700000000,"temperature":23.1,"humidity":55}`),
			map[string]any{"value": map[string]any{"temperature": 23.1, "humidity": 55.0}},
			[]Reading{{Sensor: "humidity", Value: 55.0, Time: time.Unix(1700000000, 0).UTC()}, {Sensor: "temperature", Value: 23.1, Time: time.Unix(1700000000, 0).UTC()}}, nil, nil},
		{"sensor named in the payload", base, msg(Telemetry, "", `{"id":"dev","sensor":"co2","value":400,"unit":"ppm"}`),
			map[string]any{"sensor": "co2", "value": 400.0, "unit": "ppm"}, []Reading{{Sensor: "co2", Value: 400.0, Unit: "ppm"}}, nil, nil},
		{"bare value on a shared topic", base, msg(Telemetry, "", `7`), map[string]any{"value": 7.0}, []Reading{{Sensor: "value", Value: 7.0}}, nil, nil},
		{"seed 004 event", smart(t), msg(Event, "", `{"event":"switch","state":"on","timestamp":1}`),
			map[string]any{"event": "switch", "state": "on", "value": "on", "timestamp": 1.0}, nil, map[string]any{"event": "switch", "state": "on", "timestamp": 1.0}, nil},
		{"event with a value", base, msg(Event, "", `{"event":"temperature_high","state":"alert","value":22.4}`),
			map[string]any{"event": "temperature_high", "state": "alert", "value": 22.4}, nil, map[string]any{"event": "temperature_high", "state": "alert", "value": 22.4}, nil},
		{"text event", base, msg(Event, "", `button pressed`), map[string]any{"value": "button pressed"}, nil, map[string]any{"value": "button pressed"}, nil},
		{"online", base, msg(Availability, "", `online`), map[string]any{"value": "online", "connected": true, "state": "online"}, nil, nil, ptr(true)},
		{"offline JSON", base, msg(Availability, "", `{"state":"offline"}`), map[string]any{"value": map[string]any{"state": "offline"}, "connected": false, "state": "offline"}, nil, nil, ptr(false)},
		{"availability unclear", base, msg(Availability, "", `perhaps`), map[string]any{"value": "perhaps"}, nil, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := reg.Handle(tc.d, tc.m)
			tc.data["kind"], tc.data["topic"] = tc.m.Kind.String(), "t"
			if !reflect.DeepEqual(u.Data, tc.data) {
				t.Errorf("Data = %#v\nwant   %#v", u.Data, tc.data)
			}
			if !reflect.DeepEqual(u.Readings, tc.readings) {
				t.Errorf("Readings = %+v\nwant       %+v", u.Readings, tc.readings)
			}
			if !reflect.DeepEqual(u.Event, tc.event) {
				t.Errorf("Event = %v, want %v", u.Event, tc.event)
			}
			if !reflect.DeepEqual(u.Online, tc.online) {
				t.Errorf("Online = %v, want %v", u.Online, tc.online)
			}
			if u.Info != nil {
				t.Errorf("Info = %+v, want none", u.Info)
			}
			if _, err := json.Marshal(u.Data); err != nil {
				t.Errorf("data does not marshal: %v", err)
			}
		})
	}
}

func TestHandleInfo(t *testing.T) {
	reg := DefaultRegistry()
	d := Device{Identifier: "lamp-1", Patterns: DefaultPatterns()}
	u := reg.Handle(d, Message{Match: Match{Kind: Info, DeviceID: "lamp-1"}, Topic: "device/lamp-1/info",
		Payload: []byte(`{"deviceId":"ignored","producer":"Acme","actions":["toggle"]}`)})
	if u.Info == nil || u.Info.Identifier != "lamp-1" || u.Info.Name != "lamp-1" || u.Info.Manufacturer != "Acme" || u.Info.Patterns != d.Patterns {
		t.Fatalf("Info = %+v: the topic's id and the broker's patterns must stay, the name default to the id", u.Info)
	}
	if reg.Driver(*u.Info).Name() != SmartObjectName || u.Data["kind"] != "info" || u.Data["value"] != "lamp-1" {
		t.Errorf("data %v, driver %s", u.Data, reg.Driver(*u.Info).Name())
	}
	bad := reg.Handle(d, Message{Match: Match{Kind: Info}, Payload: []byte(`not json`)})
	if bad.Info != nil || bad.Data["value"] != "not json" {
		t.Errorf("a bad descriptor: %+v", bad)
	}
}

func TestActions(t *testing.T) {
	lamp := smart(t)
	generic := Device{Identifier: "esp", Patterns: DefaultPatterns()}
	oneAction := lamp
	oneAction.Actions = []string{"reboot"}
	noTemplate := generic
	noTemplate.Patterns.Action = ""
	tests := []struct {
		name    string
		drv     Driver
		d       Device
		data    map[string]any
		topic   string
		payload string
		err     string
	}{
		{"smart object toggle", SmartObject{}, lamp, map[string]any{"action": "toggle"}, "device/lamp-1/action/toggle", `{"action":"toggle"}`, ""},
		{"smart object with arguments", SmartObject{}, lamp, map[string]any{"action": "switch", "state": "on"}, "device/lamp-1/action/switch", `{"action":"switch","state":"on"}`, ""},
		{"explicit payload text", SmartObject{}, lamp, map[string]any{"action": "switch", "payload": "OFF"}, "device/lamp-1/action/switch", `OFF`, ""},
		{"explicit payload object", SmartObject{}, lamp, map[string]any{"action": "switch", "payload": map[string]any{"state": "on"}}, "device/lamp-1/action/switch", `{"state":"on"}`, ""},
		{"unknown action", SmartObject{}, lamp, map[string]any{"action": "dance"}, "", "", `no action 'dance' (it offers: toggle, switch)`},
		{"no name", SmartObject{}, lamp, map[string]any{"state": "on"}, "", "", "needs a name"},
		{"sole action by default", SmartObject{}, oneAction, map[string]any{}, "device/lamp-1/action/reboot", `{}`, ""},
		{"generic default action", Generic{}, generic, map[string]any{"state": "on"}, "device/esp/action/command", `{"state":"on"}`, ""},
		{"generic named action", Generic{}, generic, map[string]any{"action": "read_once"}, "device/esp/action/read_once", `{"action":"read_once"}`, ""},
		{"generic, action name unusable", Generic{}, generic, map[string]any{"action": "a/b"}, "", "", "one topic level"},
		{"no action topic", Generic{}, noTemplate, map[string]any{"action": "x"}, "", "", "no action topic"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pubs, err := tc.drv.Action(tc.d, tc.data)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want it to say %q", err, tc.err)
				}
				return
			}
			if err != nil || len(pubs) != 1 {
				t.Fatalf("Action = %+v, %v", pubs, err)
			}
			p := pubs[0]
			if p.Topic != tc.topic || string(p.Payload) != tc.payload || p.QoS != 1 || p.Retain {
				t.Errorf("publish %s %s qos %d retain %v; want %s %s qos 1, not retained", p.Topic, p.Payload, p.QoS, p.Retain, tc.topic, tc.payload)
			}
		})
	}
}

func TestParseActionData(t *testing.T) {
	tests := []struct {
		in   any
		want map[string]any
		err  string // the error message names the Python type
	}{
		{map[string]any{"action": "x"}, map[string]any{"action": "x"}, ""},
		{`{"action":"toggle","n":1}`, map[string]any{"action": "toggle", "n": 1.0}, ""},
		{`"toggle"`, map[string]any{"action": "toggle"}, ""},
		{`toggle`, map[string]any{"action": "toggle"}, ""},
		{`42`, map[string]any{"value": 42.0}, ""},
		{"", map[string]any{}, ""},
		{nil, map[string]any{}, ""},
		{false, map[string]any{}, ""},
		{true, nil, "not bool"},
		{int64(3), nil, "not int"},
		{[]any{"a"}, nil, "not list"},
	}
	for _, tc := range tests {
		got, err := ParseActionData(tc.in)
		if (err != nil) != (tc.err != "") || err != nil && !strings.HasSuffix(err.Error(), tc.err) || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseActionData(%#v) = %v, %v; want %v (error %v)", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestConfigMessage(t *testing.T) {
	tests := []struct {
		name    string
		p       Patterns
		config  any
		topic   string
		payload string
		err     bool
	}{
		{"dict", DefaultPatterns(), map[string]any{"interval": 5.0}, "device/esp/config", `{"interval":5}`, false},
		{"JSON text", seed002, ` {"sleep": 60} `, "/homecontrol/device/config", `{"sleep": 60}`, false},
		{"not JSON", seed002, `sleep=60`, "", "", true},
		{"not a dict", seed002, int64(1), "", "", true},
		{"no config topic", Patterns{}, map[string]any{}, "", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ConfigMessage(tc.p, "esp", tc.config)
			if tc.err {
				if err == nil {
					t.Fatalf("ConfigMessage = %+v, want an error", p)
				}
				return
			}
			if err != nil || p.Topic != tc.topic || string(p.Payload) != tc.payload || !p.Retain || p.QoS != 1 {
				t.Errorf("ConfigMessage = %+v (%s), %v; want retained QoS 1 %s on %s", p, p.Payload, err, tc.payload, tc.topic)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }
