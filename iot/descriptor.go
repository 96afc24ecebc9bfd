package iot

import (
	"errors"
	"strings"
)

// Device is what is known of one device: its descriptor (from an info
// message; only Identifier without one) and where it lives.
type Device struct {
	Identifier   string
	Name         string
	Type         string // one of Types
	Manufacturer string
	Model        string
	Version      string
	Resources    []string       // sensors and actuators it reports on
	Actions      []string       // actions it obeys; empty: unknown
	Info         map[string]any // the descriptor as received; nil without one
	// HA are the entities Home Assistant's MQTT discovery announced for
	// the device (ha_config.go); nil for other devices.
	HA []HAEntity

	// Patterns are the device's broker's topics, to address it.
	Patterns Patterns
}

// Types are Odoo's iot.device types (printer ... fiscal_data_module), and
// sensor and actuator for what MQTT devices mostly are.
var Types = []string{"printer", "camera", "keyboard", "scanner", "device", "payment", "scale", "display",
	"fiscal_data_module", "sensor", "actuator"}

// The descriptor keys read, first present wins. Seed 004's
// DeviceDescriptor has deviceId, producer, softwareVersion; others use
// the plainer names.
var (
	nameKeys         = []string{"name", "deviceName", "device_name", "friendly_name", "label"}
	manufacturerKeys = []string{"manufacturer", "producer", "vendor", "brand"}
	modelKeys        = []string{"model", "deviceModel", "device_model", "product"}
	versionKeys      = []string{"softwareVersion", "software_version", "version", "firmware", "firmwareVersion", "fw_version", "sw_version"}
	typeKeys         = []string{"type", "deviceType", "device_type"}
	resourceKeys     = []string{"resources", "sensors", "resource_list"}
	actionKeys       = []string{"actions", "commands", "action_list"}
)

// ErrNotDescriptor is returned by ParseInfo for a payload that is not a
// JSON object.
var ErrNotDescriptor = errors.New("iot: a device descriptor must be a JSON object")

// ParseInfo reads a descriptor. The identifier comes from the payload
// (deviceId, device_id, id, client_id) when it has one; the caller knows
// it from the topic otherwise. Type is the descriptor's own when it names
// one of Types (or says sensor or actuator in its words), else actuator
// for a device with actions, sensor for one with resources, device.
func ParseInfo(payload []byte) (Device, error) {
	obj := decodeObject(payload)
	if obj == nil {
		return Device{}, ErrNotDescriptor
	}
	d := Device{
		Identifier:   objectDeviceID(obj),
		Name:         first(obj, nameKeys),
		Manufacturer: first(obj, manufacturerKeys),
		Model:        first(obj, modelKeys),
		Version:      first(obj, versionKeys),
		Info:         obj,
	}
	for _, k := range resourceKeys {
		if v, ok := obj[k]; ok {
			d.Resources = names(v)
			break
		}
	}
	for _, k := range actionKeys {
		if v, ok := obj[k]; ok {
			d.Actions = names(v)
			break
		}
	}
	d.Type = deviceType(first(obj, typeKeys), d)
	return d, nil
}

// first returns the first key's value that is a string or number, as text.
func first(obj map[string]any, keys []string) string {
	for _, k := range keys {
		switch v := obj[k].(type) {
		case string:
			if s := strings.TrimSpace(v); s != "" {
				return s
			}
		case float64:
			if s := idString(v); s != "" {
				return s
			}
		}
	}
	return ""
}

func deviceType(stated string, d Device) string {
	s := strings.ToLower(strings.TrimSpace(stated))
	for _, t := range Types {
		if s == t {
			return t
		}
	}
	switch {
	case strings.Contains(s, "sensor"):
		return "sensor"
	case strings.Contains(s, "actuator"), strings.Contains(s, "switch"):
		return "actuator"
	case len(d.Actions) > 0:
		return "actuator"
	case len(d.Resources) > 0:
		return "sensor"
	}
	return "device"
}

// HasAction reports whether the device lists action, or lists none (and
// so may obey anything).
func (d Device) HasAction(action string) bool {
	if len(d.Actions) == 0 {
		return true
	}
	for _, a := range d.Actions {
		if a == action {
			return true
		}
	}
	return false
}
