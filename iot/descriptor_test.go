package iot

import (
	"errors"
	"reflect"
	"testing"
)

func TestParseInfo(t *testing.T) {
	tests := []struct {
		name, payload string
		want          Device // Info not compared
		err           error
	}{
		{"seed 004 descriptor", `{"deviceId":"thermo-1","producer":"Acme Sensors","model":"temperature-sensor","softwareVersion":"1.2.0","resources":["temperature"]}`,
			Device{Identifier: "thermo-1", Manufacturer: "Acme Sensors", Model: "temperature-sensor", Version: "1.2.0", Resources: []string{"temperature"}, Type: "sensor"}, nil},
		{"actuator from actions", `{"deviceId":"lamp-1","resources":["switch"],"actions":["toggle","switch"]}`,
			Device{Identifier: "lamp-1", Resources: []string{"switch"}, Actions: []string{"toggle", "switch"}, Type: "actuator"}, nil},
		{"plain names", `{"name":"Kitchen","manufacturer":"ESP","type":"Scale","version":"3"}`,
			Device{Name: "Kitchen", Manufacturer: "ESP", Version: "3", Type: "scale"}, nil},
		{"type in its own words", `{"id":7,"type":"TEMPERATURE_SENSOR"}`, Device{Identifier: "7", Type: "sensor"}, nil},
		{"resources as objects", `{"resources":[{"id":"t","type":"T"},{"name":"h"},{"x":1}],"actions":{"b":{},"a":{}}}`,
			Device{Resources: []string{"t", "h"}, Actions: []string{"a", "b"}, Type: "actuator"}, nil},
		{"actions as text", `{"commands":"on, off,"}`, Device{Actions: []string{"on", "off"}, Type: "actuator"}, nil},
		{"numbers as text", `{"model":12,"softwareVersion":1.5}`, Device{Model: "12", Type: "device"}, nil},
		{"empty object", `{}`, Device{Type: "device"}, nil},
		{"not an object", `["a"]`, Device{}, ErrNotDescriptor},
		{"not JSON", `thermo`, Device{}, ErrNotDescriptor},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseInfo([]byte(tc.payload))
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if err == nil && got.Info == nil {
				t.Errorf("Info not kept")
			}
			got.Info = nil
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseInfo = %+v\nwant        %+v", got, tc.want)
			}
		})
	}
}

func TestHasAction(t *testing.T) {
	d := Device{Actions: []string{"toggle"}}
	if !d.HasAction("toggle") || d.HasAction("switch") {
		t.Errorf("HasAction with a list")
	}
	if !(Device{}).HasAction("anything") {
		t.Errorf("a device listing no actions may obey any")
	}
}
