package listener

import (
	"log/slog"
	"sync"
	"time"

	mqttmodel "github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// oversizeLogEvery: refused messages are logged once per interval per
// broker, with how many there were, not once per message (a flood of
// them would flood the log too).
const oversizeLogEvery = time.Minute

// refusals counts a broker's refused messages since the last log line.
type refusals struct {
	mu      sync.Mutex
	last    time.Time // the last log line
	n       int
	largest int
	topic   string // of the largest
}

// maxPayload is the largest payload the broker's daemon lets through:
// the record's max_payload_size, within the ingest byte budget.
func maxPayload(cfg mqttmodel.BrokerConfig, queueBytes int) int {
	n := cfg.MaxPayload
	if n <= 0 {
		n = mqttmodel.DefaultMaxPayload
	}
	return min(n, queueBytes)
}

// add counts one message and reports whether the interval since the
// last log line has passed.
func (r *refusals) add(topic string, size int) (due bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	if size > r.largest {
		r.largest, r.topic = size, topic
	}
	return time.Since(r.last) >= oversizeLogEvery
}

// take returns what was counted since the last log line and starts a new
// interval when there was any.
func (r *refusals) take() (n, largest int, topic string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, largest, topic = r.n, r.largest, r.topic
	r.n, r.largest, r.topic = 0, 0, ""
	if n > 0 {
		r.last = time.Now()
	}
	return n, largest, topic
}

// refuse counts a message refused for its size (its payload of size
// bytes was discarded unread) and logs the count once per interval.
func (d *daemon) refuse(topic string, size int) {
	d.oversized.Inc()
	if d.refused.add(topic, size) {
		d.logRefused()
	}
}

// skipDevice counts a device message too large for a device update.
func (d *daemon) skipDevice(topic string, size int) {
	d.deviceTooLarge.Inc()
	if d.deviceSkipped.add(topic, size) {
		d.logRefused()
	}
}

// logRefused logs the messages refused and the device messages skipped
// since the last lines, if any.
func (d *daemon) logRefused() {
	if n, largest, topic := d.refused.take(); n > 0 {
		d.log.Warn("Refused received messages larger than the broker's max_payload_size: not stored, acknowledged",
			slog.Int("messages", n), slog.Int("largest_bytes", largest), slog.String("topic", topic),
			slog.Int("max_payload_size", d.maxPayload), slog.Duration("logged_at_most_every", oversizeLogEvery))
	}
	if n, largest, topic := d.deviceSkipped.take(); n > 0 {
		d.log.Warn("Device messages too large for a device update: not used for devices (stored in the history only if a subscription matches)",
			slog.Int("messages", n), slog.Int("largest_bytes", largest), slog.String("topic", topic),
			slog.Int("max_device_payload", maxDevicePayload), slog.Duration("logged_at_most_every", oversizeLogEvery))
	}
}
