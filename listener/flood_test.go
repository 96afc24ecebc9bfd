package listener

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testmqtt"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
)

// floodPayload is a payload of n bytes that starts with its index, so
// that a stored row tells which message it is and that it is whole.
func floodPayload(i, n int) []byte {
	p := bytes.Repeat([]byte{'x'}, n)
	copy(p, fmt.Sprintf("%06d:", i))
	return p
}

// TestFloodStaysWithinByteBudget, on each database (and with unordered
// delivery, and on MQTT 5, on SQLite), through a real Mosquitto, with a 4 MiB ingest
// byte budget and a broker whose largest payload is 256 KiB:
//
//  1. Oversized messages (1 MiB, at QoS 0 and 1) are refused as the
//     README says: not stored, acknowledged (the QoS 1 ones are not sent
//     again, and what follows them flows), counted in
//     odoo_iot_mqtt_messages_oversized_total, logged once per interval
//     rather than per message. A payload of exactly the limit is stored
//     whole, and so is the message after the refused ones: the stream
//     stays in step. Device telemetry over 4 KiB updates no device.
//  2. While the database refuses every insert (the writer stuck
//     retrying), 40 MB of 200 KiB QoS 0 messages and 50 QoS 1 messages
//     arrive: the bytes held between the sockets and the database reach
//     the budget and never exceed it, so the flood waits in the socket
//     and at the broker instead of in our memory.
//  3. Once the database takes rows again, every QoS 1 message is stored
//     exactly once and whole (nothing acknowledged is lost), nothing is
//     counted dropped, and the budget is all given back.
func TestFloodStaysWithinByteBudget(t *testing.T) {
	const (
		budget     = 4 << 20
		maxPayload = 256 << 10
		big        = 200 << 10
	)
	type run struct {
		kind     string
		ordered  bool // unordered, paho.mqtt.golang starts a goroutine per message
		protocol string
	}
	var runs []run
	for _, kind := range modelstest.Kinds(t) {
		runs = append(runs, run{kind, true, "MQTTv311"})
	}
	// On MQTT 5 paho.golang delivers in order whatever the record says.
	runs = append(runs, run{"sqlite", false, "MQTTv311"}, run{"sqlite", false, "MQTTv5"})
	for _, r := range runs {
		kind, overhead := r.kind, orderedOverhead
		if !r.ordered {
			kind += " unordered"
		}
		if !r.ordered && r.protocol != "MQTTv5" {
			overhead = unorderedOverhead
		}
		if r.protocol == "MQTTv5" {
			kind += " mqtt5"
		}
		t.Run(kind, func(t *testing.T) {
			modelstest.CheckLeaks(t)
			mq := startMosquitto(t, testmqtt.Options{})
			h := newHarness(t, r.kind, Options{QueueBytes: budget})
			b := h.broker(mq.Port(), map[string]any{"max_payload_size": int64(maxPayload), "ordered": r.ordered, "protocol": r.protocol})
			start := time.Now()
			h.call("mqtt.service", "start_mqtt_service")
			h.waitConnected(b, start)
			h.subscription(b, "flood/#", 1)
			dev := testmqtt.Connect(t, mq.URL(), "flooder", func(o *paho.ClientOptions) { o.SetWriteTimeout(30 * time.Second) })

			// 1. Oversized messages, the database working.
			const oversized = 5
			for i := range oversized {
				testmqtt.Publish(t, dev, "flood/huge/q1", 1, false, floodPayload(i, 1<<20))
				testmqtt.Publish(t, dev, "flood/huge/q0", 0, false, floodPayload(i, 1<<20))
			}
			exact := floodPayload(0, maxPayload)
			testmqtt.Publish(t, dev, "flood/exact", 1, false, exact)
			testmqtt.Publish(t, dev, "flood/after", 1, false, "after")
			testkit.Eventually(t, 20*time.Second, "the messages around the refused ones", func() bool {
				return h.count([]any{"topic", "in", []any{"flood/exact", "flood/after"}}) == 2
			})
			if rows := h.history([]any{"topic", "=", "flood/exact"}); len(rows) != 1 || !bytes.Equal(rows[0].Raw, exact) {
				t.Errorf("the payload of exactly max_payload_size was not stored whole")
			}
			if rows := h.history([]any{"topic", "=", "flood/after"}); len(rows) != 1 || rows[0].Payload != "after" {
				t.Errorf("the message after the refused ones: %+v", rows)
			}
			if n := h.count([]any{"topic", "like", "flood/huge"}); n != 0 {
				t.Errorf("%d oversized messages stored", n)
			}
			if v := h.metric("odoo_iot_mqtt_messages_oversized_total", "broker_id", brokerLabel(b)); v != 2*oversized {
				t.Errorf("oversized metric %v, want %d", v, 2*oversized)
			}
			if n := h.logs.Count("Refused received messages larger than"); n != 1 {
				t.Errorf("%d log lines for %d refused messages, want 1 (once per interval)", n, 2*oversized)
			}
			// Device telemetry over 4 KiB updates no device (the bus and the
			// IoT box keep 10,000 events in memory); a small one does.
			for i := range 3 {
				testmqtt.Publish(t, dev, "device/big-1/telemetry/t", 1, false, floodPayload(i, maxDevicePayload+1))
			}
			testmqtt.Publish(t, dev, "device/small-1/telemetry/t", 1, false, "21.5")
			testkit.Eventually(t, 20*time.Second, "the small device discovered", func() bool {
				return h.call("iot.device", "search_count", []any{[]any{"identifier", "=", "small-1"}}) == int64(1)
			})
			if n := h.call("iot.device", "search_count", []any{[]any{"identifier", "=", "big-1"}}); n != int64(0) {
				t.Errorf("a device made of messages over %d bytes", maxDevicePayload)
			}
			if v := h.metric("odoo_iot_mqtt_device_messages_oversized_total", "broker_id", brokerLabel(b)); v != 3 {
				t.Errorf("device oversized metric %v, want 3", v)
			}
			if n := h.logs.Count("Device messages too large for a device update"); n != 1 {
				t.Errorf("%d log lines for 3 oversized device messages, want 1", n)
			}

			// 2. A flood while the database refuses every insert.
			release := refuseHistory(t, h.reg.Registry)
			const n0, n1 = 200, 50
			var toks []paho.Token
			for i := range n1 {
				toks = append(toks, dev.Publish("flood/q1", 1, false, floodPayload(i, 100<<10)))
			}
			for i := range n0 {
				toks = append(toks, dev.Publish("flood/q0", 0, false, floodPayload(i, big)))
			}
			testkit.Eventually(t, 30*time.Second, "the byte budget spent", func() bool {
				return h.svc.gate.size() > int64(budget-big-overhead-64)
			})
			if hw := h.svc.gate.highWater(); hw > budget {
				t.Errorf("%d bytes held while the writer was stuck, over the %d budget", hw, budget)
			}

			// 3. The database back.
			release()
			for _, tok := range toks {
				if err := testmqtt.Wait(tok); err != nil {
					t.Fatalf("publish: %v", err)
				}
			}
			testkit.Eventually(t, 60*time.Second, "every QoS 1 message stored", func() bool {
				return h.count([]any{"topic", "=", "flood/q1"}) == n1
			})
			seen := map[string]int{}
			for _, r := range h.history([]any{"topic", "=", "flood/q1"}) {
				i, _, _ := strings.Cut(r.Payload, ":")
				seen[i]++
				if len(r.Raw) != 100<<10 {
					t.Errorf("QoS 1 message %s stored with %d bytes", i, len(r.Raw))
				}
			}
			for i := range n1 {
				if k := seen[fmt.Sprintf("%06d", i)]; k != 1 {
					t.Errorf("QoS 1 message %d stored %d times", i, k)
				}
			}
			testkit.Eventually(t, 30*time.Second, "the byte budget given back", func() bool { return h.svc.gate.size() == 0 })
			if hw := h.svc.gate.highWater(); hw > budget {
				t.Errorf("high water %d bytes, over the %d budget", hw, budget)
			}
			if v := h.metric("odoo_iot_mqtt_messages_dropped_total"); v != 0 {
				t.Errorf("dropped %v", v)
			}
			t.Logf("high water %d of %d bytes; %d QoS 0 flood messages stored of %d (Mosquitto may drop QoS 0 for a slow client)",
				h.svc.gate.highWater(), budget, h.count([]any{"topic", "=", "flood/q0"}), n0)
		})
	}
}
