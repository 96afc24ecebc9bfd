package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testmqtt"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
)

// TestPythonHADiscovery: an ESPHome-like node played by Python's paho
// (testdata/e2e/ha_device.py) announces a sensor and a relay by Home
// Assistant's MQTT discovery on a real Mosquitto, with nothing
// configured but the broker. Over XML-RPC the device appears with its
// sensors and relay, the relay's action reaches the node's command topic
// (and the state it publishes back is read), a new temperature arrives,
// and its availability going offline shows.
func TestPythonHADiscovery(t *testing.T) {
	py := pythonPaho(t)
	for _, kind := range modelstest.Kinds(t) {
		t.Run(kind, func(t *testing.T) {
			mq := startMosquitto(t)
			srv := startServer(t, "--db", modelstest.DSN(t, kind), "--db-name", "e2e", "--admin-password", "pw")
			o := login(t, srv, "e2e", "pw")
			x := newXMLRPC(t, srv, o)
			o.create("mqtt.broker", map[string]any{"name": "Mosquitto", "host": testmqtt.Host, "port": strconv.Itoa(mq.Port()), "device_discovery": true})
			if res := o.call("mqtt.service", "start_mqtt_service", nil, nil); res != true {
				t.Fatalf("start_mqtt_service = %v", res)
			}
			testkit.Eventually(t, 15*time.Second, "the broker connected", func() bool {
				return o.count("mqtt.broker", []any{[]any{"listener_state", "=", "connected"}}) == 1
			})
			dev := startPyDevice(t, py, filepath.Join("..", "testdata", "e2e", "ha_device.py"), testmqtt.Host, strconv.Itoa(mq.Port()), "ha-node")
			if l := dev.next(); l != "READY" {
				t.Fatalf("device: %q, want READY\n%s", l, dev.stderr.String())
			}

			// read is the device over XML-RPC, with its last values decoded.
			read := func() (map[string]any, map[string]any) {
				t.Helper()
				res, err := x.call("iot.device", "search_read", []any{[]any{[]any{"identifier", "=", "a4cf12ha-node"}}},
					map[string]any{"fields": []any{"name", "type", "driver", "manufacturer", "device_model", "connected", "actions", "last_values"}})
				if err != nil {
					t.Fatalf("search_read: %v", err)
				}
				rows, _ := res.([]any)
				if len(rows) != 1 {
					return nil, nil
				}
				rec, _ := rows[0].(map[string]any)
				var values map[string]any
				s, _ := rec["last_values"].(string)
				_ = json.Unmarshal([]byte(s), &values)
				return rec, values
			}
			value := func(values map[string]any, sensor string) string {
				r, _ := values[sensor].(map[string]any)
				if r == nil {
					return "<none>"
				}
				return fmt.Sprint(r["value"])
			}
			var rec, values map[string]any
			testkit.Eventually(t, 20*time.Second, "the discovered device with its sensor and relay", func() bool {
				rec, values = read()
				return rec != nil && value(values, "Temperature") == "21.5" && value(values, "Relay") == "false" && rec["connected"] == true
			})
			for field, want := range map[string]any{"name": "ha-node", "type": "actuator", "driver": "homeassistant", "manufacturer": "espressif",
				"device_model": "esp32dev", "actions": "Relay:on,Relay:off"} {
				if rec[field] != want {
					t.Errorf("%s = %v, want %v", field, rec[field], want)
				}
			}
			if u, _ := values["Temperature"].(map[string]any); u["unit"] != "°C" {
				t.Errorf("Temperature = %v, want its unit °C", values["Temperature"])
			}
			id := rec["id"]

			// The relay's action, as the device page sends it.
			if res, err := x.call("iot.device", "action", []any{[]any{id}}, map[string]any{"data": `{"action": "Relay:on"}`}); err != nil || res != true {
				t.Fatalf("action Relay:on = %v, %v", res, err)
			}
			if l := dev.next(); l != "COMMAND ha-node/switch/relay/command ON" {
				t.Fatalf("device: %q, want the command ON on its cmd_t", l)
			}
			testkit.Eventually(t, 15*time.Second, "the relay's state read back", func() bool {
				_, values = read()
				return value(values, "Relay") == "true"
			})

			dev.send("TEMP 23.25")
			dev.next()
			testkit.Eventually(t, 15*time.Second, "the new temperature", func() bool {
				_, values = read()
				return value(values, "Temperature") == "23.25"
			})

			dev.send("OFFLINE")
			if l := dev.next(); l != "OFFLINE" {
				t.Fatalf("device: %q, want OFFLINE", l)
			}
			testkit.Eventually(t, 15*time.Second, "the device offline by its availability topic", func() bool {
				rec, _ = read()
				return rec != nil && rec["connected"] == false
			})

			// Both configs counted as stored in /metrics.
			resp, err := http.Get(srv.url() + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if want := `odoo_iot_mqtt_ha_discovery_configs_total{outcome="stored"} 2`; !strings.Contains(string(body), want) {
				t.Errorf("/metrics lacks %s", want)
			}

			dev.send("QUIT")
			if err := dev.wait(30 * time.Second); err != nil {
				t.Errorf("device exit: %v\n%s", err, dev.stderr.String())
			}
			if code := srv.stop(t); code != 0 {
				t.Errorf("exit code after SIGTERM = %d", code)
			}
		})
	}
}
