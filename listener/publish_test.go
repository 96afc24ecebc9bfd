package listener

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testmqtt"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
	mqttmodel "github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// TestSendQoS: action_send_mqtt at QoS 0, 1 and 2 reaches a real
// subscriber with that QoS, through a short-lived connection while the
// service is stopped and through the daemon's connection while it runs;
// a failed send reports why and writes no history.
// On MQTT 3.1.1 and 5.
func TestSendQoS(t *testing.T) {
	for _, protocol := range []string{"MQTTv311", "MQTTv5"} {
		t.Run(protocol, func(t *testing.T) { testSendQoS(t, protocol) })
	}
}

func testSendQoS(t *testing.T, protocol string) {
	modelstest.CheckLeaks(t)
	mq := startMosquitto(t, testmqtt.Options{})
	h := newHarness(t, "sqlite", Options{})
	b := h.broker(mq.Port(), map[string]any{"client_id": "sender-listener", "protocol": protocol})
	sub := h.call("mqtt.subscription", "create", map[string]any{"broker_id": b, "topic": "cmd/valve", "qos": int64(2)}).(int64)
	var signals []int64
	for q := range int64(3) {
		signals = append(signals, h.call("mqtt.signal", "create", map[string]any{
			"broker_id": b, "subscription_id": sub, "payload": "open at qos " + string(rune('0'+q)), "qos": q}).(int64))
	}

	got := testmqtt.Subscribe(t, testmqtt.Connect(t, mq.URL(), "observer", nil), "cmd/#", 2)
	sendAll := func(phase string) {
		t.Helper()
		for q, id := range signals {
			h.call("mqtt.signal", "action_send_mqtt", []any{id})
			m := testmqtt.Receive(t, got, 5*time.Second, fmt.Sprintf("%s: the QoS %d signal", phase, q))
			if m.Topic() != "cmd/valve" || m.Qos() != byte(q) || !strings.HasSuffix(string(m.Payload()), string(rune('0'+q))) {
				t.Errorf("%s: signal at QoS %d arrived as %s at QoS %d: %s", phase, q, m.Topic(), m.Qos(), m.Payload())
			}
			if h.read("mqtt.signal", id, "send_at") == false {
				t.Errorf("%s: send_at not set", phase)
			}
		}
	}

	sendAll("service stopped")
	start := time.Now()
	h.call("mqtt.service", "start_mqtt_service")
	h.waitConnected(b, start)
	sendAll("service running")

	if n := h.count([]any{"direction", "=", "send"}); n != 6 {
		t.Errorf("%d send rows, want 6", n)
	}
	if d := h.daemon(b); d.MessagesOut != 6 {
		t.Errorf("messages out %d, want 6", d.MessagesOut)
	}
	if v := h.metric("odoo_iot_mqtt_messages_sent_total", "broker_id", brokerLabel(b)); v != 6 {
		t.Errorf("messages sent metric %v, want 6", v)
	}
	// Only the sends of the stopped service opened connections of their
	// own; the running daemon's connection carried the others.
	if n := strings.Count(mq.Output(), "as sender-listener-pub-"); n != 3 {
		t.Errorf("%d short-lived send connections, want 3", n)
	}

	// A broker that cannot be reached: a UserError with the reason, and no
	// history for the failed send.
	dead := h.broker(testmqtt.FreePort(t), map[string]any{"protocol": protocol})
	deadSub := h.call("mqtt.subscription", "create", map[string]any{"broker_id": dead, "topic": "cmd/pump", "qos": int64(1)}).(int64)
	deadSignal := h.call("mqtt.signal", "create", map[string]any{"broker_id": dead, "subscription_id": deadSub, "payload": "on", "qos": int64(1)}).(int64)
	_, err := h.try("mqtt.signal", "action_send_mqtt", []any{deadSignal})
	if models.KindOf(err) != models.KindUser || !strings.Contains(err.Error(), "Send signal Fail") || !strings.Contains(err.Error(), "connect") {
		t.Errorf("send to a dead broker: %v", err)
	}
	if n := h.count([]any{"signal_id", "=", deadSignal}); n != 0 {
		t.Errorf("a failed send left %d history rows", n)
	}
}

// TestPublishWaitsForAck: at QoS 1 Publish waits for the PUBACK and fails
// when none comes before the deadline.
func TestPublishWaitsForAck(t *testing.T) {
	modelstest.CheckLeaks(t)
	h := newHarness(t, "sqlite", Options{})
	b := h.broker(scriptedBroker(t, 0, false), nil) // accepts, never acknowledges a PUBLISH
	cfgs, err := h.reg.MQTT.BrokerConfigs(context.Background(), b)
	if err != nil || len(cfgs) != 1 {
		t.Fatal(cfgs, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	err = h.svc.Publish(ctx, cfgs[0], mqttmodel.OutgoingMessage{Topic: "cmd/x", Payload: []byte("1"), QoS: 1})
	if err == nil || !strings.Contains(err.Error(), "no acknowledgement") {
		t.Errorf("publish without PUBACK: %v", err)
	}
	// At QoS 0 there is nothing to wait for.
	if err := h.svc.Publish(context.Background(), cfgs[0], mqttmodel.OutgoingMessage{Topic: "cmd/x", Payload: []byte("1")}); err != nil {
		t.Errorf("QoS 0 publish: %v", err)
	}
}
