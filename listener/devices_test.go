package listener

import (
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testmqtt"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
)

// cuttable is a device whose connection the test can cut without a
// DISCONNECT, so that the broker publishes its last will.
type cuttable struct {
	mqtt.Client
	mu   sync.Mutex
	conn net.Conn
}

func (c *cuttable) cut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.conn.Close()
}

func cuttableDevice(t *testing.T, mq *testmqtt.Broker, id string, setup func(*mqtt.ClientOptions)) *cuttable {
	c := &cuttable{}
	c.Client = testmqtt.Connect(t, mq.URL(), id, func(o *mqtt.ClientOptions) {
		o.SetCustomOpenConnectionFn(func(u *url.URL, _ mqtt.ClientOptions) (net.Conn, error) {
			conn, err := net.Dial("tcp", u.Host)
			c.mu.Lock()
			c.conn = conn
			c.mu.Unlock()
			return conn, err
		})
		if setup != nil {
			setup(o)
		}
	})
	return c
}

// TestDeviceDiscovery, with a real Mosquitto: a smart object publishes
// its descriptor, telemetry and availability and leaves a last will; its
// iot.device appears, fills in, and goes offline when its connection is
// cut. Device messages reach the history only through a user
// subscription, once, and discovery keeps working when a user
// subscription sharing a device filter goes.
func TestDeviceDiscovery(t *testing.T) {
	for _, kind := range modelstest.Kinds(t) {
		t.Run(kind, func(t *testing.T) {
			modelstest.CheckLeaks(t)
			mq := startMosquitto(t, testmqtt.Options{})
			h := newHarness(t, kind, Options{})
			b := h.broker(mq.Port(), nil)
			// Covers the telemetry device filter, and equals the info one.
			telemetry := h.subscription(b, "device/+/telemetry/#", 1)
			info := h.subscription(b, "device/+/info", 1)
			start := time.Now()
			h.call("mqtt.service", "start_mqtt_service")
			h.waitConnected(b, start)

			// Only the device filters no subscription covers, and Home
			// Assistant discovery's configs.
			const ha = " homeassistant/+/+/+/config homeassistant/+/+/config"
			if got := h.deviceFilters(b); fmt.Sprint(got) != "[device/+/availability device/+/event device/+/response/+"+ha+"]" {
				t.Errorf("device filters subscribed: %v", got)
			}

			lamp := cuttableDevice(t, mq, "dev-lamp-1", func(o *mqtt.ClientOptions) {
				o.SetWill("device/lamp-1/availability", "offline", 1, true)
			})
			testmqtt.Publish(t, lamp, "device/lamp-1/info", 1, true, `{"deviceId":"lamp-1","producer":"Acme Lighting","resources":["switch"],"actions":["toggle"]}`)
			testmqtt.Publish(t, lamp, "device/lamp-1/availability", 1, true, "online")
			testmqtt.Publish(t, lamp, "device/lamp-1/telemetry/switch", 1, false, `{"timestamp":1700000000000,"type":"SWITCH","value":true}`)

			var dev map[string]any
			testkit.Eventually(t, 15*time.Second, "lamp-1 discovered with its reading", func() bool {
				dev = h.device(b, "lamp-1")
				return dev != nil && dev["connected"] == true && strings.Contains(fmt.Sprint(dev["last_values"]), "switch")
			})
			if dev["driver"] != "smart_object" || dev["manufacturer"] != "Acme Lighting" || dev["actions"] != "toggle" || dev["topic_base"] != "device/lamp-1" {
				t.Errorf("lamp-1 = %v", dev)
			}
			var values map[string]map[string]any
			if err := json.Unmarshal([]byte(dev["last_values"].(string)), &values); err != nil || values["switch"]["value"] != true {
				t.Errorf("last_values = %v (%v)", dev["last_values"], err)
			}

			// History: telemetry and info through the user's subscriptions,
			// exactly once; availability is a device topic only.
			testkit.Eventually(t, 10*time.Second, "telemetry and info in the history", func() bool {
				return h.count([]any{"subscription_id", "=", telemetry}) == 1 && h.count([]any{"subscription_id", "=", info}) == 1
			})
			if n := h.count([]any{"topic", "=", "device/lamp-1/availability"}); n != 0 {
				t.Errorf("%d availability rows in the history: no subscription asked for them", n)
			}
			if n := h.count([]any{"topic", "like", "device/lamp-1/%"}); n != 2 {
				t.Errorf("%d history rows of lamp-1, want 2 (no duplicates from overlapping filters)", n)
			}

			// The broker publishes the will when the connection drops.
			lamp.cut()
			testkit.Eventually(t, 15*time.Second, "lamp-1 offline by its will", func() bool {
				return h.device(b, "lamp-1")["connected"] == false
			})

			// Without the user's device/+/info, discovery still gets
			// descriptors.
			h.call("mqtt.subscription", "unsubscribe", []any{info})
			if got := h.deviceFilters(b); fmt.Sprint(got) != "[device/+/availability device/+/event device/+/info device/+/response/+"+ha+"]" {
				t.Errorf("device filters after the info subscription went: %v", got)
			}
			other := testmqtt.Connect(t, mq.URL(), "dev-thermo-9", nil)
			testmqtt.Publish(t, other, "device/thermo-9/info", 1, true, `{"deviceId":"thermo-9","resources":["temperature"]}`)
			testkit.Eventually(t, 15*time.Second, "thermo-9 discovered", func() bool {
				d := h.device(b, "thermo-9")
				return d != nil && d["type"] == "sensor"
			})
			if n := h.count([]any{"topic", "=", "device/thermo-9/info"}); n != 0 {
				t.Errorf("thermo-9's info stored in the history after its subscription went")
			}

			// A subscription covering every device topic replaces the
			// device filters (not the discovery configs').
			all := h.subscription(b, "device/#", 1)
			if got := h.deviceFilters(b); fmt.Sprint(got) != "["+ha[1:]+"]" {
				t.Errorf("device filters beside device/#: %v", got)
			}
			testmqtt.Publish(t, other, "device/thermo-9/availability", 1, false, "offline")
			testkit.Eventually(t, 15*time.Second, "thermo-9 offline", func() bool { return h.device(b, "thermo-9")["connected"] == false })
			if n := h.count([]any{"subscription_id", "=", all}, []any{"topic", "=", "device/thermo-9/availability"}); n != 1 {
				t.Errorf("%d rows of thermo-9's availability through device/#, want 1", n)
			}
		})
	}
}

// deviceFilters lists the device filters the broker's connection has
// subscribed for discovery alone.
func (h *harness) deviceFilters(broker int64) []string {
	d := h.svc.daemons.running(broker)
	if d == nil || d.current() == nil {
		h.t.Fatalf("broker %d not connected", broker)
	}
	got := d.current().devices.list()
	slices.Sort(got)
	return got
}

// device reads a discovered device of a broker, nil when there is none.
func (h *harness) device(broker int64, identifier string) map[string]any {
	h.t.Helper()
	rows := h.call("iot.device", "search_read", []any{[]any{"identifier", "=", identifier}, []any{"broker_id", "=", broker}},
		[]any{"name", "connected", "last_values", "driver", "manufacturer", "actions", "topic_base", "type"}).([]*models.Dict)
	if len(rows) == 0 {
		return nil
	}
	out := map[string]any{}
	rows[0].Range(func(k string, v any) bool { out[k] = v; return true })
	return out
}
