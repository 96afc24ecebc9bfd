package listener

import (
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
