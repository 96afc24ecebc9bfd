package iot

import (
	"maps"
	"slices"
)

// GenericName is the generic driver's name.
const GenericName = "generic_json"

// DefaultAction names an action whose data names none, for an action
// topic with {action}.
const DefaultAction = "command"

// Generic is the driver of last resort: it supports every device. Its
// data is the decoded payload (JSON, else text); an action publishes the
// data as JSON on the action topic named by data["action"] (DefaultAction
// when absent).
type Generic struct{}

func (Generic) Name() string          { return GenericName }
func (Generic) Supported(Device) bool { return true }

func (Generic) Decode(_ Device, m Message) Update { return decodeMessage(m) }

func (Generic) Action(d Device, data map[string]any) ([]Publish, error) {
	topic, err := d.Patterns.ActionTopic(d.Identifier, actionName(data, DefaultAction))
	if err != nil {
		return nil, err
	}
	payload, err := actionPayload(data)
	if err != nil {
		return nil, err
	}
	return []Publish{{Topic: topic, Payload: payload, QoS: 1}}, nil
}

// decodeMessage reads telemetry and events in the shapes the seeds use;
// both drivers share it.
func decodeMessage(m Message) Update {
	if m.Kind == Event {
		return decodeEvent(m)
	}
	return decodeTelemetry(m)
}

// decodeTelemetry: with {sensor} in the topic, one reading, its payload a
// bare value or an object with "value" (seed 004's {timestamp, type,
// value, unit}); without, an object of readings (seed 002), or one
// {"sensor", "value"} object, or a bare value named "value".
func decodeTelemetry(m Message) Update {
	v := decode(m.Payload)
	obj, isObj := v.(map[string]any)
	switch {
	case m.Sensor != "":
		r := reading(m.Sensor, v)
		return Update{Data: readingData(r), Readings: []Reading{r}}
	case isObj && str(obj["sensor"]) != "":
		r := reading(str(obj["sensor"]), obj)
		return Update{Data: readingData(r), Readings: []Reading{r}}
	case isObj:
		at := timestamp(obj)
		values := map[string]any{}
		var rs []Reading
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			if isIDKey(k) || isTimeKey(k) {
				continue
			}
			r := reading(k, obj[k])
			if r.Time.IsZero() {
				r.Time = at
			}
			rs = append(rs, r)
			values[k] = r.Value
		}
		return Update{Data: map[string]any{"value": values}, Readings: rs}
	}
	r := Reading{Sensor: "value", Value: v}
	return Update{Data: map[string]any{"value": v}, Readings: []Reading{r}}
}

// reading reads one sensor's value: an object with "value" gives value,
// unit, type and timestamp; anything else is the value.
func reading(sensor string, v any) Reading {
	r := Reading{Sensor: sensor, Value: v}
	if obj, ok := v.(map[string]any); ok {
		if val, has := obj["value"]; has {
			r.Value, r.Unit, r.Type, r.Time = val, str(obj["unit"]), str(obj["type"]), timestamp(obj)
		}
	}
	return r
}

func readingData(r Reading) map[string]any {
	d := map[string]any{"sensor": r.Sensor, "value": r.Value}
	if r.Unit != "" {
		d["unit"] = r.Unit
	}
	if r.Type != "" {
		d["type"] = r.Type
	}
	return d
}

// decodeEvent: the event's body is its JSON object (seed 004's
// {"event", "state", "value", "timestamp"}) or {"value": payload}. The
// data is the body with "value" the body's value, else its state, else
// its event name.
func decodeEvent(m Message) Update {
	v := decode(m.Payload)
	body, ok := v.(map[string]any)
	if !ok {
		body = map[string]any{"value": v}
	}
	data := maps.Clone(body)
	if _, has := data["value"]; !has {
		switch {
		case body["state"] != nil:
			data["value"] = body["state"]
		case body["event"] != nil:
			data["value"] = body["event"]
		default:
			data["value"] = ""
		}
	}
	return Update{Data: data, Event: body}
}
