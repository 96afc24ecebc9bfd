package iot

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/py"
)

// Driver is Odoo's IoT driver (seed 001) for MQTT devices: Supported tells
// whether it handles a device, Decode turns the device's telemetry and
// events into its data dict, Action turns an action's data into messages
// to publish.
type Driver interface {
	// Name identifies the driver; iot.device.driver stores it.
	Name() string
	// Supported reports whether the driver handles d, from its descriptor.
	Supported(d Device) bool
	// Decode interprets a telemetry or event message of d.
	Decode(d Device, m Message) Update
	// Action returns what to publish to make d perform the action
	// described by data (Odoo's DeviceProxy.action(data)). An error is
	// meant for the user: a wrong or unknown action.
	Action(d Device, data map[string]any) ([]Publish, error)
}

// Message is one inbound device message.
type Message struct {
	Match
	Topic    string
	Payload  []byte
	Retained bool
	Time     time.Time // when it was received
}

// Reading is one sensor value.
type Reading struct {
	Sensor string
	Value  any
	Unit   string
	Type   string    // seed 004's resource type, "TEMPERATURE_SENSOR"
	Time   time.Time // the device's own timestamp; zero without one
}

// Update is what one message says about its device.
type Update struct {
	// Data is the device's data dict for this message: what an IoT box
	// hands its listeners (Odoo's device.data), with "value" and, by
	// kind, "sensor", "unit", "event", "state", "connected"; plus "kind"
	// and "topic". Never nil.
	Data     map[string]any
	Readings []Reading      // telemetry, to merge into the last values
	Event    map[string]any // an event's body
	Online   *bool          // availability: online or not; nil: not said
	Info     *Device        // a new descriptor
}

// Publish is one message to send.
type Publish struct {
	Topic   string
	Payload []byte
	QoS     byte
	Retain  bool
}

// Registry holds drivers in order of preference.
type Registry struct {
	drivers []Driver
}

// NewRegistry returns a registry trying drivers in the given order; the
// generic driver is added last when missing, so every device has one.
func NewRegistry(drivers ...Driver) *Registry {
	r := &Registry{drivers: append([]Driver(nil), drivers...)}
	if r.ByName(GenericName) == nil {
		r.drivers = append(r.drivers, Generic{})
	}
	return r
}

// DefaultRegistry has the Home Assistant discovery driver (devices with
// discovered entities), the smart-object driver, then the generic one.
func DefaultRegistry() *Registry { return NewRegistry(HomeAssistant{}, SmartObject{}, Generic{}) }

// Driver returns the first driver that supports d.
func (r *Registry) Driver(d Device) Driver {
	for _, drv := range r.drivers {
		if drv.Supported(d) {
			return drv
		}
	}
	return Generic{}
}

// ByName returns the named driver, or nil.
func (r *Registry) ByName(name string) Driver {
	for _, drv := range r.drivers {
		if drv.Name() == name {
			return drv
		}
	}
	return nil
}

// Drivers lists the drivers in order.
func (r *Registry) Drivers() []Driver { return append([]Driver(nil), r.drivers...) }

// Handle interprets an inbound message of device d: an info message gives
// a new descriptor, availability the online state (both the same for
// every driver), telemetry and events go to the driver of d.
func (r *Registry) Handle(d Device, m Message) Update {
	var u Update
	switch m.Kind {
	case Info:
		nd, err := ParseInfo(m.Payload)
		if err != nil {
			u.Data = map[string]any{"value": decode(m.Payload)}
			break
		}
		nd.Identifier, nd.Patterns = d.Identifier, d.Patterns
		if nd.Name == "" {
			nd.Name = d.Identifier
		}
		u.Info = &nd
		u.Data = map[string]any{"value": nd.Name, "info": nd.Info}
	case Availability:
		online, ok := ParseAvailability(m.Payload)
		u.Data = map[string]any{"value": decode(m.Payload)}
		if ok {
			u.Online = &online
			u.Data["connected"] = online
			u.Data["state"] = stateWord(online)
		}
	default:
		u = r.Driver(d).Decode(d, m)
		if u.Data == nil {
			u.Data = map[string]any{"value": decode(m.Payload)}
		}
	}
	u.Data["kind"] = m.Kind.String()
	u.Data["topic"] = m.Topic
	return u
}

func stateWord(online bool) string {
	if online {
		return PayloadOnline
	}
	return PayloadOffline
}

// ParseActionData reads the data of an action as it arrives: a dict, or a
// JSON string (what /hw_drivers/action passes). A JSON string that is not
// an object names the action ("toggle" -> {"action": "toggle"}); nil or
// false is no data.
func ParseActionData(v any) (map[string]any, error) {
	switch x := v.(type) {
	case nil:
		return map[string]any{}, nil
	case bool:
		if !x {
			return map[string]any{}, nil
		}
	case map[string]any:
		return x, nil
	case string:
		s := strings.TrimSpace(x)
		if s == "" {
			return map[string]any{}, nil
		}
		var dec any
		if err := json.Unmarshal([]byte(s), &dec); err != nil {
			return map[string]any{"action": s}, nil
		}
		switch y := dec.(type) {
		case map[string]any:
			return y, nil
		case string:
			return map[string]any{"action": y}, nil
		}
		return map[string]any{"value": dec}, nil
	}
	return nil, fmt.Errorf("action data must be a dict or a JSON string, not %s", py.TypeName(v))
}

// ErrNoAction is returned when an action needs a name and the data has
// none.
var ErrNoAction = errors.New(`the action needs a name: {"action": "<name>", ...}`)

// actionName returns data["action"], or def.
func actionName(data map[string]any, def string) string {
	if s, ok := data["action"].(string); ok && strings.TrimSpace(s) != "" {
		return strings.TrimSpace(s)
	}
	return def
}

// actionPayload is what an action publishes: data["payload"] when given
// (a string as is, anything else as JSON), else the whole data as JSON.
func actionPayload(data map[string]any) ([]byte, error) {
	if p, ok := data["payload"]; ok {
		if s, isStr := p.(string); isStr {
			return []byte(s), nil
		}
		return json.Marshal(p)
	}
	return json.Marshal(data)
}

// ConfigMessage is a configuration for device id to read, published
// retained on its config topic (seed 002's /homecontrol/device/config,
// shared by the devices there). config is a dict or a JSON text.
func ConfigMessage(p Patterns, id string, config any) (Publish, error) {
	topic, err := p.ConfigTopic(id)
	if err != nil {
		return Publish{}, err
	}
	var payload []byte
	switch x := config.(type) {
	case string:
		if !json.Valid([]byte(x)) {
			return Publish{}, fmt.Errorf("the configuration is not JSON text")
		}
		payload = []byte(strings.TrimSpace(x))
	case map[string]any, []any:
		if payload, err = json.Marshal(x); err != nil {
			return Publish{}, err
		}
	default:
		return Publish{}, fmt.Errorf("the configuration must be a dict or JSON text, not %T", config)
	}
	return Publish{Topic: topic, Payload: payload, QoS: 1, Retain: true}, nil
}
