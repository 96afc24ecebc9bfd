package listener

import (
	"strings"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testmqtt"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
	mqttmodel "github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// TestSubscribeUnreachable: the Subscribe button on a broker that cannot
// be reached (a real Mosquitto, stopped) answers the addon's UserError
// "Error subscribing to topic: ..." whether or not the service runs, and
// the record says Fail with the reason. It stays listened: once the broker
// is back, the daemon subscribes it. On a reachable broker the button
// subscribes through the connected daemon, or, with the service stopped,
// asks the broker on a connection of its own and leaves the record
// subscribing until the service starts.
func TestSubscribeUnreachable(t *testing.T) {
	modelstest.CheckLeaks(t)
	cases := []struct {
		name      string
		running   bool // the service runs when the button is pressed
		reachable bool
		// want is the subscription_status right after the button.
		want string
	}{
		{"service running, broker stopped", true, false, "fail"},
		{"service stopped, broker stopped", false, false, "fail"},
		{"service running, broker reachable", true, true, "subscribed"},
		{"service stopped, broker reachable", false, true, "subscribing"},
	}
	for _, kind := range modelstest.Kinds(t) {
		for _, c := range cases {
			t.Run(kind+"/"+c.name, func(t *testing.T) {
				mq := startMosquitto(t, testmqtt.Options{})
				h := newHarness(t, kind, Options{})
				b := h.broker(mq.Port(), nil)
				start := time.Now()
				h.call("mqtt.service", "start_mqtt_service")
				h.waitConnected(b, start)
				if !c.running {
					h.call("mqtt.service", "stop_mqtt_service")
				}
				if !c.reachable {
					mq.Kill()
					if c.running {
						testkit.Eventually(t, 10*time.Second, "the daemon retrying", func() bool {
							return h.daemon(b).State == mqttmodel.StateReconnecting
						})
					}
				}
				sub := h.call("mqtt.subscription", "create", map[string]any{"broker_id": b, "topic": "plant/+/temp", "qos": int64(1)}).(int64)

				res, err := h.try("mqtt.subscription", "subscribe_mqtt", []any{sub})
				status := h.read("mqtt.subscription", sub, "subscription_status")
				lastErr := h.read("mqtt.subscription", sub, "last_error")
				if c.reachable {
					if err != nil || res != true {
						t.Fatalf("subscribe_mqtt = %v, %v; want True", res, err)
					}
					if status != c.want || !noText(lastErr) {
						t.Errorf("status %v, last_error %v; want %s and none", status, lastErr, c.want)
					}
				} else {
					want := "Error subscribing to topic: cannot connect to " + mq.URL()
					if models.KindOf(err) != models.KindUser || !strings.HasPrefix(err.Error(), want) {
						t.Fatalf("subscribe_mqtt = %v, %v; want a UserError starting %q", res, err, want)
					}
					if e, _ := lastErr.(string); status != c.want || err.Error() != "Error subscribing to topic: "+e {
						t.Errorf("status %v, last_error %v; want %s and the reason the user was given", status, lastErr, c.want)
					}
				}
				if h.read("mqtt.subscription", sub, "enabled") != true {
					t.Errorf("the subscription is no longer listened")
				}

				// Broker back and service running: the daemon subscribes it.
				if !c.reachable {
					mq.Restart()
				}
				if !c.running {
					h.call("mqtt.service", "start_mqtt_service")
				}
				testkit.Eventually(t, 15*time.Second, "the daemon subscribing it", func() bool {
					return h.read("mqtt.subscription", sub, "subscription_status") == "subscribed"
				})
				if e := h.read("mqtt.subscription", sub, "last_error"); !noText(e) {
					t.Errorf("last_error %v once subscribed", e)
				}
			})
		}
	}
}

// noText reports whether a char field holds no text (False or "").
func noText(v any) bool { return v == false || v == "" }
