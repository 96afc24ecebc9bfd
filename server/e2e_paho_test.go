package main

import (
	"bufio"
	"encoding/base64"
	"encoding/hex"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testmqtt"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
)

// pyBinary is what testdata/e2e/paho_device.py publishes on .../raw.
const pyBinary = "\x00\xff\xfe\x80binary\x01"

// TestPythonPahoDevice: a device played by Python's paho-mqtt
// (testdata/e2e/paho_device.py, Debian's python3-paho-mqtt) talks to a real
// Mosquitto; the broker, subscriptions and signal are made over RPC. Its
// retained info, JSON telemetry and a non-UTF-8 binary payload are stored
// exactly, and a signal sent with action_send_mqtt reaches it.
func TestPythonPahoDevice(t *testing.T) {
	py := pythonPaho(t)
	for _, kind := range modelstest.Kinds(t) {
		t.Run(kind, func(t *testing.T) {
			mq := startMosquitto(t)
			args := []string{"--db", modelstest.DSN(t, kind), "--db-name", "e2e", "--admin-password", "pw"}
			srv := startServer(t, args...)
			o := login(t, srv, "e2e", "pw")
			broker := o.create("mqtt.broker", map[string]any{"device_discovery": true, "name": "Mosquitto", "host": testmqtt.Host, "port": strconv.Itoa(mq.Port())})
			var subs []any
			for _, topic := range []string{"device/+/info", "device/+/telemetry/#", "device/py-1/action/set"} {
				subs = append(subs, o.create("mqtt.subscription", map[string]any{"broker_id": broker, "topic": topic, "qos": 1}))
			}
			o.call("mqtt.subscription", "subscribe_mqtt", []any{subs}, nil)
			signal := o.create("mqtt.signal", map[string]any{"broker_id": broker, "subscription_id": subs[2], "payload": `{"state":"on"}`, "qos": 1})
			if res := o.call("mqtt.service", "start_mqtt_service", nil, nil); res != true {
				t.Fatalf("start_mqtt_service = %v", res)
			}
			testkit.Eventually(t, 15*time.Second, "the subscriptions to be subscribed", func() bool {
				return o.count("mqtt.subscription", []any{[]any{"subscribed", "=", true}}) == len(subs)
			})

			cmd := exec.Command(py, filepath.Join("..", "testdata", "e2e", "paho_device.py"), testmqtt.Host, strconv.Itoa(mq.Port()), "py-1", "30")
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			stderr := &testkit.Buffer{}
			cmd.Stderr = stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			lines := make(chan string, 10)
			go func() {
				defer close(lines)
				sc := bufio.NewScanner(stdout)
				for sc.Scan() {
					lines <- sc.Text()
				}
			}()
			next := func() string {
				t.Helper()
				select {
				case l, ok := <-lines:
					if !ok {
						t.Fatalf("the device exited early: %v\n%s", cmd.Wait(), stderr.String())
					}
					return l
				case <-time.After(30 * time.Second):
					cmd.Process.Kill()
					t.Fatalf("the device said nothing for 30s\n%s", stderr.String())
				}
				return ""
			}
			if l := next(); l != "READY" {
				t.Fatalf("device: %q, want READY\n%s", l, stderr.String())
			}

			row := func(topic string) map[string]any {
				t.Helper()
				var rows []map[string]any
				testkit.Eventually(t, 10*time.Second, "a row on "+topic, func() bool {
					rows = o.searchRead("mqtt.signal.history", []any{[]any{"topic", "=", topic}, []any{"direction", "=", "receive"}},
						"payload", "payload_raw", "qos", "subscription_id", "broker_id")
					return len(rows) > 0
				})
				if len(rows) != 1 {
					t.Fatalf("%d rows on %s, want 1", len(rows), topic)
				}
				return rows[0]
			}
			raw := row("device/py-1/telemetry/raw")
			if got, _ := base64.StdEncoding.DecodeString(raw["payload_raw"].(string)); string(got) != pyBinary {
				t.Errorf("payload_raw = %q, want %q", got, pyBinary)
			}
			if p := raw["payload"].(string); !strings.Contains(p, "binary") || !strings.Contains(p, "\uFFFD") {
				t.Errorf("payload text = %q, want the text with U+FFFD for the bad bytes", p)
			}
			if raw["qos"] != float64(1) || idOf(raw["subscription_id"]) != subs[1] || idOf(raw["broker_id"]) != broker {
				t.Errorf("raw row = %v", raw)
			}
			temp := row("device/py-1/telemetry/temperature")
			if want := `{"timestamp": 1700000000000, "type": "TEMPERATURE_SENSOR", "value": 21.5, "unit": "°C"}`; temp["payload"] != want {
				t.Errorf("temperature payload = %q, want %q", temp["payload"], want)
			}
			info := row("device/py-1/info")
			if !strings.Contains(info["payload"].(string), `"deviceId": "py-1"`) || idOf(info["subscription_id"]) != subs[0] {
				t.Errorf("info row = %v", info)
			}

			if res := o.call("mqtt.signal", "action_send_mqtt", []any{[]any{signal}}, nil); res != true {
				t.Fatalf("action_send_mqtt = %v", res)
			}
			want := "ACTION device/py-1/action/set " + hex.EncodeToString([]byte(`{"state":"on"}`))
			if l := next(); l != want {
				t.Fatalf("device: %q, want %q\n%s", l, want, stderr.String())
			}
			for range lines { // read to EOF before Wait
			}
			if err := cmd.Wait(); err != nil {
				t.Fatalf("device exit: %v\n%s", err, stderr.String())
			}
			if n := o.count("mqtt.signal.history", []any{[]any{"signal_id", "=", signal}, []any{"direction", "=", "send"}}); n != 1 {
				t.Errorf("%d send rows, want 1", n)
			}

			// Stopped over RPC, the service stays stopped across a restart.
			if res := o.call("mqtt.service", "stop_mqtt_service", nil, nil); res != true {
				t.Fatalf("stop_mqtt_service = %v", res)
			}
			if code := srv.stop(t); code != 0 {
				t.Errorf("exit code after SIGTERM = %d", code)
			}
			srv = startServer(t, args...)
			o = login(t, srv, "e2e", "pw")
			if res, _ := o.call("mqtt.service", "check_mqtt_status", nil, nil).(map[string]any); res["status"] != "stopped" {
				t.Errorf("check_mqtt_status after a restart of a stopped service = %v", res)
			}
			if recs := srv.logRecords("Started the MQTT service"); len(recs) != 0 {
				t.Errorf("a stopped service was started at boot: %v", recs)
			}
			if code := srv.stop(t); code != 0 {
				t.Errorf("exit code after SIGTERM = %d", code)
			}
		})
	}
}

// idOf is the id of a many2one value as read returns it: [id, name] or false.
func idOf(v any) int64 {
	if pair, ok := v.([]any); ok && len(pair) == 2 {
		if id, ok := pair[0].(float64); ok {
			return int64(id)
		}
	}
	return 0
}
