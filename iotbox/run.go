package iotbox

import (
	"context"
	"errors"
	"log/slog"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bus"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/iotdevice"
)

// EventSource is what the box needs of the bus; *bus.Bus is one.
type EventSource interface {
	Subscribe(channels []string, last int64) *bus.Subscription
}

// Run feeds the ring from one bus subscription to iotdevice.ChannelDevices
// until ctx ends, then releases the waiting polls (they answer with no
// result) and returns nil. A subscription the bus cut off because the box
// fell behind is resumed from the last id seen, so no event is lost while
// the bus still buffers it. Cancel ctx before http.Server.Shutdown (or
// from RegisterOnShutdown), or Shutdown waits for the polls' timeout.
func (b *Box) Run(ctx context.Context) error {
	defer b.stop()
	if b.events == nil {
		<-ctx.Done()
		return nil
	}
	var last int64
	for {
		sub := b.events.Subscribe([]string{iotdevice.ChannelDevices}, last)
		var open bool
		last, open = b.consume(ctx, sub, last)
		if open {
			sub.Close()
			return nil // ctx ended
		}
		if errors.Is(sub.Err(), bus.ErrStopped) {
			// The bus is shutting down and will not come back: no events
			// until ctx ends too. Polls keep answering on timeout.
			b.log.Info("IoT box: bus stopped, no more device events")
			<-ctx.Done()
			return nil
		}
		b.log.Warn("IoT box: bus subscription ended, resuming", slog.Int64("last_id", last), slog.Any("error", sub.Err()))
	}
}

// consume ingests the subscription's notes until ctx ends (open = true) or
// the bus closes the feed (open = false), and returns the last id seen.
func (b *Box) consume(ctx context.Context, sub *bus.Subscription, last int64) (int64, bool) {
	for {
		select {
		case <-ctx.Done():
			return last, true
		case notes, ok := <-sub.Notes():
			if !ok {
				return last, false
			}
			for _, n := range notes {
				if n.ID <= last {
					continue // replayed after a resubscription
				}
				last = n.ID
				b.ingest(n.Type, n.Payload, n.Time)
			}
		}
	}
}
