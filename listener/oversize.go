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

// refuse counts a message refused for its size (its payload of size
// bytes was discarded unread) and logs the count once per interval.
func (d *daemon) refuse(topic string, size int) {
	d.oversized.Inc()
	r := &d.refused
	r.mu.Lock()
	r.n++
	if size > r.largest {
		r.largest, r.topic = size, topic
	}
	due := time.Since(r.last) >= oversizeLogEvery
	r.mu.Unlock()
	if due {
		d.logRefused()
	}
}

// logRefused logs the refusals counted since the last line, if any.
func (d *daemon) logRefused() {
	r := &d.refused
	r.mu.Lock()
	n, largest, topic := r.n, r.largest, r.topic
	r.n, r.largest, r.topic = 0, 0, ""
	if n > 0 {
		r.last = time.Now()
	}
	r.mu.Unlock()
	if n > 0 {
		d.log.Warn("Refused received messages larger than the broker's max_payload_size: not stored, acknowledged",
			slog.Int("messages", n), slog.Int("largest_bytes", largest), slog.String("topic", topic),
			slog.Int("max_payload_size", d.maxPayload), slog.Duration("logged_at_most_every", oversizeLogEvery))
	}
}
