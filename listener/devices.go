package listener

import (
	"context"
	"log/slog"
	"sync"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/topic"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/iotdevice"
	mqttmodel "github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// Device discovery. When a broker has it on, its daemon also subscribes
// the inbound filters of the broker's device patterns (device/+/info,
// ...), and every received message on a device topic goes to
// iotdevice.Addon.IngestDeviceMessages once its batch's history is committed
// and acknowledged (the device worker, below).
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

// maxDevicePayload bounds the device messages used for device updates.
// Each event goes to the bus and the IoT box's event buffer, which keep
// their last 10,000 notes in memory (as the bus keeps a history row's
// payload only up to 4 KiB): larger device payloads would let a flood
// fill them with gigabytes. A larger message on a device topic is still
// stored in the history when a subscription matches it; it is counted and
// logged once per interval.
const maxDevicePayload = 4 << 10

// isDevice reports whether a topic is one of the broker's device topics,
// Home Assistant discovery's included.
func (d *daemon) isDevice(topic string) bool {
	if !d.cfg.Devices.Discovery {
		return false
	}
	if d.cfg.Devices.IsDevice(topic) {
		return true
	}
	ha := d.haTopics.Load()
	return ha != nil && (*ha)[topic]
}

// Home Assistant discovery: the discovered entities' state and
// availability topics are device filters too. The daemon reads them when
// it connects, and again when ingestion says they changed
// (iotdevice.Addon.OnHATopics), subscribing the new ones.

// loadHATopics reads the broker's discovered topics.
func (d *daemon) loadHATopics(ctx context.Context) {
	if !d.cfg.Devices.HADiscovery() {
		return
	}
	topics, err := d.s.iot.HATopics(ctx, d.cfg.ID)
	if err != nil {
		d.log.Warn("Unable to load the Home Assistant discovery topics", slog.Any("error", err))
		return
	}
	set := make(map[string]bool, len(topics))
	for _, t := range topics {
		set[t] = true
	}
	d.haTopics.Store(&set)
}

// haTopicsChanged is the iot addon's OnHATopics hook: the broker's
// daemon, when it runs here, subscribes its new topics (on a helper
// goroutine: the hook must not block ingestion).
func (s *Service) haTopicsChanged(brokerID int64) {
	d := s.daemons.running(brokerID)
	if d == nil || d.ctx == nil {
		return
	}
	s.goHelper(func() {
		d.loadHATopics(d.ctx)
		if sess := d.current(); sess != nil {
			d.syncDevices(d.ctx, sess, d.routes.load().subs)
		}
	})
}

// wantedDeviceFilters are the device filters no user subscription
// covers.
func (d *daemon) wantedDeviceFilters(subs []mqttmodel.SubscriptionConfig) []string {
	if !d.cfg.Devices.Discovery {
		return nil
	}
	var out []string
	all := d.cfg.Devices.Filters()
	if ha := d.haTopics.Load(); ha != nil {
		for t := range *ha {
			all = append(all, t)
		}
	}
	for _, f := range all {
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
		err := sess.client.unsubscribe(uctx, f)
		cancel()
		if err != nil {
			d.log.Warn("Unable to unsubscribe a device topic", slog.String("filter", f), slog.Any("error", err))
		}
	}
	filters := map[string]filter{}
	for f := range wanted {
		if !sess.devices.has(f) {
			filters[f] = filter{qos: deviceQoS}
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
func (d *daemon) recordDeviceSubacks(sess *session, filters map[string]filter, res map[string]error) {
	for f := range filters {
		if err := res[f]; err != nil {
			d.log.Warn("Device topic refused by the broker", slog.String("filter", f), slog.Any("error", err))
			continue
		}
		sess.devices.put(f, true)
	}
}

// Device ingestion, after the acknowledgement.
//
// Once a batch's history is committed, its QoS 1/2 messages acknowledged
// and the bus told, the writer hands the batch's device messages to the
// device worker through the device queue, one job per broker in arrival
// order. Device updates thus never hold back acknowledgements (every
// broker's would wait on them), and are not lost either: the worker
// retries a failed update for as long as the service runs, and at
// shutdown stores what is queued within the drain timeout. Only what is
// still left then is lost, logged and counted: device records are derived
// state, which a device's retained descriptor and its next messages
// restore. One worker taking jobs in order keeps each broker's messages
// in arrival order.

// deviceJob is one broker's device messages of one batch; its size is
// their topic, payload and correlation data bytes.
type deviceJob = job[iotdevice.DeviceMessage]

// handDevices queues the batch's device messages for the device worker,
// one job per broker, in arrival order. It waits while the device queue
// is full; after ctx ended (the drain deadline) what does not fit is
// counted lost.
func (w *writer) handDevices(ctx context.Context, batch []item) {
	jobs := groupByBroker(batch, w.jobOf,
		func(it *item) bool { return it.device && !it.deviceTooLarge && !it.duplicate },
		func(it *item) (iotdevice.DeviceMessage, int) {
			m := &it.msg
			cd := m.properties().CorrelationData
			return iotdevice.DeviceMessage{Topic: m.topic, Payload: m.payload, Retained: m.retained, Time: it.at, CorrelationData: cd},
				len(m.topic) + len(m.payload) + len(cd)
		})
	for _, j := range jobs {
		w.s.devices.push(ctx, j, w.s.m.deviceWaits.Inc)
	}
}

// ingestDevices is the device worker: it stores the queued jobs in order
// until the queue is closed and empty. It retries a failed job with
// capped exponential backoff until it is stored or ctx ends (the drain
// deadline at shutdown); then it counts the rest lost.
func (s *Service) ingestDevices(ctx context.Context) {
	runWorker(ctx, s.log, worker[iotdevice.DeviceMessage]{
		q: s.devices, call: s.deviceIngest, retries: s.m.deviceRetries, lost: s.m.deviceLost,
		failing:   "Unable to update devices from received messages, retrying; the messages are acknowledged already",
		recovered: "Updating devices again",
		gaveUp:    "Giving up updating devices at shutdown; their messages were acknowledged (and stored when a subscription matched them)",
	})
}
