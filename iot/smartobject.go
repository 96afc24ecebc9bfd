package iot

import (
	"fmt"
	"strings"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/py"
)

// SmartObjectName is the smart-object driver's name.
const SmartObjectName = "smart_object"

// SmartObject drives seed 004's MQTT smart objects: devices describing
// themselves with a DeviceDescriptor (deviceId, producer, softwareVersion,
// resources, actions) on their info topic. Their telemetry ({timestamp,
// type, value, unit}) and events are read as every driver reads them; an
// action goes to the action topic of its name, which must be one the
// descriptor lists, with the data as its JSON payload.
type SmartObject struct{}

func (SmartObject) Name() string { return SmartObjectName }

// Supported: the device sent a seed 004 descriptor.
func (SmartObject) Supported(d Device) bool {
	if d.Info == nil {
		return false
	}
	_, hasID := d.Info["deviceId"]
	return hasID || len(d.Resources) > 0 || len(d.Actions) > 0
}

func (SmartObject) Decode(_ Device, m Message) Update { return decodeMessage(m) }

func (SmartObject) Action(d Device, data map[string]any) ([]Publish, error) {
	def := ""
	if len(d.Actions) == 1 {
		def = d.Actions[0]
	}
	name := actionName(data, def)
	if name == "" {
		return nil, ErrNoAction
	}
	if !d.HasAction(name) {
		return nil, fmt.Errorf("device %s has no action %s (it offers: %s)", d.Identifier, py.Repr(name), strings.Join(d.Actions, ", "))
	}
	topic, err := d.Patterns.ActionTopic(d.Identifier, name)
	if err != nil {
		return nil, err
	}
	payload, err := actionPayload(data)
	if err != nil {
		return nil, err
	}
	return []Publish{{Topic: topic, Payload: payload, QoS: 1}}, nil
}
