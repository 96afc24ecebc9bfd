package listener

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testmqtt"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
	mqttmodel "github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// TestIngest, on each database: every byte value stored exactly in
// payload_raw and shown as text without breaking anything, and a burst at
// QoS 0 and QoS 1 stored in full through the batch writer, with nothing
// dropped.
func TestIngest(t *testing.T) {
	for _, kind := range modelstest.Kinds(t) {
		t.Run(kind, func(t *testing.T) {
			modelstest.CheckLeaks(t)
			mq := startMosquitto(t, testmqtt.Options{})
			h := newHarness(t, kind, Options{QueueSize: 200, BatchSize: 100})
			b := h.broker(mq.Port(), nil)
			start := time.Now()
			h.call("mqtt.service", "start_mqtt_service")
			h.waitConnected(b, start)
			bin := h.subscription(b, "bin/#", 1)
			bulk0 := h.subscription(b, "bulk/q0/+", 0)
			bulk1 := h.subscription(b, "bulk/q1/+", 1)
			dev := testmqtt.Connect(t, mq.URL(), "device-bin", nil)

			// Binary payloads: each byte value alone, then all of them.
			all := make([]byte, 256)
			for i := range all {
				all[i] = byte(i)
				testmqtt.Publish(t, dev, fmt.Sprintf("bin/%03d", i), 1, false, []byte{byte(i)})
			}
			testmqtt.Publish(t, dev, "bin/all", 1, false, all)
			testmqtt.Publish(t, dev, "bin/empty", 1, false, []byte{})
			testkit.Eventually(t, 15*time.Second, "258 binary rows", func() bool { return h.count([]any{"subscription_id", "=", bin}) == 258 })
			for _, r := range h.history([]any{"subscription_id", "=", bin}) {
				var want []byte
				switch r.Topic {
				case "bin/all":
					want = all
				case "bin/empty":
					want = []byte{}
				default:
					var i int
					fmt.Sscanf(r.Topic, "bin/%03d", &i)
					want = []byte{byte(i)}
				}
				if !bytes.Equal(r.Raw, want) {
					t.Errorf("%s: payload_raw %x, want %x", r.Topic, r.Raw, want)
				}
				if r.Topic == "bin/255" && r.Payload != "\uFFFD" {
					t.Errorf("payload text of 0xff = %q, want U+FFFD", r.Payload)
				}
				if r.Topic == "bin/065" && r.Payload != "A" {
					t.Errorf("payload text of 0x41 = %q", r.Payload)
				}
			}

			// A burst larger than the queue: back-pressure, not loss.
			const n0, n1 = 1500, 800
			for i := range n0 {
				dev.Publish(fmt.Sprintf("bulk/q0/%d", i%10), 0, false, fmt.Sprintf("m%05d", i))
			}
			for i := range n1 {
				dev.Publish(fmt.Sprintf("bulk/q1/%d", i%10), 1, false, fmt.Sprintf("m%05d", i))
			}
			testmqtt.Publish(t, dev, "bulk/q1/end", 1, false, "end")
			testkit.Eventually(t, 30*time.Second, "the burst stored", func() bool {
				return h.count([]any{"subscription_id", "=", bulk0}) == n0 && h.count([]any{"subscription_id", "=", bulk1}) == n1+1
			})
			rows := h.history([]any{"subscription_id", "=", bulk1})
			for i, r := range rows[:n1] {
				if want := fmt.Sprintf("m%05d", i); r.Payload != want || r.QoS != 1 {
					t.Fatalf("QoS 1 row %d: %q at QoS %d, want %q in arrival order", i, r.Payload, r.QoS, want)
				}
			}
			total := float64(258 + n0 + n1 + 1)
			if v := h.metric("odoo_iot_mqtt_messages_received_total"); v != total {
				t.Errorf("received metric %v, want %v", v, total)
			}
			if v := h.metric("odoo_iot_mqtt_messages_dropped_total"); v != 0 {
				t.Errorf("dropped metric %v, want 0", v)
			}
			if v := h.metric("odoo_iot_mqtt_ingest_batch_size"); v == 0 || v > total {
				t.Errorf("%v batches for %v messages", v, total)
			}
			if v := h.metric("odoo_iot_mqtt_ingest_commit_seconds"); v != h.metric("odoo_iot_mqtt_ingest_batch_size") {
				t.Errorf("commit latency observed %v times, batches %v", v, h.metric("odoo_iot_mqtt_ingest_batch_size"))
			}
			testkit.Eventually(t, 5*time.Second, "an empty queue", func() bool { return h.metric("odoo_iot_mqtt_ingest_queue_depth") == 0 })
			if d := h.daemon(b); d.MessagesIn != uint64(total) {
				t.Errorf("daemon messages in %d, want %v", d.MessagesIn, total)
			}
			if h.logs.Count("level=WARN") != 0 || h.logs.Count("level=ERROR") != 0 {
				t.Errorf("warnings or errors logged")
			}
		})
	}
}

// TestRetentionPurge: the background job applies each broker's maximum
// rows and maximum age.
func TestRetentionPurge(t *testing.T) {
	modelstest.CheckLeaks(t)
	mq := startMosquitto(t, testmqtt.Options{})
	h := newHarness(t, "sqlite", Options{PurgeInterval: 100 * time.Millisecond})
	keep5 := h.broker(mq.Port(), map[string]any{"name": "keep 5", "history_max_rows": int64(5)})
	aged := h.broker(mq.Port(), map[string]any{"name": "one day", "history_max_age_days": int64(1)})
	start := time.Now()
	h.call("mqtt.service", "start_mqtt_service")
	h.waitConnected(keep5, start)
	h.subscription(keep5, "ret/#", 1)
	dev := testmqtt.Connect(t, mq.URL(), "device-ret", nil)
	for i := range 20 {
		testmqtt.Publish(t, dev, "ret/x", 1, false, fmt.Sprint(i))
	}
	// Rows of the other broker: two days old and fresh.
	old := time.Now().Add(-48 * time.Hour)
	if err := h.reg.MQTT.InsertHistory(t.Context(), []mqttmodel.HistoryRow{
		{BrokerID: aged, Topic: "ret/old", Payload: []byte("old"), Direction: "receive", Timestamp: old},
		{BrokerID: aged, Topic: "ret/new", Payload: []byte("new"), Direction: "receive", Timestamp: time.Now()},
	}); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 10*time.Second, "the purge", func() bool {
		return h.count([]any{"broker_id", "=", keep5}) == 5 && h.count([]any{"topic", "=", "ret/old"}) == 0
	})
	var kept []string
	for _, r := range h.history([]any{"broker_id", "=", keep5}) {
		kept = append(kept, r.Payload)
	}
	if got := strings.Join(kept, ","); got != "15,16,17,18,19" {
		t.Errorf("kept %s, want the newest five", got)
	}
	if h.count([]any{"topic", "=", "ret/new"}) != 1 {
		t.Errorf("a fresh row was purged")
	}
}
