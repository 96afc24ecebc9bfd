package listener

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testmqtt"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
)

// TestPersistentSessionAndAckAfterCommit, on each database and on MQTT
// 3.1.1 and 5, with clean_session off (on 5: Clean Start off and the
// record's session expiry), a fixed client id, QoS 1 and paho's file
// store (3.1.1):
//
//  1. Messages published while the service is stopped are stored once it
//     starts again (the broker kept them for the session).
//  2. Messages received while the database refuses every insert are not
//     acknowledged: the writer retries (logging it once), the service is
//     shut down without storing them (as a crash would leave them), and a
//     new service started at boot gets them all redelivered by the broker
//     and stores each exactly once.
func TestPersistentSessionAndAckAfterCommit(t *testing.T) {
	for _, kind := range modelstest.Kinds(t) {
		for _, protocol := range []string{"MQTTv311", "MQTTv5"} {
			t.Run(kind+"/"+protocol, func(t *testing.T) { testPersistentSession(t, kind, protocol) })
		}
	}
}

func testPersistentSession(t *testing.T, kind, protocol string) {
	modelstest.CheckLeaks(t)
	mq := startMosquitto(t, testmqtt.Options{})
	h := newHarness(t, kind, Options{})
	b := h.broker(mq.Port(), map[string]any{"clean_session": false, "client_id": "meter-listener-" + kind, "protocol": protocol,
		"store_type": "file", "store_dir": t.TempDir()})
	start := time.Now()
	h.call("mqtt.service", "start_mqtt_service")
	h.waitConnected(b, start)
	h.subscription(b, "meter/#", 1)
	dev := testmqtt.Connect(t, mq.URL(), "meter", nil)

	h.call("mqtt.service", "stop_mqtt_service")
	const offline = 100
	for i := range offline {
		testmqtt.Publish(t, dev, "meter/offline", 1, false, fmt.Sprint(i))
	}
	h.call("mqtt.service", "start_mqtt_service")
	testkit.Eventually(t, 15*time.Second, "the messages published while stopped", func() bool {
		return h.count([]any{"topic", "=", "meter/offline"}) == offline
	})

	release := refuseHistory(t, h.reg.Registry)
	const locked = 60
	for i := range locked {
		testmqtt.Publish(t, dev, "meter/locked", 1, false, fmt.Sprint(i))
	}
	// Mosquitto sends its in-flight window (max_inflight_messages,
	// 20; its quota accounting after a persistent session's
	// reconnect can add a few) and waits for acknowledgements that
	// never come: had they been acknowledged on arrival, all 60
	// would flow.
	testkit.Eventually(t, 10*time.Second, "the in-flight window delivered", func() bool { return h.daemon(b).MessagesIn >= offline+20 })
	time.Sleep(500 * time.Millisecond)
	if in := h.daemon(b).MessagesIn - offline; in >= locked*2/3 {
		t.Errorf("%d of %d messages delivered while none could be stored: they were acknowledged before commit", in, locked)
	}
	h.svc.drainTimeout = 300 * time.Millisecond
	h.stop()
	release()
	if n := h.count([]any{"topic", "=", "meter/locked"}); n != 0 {
		t.Fatalf("%d rows stored while the database refused them", n)
	}
	if n := h.logs.Count("Unable to store received messages, retrying"); n != 1 {
		t.Errorf("%d retry log lines, want 1 for the whole outage", n)
	}
	if n := h.logs.Count("Giving up storing received messages at shutdown"); n != 1 {
		t.Errorf("%d give-up log lines, want 1", n)
	}
	if v := h.metric("odoo_iot_mqtt_messages_dropped_total"); v != 0 {
		t.Errorf("dropped %v: unacknowledged messages of a persistent session are not lost", v)
	}

	// A new server at boot: the service was running, so it starts it.
	h.run(Options{})
	if should, err := h.reg.MQTT.ServiceShouldRun(context.Background()); err != nil || !should {
		t.Fatalf("the service record must ask for a start at boot: %v %v", should, err)
	}
	h.call("mqtt.service", "start_mqtt_service")
	testkit.Eventually(t, 15*time.Second, "the redelivered messages", func() bool {
		return h.count([]any{"topic", "=", "meter/locked"}) >= locked
	})
	time.Sleep(200 * time.Millisecond)
	seen := map[string]int{}
	for _, r := range h.history([]any{"topic", "=", "meter/locked"}) {
		seen[r.Payload]++
	}
	for i := range locked {
		if seen[fmt.Sprint(i)] != 1 {
			t.Errorf("message %d stored %d times", i, seen[fmt.Sprint(i)])
		}
	}
	// They came back with DUP, none of them stored before: the
	// redelivery window must drop none (no false dedupe).
	if v := h.metric("odoo_iot_mqtt_duplicates_dropped_total"); v != 0 {
		t.Errorf("%v redeliveries of messages never stored were dropped", v)
	}
	if n := h.count([]any{"topic", "=", "meter/offline"}); n != offline {
		t.Errorf("%d offline rows after the restart, want %d", n, offline)
	}
}

// refuseHistory makes every insert into the history table fail until
// release is called: a trigger raising an error, so the database really
// refuses the writer's commits (nothing mocked) while everything else,
// reads and state writes included, keeps working.
func refuseHistory(t *testing.T, reg *models.Registry) (release func()) {
	t.Helper()
	create := []string{`CREATE TRIGGER oim_test_refuse BEFORE INSERT ON "mqtt_signal_history" BEGIN SELECT RAISE(ABORT, 'history refused by the test'); END`}
	drop := []string{`DROP TRIGGER oim_test_refuse`}
	if reg.Dialect() == models.Postgres {
		create = []string{
			`CREATE FUNCTION oim_test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'history refused by the test'; END $$`,
			`CREATE TRIGGER oim_test_refuse BEFORE INSERT ON "mqtt_signal_history" FOR EACH ROW EXECUTE FUNCTION oim_test_refuse()`,
		}
		drop = []string{`DROP TRIGGER oim_test_refuse ON "mqtt_signal_history"`, `DROP FUNCTION oim_test_refuse()`}
	}
	exec := func(stmts []string) {
		for _, q := range stmts {
			if err := reg.DB().Exec(q).Error; err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
	}
	exec(create)
	var once sync.Once
	release = func() { once.Do(func() { exec(drop) }) }
	t.Cleanup(release)
	return release
}
