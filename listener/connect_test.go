package listener

import (
	"strings"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testmqtt"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
	mqttmodel "github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// TestCheckConnection drives check_connection against a Mosquitto with a
// password file and a TLS listener that requires a client certificate:
// the CONNACK is really read, so bad credentials fail, and every failure
// is persisted on the record with its reason.
func TestCheckConnection(t *testing.T) {
	modelstest.CheckLeaks(t)
	pki := newPKI(t)
	mq := startMosquitto(t, testmqtt.Options{Users: map[string]string{"plant": "s3cret"}, TLS: pki.brokerTLS()})
	h := newHarness(t, "sqlite", Options{})
	other := newPKI(t) // a CA the server's certificate is not signed by

	tlsVals := func(extra map[string]any) map[string]any {
		v := map[string]any{"url_scheme": "ssl://", "username": "plant", "password": "s3cret",
			"ca_cert": string(pki.caPEM), "client_cert": string(pki.clientCertPEM), "client_key": string(pki.clientKeyPEM)}
		for k, x := range extra {
			v[k] = x
		}
		return v
	}
	cases := []struct {
		name    string
		port    int
		vals    map[string]any
		wantErr string // "" = success
	}{
		{"ok", mq.Port(), map[string]any{"username": "plant", "password": "s3cret"}, ""},
		{"wrong password", mq.Port(), map[string]any{"username": "plant", "password": "nope"}, "not Authorized"},
		{"no credentials", mq.Port(), nil, "refused the connection"},
		{"closed port", testmqtt.FreePort(t), nil, "connection refused"},
		{"no CONNACK within connect_timeout", scriptedBroker(t, 0, true), map[string]any{"connect_timeout": int64(1)}, "timeout"},
		{"TLS with CA and client certificate", mq.TLSPort(), tlsVals(nil), ""},
		{"TLS by host name", mq.TLSPort(), tlsVals(map[string]any{"host": "localhost"}), ""},
		{"TLS with another CA", mq.TLSPort(), tlsVals(map[string]any{"ca_cert": string(other.caPEM)}), "certificate signed by unknown authority"},
		{"TLS with the wrong server name", mq.TLSPort(), tlsVals(map[string]any{"tls_server_name": "elsewhere.example"}), "certificate"},
		{"TLS without a client certificate", mq.TLSPort(), tlsVals(map[string]any{"client_cert": false, "client_key": false}), "cannot connect"},
		{"plain MQTT on the TLS port", mq.TLSPort(), map[string]any{"username": "plant", "password": "s3cret"}, "cannot connect"},
		// MQTT 5: the CONNACK's reason code by name, TLS as on 3.1.1.
		{"MQTT 5 ok", mq.Port(), map[string]any{"protocol": "MQTTv5", "username": "plant", "password": "s3cret"}, ""},
		{"MQTT 5 wrong password", mq.Port(), map[string]any{"protocol": "MQTTv5", "username": "plant", "password": "nope"}, "refused the connection: Not authorized (0x87)"},
		{"MQTT 5 no credentials", mq.Port(), map[string]any{"protocol": "MQTTv5"}, "Not authorized (0x87)"},
		{"MQTT 5 no CONNACK within connect_timeout", scriptedBroker(t, 0, true), map[string]any{"protocol": "MQTTv5", "connect_timeout": int64(1)}, "timeout"},
		{"MQTT 5 TLS with CA and client certificate", mq.TLSPort(), tlsVals(map[string]any{"protocol": "MQTTv5"}), ""},
		{"MQTT 5 TLS with another CA", mq.TLSPort(), tlsVals(map[string]any{"protocol": "MQTTv5", "ca_cert": string(other.caPEM)}), "certificate signed by unknown authority"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id := h.broker(c.port, c.vals)
			start := time.Now()
			res, err := h.try("mqtt.broker", "check_connection", []any{id})
			took := time.Since(start)
			if c.wantErr == "" {
				if err != nil {
					t.Fatalf("check failed: %v", err)
				}
				if n, _ := res.(map[string]any); n["tag"] != "display_notification" {
					t.Errorf("result %v, want a display_notification", res)
				}
				if s := h.read("mqtt.broker", id, "connection_status"); s != "success" {
					t.Errorf("connection_status %v", s)
				}
				return
			}
			if models.KindOf(err) != models.KindUser || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("error %v, want a UserError with %q", err, c.wantErr)
			}
			if s := h.read("mqtt.broker", id, "connection_status"); s != "fail" {
				t.Errorf("failure not persisted: connection_status %v", s)
			}
			if msg, _ := h.read("mqtt.broker", id, "connection_message").(string); !strings.Contains(msg, c.wantErr) {
				t.Errorf("connection_message %q lacks the reason %q", msg, c.wantErr)
			}
			if took > 6*time.Second {
				t.Errorf("the check took %v", took)
			}
		})
	}
}

// TestCheckConnectionLeavesTheDaemonAlone: a check uses its own client id,
// so the broker does not drop the daemon's connection for it.
func TestCheckConnectionLeavesTheDaemonAlone(t *testing.T) {
	modelstest.CheckLeaks(t)
	mq := startMosquitto(t, testmqtt.Options{})
	h := newHarness(t, "sqlite", Options{})
	id := h.broker(mq.Port(), map[string]any{"client_id": "fixed-listener-id"})
	start := time.Now()
	h.call("mqtt.service", "start_mqtt_service")
	h.waitConnected(id, start)
	connectedAt := h.daemon(id).ConnectedAt
	for i := range 3 {
		if _, err := h.try("mqtt.broker", "check_connection", []any{id}); err != nil {
			t.Fatalf("check %d: %v", i, err)
		}
	}
	time.Sleep(300 * time.Millisecond)
	if d := h.daemon(id); d.State != mqttmodel.StateConnected || !d.ConnectedAt.Equal(connectedAt) {
		t.Errorf("the daemon was disturbed: %+v", d)
	}
	if s := h.call("mqtt.service", "check_mqtt_status").(map[string]any); s["status"] != "connected" {
		t.Errorf("check_mqtt_status %v", s)
	}
	if st := h.read("mqtt.broker", id, "listener_state"); st != mqttmodel.StateConnected {
		t.Errorf("listener_state %v", st)
	}
}
