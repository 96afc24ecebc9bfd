package iotbox

import (
	"encoding/json"
	"log/slog"
	"math"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/iotdevice"
)

// maxClockSkew is how far in the future an event's own time may be before
// the server's clock replaces it: one device with a wrong clock must not
// push every later event's cursor ahead.
const maxClockSkew = 5 * time.Second

// ingest adds one bus notification to the ring. Device events carry the
// device data dict ({"device_identifier", "time", "value", ...,
// "device_id", "broker_id"}); the event a poll returns is that dict plus
// "owner" and "request_data" (odoo-rpc.md §6.3), and the poll's own
// "session_id". Other types on the channel (device updates) are not
// events of the box.
func (b *Box) ingest(typ string, payload json.RawMessage, sent time.Time) {
	if typ != iotdevice.NoteDeviceEvent {
		return
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(payload, &fields); err != nil || fields == nil {
		b.log.Warn("Ignoring a device event that is not a JSON object", slog.Any("error", err))
		return
	}
	var device string
	if json.Unmarshal(fields["device_identifier"], &device) != nil || device == "" {
		b.log.Warn("Ignoring a device event without device_identifier")
		return
	}
	now := b.now()
	t := eventTime(fields["time"], sent, now)
	session, data, hasOwner := b.actions.ownerOf(device, now)
	delete(fields, "session_id") // each poll sets its own
	fields["owner"] = json.RawMessage("null")
	if hasOwner {
		fields["owner"] = mustJSON(session)
	}
	fields["request_data"] = json.RawMessage("null")
	if data != nil {
		fields["request_data"] = data
	}
	b.ring.add(device, t, epoch(now), func(t float64) []byte {
		fields["time"] = mustJSON(t)
		body, err := json.Marshal(fields)
		if err != nil { // the members came from valid JSON: cannot happen
			body = []byte(`{"device_identifier":` + string(mustJSON(device)) + `}`)
		}
		// Cap the slice so that appending the session_id copies it: polls
		// share the body.
		return body[: len(body)-1 : len(body)-1]
	})
}

// eventTime is the event's own time (epoch seconds) when it has a sane
// one, else the time the notification was sent, else now.
func eventTime(raw json.RawMessage, sent, now time.Time) float64 {
	limit := epoch(now.Add(maxClockSkew))
	var t float64
	if json.Unmarshal(raw, &t) == nil && t > 0 && t <= limit && !math.IsInf(t, 0) {
		return t
	}
	if !sent.IsZero() && !sent.After(now.Add(maxClockSkew)) {
		return epoch(sent)
	}
	return epoch(now)
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage("null")
	}
	return b
}
