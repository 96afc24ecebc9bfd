package listener

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testmqtt"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
)

// TestBadStoredBackoffMakesNoHotLoop, on each database: a broker row
// whose reconnection settings were written before the models refused
// them (here straight in SQL, as an old row or a hand edit would be),
// pointing at a Mosquitto that refuses its credentials. The daemon keeps
// retrying, and the attempts Mosquitto sees over a window stay within
// what the delay floor allows: a NaN factor once gave negative delays,
// and a nanosecond first delay with factor 1 (both accepted by the model
// then) gave thousands of connects per second. SQLite stores NaN as NULL,
// so the NaN case runs on PostgreSQL only.
func TestBadStoredBackoffMakesNoHotLoop(t *testing.T) {
	cases := []struct {
		name     string
		pgOnly   bool
		settings map[string]float64
	}{
		{"NaN factor", true, map[string]float64{"reconnect_factor": math.NaN()}},
		{"NaN everywhere", true, map[string]float64{"reconnect_initial": math.NaN(), "reconnect_factor": math.NaN(), "reconnect_max": math.NaN(), "reconnect_jitter": math.NaN()}},
		{"nanosecond first delay, factor 1", false, map[string]float64{"reconnect_initial": 1e-9, "reconnect_factor": 1, "reconnect_max": 1e-9}},
		{"infinite factor and jitter", false, map[string]float64{"reconnect_factor": math.Inf(1), "reconnect_jitter": math.Inf(1)}},
		{"negative and zero", false, map[string]float64{"reconnect_initial": -1, "reconnect_factor": 0, "reconnect_max": -5, "reconnect_jitter": -1}},
	}
	for _, kind := range modelstest.Kinds(t) {
		t.Run(kind, func(t *testing.T) {
			modelstest.CheckLeaks(t)
			mq := startMosquitto(t, testmqtt.Options{Users: map[string]string{"plant": "right"}})
			h := newHarness(t, kind, Options{})
			var brokers []int64
			for _, c := range cases {
				if c.pgOnly && h.reg.Dialect() != models.Postgres {
					continue
				}
				b := h.broker(mq.Port(), map[string]any{"name": c.name, "username": "plant", "password": "wrong"})
				for col, v := range c.settings {
					if err := h.reg.DB().Exec(`UPDATE "mqtt_broker" SET "`+col+`" = ? WHERE id = ?`, v, b).Error; err != nil {
						t.Fatalf("%s: %v", c.name, err)
					}
				}
				brokers = append(brokers, b)
			}
			connects := func() int { return strings.Count(mq.Output(), "New connection from") }
			start := time.Now()
			h.call("mqtt.service", "start_mqtt_service")
			testkit.Eventually(t, 15*time.Second, "every daemon retrying", func() bool {
				for _, b := range brokers {
					if h.daemon(b).Attempts < 2 {
						return false
					}
				}
				return true
			})
			// The window: from the first count to the last. Whatever the
			// machine's load, no more attempts fit in it than one per
			// floor delay per broker, plus the one each may be making.
			before, from := connects(), time.Now()
			time.Sleep(1500 * time.Millisecond)
			after, window := connects(), time.Since(from)
			n := after - before
			limit := len(brokers) * (int(window/minReconnectDelay) + 2)
			t.Logf("%d brokers with bad settings: %d connects in %v (%.1f/s), up to %d allowed; %d since the start %v ago",
				len(brokers), n, window.Round(time.Millisecond), float64(n)/window.Seconds(), limit, after, time.Since(start).Round(time.Millisecond))
			if n > limit {
				t.Errorf("%d connects in %v from %d brokers: a hot reconnect loop (the floor %v allows %d)", n, window, len(brokers), minReconnectDelay, limit)
			}
			for _, b := range brokers {
				if d := h.daemon(b); d.NextRetry.IsZero() || !strings.Contains(d.LastError, "refused") {
					t.Errorf("broker %d while refused: %+v", b, d)
				}
			}
		})
	}
}
