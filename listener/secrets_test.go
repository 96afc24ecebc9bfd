package listener

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/keyring"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testmqtt"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
	mqttmodel "github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// TestCheckConnectionAfterTargetChange: the attack of issue 9 item 4, end
// to end. A manager points a broker that has a stored password at a
// listener of theirs and clicks Check Connection: the CONNECT the listener
// receives carries no password. The recorder first shows it does see the
// stored password when the destination is the broker's own, and the
// password given with a new destination is the one sent.
func TestCheckConnectionAfterTargetChange(t *testing.T) {
	modelstest.CheckLeaks(t)
	for _, kind := range modelstest.Kinds(t) {
		t.Run(kind, func(t *testing.T) {
			own, attacker := newConnectRecorder(t), newConnectRecorder(t)
			h := newHarness(t, kind, Options{})
			manager := h.userIn("manager", mqttmodel.GroupManager)
			b := h.broker(own.port(), map[string]any{"username": "plant", "password": "stored-secret"})
			check := func() {
				t.Helper()
				if _, err := h.tryAs(manager, "mqtt.broker", "check_connection", []any{b}); err != nil {
					t.Fatalf("check_connection: %v", err)
				}
			}
			write := func(vals map[string]any) {
				t.Helper()
				if _, err := h.tryAs(manager, "mqtt.broker", "write", []any{b}, vals); err != nil {
					t.Fatalf("write %v: %v", vals, err)
				}
			}

			check()
			if p := own.next(t); !p.PasswordFlag || string(p.Password) != "stored-secret" {
				t.Fatalf("the broker's own listener got password %v %q: the recorder does not read CONNECT right", p.PasswordFlag, p.Password)
			}

			write(map[string]any{"host": "127.0.0.1", "port": fmt.Sprint(attacker.port())})
			check()
			p := attacker.next(t)
			if p.PasswordFlag || len(p.Password) != 0 {
				t.Errorf("after the host change the CONNECT carries password %q", p.Password)
			}
			if !p.UsernameFlag || p.Username != "plant" {
				t.Errorf("username %v %q: only secrets are dropped", p.UsernameFlag, p.Username)
			}

			write(map[string]any{"port": fmt.Sprint(own.port()), "password": "given-with-the-change"})
			check()
			if p := own.next(t); string(p.Password) != "given-with-the-change" {
				t.Errorf("a password given with the change: CONNECT carries %q", p.Password)
			}
		})
	}
}

// TestSecretsWithoutTheKeyListener: on a database whose secrets were
// stored under another key (restored without its key file), the daemon of
// a broker with secrets stops in state error with a clear message and
// never connects without them; Check Connection answers the same; the
// other brokers run (issue 9 item 11).
func TestSecretsWithoutTheKeyListener(t *testing.T) {
	modelstest.CheckLeaks(t)
	mq := startMosquitto(t, testmqtt.Options{})
	for _, kind := range modelstest.Kinds(t) {
		t.Run(kind, func(t *testing.T) {
			rec := newConnectRecorder(t)
			dsn := modelstest.DSN(t, kind)
			writer := modelstest.Open(t, dsn)
			create := func(vals map[string]any) int64 {
				id, err := writer.Execute(t.Context(), models.Call{UID: models.AdminUID, Model: "mqtt.broker", Method: "create", Args: []any{vals}})
				if err != nil {
					t.Fatal(err)
				}
				return id.(int64)
			}
			locked := create(map[string]any{"name": "locked", "host": "127.0.0.1", "port": fmt.Sprint(rec.port()), "username": "u", "password": "pw"})
			open := create(map[string]any{"name": "open", "host": "127.0.0.1", "port": fmt.Sprint(mq.Port()), "connect_timeout": int64(3)})

			k, err := keyring.NewKey()
			if err != nil {
				t.Fatal(err)
			}
			other, _ := keyring.New("key file copy/odoo-iot-mqtt.key", k)
			h := newHarnessAt(t, dsn, other, Options{})
			start := time.Now()
			h.call("mqtt.service", "start_mqtt_service")
			h.waitConnected(open, start)
			testkit.Eventually(t, 15*time.Second, "the locked broker's daemon in state error", func() bool {
				return h.daemon(locked).State == mqttmodel.StateError && h.read("mqtt.broker", locked, "listener_state") == mqttmodel.StateError
			})
			lastErr, _ := h.read("mqtt.broker", locked, "last_error").(string)
			for _, part := range []string{`broker "locked"`, "Password cannot be decrypted", modelstest.TestKeyring().Current().ID(), "copy/odoo-iot-mqtt.key", "restore"} {
				if !strings.Contains(lastErr, part) {
					t.Errorf("last_error %q does not say %q", lastErr, part)
				}
			}
			_, err = h.try("mqtt.broker", "check_connection", []any{locked})
			if models.KindOf(err) != models.KindUser || !strings.Contains(err.Error(), "cannot be decrypted") {
				t.Errorf("check_connection: %v", err)
			}
			if n := len(rec.packets); n != 0 {
				t.Errorf("%d connections were made without the secrets", n)
			}
			h.call("mqtt.service", "stop_mqtt_service")
		})
	}
}
