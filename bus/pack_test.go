package bus

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/iotdevice"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// TestPackBatch: a packed bus_batch row reads back as the same notes, with
// ids row*noteIDSpan+i and the wire bytes the memory mode would send;
// damaged rows give the notes before the damage and an error.
func TestPackBatch(t *testing.T) {
	at := time.Unix(1700000000, 123456789)
	var batch []pending
	for _, n := range []models.Notification{
		{Channel: mqtt.ChannelRealtime, Type: mqtt.NoteMessage, Payload: map[string]any{"topic": "a/b", "payload": "<script>"}},
		{Channel: iotdevice.ChannelDevices, Type: iotdevice.NoteDeviceEvent, Payload: nil},
		{Channel: mqtt.ChannelListener, Type: "t", Payload: strings.Repeat("x", 300)},
	} {
		p, err := encodePending(n, at)
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, p)
	}
	packed := packBatch(nil, batch)
	notes, err := unpackBatch(7, packed)
	if err != nil || len(notes) != len(batch) {
		t.Fatalf("unpack: %d notes, %v", len(notes), err)
	}
	for i, n := range notes {
		want := newNote(7*noteIDSpan+int64(i), batch[i])
		if n.ID != want.ID || n.Channel != want.Channel || n.Type != want.Type || !bytes.Equal(n.Payload, want.Payload) ||
			!n.Time.Equal(at) || !bytes.Equal(n.wire, want.wire) {
			t.Errorf("note %d = %+v, want %+v", i, n, want)
		}
	}
	if lastNoteID(7) < notes[len(notes)-1].ID || lastNoteID(7) >= 8*noteIDSpan {
		t.Errorf("lastNoteID(7) = %d out of row 7's range", lastNoteID(7))
	}

	for _, cut := range []int{1, len(packed) / 2, len(packed) - 1} {
		got, err := unpackBatch(7, packed[:cut])
		if err == nil || len(got) >= len(batch) {
			t.Errorf("cut at %d: %d notes, err %v; want fewer notes and an error", cut, len(got), err)
		}
	}
	if got, err := unpackBatch(7, append(packBatch(nil, batch[:1]), 0xff)); err == nil || len(got) != 1 {
		t.Errorf("trailing junk: %d notes, err %v", len(got), err)
	}
	big := make([]pending, noteIDSpan+1)
	for i := range big {
		big[i] = batch[1]
	}
	if got, err := unpackBatch(1, packBatch(nil, big)); err == nil || len(got) != noteIDSpan {
		t.Errorf("over noteIDSpan notes: %d notes, err %v", len(got), err)
	}
}
