package bus

import (
	"encoding/binary"
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
	message []byte // {"type":..,"payload":..}, as the wire frames carry it
	payload []byte // the payload inside message
	at      time.Time
}

// size is the approximate memory a queued notification holds, which
// Options.QueueBytes counts.
func (p pending) size() int64 {
	return int64(len(p.channel)+len(p.typ)+cap(p.message)) + noteOverhead
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
	return buildNote(id, p.channel, p.typ, p.message, len(p.message)-1-len(p.payload), p.at)
}

// buildNote makes the note with its wire bytes. Its Payload is a slice of
// the wire bytes rather than of message, so that a buffered note holds one
// copy of its payload, and not the whole bus_batch row message came from.
func buildNote(id int64, channel, typ string, message []byte, payloadStart int, at time.Time) Note {
	wire := wireBytes(id, message)
	// wire is {"id":N,"message":<message>}: message ends 1 byte before it.
	start := len(wire) - 1 - len(message) + payloadStart
	end := len(wire) - 2 // the payload ends before message's closing brace
	return Note{ID: id, Channel: channel, Type: typ, Payload: json.RawMessage(wire[start:end:end]), Time: at, wire: wire}
}

// noteOverhead approximates what a buffered note costs besides its bytes:
// the Note itself and its slice and string headers.
const noteOverhead = 128

// size is the approximate memory a buffered note holds, which the ring's
// byte bound counts: its channel, its type, its wire bytes (which hold its
// payload) and noteOverhead.
func (n Note) size() int64 {
	return int64(len(n.Channel)+len(n.Type)+cap(n.wire)) + noteOverhead
}

// noteIDSpan is how many note ids one bus_batch row owns: a note's id is
// row id * noteIDSpan + its place in the row. MaxBatch is capped to it.
const noteIDSpan = 1 << 12

// lastNoteID is the highest id a note of row can have.
func lastNoteID(row int64) int64 { return row*noteIDSpan + noteIDSpan - 1 }

// packBatch appends a batch in the bus_batch.notes layout: per note, the
// channel, the type, the payload's offset in the message, the message and
// the time, length-prefixed with uvarints. Reading it back is slicing: no
// JSON is parsed again on the way from the database to the sockets.
func packBatch(buf []byte, batch []pending) []byte {
	for _, p := range batch {
		buf = appendField(buf, p.channel)
		buf = appendField(buf, p.typ)
		buf = binary.AppendUvarint(buf, uint64(len(p.message)-1-len(p.payload)))
		buf = appendField(buf, p.message)
		buf = binary.AppendVarint(buf, p.at.UnixNano())
	}
	return buf
}

func appendField[T string | []byte](buf []byte, v T) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(v)))
	return append(buf, v...)
}

// unpackBatch rebuilds the notes of bus_batch row id. On malformed data it
// returns the notes before the damage and an error.
func unpackBatch(row int64, data []byte) ([]Note, error) {
	var notes []Note
	for i := int64(0); len(data) > 0; i++ {
		if i == noteIDSpan {
			return notes, fmt.Errorf("bus: bus_batch row %d holds more than %d notes", row, noteIDSpan)
		}
		var (
			channel, typ, message []byte
			start                 uint64
			at                    int64
			ok                    bool
		)
		if channel, data, ok = readField(data); !ok {
			break
		}
		if typ, data, ok = readField(data); !ok {
			break
		}
		n := 0
		if start, n = binary.Uvarint(data); n <= 0 {
			break
		}
		data = data[n:]
		if message, data, ok = readField(data); !ok || start >= uint64(len(message)) {
			break
		}
		if at, n = binary.Varint(data); n <= 0 {
			break
		}
		data = data[n:]
		notes = append(notes, buildNote(row*noteIDSpan+i, string(channel), string(typ), message, int(start), time.Unix(0, at)))
		if len(data) == 0 {
			return notes, nil
		}
	}
	if len(data) == 0 {
		return notes, nil
	}
	return notes, fmt.Errorf("bus: bus_batch row %d is malformed after %d notes", row, len(notes))
}

// readField reads one length-prefixed field; the result aliases data.
func readField(data []byte) (field, rest []byte, ok bool) {
	l, n := binary.Uvarint(data)
	if n <= 0 || l > uint64(len(data)-n) {
		return nil, data, false
	}
	data = data[n:]
	return data[:l:l], data[l:], true
}

func wireBytes(id int64, message []byte) []byte {
	b := make([]byte, 0, len(message)+32)
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, id, 10)
	b = append(b, `,"message":`...)
	b = append(b, message...)
	return append(b, '}')
}
