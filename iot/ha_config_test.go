package iot

import "testing"

func TestTemplatePath(t *testing.T) {
	tests := []struct {
		tpl, want string
		ok        bool
	}{
		{"{{ value }}", "", true},
		{"{{value_json}}", "", true},
		{"{{ value_json.temperature }}", "temperature", true},
		{"{{value_json.ENERGY.Power}}", "ENERGY.Power", true},
		{"{{value_json['BME280'].Temperature}}", "BME280.Temperature", true},
		{`{{ value_json["a"]['b'] | float }}`, "a.b", true},
		{"{{ value_json.list[2].v | round(1) }}", "list[2].v", true},
		{"{{ value_json.x if value_json.y else 0 }}", "", false},
		{"{{ value_json['a.b'] }}", "", false},
		{"{{ states('sensor.x') }}", "", false},
		{"value_json.x", "", false},
		{"{{ value_json.x }} {{ value }}", "", false},
	}
	for _, tc := range tests {
		got, ok := TemplatePath(tc.tpl)
		if got != tc.want || ok != tc.ok {
			t.Errorf("TemplatePath(%q) = %q, %v; want %q, %v", tc.tpl, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParseHATopic(t *testing.T) {
	tests := []struct {
		topic, component, node, object string
		ok                             bool
	}{
		{"homeassistant/sensor/livingroom/temperature/config", "sensor", "livingroom", "temperature", true},
		{"homeassistant/switch/5C3D1A_RL_1/config", "switch", "", "5C3D1A_RL_1", true},
		{"homeassistant/sensor/config", "", "", "", false},
		{"homeassistant/sensor/a/b/c/config", "", "", "", false},
		{"homeassistant/sensor//x/config", "", "", "", false},
		{"homeassistant/status", "", "", "", false},
		{"other/sensor/x/config", "", "", "", false},
	}
	for _, tc := range tests {
		c, n, o, _, ok := ParseHATopic(tc.topic)
		if c != tc.component || n != tc.node || o != tc.object || ok != tc.ok {
			t.Errorf("ParseHATopic(%q) = %q %q %q %v", tc.topic, c, n, o, ok)
		}
	}
}

func TestHAStateAndAvailability(t *testing.T) {
	sw := HAEntity{Component: "switch", ValuePath: "POWER", PayloadOn: "ON", PayloadOff: "OFF"}
	z2m := HAEntity{Component: "binary_sensor", ValuePath: "contact", PayloadOn: "False", PayloadOff: "True"}
	sensor := HAEntity{Component: "sensor"}
	tests := []struct {
		name    string
		e       HAEntity
		payload string
		want    any
		ok      bool
	}{
		{"switch on", sw, `{"POWER":"ON"}`, true, true},
		{"switch off", sw, `{"POWER":"OFF"}`, false, true},
		{"switch other key", sw, `{"Uptime":"1"}`, nil, false},
		{"switch not JSON", sw, `ON`, nil, false},
		{"z2m bool on", z2m, `{"contact":false}`, true, true},
		{"sensor number text", sensor, `21.5`, 21.5, true},
		{"sensor word", sensor, `idle`, "idle", true},
		{"sensor empty", sensor, ``, nil, false},
	}
	for _, tc := range tests {
		got, ok := tc.e.State([]byte(tc.payload))
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: State(%q) = %v, %v; want %v, %v", tc.name, tc.payload, got, ok, tc.want, tc.ok)
		}
	}
	a := HAAvailability{Available: "Online", NotAvailable: "Offline"}
	if on, ok := a.Online([]byte("Offline")); on || !ok {
		t.Errorf("Offline: %v %v", on, ok)
	}
	if _, ok := a.Online([]byte("offline")); ok {
		t.Errorf("payloads are compared exactly, as Home Assistant does")
	}
}
