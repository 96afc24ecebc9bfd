package listener

import (
	"math"
	"math/rand/v2"
	"time"

	mqttmodel "github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// The addon's policy, used when a broker record leaves a field at zero:
// first retry after 5 s, x1.5 after each failure, never more than 300 s.
const (
	defaultReconnectInitial = 5 * time.Second
	defaultReconnectFactor  = 1.5
	defaultReconnectMax     = 300 * time.Second
)

// The bounds every schedule is clamped to, whatever the record holds:
// the models refuse NaN, infinities and out-of-range values on write,
// but a row written before they did (or by hand) reaches the listener
// as it is, and a NaN factor once made a delay negative and so a hot
// reconnect loop (thousands of connects per second).
const (
	minReconnectDelay  = 100 * time.Millisecond // no delay is shorter: at most 10 attempts/s per broker
	maxReconnectDelay  = 24 * time.Hour         // nor longer than the models allow
	maxReconnectFactor = 10
)

// backoff is a retry schedule: delay n is initial*factor^n capped at max,
// then varied by up to +/- jitter (a fraction) so that many daemons cut
// off together do not reconnect in lockstep; jitter never takes a delay
// above max, nor any delay below minReconnectDelay.
type backoff struct {
	initial, max time.Duration
	factor       float64
	jitter       float64
	n            int
	rand         func() float64 // [0, 1); tests fix it
}

// newBackoff returns the reconnection schedule of a broker. Each setting
// out of its range, NaN and infinities included, falls back to the
// addon's default or is clamped, so that every delay is finite and at
// least minReconnectDelay.
func newBackoff(cfg mqttmodel.BrokerConfig) *backoff {
	b := &backoff{initial: cfg.ReconnectInitial, factor: cfg.ReconnectFactor, max: cfg.ReconnectMax, jitter: cfg.ReconnectJitter, rand: rand.Float64}
	if b.initial <= 0 {
		b.initial = defaultReconnectInitial
	}
	b.initial = min(max(b.initial, minReconnectDelay), maxReconnectDelay)
	if math.IsNaN(b.factor) || b.factor < 1 {
		b.factor = defaultReconnectFactor
	}
	b.factor = min(b.factor, maxReconnectFactor)
	if b.max <= 0 {
		b.max = defaultReconnectMax
	}
	b.max = min(max(b.max, b.initial), maxReconnectDelay)
	if math.IsNaN(b.jitter) {
		b.jitter = 0
	}
	b.jitter = min(max(b.jitter, 0), 1) // 1 may bring a delay to 0: the floor still holds
	return b
}

// next returns the delay before the next attempt and advances the
// schedule.
func (b *backoff) next() time.Duration {
	d := float64(b.initial) * math.Pow(b.factor, float64(b.n))
	if !(d < float64(b.max)) { // NaN too, though newBackoff leaves no way to it
		d = float64(b.max)
	} else {
		b.n++ // stop counting once capped: the exponent cannot overflow
	}
	if b.jitter > 0 {
		r := b.rand()
		if !(r >= 0 && r < 1) {
			r = 0.5
		}
		d *= 1 + b.jitter*(2*r-1)
	}
	return min(max(time.Duration(d), minReconnectDelay), b.max)
}

// reset starts the schedule again, after a successful connection.
func (b *backoff) reset() { b.n = 0 }
