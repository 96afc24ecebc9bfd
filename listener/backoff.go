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

// backoff is a retry schedule: delay n is initial*factor^n capped at max,
// then varied by up to +/- jitter (a fraction) so that many daemons cut
// off together do not reconnect in lockstep; jitter never takes a delay
// above max.
type backoff struct {
	initial, max time.Duration
	factor       float64
	jitter       float64
	n            int
	rand         func() float64 // [0, 1); tests fix it
}

// newBackoff returns the reconnection schedule of a broker.
func newBackoff(cfg mqttmodel.BrokerConfig) *backoff {
	b := &backoff{initial: cfg.ReconnectInitial, factor: cfg.ReconnectFactor, max: cfg.ReconnectMax, jitter: cfg.ReconnectJitter, rand: rand.Float64}
	if b.initial <= 0 {
		b.initial = defaultReconnectInitial
	}
	if b.factor < 1 {
		b.factor = defaultReconnectFactor
	}
	if b.max <= 0 {
		b.max = defaultReconnectMax
	}
	b.max = max(b.max, b.initial)
	b.jitter = min(max(b.jitter, 0), 1)
	return b
}

// next returns the delay before the next attempt and advances the
// schedule.
func (b *backoff) next() time.Duration {
	d := float64(b.initial) * math.Pow(b.factor, float64(b.n))
	if d >= float64(b.max) || math.IsInf(d, 0) {
		d = float64(b.max)
	} else {
		b.n++ // stop counting once capped: the exponent cannot overflow
	}
	if b.jitter > 0 {
		d *= 1 + b.jitter*(2*b.rand()-1)
	}
	return min(time.Duration(d), b.max)
}

// reset starts the schedule again, after a successful connection.
func (b *backoff) reset() { b.n = 0 }
