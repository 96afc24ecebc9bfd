package listener

import (
	"strings"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testmqtt"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
)

// TestSubscribeLive: subscribe_mqtt and unsubscribe take effect at once
// through the running daemon, wildcards and shared subscriptions route
// each message to its subscription record, and a subscription made while
// the service is stopped is subscribed when it starts.
// On MQTT 3.1.1 and 5 (shared subscriptions included).
func TestSubscribeLive(t *testing.T) {
	for _, protocol := range []string{"MQTTv311", "MQTTv5"} {
		t.Run(protocol, func(t *testing.T) { testSubscribeLive(t, protocol) })
	}
}

func testSubscribeLive(t *testing.T, protocol string) {
	modelstest.CheckLeaks(t)
	mq := startMosquitto(t, testmqtt.Options{})
	h := newHarness(t, "sqlite", Options{})
	b := h.broker(mq.Port(), map[string]any{"protocol": protocol})
	start := time.Now()
	h.call("mqtt.service", "start_mqtt_service")
	h.waitConnected(b, start)

	temp := h.subscription(b, "plant/+/temp", 1)
	alarms := h.subscription(b, "alarms/#", 0)
	shared := h.subscription(b, "$share/odoo/shared/#", 1)
	// A signal links messages on its exact topic.
	lamp := h.call("mqtt.subscription", "create", map[string]any{"broker_id": b, "topic": "cmd/lamp", "qos": int64(2)}).(int64)
	signal := h.call("mqtt.signal", "create", map[string]any{"broker_id": b, "subscription_id": lamp, "payload": "on", "qos": int64(1)}).(int64)
	h.call("mqtt.subscription", "subscribe_mqtt", []any{lamp})
	for _, id := range []int64{temp, alarms, shared, lamp} {
		if s := h.read("mqtt.subscription", id, "subscription_status"); s != "subscribed" {
			t.Errorf("subscription %d status %v after SUBACK", id, s)
		}
		if h.read("mqtt.subscription", id, "subscription_time") == false {
			t.Errorf("subscription %d has no subscription_time", id)
		}
	}

	dev := testmqtt.Connect(t, mq.URL(), "device-1", nil)
	sent := []struct {
		topic   string
		qos     byte
		payload string
		sub     int64 // 0: must not be stored
		signal  int64
	}{
		{"plant/line1/temp", 1, "21.5", temp, 0},
		{"plant/line1/humidity", 1, "40", 0, 0},
		{"alarms/hall/smoke", 0, "fire", alarms, 0},
		{"alarms", 1, "root level", alarms, 0},
		{"shared/press/7", 1, "shared", shared, 0},
		{"cmd/lamp", 2, "on", lamp, signal},
		{"other/x", 0, "ignored", 0, 0},
	}
	want := 0
	for _, m := range sent {
		testmqtt.Publish(t, dev, m.topic, m.qos, false, m.payload)
		if m.sub != 0 {
			want++
		}
	}
	testkit.Eventually(t, 10*time.Second, "the subscribed messages stored", func() bool { return h.count() >= int64(want) })
	rows := h.history()
	byPayload := map[string]historyRow{}
	for _, r := range rows {
		byPayload[r.Payload] = r
	}
	for _, m := range sent {
		r, ok := byPayload[m.payload]
		switch {
		case m.sub == 0 && ok:
			t.Errorf("%s stored without a subscription: %+v", m.topic, r)
		case m.sub == 0:
		case !ok:
			t.Errorf("%s not stored", m.topic)
		case r.Topic != m.topic || r.Sub != m.sub || r.Signal != m.signal || r.Broker != b || r.Direction != "receive" || string(r.Raw) != m.payload:
			t.Errorf("%s stored as %+v, want subscription %d signal %d", m.topic, r, m.sub, m.signal)
		}
	}
	if len(rows) != want {
		t.Errorf("%d rows, want %d", len(rows), want)
	}

	// Unsubscribe: nothing more from alarms/#; a marker proves the daemon
	// kept listening to the rest.
	h.call("mqtt.subscription", "unsubscribe", []any{alarms})
	if s := h.read("mqtt.subscription", alarms, "subscription_status"); s != "unsubscribed" {
		t.Errorf("status after unsubscribe %v", s)
	}
	testmqtt.Publish(t, dev, "alarms/hall/smoke", 1, false, "after unsubscribe")
	testmqtt.Publish(t, dev, "plant/line2/temp", 1, false, "marker")
	testkit.Eventually(t, 10*time.Second, "the marker", func() bool { return h.count([]any{"payload", "=", "marker"}) == 1 })
	if n := h.count([]any{"payload", "=", "after unsubscribe"}); n != 0 {
		t.Errorf("a message on an unsubscribed filter was stored")
	}

	// Two records on one filter: unsubscribing one keeps the filter, and
	// its messages go to the other.
	dup1, dup2 := h.subscription(b, "dup/+", 1), h.subscription(b, "dup/+", 1)
	h.call("mqtt.subscription", "unsubscribe", []any{dup1})
	testmqtt.Publish(t, dev, "dup/x", 1, false, "dup")
	testkit.Eventually(t, 10*time.Second, "the message on the shared filter", func() bool { return h.count([]any{"subscription_id", "=", dup2}) == 1 })

	// Subscribed while the service is stopped: marked, then subscribed by
	// the daemon as it connects.
	h.call("mqtt.service", "stop_mqtt_service")
	late := h.subscription(b, "late/+", 1)
	if s := h.read("mqtt.subscription", late, "subscription_status"); s != "subscribing" {
		t.Errorf("status while stopped %v, want subscribing", s)
	}
	start = time.Now()
	h.call("mqtt.service", "start_mqtt_service")
	h.waitConnected(b, start)
	if s := h.read("mqtt.subscription", late, "subscription_status"); s != "subscribed" {
		t.Errorf("status after start %v, want subscribed", s)
	}
	testmqtt.Publish(t, dev, "late/x", 1, false, "late")
	testkit.Eventually(t, 10*time.Second, "the late message", func() bool { return h.count([]any{"subscription_id", "=", late}) == 1 })
	if got := h.metric("odoo_iot_mqtt_messages_received_total", "broker_id", brokerLabel(b)); got != float64(want+3) {
		t.Errorf("messages received metric %v, want %d", got, want+3)
	}
}

// TestSubscribeRefused: a SUBACK with return code 0x80 is a failure,
// reported to the user and persisted (the addon marked it subscribed).
func TestSubscribeRefused(t *testing.T) {
	modelstest.CheckLeaks(t)
	h := newHarness(t, "sqlite", Options{})
	b := h.broker(scriptedBroker(t, subackFailure, false), nil)
	start := time.Now()
	h.call("mqtt.service", "start_mqtt_service")
	h.waitConnected(b, start)
	sub := h.call("mqtt.subscription", "create", map[string]any{"broker_id": b, "topic": "secret/#", "qos": int64(1)}).(int64)
	_, err := h.try("mqtt.subscription", "subscribe_mqtt", []any{sub})
	if models.KindOf(err) != models.KindUser || !strings.Contains(err.Error(), "0x80") {
		t.Fatalf("refused subscription: %v", err)
	}
	if s := h.read("mqtt.subscription", sub, "subscription_status"); s != "fail" {
		t.Errorf("status %v, want fail", s)
	}
	if e, _ := h.read("mqtt.subscription", sub, "last_error").(string); !strings.Contains(e, "0x80") {
		t.Errorf("last_error %q", e)
	}
	// On the next connect the daemon tries again and records the refusal.
	before := h.daemon(b).ConnectedAt
	h.call("mqtt.subscription", "write", []any{sub}, map[string]any{"qos": int64(0)}) // restarts the daemon
	h.waitConnected(b, before)
	if s := h.read("mqtt.subscription", sub, "subscription_status"); s != "fail" {
		t.Errorf("status after the daemon resubscribed %v, want fail", s)
	}
	if n := h.logs.Count("Subscription refused", "secret/#"); n != 1 {
		t.Errorf("%d log lines for the refused resubscribe, want 1", n)
	}
}
