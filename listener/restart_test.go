package listener

import (
	"fmt"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testmqtt"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
	mqttmodel "github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// TestBrokerKilledAndRestarted: Mosquitto is killed with SIGKILL in the
// middle of a stream and started again on the same port. The daemon
// notices, retries by its backoff (logging the outage once, not per
// attempt), reconnects by itself, subscribes again, and every message
// published after the restart is stored. The addon never recovered from a
// drop after a working connection.
// On MQTT 5 as on 3.1.1.
func TestBrokerKilledAndRestarted(t *testing.T) {
	for _, protocol := range []string{"MQTTv311", "MQTTv5"} {
		t.Run(protocol, func(t *testing.T) { testBrokerKilledAndRestarted(t, protocol) })
	}
}

func testBrokerKilledAndRestarted(t *testing.T, protocol string) {
	modelstest.CheckLeaks(t)
	mq := startMosquitto(t, testmqtt.Options{Persistence: true})
	h := newHarness(t, "sqlite", Options{})
	b := h.broker(mq.Port(), map[string]any{"reconnect_initial": 0.2, "reconnect_factor": 1.5, "reconnect_max": 0.5, "protocol": protocol})
	start := time.Now()
	h.call("mqtt.service", "start_mqtt_service")
	h.waitConnected(b, start)
	sub := h.subscription(b, "line/+/count", 1)

	dev := testmqtt.Connect(t, mq.URL(), "counter-before", nil)
	for i := range 50 {
		testmqtt.Publish(t, dev, "line/1/count", 1, false, fmt.Sprint("before ", i))
	}
	testkit.Eventually(t, 10*time.Second, "the messages before the kill", func() bool { return h.count() == 50 })

	killed := time.Now()
	mq.Kill()
	testkit.Eventually(t, 10*time.Second, "the daemon to notice, and say so on the record", func() bool {
		return h.daemon(b).State == mqttmodel.StateReconnecting && h.read("mqtt.broker", b, "listener_state") == mqttmodel.StateReconnecting
	})
	// Several attempts fail while the broker stays down.
	testkit.Eventually(t, 10*time.Second, "three failed attempts", func() bool { return h.daemon(b).Attempts >= 3 })
	if d := h.daemon(b); d.NextRetry.IsZero() || d.LastError == "" || d.StopReason == "" {
		t.Errorf("registry entry while down: %+v", d)
	}

	mq.Restart()
	h.waitConnected(b, killed)
	testkit.Eventually(t, 5*time.Second, "the record connected", func() bool { return h.read("mqtt.broker", b, "listener_state") == mqttmodel.StateConnected })
	if s := h.read("mqtt.subscription", sub, "subscription_status"); s != "subscribed" {
		t.Errorf("subscription %v after the restart", s)
	}
	dev = testmqtt.Connect(t, mq.URL(), "counter-after", nil)
	const after = 200
	for i := range after {
		testmqtt.Publish(t, dev, "line/2/count", 1, false, fmt.Sprint("after ", i))
	}
	testkit.Eventually(t, 15*time.Second, "every message published after the restart", func() bool {
		return h.count([]any{"topic", "=", "line/2/count"}) == after
	})
	if n := h.logs.Count("MQTT listener not connected, retrying"); n != 1 {
		t.Errorf("the outage was logged %d times, want once", n)
	}
	if n := h.logs.Count("MQTT listener connected"); n != 2 {
		t.Errorf("%d connected log lines, want 2", n)
	}
	if v := h.metric("odoo_iot_mqtt_reconnects_total", "broker_id", brokerLabel(b)); v < 3 {
		t.Errorf("reconnects metric %v", v)
	}
	if v := h.metric("odoo_iot_mqtt_connection_state", "broker_id", brokerLabel(b), "state", mqttmodel.StateConnected); v != 1 {
		t.Errorf("connection state metric %v", v)
	}
}
