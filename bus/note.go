package bus

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// Note is one published notification.
type Note struct {
	ID      int64
	Channel string
	Type    string
	Payload json.RawMessage
	Time    time.Time // when the bus accepted it

	// wire is the note as /websocket and peek_notifications send it,
	// {"id":N,"message":{"type":..,"payload":..}}, encoded once for every
	// client that receives it.
	wire []byte
}

// pending is a notification accepted by Notify, not yet numbered.
type pending struct {
	channel string
	typ     string
	message []byte // {"type":..,"payload":..}, as stored in bus_bus.message
	payload []byte // the payload inside message
	at      time.Time
}

// encodePending encodes n once; everything after works on bytes.
func encodePending(n models.Notification, at time.Time) (pending, error) {
	if n.Channel == "" {
		return pending{}, errors.New("bus: notification without a channel")
	}
	payload, err := json.Marshal(n.Payload)
	if err != nil {
		return pending{}, fmt.Errorf("bus: encode %s payload: %w", n.Type, err)
	}
	typ, _ := json.Marshal(n.Type) // a string always encodes
	msg := make([]byte, 0, len(typ)+len(payload)+22)
	msg = append(msg, `{"type":`...)
	msg = append(msg, typ...)
	msg = append(msg, `,"payload":`...)
	start := len(msg)
	msg = append(msg, payload...)
	end := len(msg)
	msg = append(msg, '}')
	return pending{channel: n.Channel, typ: n.Type, message: msg, payload: msg[start:end:end], at: at}, nil
}

// newNote numbers a pending notification.
func newNote(id int64, p pending) Note {
	return Note{ID: id, Channel: p.channel, Type: p.typ, Payload: json.RawMessage(p.payload), Time: p.at, wire: wireBytes(id, p.message)}
}

// noteFromRow rebuilds a note fetched from bus_bus.
func noteFromRow(id int64, channel, message string, at time.Time) (Note, error) {
	var m struct {
		Type    string          `json:"type"`
		Payload json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal([]byte(message), &m); err != nil {
		return Note{}, fmt.Errorf("bus: bus_bus row %d: message is not {type, payload}: %w", id, err)
	}
	if m.Payload == nil {
		m.Payload = json.RawMessage("null")
	}
	return Note{ID: id, Channel: channel, Type: m.Type, Payload: m.Payload, Time: at, wire: wireBytes(id, []byte(message))}, nil
}

func wireBytes(id int64, message []byte) []byte {
	b := make([]byte, 0, len(message)+32)
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, id, 10)
	b = append(b, `,"message":`...)
	b = append(b, message...)
	return append(b, '}')
}
