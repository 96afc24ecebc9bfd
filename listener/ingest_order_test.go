package listener

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testmqtt"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/iotdevice"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
	mqttmodel "github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// The ingest order: history commit, then the acknowledgements, then the
// bus, then device ingestion on the device worker. These tests run a real
// Mosquitto and real databases; device ingestion is made slow or failing
// by a hook in front of iotdevice.Addon.IngestDeviceMessages (Options.deviceIngest).

// deviceHook stands in for iotdevice.Addon.IngestDeviceMessages: while held, a
// call waits for release; while failing, it returns an error; otherwise
// it passes the messages to the registry and records them.
type deviceHook struct {
	iot *iotdevice.Addon
	callGate
	got []string // "topic=payload" of the messages ingested, in order (under mu)
}

func (d *deviceHook) ingest(ctx context.Context, broker int64, msgs []iotdevice.DeviceMessage) error {
	if err := d.call(ctx, "device update refused by the test"); err != nil {
		return err
	}
	if err := d.iot.IngestDeviceMessages(ctx, broker, msgs); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, m := range msgs {
		d.got = append(d.got, m.Topic+"="+string(m.Payload))
	}
	return nil
}

func (d *deviceHook) state() (calls, failures int, got []string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.calls, d.failures, slices.Clone(d.got)
}

// newHookedHarness is newHarness with device ingestion going through
// hook, and the bus's notes going to bus when it is not nil.
func newHookedHarness(t *testing.T, kind string, opts Options, hook *deviceHook, bus *busCheck) *harness {
	h := &harness{t: t}
	o := modelstest.Options{Control: func() mqttmodel.BrokerControl { return h.svc }}
	if bus != nil {
		o.Notifier = bus
	}
	h.reg = modelstest.NewFor(t, kind, o)
	if bus != nil {
		bus.reg = h.reg.Registry
	}
	hook.iot = h.reg.Devices
	t.Cleanup(hook.release) // before the harness's stop, which runs first
	opts.deviceIngest = hook.ingest
	h.run(opts)
	return h
}

// temperature returns the last "temp" reading of a device, "" when it
// has none (or no record).
func (h *harness) temperature(broker int64, identifier string) string {
	h.t.Helper()
	d := h.device(broker, identifier)
	if d == nil {
		return ""
	}
	s, _ := d["last_values"].(string)
	var values map[string]map[string]any
	if json.Unmarshal([]byte(s), &values) != nil || values["temp"] == nil {
		return ""
	}
	return fmt.Sprint(values["temp"]["value"])
}

// publishReadings publishes n telemetry readings 0..n-1 of device id at
// QoS 1, each once the broker acknowledged the previous one, and returns
// them as the hook records them.
func publishReadings(t *testing.T, mq *testmqtt.Broker, id string, n int) []string {
	t.Helper()
	return publishSeries(t, mq, "dev-"+id, "device/"+id+"/telemetry/temp", n)
}

// TestAcksDoNotWaitForDevices, on each database: while every device
// update fails, the QoS 1 messages of device topics are stored,
// acknowledged and delivered far beyond Mosquitto's in-flight window (20
// unacknowledged messages per client), and the publisher gets its
// PUBACKs; the failed updates are retried and land once the database
// takes them, every message, in arrival order.
func TestAcksDoNotWaitForDevices(t *testing.T) {
	for _, kind := range modelstest.Kinds(t) {
		t.Run(kind, func(t *testing.T) {
			modelstest.CheckLeaks(t)
			mq := startMosquitto(t, testmqtt.Options{})
			hook := &deviceHook{}
			hook.setFailing(true)
			h := newHookedHarness(t, kind, Options{}, hook, nil)
			b := h.broker(mq.Port(), nil)
			telemetry := h.subscription(b, "device/+/telemetry/#", 1) // stored, and device messages
			start := time.Now()
			h.call("mqtt.service", "start_mqtt_service")
			h.waitConnected(b, start)

			// Readings (history and device) alternate with availability
			// (a device topic only: no history row, acknowledged all the
			// same).
			dev := testmqtt.Connect(t, mq.URL(), "dev-s1", nil)
			const pairs = 60
			var want []string
			for i := range pairs {
				reading := fmt.Sprint(i)
				testmqtt.Publish(t, dev, "device/s1/telemetry/temp", 1, false, reading) // returns on the broker's PUBACK
				avail := []string{"online", "offline"}[i%2]
				testmqtt.Publish(t, dev, "device/s1/availability", 1, false, avail)
				want = append(want, "device/s1/telemetry/temp="+reading, "device/s1/availability="+avail)
			}
			testkit.Eventually(t, 20*time.Second, "every message received, its history committed and its device update queued", func() bool {
				return h.daemon(b).MessagesIn == 2*pairs && h.count([]any{"subscription_id", "=", telemetry}) == pairs &&
					h.metric("odoo_iot_mqtt_device_queue_messages") == 2*pairs
			})
			testkit.Eventually(t, 10*time.Second, "device updates retried", func() bool { _, failures, _ := hook.state(); return failures >= 2 })
			if d := h.device(b, "s1"); d != nil {
				t.Fatalf("device s1 exists while every device update failed: %v", d)
			}
			if _, _, got := hook.state(); len(got) != 0 {
				t.Fatalf("messages ingested while every device update failed: %v", got)
			}
			if v := h.metric("odoo_iot_mqtt_device_queue_bytes"); v == 0 {
				t.Errorf("device_queue_bytes 0 with %d messages queued", 2*pairs)
			}

			// The database takes device updates again: everything lands.
			hook.setFailing(false)
			testkit.Eventually(t, 20*time.Second, "device s1 with its last reading and availability", func() bool {
				d := h.device(b, "s1")
				return h.temperature(b, "s1") == fmt.Sprint(pairs-1) && d["connected"] == false
			})
			testkit.Eventually(t, 5*time.Second, "an empty device queue", func() bool {
				return h.metric("odoo_iot_mqtt_device_queue_messages") == 0 && h.metric("odoo_iot_mqtt_device_queue_bytes") == 0
			})
			_, failures, got := hook.state()
			if !slices.Equal(got, want) {
				t.Errorf("device messages ingested %d, want the %d published in order:\n%v", len(got), len(want), got)
			}
			if v := h.metric("odoo_iot_mqtt_device_ingest_retries_total"); v != float64(failures) {
				t.Errorf("device_ingest_retries_total %v, want the %d failures", v, failures)
			}
			if n := h.logs.Count("Unable to update devices from received messages, retrying"); n != 1 {
				t.Errorf("%d retry warnings, want 1 for the whole outage", n)
			}
			if n := h.logs.Count("Updating devices again"); n != 1 {
				t.Errorf("%d recovery lines, want 1", n)
			}
			if v := h.metric("odoo_iot_mqtt_device_messages_lost_total") + h.metric("odoo_iot_mqtt_messages_dropped_total"); v != 0 {
				t.Errorf("lost or dropped %v", v)
			}
		})
	}
}

// busCheck is a bus that checks, when told about a message, that its row
// is committed as the note says; the note of the first message holds the
// writer until released.
type busCheck struct {
	reg     *models.Registry
	first   string
	release chan struct{}

	mu    sync.Mutex
	held  bool
	seen  map[string]int
	wrong []string
}

func (c *busCheck) Notify(_ context.Context, notes ...models.Notification) {
	for _, n := range notes {
		m, ok := n.Payload.(*mqttmodel.MessageNote)
		if !ok || n.Channel != mqttmodel.ChannelRealtime || n.Type != mqttmodel.NoteMessage {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		res, err := c.reg.Execute(ctx, models.Call{UID: models.Superuser, Model: "mqtt.signal.history", Method: "search_read",
			Args: []any{[]any{[]any{"topic", "=", m.Topic}}, []any{"payload", "timestamp", "display_name"}}})
		cancel()
		problem := ""
		if rows, _ := res.([]*models.Dict); err != nil || len(rows) != 1 {
			problem = fmt.Sprintf("%d rows (%v)", len(rows), err)
		} else {
			p, _ := rows[0].Get("payload")
			ts, _ := rows[0].Get("timestamp")
			name, _ := rows[0].Get("display_name")
			if p != m.Payload || ts != m.Timestamp || name != m.DisplayName {
				problem = fmt.Sprintf("stored %v %v %v, note %v %v %v", p, ts, name, m.Payload, m.Timestamp, m.DisplayName)
			}
		}
		c.mu.Lock()
		c.seen[m.Topic]++
		if problem != "" {
			c.wrong = append(c.wrong, m.Topic+": "+problem)
		}
		hold := m.Topic == c.first
		c.held = c.held || hold
		c.mu.Unlock()
		if hold {
			select {
			case <-c.release:
			case <-time.After(30 * time.Second):
			}
		}
	}
}

func (c *busCheck) state() (held bool, seen map[string]int, wrong []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	seen = map[string]int{}
	for k, v := range c.seen {
		seen[k] = v
	}
	return c.held, seen, slices.Clone(c.wrong)
}

// TestNotifyAfterCommitAndAck, on each database: the bus is told of a
// message only once its row is committed (with the payload and time
// stored), once, and after its acknowledgement went out. Mosquitto with
// max_inflight_messages 1 sends the listener a QoS 1 message only once it
// acknowledged the one before: while the note of the first message holds
// the writer, the second arrives.
func TestNotifyAfterCommitAndAck(t *testing.T) {
	for _, kind := range modelstest.Kinds(t) {
		t.Run(kind, func(t *testing.T) {
			modelstest.CheckLeaks(t)
			mq := startMosquitto(t, testmqtt.Options{Config: []string{"max_inflight_messages 1"}})
			bus := &busCheck{first: "order/0", release: make(chan struct{}), seen: map[string]int{}}
			var release sync.Once
			unblock := func() { release.Do(func() { close(bus.release) }) }
			h := newHookedHarness(t, kind, Options{}, &deviceHook{}, bus)
			t.Cleanup(unblock)
			b := h.broker(mq.Port(), nil)
			h.subscription(b, "order/#", 1)
			start := time.Now()
			h.call("mqtt.service", "start_mqtt_service")
			h.waitConnected(b, start)

			dev := testmqtt.Connect(t, mq.URL(), "dev-order", nil)
			const n = 5
			for i := range n {
				testmqtt.Publish(t, dev, fmt.Sprintf("order/%d", i), 1, false, fmt.Sprintf("m%d", i))
			}
			testkit.Eventually(t, 15*time.Second, "the note of order/0", func() bool { held, _, _ := bus.state(); return held })
			testkit.Eventually(t, 15*time.Second, "order/1 delivered while the note of order/0 holds the writer (order/0 acknowledged before the bus heard of it)",
				func() bool { return h.daemon(b).MessagesIn >= 2 })
			unblock()
			testkit.Eventually(t, 15*time.Second, "every message on the bus", func() bool { _, seen, _ := bus.state(); return len(seen) == n })
			h.stop() // no late note
			_, seen, wrong := bus.state()
			for i := range n {
				if topic := fmt.Sprintf("order/%d", i); seen[topic] != 1 {
					t.Errorf("%s on the bus %d times, want once", topic, seen[topic])
				}
			}
			for _, w := range wrong {
				t.Errorf("note of a row not committed as told: %s", w)
			}
		})
	}
}

// TestShutdownDrainsDevices, on each database: at shutdown the device
// worker stores what it was handed (Run waits for it), and once the drain
// timeout has passed it gives up what the database still refuses, logged
// and counted, the history of those messages being stored.
func TestShutdownDrainsDevices(t *testing.T) {
	for _, kind := range modelstest.Kinds(t) {
		t.Run(kind, func(t *testing.T) {
			modelstest.CheckLeaks(t)
			mq := startMosquitto(t, testmqtt.Options{})
			hook := &deviceHook{}
			hook.holdCalls()
			h := newHookedHarness(t, kind, Options{}, hook, nil)
			b := h.broker(mq.Port(), nil)
			telemetry := h.subscription(b, "device/+/telemetry/#", 1)
			start := time.Now()
			h.call("mqtt.service", "start_mqtt_service")
			h.waitConnected(b, start)

			const n = 40
			want := publishReadings(t, mq, "d1", n)
			testkit.Eventually(t, 15*time.Second, "the history committed and every device message queued", func() bool {
				calls, _, _ := hook.state()
				return calls >= 1 && h.count([]any{"subscription_id", "=", telemetry}) == n && h.metric("odoo_iot_mqtt_device_queue_messages") == n
			})
			stopped := make(chan struct{})
			go func() { defer close(stopped); h.stop() }()
			testkit.Eventually(t, 15*time.Second, "the daemon stopped by the shutdown", func() bool { return h.daemon(b).State == mqttmodel.StateStopped })
			select {
			case <-stopped:
				t.Fatalf("Run returned with %d device messages queued", n)
			default:
			}
			hook.release()
			select {
			case <-stopped:
			case <-time.After(60 * time.Second):
				t.Fatalf("Run did not return")
			}
			if _, _, got := hook.state(); !slices.Equal(got, want) {
				t.Errorf("device messages ingested by the shutdown %d, want the %d published in order", len(got), len(want))
			}
			if v := h.temperature(b, "d1"); v != fmt.Sprint(n-1) {
				t.Errorf("d1's last reading %q, want %d", v, n-1)
			}
			if v := h.metric("odoo_iot_mqtt_device_messages_lost_total"); v != 0 {
				t.Errorf("device_messages_lost_total %v", v)
			}
			if n := h.logs.Count("Giving up updating devices"); n != 0 {
				t.Errorf("%d give-up lines", n)
			}

			// A database refusing device updates until the drain timeout.
			failing := &deviceHook{iot: h.reg.Devices}
			failing.setFailing(true)
			h.run(Options{deviceIngest: failing.ingest})
			before := time.Now()
			h.call("mqtt.service", "start_mqtt_service")
			h.waitConnected(b, before)
			const m = 25
			publishReadings(t, mq, "d2", m)
			testkit.Eventually(t, 15*time.Second, "d2's messages queued and retried", func() bool {
				_, failures, _ := failing.state()
				return failures >= 1 && h.metric("odoo_iot_mqtt_device_queue_messages") == m
			})
			h.svc.drainTimeout = 300 * time.Millisecond
			h.stop()
			if v := h.metric("odoo_iot_mqtt_device_messages_lost_total"); v != m {
				t.Errorf("device_messages_lost_total %v, want %d", v, m)
			}
			if n := h.logs.Count("Giving up updating devices at shutdown", fmt.Sprintf("messages=%d", m)); n != 1 {
				t.Errorf("%d give-up lines for %d messages, want 1", n, m)
			}
			if c := h.count([]any{"topic", "=", "device/d2/telemetry/temp"}); c != m {
				t.Errorf("%d history rows of d2, want %d", c, m)
			}
			if h.device(b, "d2") != nil {
				t.Errorf("d2 created though every update failed")
			}
		})
	}
}

// TestDeviceQueueBackPressure, on each database: with a device queue of
// one byte and device ingestion held, the writer stores and acknowledges
// a batch, hands its device messages over, stores the next, and waits
// for room: intake stops (the broker keeps the rest) instead of anything
// being dropped, and everything is stored and ingested, in order, once
// device ingestion goes on.
func TestDeviceQueueBackPressure(t *testing.T) {
	for _, kind := range modelstest.Kinds(t) {
		t.Run(kind, func(t *testing.T) {
			modelstest.CheckLeaks(t)
			mq := startMosquitto(t, testmqtt.Options{})
			hook := &deviceHook{}
			hook.holdCalls()
			const batch = 10
			h := newHookedHarness(t, kind, Options{BatchSize: batch, DeviceQueueBytes: 1}, hook, nil)
			b := h.broker(mq.Port(), nil)
			telemetry := h.subscription(b, "device/+/telemetry/#", 1)
			start := time.Now()
			h.call("mqtt.service", "start_mqtt_service")
			h.waitConnected(b, start)

			const n = 100
			want := publishReadings(t, mq, "bp", n)
			testkit.Eventually(t, 15*time.Second, "the writer waiting for room in the device queue", func() bool {
				return h.metric("odoo_iot_mqtt_device_queue_waits_total") >= 1
			})
			// The worker holds the first batch's messages; the writer
			// waits to hand over the second's: no third batch is stored.
			if c := h.count([]any{"subscription_id", "=", telemetry}); c > 2*batch {
				t.Errorf("%d rows stored while the writer waits for the device queue, want at most two batches (%d)", c, 2*batch)
			}
			if v := h.metric("odoo_iot_mqtt_device_queue_messages"); v == 0 || v > batch {
				t.Errorf("%v device messages queued, want one batch's (the bound lets one job through)", v)
			}

			hook.release()
			testkit.Eventually(t, 30*time.Second, "every message stored and ingested", func() bool {
				_, _, got := hook.state()
				return h.count([]any{"subscription_id", "=", telemetry}) == n && len(got) == n
			})
			if _, _, got := hook.state(); !slices.Equal(got, want) {
				t.Errorf("device messages ingested out of order or duplicated:\n%v", got)
			}
			if v := h.temperature(b, "bp"); v != fmt.Sprint(n-1) {
				t.Errorf("bp's last reading %q, want %d", v, n-1)
			}
			rows := h.history([]any{"subscription_id", "=", telemetry})
			for i, r := range rows {
				if r.Payload != fmt.Sprint(i) {
					t.Fatalf("row %d: %q, want %d: the history in arrival order", i, r.Payload, i)
				}
			}
			if v := h.metric("odoo_iot_mqtt_device_messages_lost_total") + h.metric("odoo_iot_mqtt_messages_dropped_total"); v != 0 {
				t.Errorf("lost or dropped %v", v)
			}
		})
	}
}
