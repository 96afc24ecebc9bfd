package main

// What the bench's devices publish, and how it reads that back out of a
// /websocket frame.
//
// A telemetry payload is {"seq":N,"sent":T}: a sequence number and the
// unix time in nanoseconds just before the Publish call. It has no
// "value" member, so the server's telemetry decoder takes the whole
// object as the sensor's value: the device event a poll returns carries
// it as "value": {"seq": N, "sent": T}.
//
// A /websocket frame is a JSON array of {"id":N,"message":{"type":..,
// "payload":{..., "payload":"<the MQTT payload as a JSON string>", ...}}}.
// Decoding 500,000 of those a second with encoding/json would cost the
// bench more CPU than the server spends sending them, so scanNotes reads
// only the bytes it needs: each note starts with {"id": (the payload
// text is a JSON string, where quotes are escaped, so {"id": appears
// nowhere else), and within a note the first seq\": and sent\": are the
// device's numbers. scan_test.go checks it against encoding/json.

import (
	"bytes"
	"strconv"
)

// payload is the MQTT payload of message seq sent at sentNanos.
func payload(seq int64, sentNanos int64) []byte {
	b := make([]byte, 0, 48)
	b = append(b, `{"seq":`...)
	b = strconv.AppendInt(b, seq, 10)
	b = append(b, `,"sent":`...)
	b = strconv.AppendInt(b, sentNanos, 10)
	return append(b, '}')
}

// wireNote is what the bench needs of one bus note.
type wireNote struct {
	id   int64 // bus id
	seq  int64 // -1 when the note carries no bench payload
	sent int64 // unix nanos, 0 when absent
}

var (
	noteStart = []byte(`{"id":`)
	seqKey    = []byte(`seq\":`)
	sentKey   = []byte(`sent\":`)
)

// scanNotes calls fn for each note of a frame, in order.
func scanNotes(frame []byte, fn func(wireNote)) {
	i := bytes.Index(frame, noteStart)
	for i >= 0 {
		body := frame[i+len(noteStart):]
		next := bytes.Index(body, noteStart)
		if next >= 0 {
			body = body[:next]
		}
		n := wireNote{id: leadingInt(body), seq: -1}
		if k := bytes.Index(body, seqKey); k >= 0 {
			n.seq = leadingInt(body[k+len(seqKey):])
		}
		if k := bytes.Index(body, sentKey); k >= 0 {
			n.sent = leadingInt(body[k+len(sentKey):])
		}
		fn(n)
		if next < 0 {
			return
		}
		i += len(noteStart) + next
	}
}

// leadingInt reads the integer b starts with (after spaces); -1 when there
// is none. A float such as 1.7e+18 (a value re-encoded by a float64 round
// trip) is read too, to the nanosecond precision a float64 keeps.
func leadingInt(b []byte) int64 {
	b = bytes.TrimLeft(b, " ")
	end := 0
	for end < len(b) && (b[end] >= '0' && b[end] <= '9' || b[end] == '-' || b[end] == '.' || b[end] == 'e' || b[end] == 'E' || b[end] == '+') {
		end++
	}
	if end == 0 {
		return -1
	}
	if v, err := strconv.ParseInt(string(b[:end]), 10, 64); err == nil {
		return v
	}
	if f, err := strconv.ParseFloat(string(b[:end]), 64); err == nil {
		return int64(f)
	}
	return -1
}
