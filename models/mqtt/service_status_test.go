package mqtt_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// TestServiceStatusShapes: get_listener_status gives each broker its
// owner dict (false without a live owner) and get_instances the live
// instances, with Odoo's datetime strings in UTC, as the JSON-RPC
// clients see them.
func TestServiceStatusShapes(t *testing.T) {
	since := time.Date(2026, 3, 1, 12, 30, 5, 0, time.FixedZone("CET", 3600))
	started := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	beat := time.Date(2026, 3, 1, 12, 31, 0, 0, time.UTC)
	other := mqtt.InstanceStatus{ID: 7, Host: "node-b", PID: 4242, Started: started, Heartbeat: beat, Brokers: 1}
	self := mqtt.InstanceStatus{ID: 8, Host: "node-a", PID: 99, Started: started, Heartbeat: beat, Self: true}
	ctl := &modelstest.Control{
		Status: []mqtt.DaemonStatus{
			{BrokerID: 1, BrokerName: "B1", ClientID: "b1-7", State: mqtt.StateConnected, Owned: true, Owner: other, OwnerSince: since},
			{BrokerID: 2, BrokerName: "B2", State: mqtt.StateStopped},
		},
		Live: []mqtt.InstanceStatus{other, self},
	}
	r := modelstest.NewFor(t, "sqlite", modelstest.Options{Control: func() mqtt.BrokerControl { return ctl }})
	call := func(method string) string {
		res, err := r.Execute(context.Background(), models.Call{UID: models.AdminUID, Model: "mqtt.service", Method: method})
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		b, err := json.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	tests := []struct {
		method, want string
	}{
		{"get_listener_status", `[` +
			`{"broker_id":[1,"B1"],"thread_identifier":"","state":"connected","since":false,"stop_reason":"","connected_at":false,` +
			`"disconnected_at":false,"attempts":0,"next_retry":false,"last_error":"","messages_in":0,"messages_out":0,"client_id":"b1-7",` +
			`"owner":{"id":7,"host":"node-b","pid":4242,"since":"2026-03-01 11:30:05","self":false}},` +
			`{"broker_id":[2,"B2"],"thread_identifier":"","state":"stopped","since":false,"stop_reason":"","connected_at":false,` +
			`"disconnected_at":false,"attempts":0,"next_retry":false,"last_error":"","messages_in":0,"messages_out":0,"client_id":"","owner":false}]`},
		{"get_instances", `[` +
			`{"id":7,"host":"node-b","pid":4242,"started":"2026-03-01 09:00:00","heartbeat":"2026-03-01 12:31:00","brokers":1,"self":false},` +
			`{"id":8,"host":"node-a","pid":99,"started":"2026-03-01 09:00:00","heartbeat":"2026-03-01 12:31:00","brokers":0,"self":true}]`},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			if got := call(tt.method); got != tt.want {
				t.Errorf("%s =\n%s\nwant\n%s", tt.method, got, tt.want)
			}
		})
	}
}
