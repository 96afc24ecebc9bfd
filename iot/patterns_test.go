package iot

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// seed002 is the ESP32 firmware's layout: readings on
// /homecontrol/device/data/<id>, one shared retained config topic.
var seed002 = Patterns{Telemetry: "/homecontrol/device/data/{id}", Config: "/homecontrol/device/config"}

// seed002Shared has the id in the payload only.
var seed002Shared = Patterns{Telemetry: "/homecontrol/device/data", Config: "/homecontrol/device/config"}

func TestValidate(t *testing.T) {
	with := func(mod func(*Patterns)) Patterns { p := DefaultPatterns(); mod(&p); return p }
	tests := []struct {
		name  string
		p     Patterns
		field string // "" = valid
		in    string // part of the reason
	}{
		{"defaults", DefaultPatterns(), "", ""},
		{"seed 002", seed002, "", ""},
		{"seed 002 shared topic", seed002Shared, "", ""},
		{"all empty", Patterns{}, "", ""},
		{"sensor in the middle", with(func(p *Patterns) { p.Telemetry = "plant/{sensor}/{id}" }), "", ""},
		{"action without {action}", with(func(p *Patterns) { p.Action = "cmd/{id}" }), "", ""},
		{"$SYS-like prefix", with(func(p *Patterns) { p.Info = "$devices/{id}/info" }), "", ""},
		{"wildcard +", with(func(p *Patterns) { p.Info = "device/+/info" }), "info", "wildcards"},
		{"wildcard #", with(func(p *Patterns) { p.Telemetry = "device/{id}/#" }), "telemetry", "wildcards"},
		{"unknown placeholder", with(func(p *Patterns) { p.Event = "device/{name}/event" }), "event", `"{name}" is not a placeholder`},
		{"sensor outside telemetry", with(func(p *Patterns) { p.Info = "device/{id}/{sensor}" }), "info", "{sensor}"},
		{"action outside action", with(func(p *Patterns) { p.Config = "device/{id}/{action}" }), "config", "{action}"},
		{"placeholder not a whole level", with(func(p *Patterns) { p.Availability = "device/dev-{id}/availability" }), "availability", "whole level"},
		{"placeholder twice", with(func(p *Patterns) { p.Telemetry = "device/{id}/{id}" }), "telemetry", "twice"},
		{"stray brace", with(func(p *Patterns) { p.Action = "device/{id}/action}" }), "action", "not a placeholder"},
		{"no fixed level", with(func(p *Patterns) { p.Telemetry = "{id}/{sensor}" }), "telemetry", "fixed level"},
		{"only empty levels", with(func(p *Patterns) { p.Event = "/{id}" }), "event", "fixed level"},
		{"NUL", with(func(p *Patterns) { p.Info = "device/{id}/in\x00fo" }), "info", "not a valid MQTT topic"},
		{"too long", with(func(p *Patterns) { p.Info = "device/{id}/" + strings.Repeat("i", 65535) }), "info", "not a valid MQTT topic"},
		{"shared subscription", with(func(p *Patterns) { p.Info = "$share/g/{id}/info" }), "info", "not a valid MQTT topic"},
		{"two kinds on one topic", with(func(p *Patterns) { p.Event = "device/{id}/info" }), "event", "same topics as the info topic"},
		{"outbound may equal inbound", with(func(p *Patterns) { p.Config = "device/{id}/info" }), "", ""},
		{"same filter through placeholders", Patterns{Info: "d/{id}/x", Telemetry: "d/{sensor}/x"}, "telemetry", "same topics as the info topic"},
		{"response without {request_id}", with(func(p *Patterns) { p.Response = "device/{id}/response" }), "", ""},
		{"response without {id}", with(func(p *Patterns) { p.Response = "device/response/{request_id}" }), "response", "needs {id}"},
		{"request without {id}", with(func(p *Patterns) { p.Request = "device/request/{request_id}" }), "request", "needs {id}"},
		{"request_id outside commands", with(func(p *Patterns) { p.Event = "device/{id}/{request_id}" }), "event", "{request_id}"},
		{"request_id not a whole level", with(func(p *Patterns) { p.Response = "device/{id}/r-{request_id}" }), "response", "whole level"},
		{"response on the event topics", with(func(p *Patterns) { p.Response = "device/{id}/event" }), "response", "same topics as the event topic"},
		{"response on the telemetry topics", with(func(p *Patterns) { p.Response = "device/{id}/telemetry/{request_id}" }), "response", "same topics as the telemetry topic"},
		{"no commands", with(func(p *Patterns) { p.Request, p.Response = "", "" }), "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.p.Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var pe *PatternError
			if !errors.As(err, &pe) {
				t.Fatalf("Validate() = %v, want a *PatternError", err)
			}
			if pe.Field != tc.field || !strings.Contains(pe.Error(), tc.in) {
				t.Errorf("Validate() = %q (field %s), want field %s mentioning %q", pe.Error(), pe.Field, tc.field, tc.in)
			}
		})
	}
}

func TestFilters(t *testing.T) {
	tests := []struct {
		name string
		p    Patterns
		want []string
	}{
		{"defaults", DefaultPatterns(), []string{"device/+/info", "device/+/telemetry/+", "device/+/event", "device/+/availability", "device/+/response/+"}},
		{"seed 002", seed002, []string{"/homecontrol/device/data/+"}},
		{"seed 002 shared", seed002Shared, []string{"/homecontrol/device/data"}},
		{"none", Patterns{Action: "a/{id}"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.p.Filters(); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Filters() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestMatch(t *testing.T) {
	def := DefaultPatterns()
	tests := []struct {
		name  string
		p     Patterns
		topic string
		ok    bool
		want  Match
	}{
		{"info", def, "device/thermo-1/info", true, Match{Kind: Info, DeviceID: "thermo-1", Base: "device/thermo-1"}},
		{"telemetry", def, "device/thermo-1/telemetry/temperature", true, Match{Kind: Telemetry, DeviceID: "thermo-1", Sensor: "temperature", Base: "device/thermo-1"}},
		{"event", def, "device/lamp-1/event", true, Match{Kind: Event, DeviceID: "lamp-1", Base: "device/lamp-1"}},
		{"availability", def, "device/lamp-1/availability", true, Match{Kind: Availability, DeviceID: "lamp-1", Base: "device/lamp-1"}},
		{"response", def, "device/lamp-1/response/r42", true, Match{Kind: Response, DeviceID: "lamp-1", RequestID: "r42", Base: "device/lamp-1"}},
		{"response before telemetry", Patterns{Response: "d/{id}/response/{request_id}", Telemetry: "d/{id}/{sensor}/r1"}, "d/x/response/r1", true, Match{Kind: Response, DeviceID: "x", RequestID: "r1", Base: "d/x"}},
		{"empty request id", def, "device/lamp-1/response/", false, Match{}},
		{"request is outbound", def, "device/lamp-1/request/r42", false, Match{}},
		{"action is outbound", def, "device/lamp-1/action/toggle", false, Match{}},
		{"config is outbound", def, "device/lamp-1/config", false, Match{}},
		{"too deep", def, "device/thermo-1/telemetry/temperature/raw", false, Match{}},
		{"too shallow", def, "device/thermo-1/telemetry", false, Match{}},
		{"empty id", def, "device//info", false, Match{}},
		{"empty sensor", def, "device/x/telemetry/", false, Match{}},
		{"other prefix", def, "devices/x/info", false, Match{}},
		{"seed 002 per device", seed002, "/homecontrol/device/data/esp32-kitchen", true, Match{Kind: Telemetry, DeviceID: "esp32-kitchen", Base: "/homecontrol/device/data/esp32-kitchen"}},
		{"seed 002 leading slash matters", seed002, "homecontrol/device/data/esp32-kitchen", false, Match{}},
		{"seed 002 shared", seed002Shared, "/homecontrol/device/data", true, Match{Kind: Telemetry, Base: "/homecontrol/device/data"}},
		{"id in the middle", Patterns{Telemetry: "plant/{sensor}/{id}"}, "plant/temp/t1", true, Match{Kind: Telemetry, DeviceID: "t1", Sensor: "temp", Base: "plant/temp/t1"}},
		{"info before telemetry", Patterns{Info: "d/{id}/info", Telemetry: "d/{id}/{sensor}"}, "d/x/info", true, Match{Kind: Info, DeviceID: "x", Base: "d/x"}},
		{"telemetry after info", Patterns{Info: "d/{id}/info", Telemetry: "d/{id}/{sensor}"}, "d/x/temp", true, Match{Kind: Telemetry, DeviceID: "x", Sensor: "temp", Base: "d/x"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := tc.p.Match(tc.topic)
			if ok != tc.ok || got != tc.want {
				t.Errorf("Match(%q) = %+v, %v; want %+v, %v", tc.topic, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	tests := []struct {
		name, topic, payload string
		p                    Patterns
		id                   string
		ok                   bool
	}{
		{"id from topic wins", "/homecontrol/device/data/esp32-a", `{"device_id":"other"}`, seed002, "esp32-a", true},
		{"device_id", "/homecontrol/device/data", `{"device_id":"esp32-b","temperature":21}`, seed002Shared, "esp32-b", true},
		{"deviceId", "/homecontrol/device/data", `{"deviceId":"c"}`, seed002Shared, "c", true},
		{"numeric id", "/homecontrol/device/data", `{"id":42}`, seed002Shared, "42", true},
		{"client_id", "/homecontrol/device/data", `{"client_id":"esp"}`, seed002Shared, "esp", true},
		{"key order", "/homecontrol/device/data", `{"id":"late","device_id":"first"}`, seed002Shared, "first", true},
		{"id unusable as a level", "/homecontrol/device/data", `{"device_id":"a/b"}`, seed002Shared, "", false},
		{"no id", "/homecontrol/device/data", `{"temperature":21}`, seed002Shared, "", false},
		{"not JSON", "/homecontrol/device/data", `21.5C`, seed002Shared, "", false},
		{"no match", "/elsewhere", `{"device_id":"x"}`, seed002Shared, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, ok := tc.p.Resolve(tc.topic, []byte(tc.payload))
			if ok != tc.ok || m.DeviceID != tc.id {
				t.Errorf("Resolve = %+v, %v; want id %q, %v", m, ok, tc.id, tc.ok)
			}
		})
	}
}

func TestOutboundTopics(t *testing.T) {
	def := DefaultPatterns()
	tests := []struct {
		name string
		got  func() (string, error)
		want string // "" = error
		why  string // with an error: in its reason
	}{
		{"action", func() (string, error) { return def.ActionTopic("lamp-1", "toggle") }, "device/lamp-1/action/toggle", ""},
		{"action without {action}", func() (string, error) { return Patterns{Action: "cmd/{id}"}.ActionTopic("lamp-1", "toggle") }, "cmd/lamp-1", ""},
		{"shared action", func() (string, error) { return Patterns{Action: "cmd/all"}.ActionTopic("lamp-1", "x") }, "cmd/all", ""},
		{"action with a slash", func() (string, error) { return def.ActionTopic("lamp-1", "a/b") }, "", "'a/b' cannot stand for"},
		{"action with a wildcard", func() (string, error) { return def.ActionTopic("lamp-1", "#") }, "", ""},
		{"empty action", func() (string, error) { return def.ActionTopic("lamp-1", "") }, "", ""},
		{"no action topic", func() (string, error) { return Patterns{}.ActionTopic("lamp-1", "x") }, "", ""},
		{"config", func() (string, error) { return def.ConfigTopic("esp") }, "device/esp/config", ""},
		{"shared config", func() (string, error) { return seed002.ConfigTopic("esp") }, "/homecontrol/device/config", ""},
		{"no config topic", func() (string, error) { return Patterns{}.ConfigTopic("esp") }, "", ""},
		{"availability", func() (string, error) { return def.AvailabilityTopic("lamp-1") }, "device/lamp-1/availability", ""},
		{"id with a plus", func() (string, error) { return def.AvailabilityTopic("a+b") }, "", ""},
		{"request", func() (string, error) { return def.RequestTopic("lamp-1", "r42") }, "device/lamp-1/request/r42", ""},
		{"response", func() (string, error) { return def.ResponseTopic("lamp-1", "r42") }, "device/lamp-1/response/r42", ""},
		{"response without {request_id}", func() (string, error) { return Patterns{Response: "d/{id}/rpc"}.ResponseTopic("lamp-1", "r42") }, "d/lamp-1/rpc", ""},
		{"request id with a slash", func() (string, error) { return def.RequestTopic("lamp-1", "a/b") }, "", "cannot stand for {request_id}"},
		{"no request topic", func() (string, error) { return Patterns{}.RequestTopic("lamp-1", "r") }, "", "no request topic"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.got()
			if tc.want == "" {
				var pe *PatternError
				if !errors.As(err, &pe) || !strings.Contains(pe.Reason, tc.why) {
					t.Errorf("got %q, %v; want a *PatternError saying %q", got, err, tc.why)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestMatchAllocations(t *testing.T) {
	p := DefaultPatterns()
	n := testing.AllocsPerRun(100, func() { p.Match("device/thermo-1/telemetry/temperature") })
	if n != 0 {
		t.Errorf("Match allocates %v times per call, want 0", n)
	}
}
