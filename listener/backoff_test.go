package listener

import (
	"math"
	"testing"
	"time"

	mqttmodel "github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

func TestBackoffSchedule(t *testing.T) {
	s := func(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }
	cases := []struct {
		name string
		cfg  mqttmodel.BrokerConfig
		rand float64
		want []time.Duration
	}{
		{"addon defaults", mqttmodel.BrokerConfig{}, 0.5,
			[]time.Duration{s(5), s(7.5), s(11.25), s(16.875), s(25.3125), s(37.96875), s(56.953125), s(85.4296875), s(128.14453125), s(192.216796875), s(288.3251953125), s(300), s(300)}},
		{"configured", mqttmodel.BrokerConfig{ReconnectInitial: s(0.2), ReconnectFactor: 2, ReconnectMax: s(1)}, 0.5,
			[]time.Duration{s(0.2), s(0.4), s(0.8), s(1), s(1)}},
		{"factor 1 is constant", mqttmodel.BrokerConfig{ReconnectInitial: s(2), ReconnectFactor: 1, ReconnectMax: s(10)}, 0.5,
			[]time.Duration{s(2), s(2), s(2)}},
		{"jitter low end", mqttmodel.BrokerConfig{ReconnectInitial: s(10), ReconnectFactor: 2, ReconnectMax: s(30), ReconnectJitter: 0.1}, 0,
			[]time.Duration{s(9), s(18), s(27), s(27)}},
		{"jitter high end never exceeds max", mqttmodel.BrokerConfig{ReconnectInitial: s(10), ReconnectFactor: 2, ReconnectMax: s(30), ReconnectJitter: 0.1}, 0.999999999,
			[]time.Duration{s(11), s(22), s(30), s(30)}},
		{"max below initial is raised to it", mqttmodel.BrokerConfig{ReconnectInitial: s(3), ReconnectFactor: 2, ReconnectMax: s(1)}, 0.5,
			[]time.Duration{s(3), s(3)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := newBackoff(c.cfg)
			b.rand = func() float64 { return c.rand }
			for i, want := range c.want {
				if got := b.next(); (got - want).Abs() > time.Millisecond {
					t.Fatalf("delay %d = %v, want %v", i, got, want)
				}
			}
			b.reset()
			if got := b.next(); (got - c.want[0]).Abs() > time.Millisecond {
				t.Errorf("after reset: %v, want %v", got, c.want[0])
			}
		})
	}
}

func TestBackoffJitterStaysInRange(t *testing.T) {
	b := newBackoff(mqttmodel.BrokerConfig{ReconnectInitial: time.Second, ReconnectFactor: 1, ReconnectMax: time.Second, ReconnectJitter: 0.25})
	for range 1000 {
		if d := b.next(); d < 750*time.Millisecond || d > time.Second {
			t.Fatalf("delay %v outside [0.75s, 1s]", d)
		}
	}
}

// TestBackoffStoredValuesNeverHotLoop feeds the schedule every kind of
// value a broker row may hold from before the models refused them, or
// written by hand: NaN, infinities, zero, negatives, tiny and huge
// numbers, converted as the mqtt addon converts them (seconds to a
// Duration, which turns NaN and infinities into whatever the platform
// makes of them). Every delay must be finite, at least the floor and at
// most a day; a NaN factor, which made a hot reconnect loop (13,883
// connects in 15 s), falls back to the addon's schedule.
func TestBackoffStoredValuesNeverHotLoop(t *testing.T) {
	secs := func(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }
	nan, inf := math.NaN(), math.Inf(1)
	odd := []float64{nan, inf, -inf, 0, -1, 1e-300, 1e-9, 0.5, 1e300, math.MaxFloat64}
	for _, initial := range odd {
		for _, factor := range odd {
			for _, maxDelay := range odd {
				for _, jitter := range odd {
					cfg := mqttmodel.BrokerConfig{ReconnectInitial: secs(initial), ReconnectFactor: factor, ReconnectMax: secs(maxDelay), ReconnectJitter: jitter}
					for _, r := range []float64{0, 0.5, 0.999999999} {
						b := newBackoff(cfg)
						b.rand = func() float64 { return r }
						for i := range 80 {
							if d := b.next(); d < minReconnectDelay || d > maxReconnectDelay {
								t.Fatalf("initial %v factor %v max %v jitter %v rand %v: delay %d = %v, want within [%v, %v]",
									initial, factor, maxDelay, jitter, r, i, d, minReconnectDelay, maxReconnectDelay)
							}
						}
					}
				}
			}
		}
	}

	s := func(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }
	b := newBackoff(mqttmodel.BrokerConfig{ReconnectInitial: s(0.2), ReconnectFactor: nan, ReconnectMax: s(1)})
	for i, want := range []time.Duration{s(0.2), s(0.3), s(0.45), s(0.675), s(1), s(1)} {
		if got := b.next(); (got - want).Abs() > time.Millisecond {
			t.Errorf("NaN factor: delay %d = %v, want %v (the default factor 1.5)", i, got, want)
		}
	}
}
