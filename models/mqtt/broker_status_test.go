package mqtt_test

import (
	"testing"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// TestBrokerStatus: mqtt.broker.status is the listener's live state while
// it runs the broker, else Stopped with the last Connect check's outcome
// (before it, the list showed "Connection status: Unknown" beside
// "Listener state: Connected").
func TestBrokerStatus(t *testing.T) {
	forEachDB(t, func(t *testing.T, r *modelstest.App) {
		broker := exec(t, r, models.AdminUID, "mqtt.broker", "create", map[string]any{"name": "Status"}).(int64)
		env := testEnv(t, r)
		for _, tc := range []struct {
			listener, check, want string
		}{
			{mqtt.StateStopped, "unknown", "stopped"},
			{mqtt.StateStopped, "success", "stopped_ok"},
			{mqtt.StateStopped, "fail", "stopped_fail"},
			{mqtt.StateConnected, "unknown", "connected"},
			{mqtt.StateConnected, "fail", "connected"},
			{mqtt.StateConnecting, "success", "connecting"},
			{mqtt.StateReconnecting, "success", "reconnecting"},
			{mqtt.StateError, "success", "error"},
		} {
			if _, err := env.SetColumns(r.Model("mqtt.broker"), []int64{broker}, map[string]any{"listener_state": tc.listener, "connection_status": tc.check}); err != nil {
				t.Fatal(err)
			}
			res, err := call(env, "mqtt.broker", "read", []any{[]any{broker}, []any{"status"}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := res.([]*models.Dict)[0].Get("status"); got != tc.want {
				t.Errorf("listener %s, check %s: status %v, want %s", tc.listener, tc.check, got, tc.want)
			}
		}
	})
}
