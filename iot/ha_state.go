package iot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/jsonpath"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/py"
)

// HAName is the Home Assistant discovery driver's name.
const HAName = "homeassistant"

// HomeAssistant drives the devices found by Home Assistant's MQTT
// discovery (Device.HA): their states are read by each entity's value
// template (HAEntity.State), their switches, lights, buttons and numbers
// commanded on the entity's command topic with its payloads.
type HomeAssistant struct{}

func (HomeAssistant) Name() string { return HAName }

// Supported: the device has discovered entities.
func (HomeAssistant) Supported(d Device) bool { return len(d.HA) > 0 }

// Decode reads the device's other messages (on the broker's device
// topics, if it also publishes there) as every driver does.
func (HomeAssistant) Decode(_ Device, m Message) Update { return decodeMessage(m) }

// Action takes "<entity>:<verb>" (HAEntity.Actions): on and off for
// switches and lights, press for buttons, set with data["value"] for
// numbers.
func (HomeAssistant) Action(d Device, data map[string]any) ([]Publish, error) {
	name := actionName(data, "")
	if name == "" {
		return nil, ErrNoAction
	}
	base, verb, _ := strings.Cut(name, ":")
	for _, e := range d.HA {
		if e.ActionBase() != base || e.CommandTopic == "" {
			continue
		}
		payload, err := e.command(verb, data["value"])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.Sensor, err)
		}
		return []Publish{{Topic: e.CommandTopic, Payload: payload}}, nil
	}
	return nil, fmt.Errorf("device %s has no action %s (it offers: %s)", d.Identifier, py.Repr(name), strings.Join(d.Actions, ", "))
}

// command is the payload of verb.
func (e HAEntity) command(verb string, value any) ([]byte, error) {
	switch {
	case verb == "on" && (e.Component == "switch" || e.Component == "light"):
		return e.switchPayload(e.PayloadOn), nil
	case verb == "off" && (e.Component == "switch" || e.Component == "light"):
		return e.switchPayload(e.PayloadOff), nil
	case verb == "press" && e.Component == "button":
		return []byte(e.PayloadPress), nil
	case verb == "set" && e.Component == "number":
		f, ok := value.(float64)
		if !ok {
			if s, isText := value.(string); isText {
				var err error
				if f, err = strconv.ParseFloat(strings.TrimSpace(s), 64); err != nil {
					ok = false
				} else {
					ok = true
				}
			}
		}
		if !ok {
			return nil, fmt.Errorf(`set needs a number: {"action": %q, "value": 42}`, e.ActionBase()+":set")
		}
		if e.Min != nil && f < *e.Min || e.Max != nil && f > *e.Max {
			return nil, fmt.Errorf("%v is out of its range", f)
		}
		return []byte(strconv.FormatFloat(f, 'f', -1, 64)), nil
	}
	return nil, fmt.Errorf("a %s has no action %s", e.Component, py.Repr(verb))
}

func (e HAEntity) switchPayload(p string) []byte {
	if e.JSONSchema {
		b, _ := json.Marshal(map[string]string{"state": p})
		return b
	}
	return []byte(p)
}

// ActionBase names the entity in its actions: its sensor name, one word.
func (e HAEntity) ActionBase() string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == ',' || r == ':' || r == '\t' || r == '\n' {
			return '_'
		}
		return r
	}, e.Sensor)
}

// Actions are the actions of the entity, for the device's actions field.
func (e HAEntity) Actions() []string {
	if e.CommandTopic == "" {
		return nil
	}
	b := e.ActionBase()
	switch e.Component {
	case "switch", "light":
		return []string{b + ":on", b + ":off"}
	case "button":
		return []string{b + ":press"}
	case "number":
		return []string{b + ":set"}
	}
	return nil
}

// State reads a message on the entity's state topic: a sensor's or a
// number's value (a number when it is one), true or false for an on/off
// entity. ok is false when the payload says nothing the entity knows (no
// such key, not its on or off payload), which Home Assistant ignores too.
func (e HAEntity) State(payload []byte) (any, bool) {
	v, ok := pick(payload, e.ValuePath)
	if !ok {
		return nil, false
	}
	switch e.Component {
	case "binary_sensor", "switch", "light":
		s := render(v)
		on, off := firstNonEmpty(e.StateOn, e.PayloadOn), firstNonEmpty(e.StateOff, e.PayloadOff)
		switch s {
		case on:
			return true, true
		case off:
			return false, true
		}
		return nil, false
	case "button":
		return nil, false
	}
	if s, isText := v.(string); isText {
		if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
			return f, true
		}
		if s == "" {
			return nil, false
		}
		return s, true
	}
	switch v.(type) {
	case float64, bool:
		return v, true
	}
	return nil, false
}

// Online reads a message on the availability topic.
func (a HAAvailability) Online(payload []byte) (online, ok bool) {
	v, ok := pick(payload, a.ValuePath)
	if !ok {
		return false, false
	}
	switch render(v) {
	case a.Available:
		return true, true
	case a.NotAvailable:
		return false, true
	}
	return false, false
}

// pick is the value at path in a JSON payload; "" is the payload itself,
// as JSON when it is, else as text.
func pick(payload []byte, path string) (any, bool) {
	if path == "" {
		t := bytes.TrimSpace(payload)
		var v any
		if len(t) > 0 && (t[0] == '{' || t[0] == '[' || t[0] == '"') && json.Unmarshal(t, &v) == nil {
			if s, ok := v.(string); ok {
				return s, true
			}
		}
		return string(payload), true // Home Assistant's value is the payload as text
	}
	p, err := jsonpath.Parse(path)
	if err != nil || p == nil {
		return nil, false
	}
	var doc any
	if json.Unmarshal(payload, &doc) != nil {
		return nil, false
	}
	return p.Get(doc)
}

// render is a value as a Home Assistant template prints it.
func render(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool, float64:
		s, _ := haString(x)
		return s
	case nil:
		return "None"
	}
	b, _ := json.Marshal(v)
	return string(b)
}
