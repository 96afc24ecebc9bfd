package models

import (
	"errors"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/iot"
)

// DeviceTopics are a broker's device discovery settings: whether its
// listener discovers devices, and the topic patterns of its devices.
type DeviceTopics struct {
	Discovery bool
	Patterns  iot.Patterns
}

// deviceTopicFields maps each pattern of iot.Patterns to its broker field.
var deviceTopicFields = []struct {
	field, pattern, label string
	get                   func(p *iot.Patterns) *string
}{
	{"device_info_topic", "info", "Device info topic", func(p *iot.Patterns) *string { return &p.Info }},
	{"device_telemetry_topic", "telemetry", "Device telemetry topic", func(p *iot.Patterns) *string { return &p.Telemetry }},
	{"device_event_topic", "event", "Device event topic", func(p *iot.Patterns) *string { return &p.Event }},
	{"device_action_topic", "action", "Device action topic", func(p *iot.Patterns) *string { return &p.Action }},
	{"device_config_topic", "config", "Device config topic", func(p *iot.Patterns) *string { return &p.Config }},
	{"device_availability_topic", "availability", "Device availability topic", func(p *iot.Patterns) *string { return &p.Availability }},
}

const deviceTopicHelp = "{id} stands for the device identifier, {sensor} for a sensor (telemetry), {action} for an action; " +
	"each a whole topic level. Without {id} the topic is shared and the device id is read from the JSON payload " +
	"(device_id, deviceId, id or client_id). Empty: not used."

// deviceBrokerFields are mqtt.broker's device discovery fields, with
// seed 004's topics as defaults. Brokers that existed before these fields
// have discovery off (NULL) until someone turns it on: an upgrade does
// not add subscriptions by itself.
func deviceBrokerFields() []*Field {
	def := iot.DefaultPatterns()
	fields := []*Field{{Name: "device_discovery", Type: Boolean, String: "Discover devices", Default: constant(true),
		Help: "The listener also subscribes the device topics below and keeps the Devices list up to date. " +
			"Device messages go to the message history only when a subscription of the broker matches them."}}
	for _, t := range deviceTopicFields {
		fields = append(fields, &Field{Name: t.field, Type: Char, String: t.label, Default: constant(*t.get(&def)), Help: deviceTopicHelp})
	}
	return fields
}

// devicePatterns reads the patterns of a loaded broker record.
func devicePatterns(r *Record) iot.Patterns {
	var p iot.Patterns
	for _, t := range deviceTopicFields {
		*t.get(&p) = r.Str(t.field)
	}
	return p
}

// deviceTopics is the discovery settings of a loaded broker record.
func deviceTopics(r *Record) DeviceTopics {
	return DeviceTopics{Discovery: r.Bool("device_discovery"), Patterns: devicePatterns(r)}
}

// checkBrokerDevices validates the device topics, naming the field.
func checkBrokerDevices(_ *Env, recs []*Record) error {
	for _, r := range recs {
		err := devicePatterns(r).Validate()
		var pe *iot.PatternError
		if !errors.As(err, &pe) {
			continue
		}
		for _, t := range deviceTopicFields {
			if t.pattern == pe.Field {
				return ValidationErrorf("%s: %q: %s.", t.label, pe.Template, pe.Reason)
			}
		}
		return ValidationErrorf("Device topics: %v", err)
	}
	return nil
}
