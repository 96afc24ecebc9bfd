package main

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testmqtt"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
)

// TestSIGKILLLosesNothing: with a persistent session (clean_session off, a
// fixed client id) and a QoS 1 subscription, our server is killed with
// SIGKILL in the middle of a QoS 1 stream and restarted on the same
// database. It starts the service by itself (it was running), Mosquitto
// redelivers what was never acknowledged, and every published number ends
// up stored: a message is acknowledged only once its row is committed.
// Redelivery may store a message twice; the count of duplicates is logged.
func TestSIGKILLLosesNothing(t *testing.T) {
	const total = 3000
	for _, kind := range modelstest.Kinds(t) {
		t.Run(kind, func(t *testing.T) {
			mq := startMosquitto(t)
			args := []string{"--db", modelstest.DSN(t, kind), "--db-name", "e2e", "--admin-password", "pw"}
			srv := startServer(t, args...)
			o := login(t, srv, "e2e", "pw")
			broker := o.create("mqtt.broker", map[string]any{"name": "Mosquitto", "host": testmqtt.Host, "port": strconv.Itoa(mq.Port()),
				"clean_session": false, "client_id": "oim-sigkill-" + kind})
			sub := o.create("mqtt.subscription", map[string]any{"broker_id": broker, "topic": "load/#", "qos": 1})
			o.call("mqtt.subscription", "subscribe_mqtt", []any{[]any{sub}}, nil)
			if res := o.call("mqtt.service", "start_mqtt_service", nil, nil); res != true {
				t.Fatalf("start_mqtt_service = %v", res)
			}
			testkit.Eventually(t, 15*time.Second, "the subscription to be subscribed", func() bool {
				return o.count("mqtt.subscription", []any{[]any{"id", "=", sub}, []any{"subscribed", "=", true}}) == 1
			})

			// The publisher: numbered QoS 1 messages; it tells when a third
			// is out so the test kills the server mid-stream.
			pub := testmqtt.Connect(t, mq.URL(), "e2e-publisher-"+kind, nil)
			third := make(chan struct{})
			published := make(chan error, 1)
			go func() {
				for i := 0; i < total; i++ {
					if err := testmqtt.Wait(pub.Publish("load/"+kind, 1, false, fmt.Sprintf("%06d", i))); err != nil {
						published <- fmt.Errorf("publish %d: %w", i, err)
						return
					}
					if i == total/3 {
						close(third)
					}
				}
				published <- nil
			}()
			<-third
			stored := o.count("mqtt.signal.history", []any{})
			srv.kill(t)
			t.Logf("killed the server with %d rows stored", stored)
			if err := <-published; err != nil {
				t.Fatal(err)
			}

			srv = startServer(t, args...)
			if recs := srv.logRecords("Started the MQTT service"); len(recs) != 1 || recs[0]["was_running"] != true {
				t.Fatalf("the service did not start by itself after the crash: %v", recs)
			}
			o = login(t, srv, "e2e", "pw")
			var rows []map[string]any
			testkit.Eventually(t, 60*time.Second, fmt.Sprintf("%d distinct payloads stored", total), func() bool {
				rows = o.searchRead("mqtt.signal.history", []any{[]any{"direction", "=", "receive"}}, "payload")
				return distinct(rows) >= total
			})
			seen := map[int]bool{}
			for _, r := range rows {
				n, err := strconv.Atoi(r["payload"].(string))
				if err != nil || n < 0 || n >= total {
					t.Fatalf("unexpected payload %q", r["payload"])
				}
				seen[n] = true
			}
			if len(seen) != total {
				t.Fatalf("%d distinct numbers stored, want %d", len(seen), total)
			}
			t.Logf("%s: %d published, %d distinct stored, %d duplicates from redelivery", kind, total, len(seen), len(rows)-len(seen))
			if code := srv.stop(t); code != 0 {
				t.Errorf("exit code after SIGTERM = %d", code)
			}
		})
	}
}

func distinct(rows []map[string]any) int {
	seen := map[any]bool{}
	for _, r := range rows {
		seen[r["payload"]] = true
	}
	return len(seen)
}
