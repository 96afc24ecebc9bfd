package listener

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testmqtt"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
	mqttmodel "github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// TestServiceLifecycle: one daemon per active broker (not only the
// first), the registry and the records tell their states, and record
// changes restart, stop or start daemons while the service runs.
func TestServiceLifecycle(t *testing.T) {
	modelstest.CheckLeaks(t)
	mq := startMosquitto(t, testmqtt.Options{})
	h := newHarness(t, "sqlite", Options{})
	b1 := h.broker(mq.Port(), map[string]any{"name": "hall A"})
	b2 := h.broker(mq.Port(), map[string]any{"name": "hall B"})
	down := h.broker(testmqtt.FreePort(t), map[string]any{"name": "offline"})
	archived := h.broker(mq.Port(), map[string]any{"name": "archived", "active": false})
	var subs []any
	for _, b := range []int64{b1, b2} {
		subs = append(subs, h.call("mqtt.subscription", "create", map[string]any{"broker_id": b, "topic": "multi/#", "qos": int64(1)}))
	}
	h.call("mqtt.subscription", "subscribe_mqtt", subs)

	start := time.Now()
	if ok := h.call("mqtt.service", "start_mqtt_service"); ok != true {
		t.Fatalf("start: %v", ok)
	}
	h.waitConnected(b1, start)
	h.waitConnected(b2, start)
	testkit.Eventually(t, 10*time.Second, "the offline broker retrying", func() bool {
		return h.daemon(down).State == mqttmodel.StateReconnecting && h.read("mqtt.broker", down, "listener_state") == mqttmodel.StateReconnecting
	})
	if d := h.daemon(archived); d.BrokerID != 0 {
		t.Errorf("an archived broker got a daemon: %+v", d)
	}
	if s := h.call("mqtt.service", "check_mqtt_status").(map[string]any); s["status"] != "connected" {
		t.Errorf("check_mqtt_status %v", s)
	}
	rows := h.call("mqtt.service", "get_listener_status").([]any)
	if len(rows) != 3 {
		t.Fatalf("listener status rows %v", rows)
	}
	for _, r := range rows {
		d := r.(*models.Dict)
		if id, _ := d.Get("thread_identifier"); id == "" {
			t.Errorf("no thread identifier in %v", d)
		}
	}
	if e, _ := h.read("mqtt.broker", down, "last_error").(string); e == "" || h.read("mqtt.broker", down, "listener_state") != mqttmodel.StateReconnecting {
		t.Errorf("offline broker record: state %v, error %q", h.read("mqtt.broker", down, "listener_state"), e)
	}

	// Both brokers listen: one message, one row per broker.
	dev := testmqtt.Connect(t, mq.URL(), "multi-device", nil)
	testmqtt.Publish(t, dev, "multi/x", 1, false, "hello")
	testkit.Eventually(t, 10*time.Second, "a row per broker", func() bool {
		return h.count([]any{"broker_id", "=", b1}) == 1 && h.count([]any{"broker_id", "=", b2}) == 1
	})

	// Fixing the offline broker's port restarts its daemon, which connects.
	before := time.Now()
	h.call("mqtt.broker", "write", []any{down}, map[string]any{"port": fmt.Sprint(mq.Port())})
	h.waitConnected(down, before)
	if d := h.daemon(down); d.Attempts != 0 || !d.NextRetry.IsZero() {
		t.Errorf("connected entry still counts attempts: %+v", d)
	}

	// Archiving stops the daemon and says why; unarchiving starts it.
	h.call("mqtt.broker", "write", []any{b2}, map[string]any{"active": false})
	if d := h.daemon(b2); d.State != mqttmodel.StateStopped || d.StopReason != errBrokerInactive.Error() {
		t.Errorf("archived broker's daemon: %+v", d)
	}
	before = time.Now()
	h.call("mqtt.broker", "write", []any{b2}, map[string]any{"active": true})
	h.waitConnected(b2, before)

	// A status write (check_connection) does not restart anything; a
	// deleted broker leaves the registry.
	connectedAt := h.daemon(b1).ConnectedAt
	h.call("mqtt.broker", "check_connection", []any{b1})
	if !h.daemon(b1).ConnectedAt.Equal(connectedAt) {
		t.Errorf("check_connection restarted the daemon")
	}
	h.call("mqtt.subscription", "unlink", []any{subs[0]}) // a broker with subscriptions is not deleted
	h.call("mqtt.broker", "unlink", []any{b1})
	if d := h.daemon(b1); d.BrokerID != 0 {
		t.Errorf("deleted broker still in the registry: %+v", d)
	}

	before = time.Now()
	h.call("mqtt.service", "restart_mqtt_service")
	h.waitConnected(b2, before)
	h.waitConnected(down, before)

	h.call("mqtt.service", "stop_mqtt_service")
	for _, b := range []int64{b2, down} {
		if d := h.daemon(b); d.State != mqttmodel.StateStopped || d.StopReason != errServiceStopped.Error() || d.DisconnectedAt.IsZero() {
			t.Errorf("after stop: %+v", d)
		}
		if s := h.read("mqtt.broker", b, "listener_state"); s != mqttmodel.StateStopped {
			t.Errorf("listener_state %v after stop", s)
		}
	}
	if s := h.call("mqtt.service", "check_mqtt_status").(map[string]any); s["status"] != "stopped" {
		t.Errorf("check_mqtt_status after stop %v", s)
	}
	ctx := context.Background()
	if err := h.svc.Subscribe(ctx, b2, mqttmodel.SubscriptionConfig{ID: 1, Topic: "x"}); !errors.Is(err, mqttmodel.ErrDaemonNotRunning) {
		t.Errorf("Subscribe while stopped: %v", err)
	}
	if err := h.svc.Unsubscribe(ctx, b2, "x"); !errors.Is(err, mqttmodel.ErrDaemonNotRunning) {
		t.Errorf("Unsubscribe while stopped: %v", err)
	}
	h.stop()
	if err := h.svc.StartService(ctx); err == nil {
		t.Errorf("StartService after Run ended must fail")
	}
}

// TestUnstorableRowIsIsolated: a message whose signal was deleted while
// it waited in the queue cannot be inserted with that link (signal_id has
// a foreign key); the writer isolates it, stores it without the link, and
// stores the others of its batch as they are, in order.
func TestUnstorableRowIsIsolated(t *testing.T) {
	for _, kind := range modelstest.Kinds(t) {
		t.Run(kind, func(t *testing.T) {
			modelstest.CheckLeaks(t)
			h := newHarness(t, kind, Options{BatchSize: 100})
			b := h.broker(testmqtt.FreePort(t), nil)
			sub := h.call("mqtt.subscription", "create", map[string]any{"broker_id": b, "topic": "t/6"}).(int64)
			gone := h.call("mqtt.signal", "create", map[string]any{"broker_id": b, "subscription_id": sub, "payload": "x"}).(int64)
			h.call("mqtt.signal", "unlink", []any{gone})
			sess := newSession(&daemon{cfg: brokerSetup{BrokerConfig: mqttmodel.BrokerConfig{ID: b}}})
			var batch []item
			for i := range 11 {
				it := item{msg: message{topic: fmt.Sprintf("t/%d", i), payload: []byte(fmt.Sprint(i))}, at: time.Now(), broker: b, sub: sub, sess: sess}
				if i == 6 {
					it.signal = gone
				}
				batch = append(batch, it)
			}
			for _, it := range batch { // queued together: one batch
				h.svc.queue <- it
			}
			testkit.Eventually(t, 15*time.Second, "all 11 rows", func() bool { return h.count() == 11 })
			for i, r := range h.history() {
				if r.Payload != fmt.Sprint(i) || r.Sub != sub || r.Broker != b || r.Signal != 0 {
					t.Errorf("row %d: %+v, want payload %d with subscription %d and no signal", i, r, i, sub)
				}
			}
			if n := h.logs.Count("without its link to a deleted record", "mqtt.signal"); n != 1 {
				t.Errorf("%d log lines about the deleted link, want 1", n)
			}
		})
	}
}
