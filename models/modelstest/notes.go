package modelstest

import (
	"context"
	"fmt"
	"sync"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/iotdevice"
)

// Notes is a Notifier that records what it is told and whether the device
// each device note names was visible, at that moment, to a connection
// outside the ingesting transaction: a note sent before the commit would
// name a device nobody else can see yet. Give it to Options.Notifier, then
// set Reg to the registry built with it.
type Notes struct {
	Reg *models.Registry

	mu    sync.Mutex
	notes []models.Notification
	early []string // notes about devices not yet committed
}

// Notify records notes.
func (n *Notes) Notify(ctx context.Context, notes ...models.Notification) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, note := range notes {
		n.notes = append(n.notes, note)
		p, ok := note.Payload.(map[string]any)
		if !ok || note.Channel != iotdevice.ChannelDevices || n.Reg == nil {
			continue
		}
		var count int64
		n.Reg.DB().Raw(`SELECT COUNT(*) FROM "iot_device" WHERE "id" = ?`, p["device_id"]).Scan(&count)
		if count != 1 {
			n.early = append(n.early, fmt.Sprintf("%s %v", note.Type, p["device_identifier"]))
		}
	}
}

// All returns every note recorded.
func (n *Notes) All() []models.Notification {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]models.Notification(nil), n.notes...)
}

// Take returns the payloads of the notes of one type.
func (n *Notes) Take(typ string) []map[string]any {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []map[string]any
	for _, note := range n.notes {
		if note.Type == typ {
			out = append(out, note.Payload.(map[string]any))
		}
	}
	return out
}

// Early lists the device notes sent before their device was committed.
func (n *Notes) Early() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.early...)
}

// Reset forgets every note.
func (n *Notes) Reset() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.notes = nil
}
