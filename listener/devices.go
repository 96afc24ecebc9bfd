package listener

import (
	"context"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/iotdevice"
	mqttmodel "github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
	"log/slog"
	"sync"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/topic"
)

// Device discovery. When a broker has it on, its daemon also subscribes
// the inbound filters of the broker's device patterns (device/+/info,
// ...), and every received message on a device topic goes to
// Registry.IngestDeviceMessages after its batch's history is committed.
// A device message is stored in the history only when one of the user's
// subscriptions matches it, as any message is.
//
// MQTT lets a broker deliver a message once per matching subscription of
// a client (MQTT 3.1.1 §3.3.5; Mosquitto's allow_duplicate_messages). So
// a device filter that a user subscription already covers (device/#, #,
// or the same filter) is not subscribed: its messages come through the
// user's subscription, once. A device filter that only partly overlaps a
// user filter (device/lamp-1/# and device/+/info) is subscribed, and
// topics matching both may arrive twice from such brokers; a warning
// says so.

// deviceQoS is the QoS of the device filters: info, events and
// availability are retained state a device publishes at QoS 1.
const deviceQoS = 1

// isDevice reports whether a topic is one of the broker's device topics.
func (d *daemon) isDevice(topic string) bool {
	if !d.cfg.Devices.Discovery {
		return false
	}
	_, ok := d.cfg.Devices.Patterns.Match(topic)
	return ok
}

// wantedDeviceFilters are the device filters no user subscription
// covers.
func (d *daemon) wantedDeviceFilters(subs []mqttmodel.SubscriptionConfig) []string {
	if !d.cfg.Devices.Discovery {
		return nil
	}
	var out []string
	for _, f := range d.cfg.Devices.Patterns.Filters() {
		covered := false
		for _, s := range subs {
			covered = covered || topic.Covers(s.Topic, f)
		}
		if !covered {
			out = append(out, f)
		}
	}
	return out
}

// warnOverlaps logs the subscribed device filters that overlap a user
// filter (which does not cover them, or they would not be subscribed).
func (d *daemon) warnOverlaps(filters []string, subs []mqttmodel.SubscriptionConfig) {
	for _, f := range filters {
		for _, s := range subs {
			if topic.Overlap(s.Topic, f) { // and s does not cover f: those are not subscribed
				d.log.Warn("A device topic overlaps a subscription: messages matching both may arrive twice",
					slog.String("device_filter", f), slog.String("subscription", s.Topic))
			}
		}
	}
}

// deviceFilters is a session's subscribed device filters. sync
// serialises the changes a Subscribe or Unsubscribe makes to them.
type deviceFilters struct {
	sync sync.Mutex
	mu   sync.Mutex
	set  map[string]bool
}

func (f *deviceFilters) has(filter string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.set[filter]
}

func (f *deviceFilters) put(filter string, on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.set == nil {
		f.set = map[string]bool{}
	}
	if on {
		f.set[filter] = true
	} else {
		delete(f.set, filter)
	}
}

func (f *deviceFilters) list() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, 0, len(f.set))
	for k := range f.set {
		out = append(out, k)
	}
	return out
}

// syncDevices brings the session's device filters in line with the user
// subscriptions after one was added or removed: filters a user filter now
// covers are unsubscribed (unless it is the same filter, which the broker
// holds once), uncovered ones subscribed.
func (d *daemon) syncDevices(ctx context.Context, sess *session, subs []mqttmodel.SubscriptionConfig) {
	if !d.cfg.Devices.Discovery {
		return
	}
	sess.devices.sync.Lock()
	defer sess.devices.sync.Unlock()
	wanted := map[string]bool{}
	for _, f := range d.wantedDeviceFilters(subs) {
		wanted[f] = true
	}
	for _, f := range sess.devices.list() {
		if wanted[f] {
			continue
		}
		sess.devices.put(f, false)
		same := false
		for _, s := range subs {
			same = same || s.Topic == f
		}
		if same {
			continue // the user's subscription replaced it at the broker
		}
		uctx, cancel := withDefaultTimeout(ctx, subackTimeout)
		err := waitToken(uctx, sess.client.Unsubscribe(f))
		cancel()
		if err != nil {
			d.log.Warn("Unable to unsubscribe a device topic", slog.String("filter", f), slog.Any("error", err))
		}
	}
	filters := map[string]byte{}
	for f := range wanted {
		if !sess.devices.has(f) {
			filters[f] = deviceQoS
		}
	}
	if len(filters) == 0 {
		return
	}
	res, err := sess.subscribe(ctx, filters)
	if err != nil {
		d.log.Warn("Unable to subscribe the device topics", slog.Any("error", err))
		return
	}
	d.recordDeviceSubacks(sess, filters, res)
}

// recordDeviceSubacks notes which device filters the broker accepted.
func (d *daemon) recordDeviceSubacks(sess *session, filters map[string]byte, res map[string]error) {
	for f := range filters {
		if err := res[f]; err != nil {
			d.log.Warn("Device topic refused by the broker", slog.String("filter", f), slog.Any("error", err))
			continue
		}
		sess.devices.put(f, true)
	}
}

// Device ingestion in the batch writer.

// deviceAttempts bounds the tries of one broker's device update: device
// records are derived state (a retained descriptor restores them), so a
// failure that outlasts the retries is logged and the messages are
// acknowledged, rather than holding up every broker's history.
const deviceAttempts = 3

// ingestDevices hands the batch's device messages to the models, one call
// per broker, in arrival order.
func (w *writer) ingestDevices(ctx context.Context, batch []item) {
	var brokers []int64
	for i := range batch {
		it := &batch[i]
		if !it.device {
			continue
		}
		if w.devices == nil {
			w.devices = map[int64][]iotdevice.DeviceMessage{}
		}
		msgs := w.devices[it.broker]
		if len(msgs) == 0 {
			brokers = append(brokers, it.broker)
		}
		w.devices[it.broker] = append(msgs, iotdevice.DeviceMessage{Topic: it.msg.Topic(), Payload: it.msg.Payload(), Retained: it.msg.Retained(), Time: it.at})
	}
	for _, b := range brokers {
		msgs := w.devices[b]
		w.ingestBroker(ctx, b, msgs)
		clear(msgs)
		w.devices[b] = msgs[:0]
	}
}

func (w *writer) ingestBroker(ctx context.Context, broker int64, msgs []iotdevice.DeviceMessage) {
	retry := &backoff{initial: 50 * time.Millisecond, factor: 2, max: time.Second}
	var err error
	for attempt := 1; attempt <= deviceAttempts; attempt++ {
		if err = w.s.devices.IngestDeviceMessages(ctx, broker, msgs); err == nil || ctx.Err() != nil || attempt == deviceAttempts {
			break
		}
		t := time.NewTimer(retry.next())
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	if err != nil {
		w.s.log.Error("Unable to update devices from received messages; their history is stored",
			slog.Int64("broker_id", broker), slog.Int("messages", len(msgs)), slog.Any("error", err))
	}
}
