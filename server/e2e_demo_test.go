package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testmqtt"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/server/demo"
)

// TestDemoStart is `make run` in a test: --embedded-broker on a taken port
// (as when a system Mosquitto holds 1883) and --demo on a new SQLite
// database. The server picks a free port and logs it once, the demo
// records appear, the simulated devices' messages reach the history, the
// service reports connected, the lamp obeys a signal sent over RPC and
// answers a get_state command, and
// /metrics answers. The free port is pinned: a restart falls back to
// the same one, without duplicating anything; with it taken too, a new
// one is chosen, said in the log, pinned, and the demo brokers follow.
func TestDemoStart(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "demo.db")
	args := []string{"--db", dsn, "--admin-password", "pw", "--embedded-broker", busy.Addr().String(), "--demo"}
	srv := startServer(t, args...)

	const movedMsg = "Embedded MQTT broker: address in use, listening on a free port instead; point devices at the new address"
	moved := srv.logRecords(movedMsg)
	addr := srv.logValue(t, "Embedded MQTT broker listening", "addr")
	if len(moved) != 1 || moved[0]["level"] != "WARN" || moved[0]["wanted"] != busy.Addr().String() || moved[0]["addr"] != addr {
		t.Fatalf("free-port warning = %v, want one WARN naming %s and %s", moved, busy.Addr(), addr)
	}
	if addr == busy.Addr().String() || !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Fatalf("embedded broker on %s", addr)
	}

	o := login(t, srv, "odoo", "pw")
	brokers := o.searchRead("mqtt.broker", nil, "name", "host", "port")
	if len(brokers) != 2 || brokers[0]["name"] != demo.BrokerName || brokers[1]["name"] != demo.ESP32BrokerName ||
		net.JoinHostPort(brokers[0]["host"].(string), brokers[0]["port"].(string)) != addr || brokers[1]["port"] != brokers[0]["port"] {
		t.Fatalf("brokers = %v, want the demo brokers on %s", brokers, addr)
	}
	// The fallback port is pinned where the server keeps its settings.
	if p := o.searchRead("ir.config_parameter", []any{[]any{"key", "=", embeddedBrokerPortKey}}, "value"); len(p) != 1 || p[0]["value"] != portOf(t, addr) {
		t.Fatalf("pinned port parameter = %v, want %s", p, portOf(t, addr))
	}

	receive := []any{[]any{"direction", "=", "receive"}}
	testkit.Eventually(t, 15*time.Second, "received rows in mqtt.signal.history", func() bool { return o.count("mqtt.signal.history", receive) >= 5 })
	n := o.count("mqtt.signal.history", receive)
	testkit.Eventually(t, 10*time.Second, "the history to keep growing", func() bool { return o.count("mqtt.signal.history", receive) > n })
	for _, topic := range []string{"device/thermo-1/telemetry/temperature", "device/lamp-1/info", "/homecontrol/device/data/esp32-kitchen"} {
		testkit.Eventually(t, 10*time.Second, "a row on "+topic, func() bool {
			return o.count("mqtt.signal.history", []any{[]any{"topic", "=", topic}, []any{"subscription_id", "!=", false}}) > 0
		})
	}
	testkit.Eventually(t, 10*time.Second, "check_mqtt_status connected", func() bool {
		res, _ := o.call("mqtt.service", "check_mqtt_status", nil, nil).(map[string]any)
		return res["status"] == "connected" && res["message"] == "MQTT Service is connected and running"
	})

	// The lamp: its retained event flips when the toggle signal is sent.
	var before string
	testkit.Eventually(t, 10*time.Second, "the lamp's retained event", func() bool {
		before = lampState(testmqtt.Retained(t, "tcp://"+addr, "device/lamp-1/event", time.Second))
		return before != ""
	})
	sigs := o.searchRead("mqtt.signal", []any{[]any{"topic", "=", demo.LampToggleTopic}}, "id")
	if len(sigs) != 1 {
		t.Fatalf("toggle signals = %v", sigs)
	}
	sigID := sigs[0]["id"]
	if res := o.call("mqtt.signal", "action_send_mqtt", []any{[]any{sigID}}, nil); res != true {
		t.Fatalf("action_send_mqtt = %v", res)
	}
	if n := o.count("mqtt.signal.history", []any{[]any{"signal_id", "=", sigID}, []any{"direction", "=", "send"}}); n != 1 {
		t.Fatalf("%d send rows for the toggle signal, want 1", n)
	}
	want := map[string]string{"on": "off", "off": "on"}[before]
	testkit.Eventually(t, 10*time.Second, "the lamp to switch "+want, func() bool {
		return lampState(testmqtt.Retained(t, "tcp://"+addr, "device/lamp-1/event", time.Second)) == want
	})
	testkit.Eventually(t, 10*time.Second, "the lamp's new state in the history", func() bool {
		rows := o.searchRead("mqtt.signal.history", []any{[]any{"topic", "=", "device/lamp-1/event"}}, "payload")
		return len(rows) > 0 && lampState([]byte(rows[0]["payload"].(string))) == want // newest first
	})

	// The lamp answers a get_state command (MQTT 3.1.1 here: by the
	// request id in the topics).
	lamps := o.searchRead("iot.device", []any{[]any{"identifier", "=", demo.LampID}}, "id")
	if len(lamps) != 1 {
		t.Fatalf("lamp devices = %v", lamps)
	}
	state, _ := o.call("iot.device", "call", []any{[]any{lamps[0]["id"]}}, map[string]any{"name": "get_state", "timeout": 10}).(map[string]any)
	if state["state"] != want {
		t.Errorf("get_state = %v, want state %s", state, want)
	}

	resp, err := http.Get(srv.url() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET /metrics: %d\n%.500s", resp.StatusCode, body)
	}
	for _, want := range []string{"go_goroutines ", "process_start_time_seconds ", `go_sql_open_connections{db_name="main"} `,
		`odoo_iot_mqtt_connection_state{broker_id="1",state="connected"} 1`, `odoo_iot_mqtt_messages_received_total{broker_id="1"} `,
		`odoo_iot_mqtt_messages_sent_total{broker_id="1"} 2` /* the toggle and the get_state request */, "odoo_iot_mqtt_messages_dropped_total 0", "odoo_iot_mqtt_ingest_queue_depth "} {
		if !strings.Contains(string(body), "\n"+want) {
			t.Errorf("GET /metrics lacks %q", want)
		}
	}
	if code := srv.stop(t); code != 0 {
		t.Fatalf("exit code after SIGTERM = %d", code)
	}

	// A later start falls back to the same, pinned, port: devices
	// pointed at it still reach the broker; nothing is created twice.
	srv = startServer(t, args...)
	if addr2 := srv.logValue(t, "Embedded MQTT broker listening", "addr"); addr2 != addr {
		t.Fatalf("restarted on %s, want the pinned %s", addr2, addr)
	}
	if w := srv.logRecords("Embedded MQTT broker: address in use, listening on the pinned fallback port of earlier starts"); len(w) != 1 || w[0]["addr"] != addr {
		t.Errorf("pinned-port warning = %v", w)
	}
	o = login(t, srv, "odoo", "pw")
	brokers = o.searchRead("mqtt.broker", nil, "host", "port")
	if len(brokers) != 2 || brokers[0]["port"] != portOf(t, addr) {
		t.Fatalf("brokers after restart = %v, want two on %s", brokers, addr)
	}
	if n := o.count("mqtt.subscription", []any{}); n != len(demo.Subscriptions) {
		t.Fatalf("%d subscriptions after restart, want %d", n, len(demo.Subscriptions))
	}
	testkit.Eventually(t, 15*time.Second, "check_mqtt_status connected after restart", func() bool {
		res, _ := o.call("mqtt.service", "check_mqtt_status", nil, nil).(map[string]any)
		return res["status"] == "connected"
	})
	if code := srv.stop(t); code != 0 {
		t.Fatalf("exit code after SIGTERM = %d", code)
	}

	// The pinned port taken too: a new free port, said in the log, pinned
	// from then on, and the demo brokers follow it.
	pinnedBusy, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer pinnedBusy.Close()
	srv = startServer(t, args...)
	addr3 := srv.logValue(t, "Embedded MQTT broker listening", "addr")
	w := srv.logRecords("Embedded MQTT broker: address in use and the pinned fallback port too, listening on a new free port (pinned from now on); devices pointed at the old port must be moved")
	if addr3 == addr || len(w) != 1 || w[0]["pinned_port"] != float64(mustAtoi(t, portOf(t, addr))) {
		t.Fatalf("on %s with the pinned %s taken; warning %v", addr3, addr, w)
	}
	o = login(t, srv, "odoo", "pw")
	if p := o.searchRead("ir.config_parameter", []any{[]any{"key", "=", embeddedBrokerPortKey}}, "value"); len(p) != 1 || p[0]["value"] != portOf(t, addr3) {
		t.Errorf("pinned port parameter = %v, want %s", p, portOf(t, addr3))
	}
	if brokers = o.searchRead("mqtt.broker", nil, "port"); len(brokers) != 2 || brokers[0]["port"] != portOf(t, addr3) {
		t.Errorf("brokers = %v, want on %s", brokers, addr3)
	}
	if code := srv.stop(t); code != 0 {
		t.Fatalf("exit code after SIGTERM = %d", code)
	}
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// lampState is the state of a lamp event payload, or "".
func lampState(payload []byte) string {
	var ev struct{ Event, State string }
	if json.Unmarshal(payload, &ev) != nil || ev.Event != "switch" {
		return ""
	}
	return ev.State
}

func portOf(t *testing.T, addr string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := strconv.Atoi(port); err != nil {
		t.Fatal(err)
	}
	return port
}
