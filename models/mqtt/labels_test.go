package mqtt_test

import (
	"testing"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// addonLabels are the string= of every field the addon declares
// (odoo-iot-mqtt 16.0, mqtt_integration and mqtt_listener models at
// 82e95ce, plus PR #10's clean_session), or Odoo's derivation from the
// field name where it gives none. fields_get must show them exactly:
// clients and the web pages label columns and error messages with them.
var addonLabels = map[string]map[string]string{
	"mqtt.broker": {
		"name": "Broker Name", "url_scheme": "URI scheme", "host": "Host", "port": "Port",
		"client_id": "Client ID", "username": "Username", "password": "Password",
		"keepalive": "Keepalive (s)", "connect_timeout": "Connect Timeout (s)", "note": "Note",
		"connection_message": "Connection Message", "connection_status": "Connection Status",
		"clean_session": "Clean Session",
	},
	"mqtt.subscription": {
		"broker_id": "MQTT Broker", "topic": "Topic", "qos": "QoS", "no_local_flag": "No Local Flag",
		"retain_as_published_flag": "Retain as Published Flag", "retain_handling": "Retain handling",
		"subscribed": "Subscribed", "subscription_time": "Subscription Time", "display_name": "Display Name",
		"subscription_in_progress": "Subscription In Progress", "subscription_status": "Subscription Status",
	},
	"mqtt.signal": {
		"broker_id": "MQTT Broker", "subscription_id": "MQTT Subscription", "history_ids": "Signal History",
		"topic": "Topic", "payload": "Payload", "retain": "Retain", "qos": "QoS", "send_at": "Send At",
		"display_name": "Display Name",
	},
	"mqtt.signal.history": {
		"signal_id": "MQTT Signal", "payload": "Payload", "topic": "Topic", "qos": "QoS", "retain": "Retain",
		"direction": "Direction", "timestamp": "Timestamp", "display_name": "Display Name",
	},
	"mqtt.service": {
		"name": "Service name", "last_start": "Last boot", "status": "Status",
		"thread_identifier": "Thread Identifier", "host_info": "Host Info", "connection_status": "Connection Status",
	},
}

func TestAddonLabels(t *testing.T) {
	r := newTestRegistry(t)
	env := testEnv(t, r)
	for model, labels := range addonLabels {
		got, err := call(env, model, "fields_get", nil, map[string]any{"attributes": []any{"string"}})
		if err != nil {
			t.Fatal(err)
		}
		desc := map[string]any{}
		got.(*models.Dict).Range(func(k string, v any) bool { desc[k] = v; return true })
		for field, want := range labels {
			d, ok := desc[field].(*models.Dict)
			if !ok {
				t.Errorf("%s has no field %s", model, field)
				continue
			}
			if s, _ := d.Get("string"); s != want {
				t.Errorf("%s.%s string = %q, want the addon's %q", model, field, s, want)
			}
		}
	}
}
