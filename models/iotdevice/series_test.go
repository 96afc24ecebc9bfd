package iotdevice_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// TestDeviceSensorSeries: each numeric sensor of a device gets the series
// of its telemetry topic, per-sensor topics (a number, or {"value"}) and
// a device topic of readings alike; text sensors have none.
func TestDeviceSensorSeries(t *testing.T) {
	forEachDB(t, func(t *testing.T, r *app) {
		ctx := context.Background()
		run := func(uid int64, model, method string, args []any, kwargs map[string]any) (any, error) {
			return r.Execute(ctx, models.Call{UID: uid, Model: model, Method: method, Args: args, Kwargs: kwargs})
		}
		must := func(res any, err error) any {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
			return res
		}
		perSensor := must(run(models.AdminUID, "mqtt.broker", "create", []any{map[string]any{"name": "P"}}, nil)).(int64)
		shared := must(run(models.AdminUID, "mqtt.broker", "create", []any{map[string]any{"name": "S", "device_telemetry_topic": "esp/{id}/data"}}, nil)).(int64)
		last := `{"temperature": {"value": 21.5, "unit": "°C"}, "humidity": {"value": "40"}, "state": {"value": "on"}}`
		d1 := must(run(models.AdminUID, "iot.device", "create", []any{map[string]any{"name": "T", "identifier": "t1", "broker_id": perSensor, "last_values": last}}, nil)).(int64)
		d2 := must(run(models.AdminUID, "iot.device", "create", []any{map[string]any{"name": "E", "identifier": "e1", "broker_id": shared, "last_values": last}}, nil)).(int64)
		base := time.Date(2026, 5, 6, 10, 0, 0, 0, time.UTC)
		row := func(b int64, topic, payload string, sec int) mqtt.HistoryRow {
			return mqtt.HistoryRow{BrokerID: b, Topic: topic, Payload: []byte(payload), Direction: "receive", Timestamp: base.Add(time.Duration(sec) * time.Second)}
		}
		if err := r.MQTT.InsertHistory(ctx, []mqtt.HistoryRow{
			row(perSensor, "device/t1/telemetry/temperature", "20", 0),
			row(perSensor, "device/t1/telemetry/temperature", `{"value": 22, "unit": "°C"}`, 30),
			row(perSensor, "device/t1/telemetry/humidity", `{"value": "40"}`, 30),
			row(perSensor, "device/t2/telemetry/temperature", "99", 30), // another device
			row(shared, "esp/e1/data", `{"temperature": 19, "humidity": {"value": 41}}`, 10),
			row(shared, "esp/e1/data", `{"temperature": 21}`, 20),
		}); err != nil {
			t.Fatal(err)
		}
		kw := map[string]any{"start": "2026-05-06 10:00:00", "end": "2026-05-06 11:00:00", "interval_seconds": int64(60)}
		got := must(run(models.AdminUID, "iot.device", "get_sensor_series", []any{[]any{d1, d2}}, kw)).([]any)
		want := map[int64]map[string][2]float64{ // sensor -> count, avg of the one bucket
			d1: {"humidity": {1, 40}, "temperature": {2, 21}},
			d2: {"humidity": {1, 41}, "temperature": {2, 20}},
		}
		for _, dv := range got {
			dev := dv.(map[string]any)
			sensors := dev["sensors"].([]any)
			w := want[dev["id"].(int64)]
			if len(sensors) != len(w) {
				t.Fatalf("device %v: sensors %v, want %v", dev["id"], sensors, w)
			}
			for _, sv := range sensors {
				s := sv.(map[string]any)
				pts := s["series"].(map[string]any)["points"].([]any)
				ws := w[s["sensor"].(string)]
				if len(pts) != 1 || pts[0].(map[string]any)["count"] != int64(ws[0]) || pts[0].(map[string]any)["avg"] != ws[1] {
					t.Errorf("device %v sensor %v (%v): points %v, want %v", dev["id"], s["sensor"], s["topic"], pts, ws)
				}
			}
		}
		if _, err := run(models.AdminUID, "iot.device", "get_sensor_series", []any{[]any{d1}}, map[string]any{"max_points": int64(0)}); models.KindOf(err) != models.KindValidation || !strings.HasPrefix(err.Error(), "Max points") {
			t.Errorf("max_points 0: %v, want a ValidationError on Max points", err)
		}
		if _, err := run(models.AdminUID, "iot.device", "get_sensor_series", []any{[]any{d1}}, map[string]any{"start": "nope"}); models.KindOf(err) != models.KindValidation {
			t.Errorf("bad start: %v, want a ValidationError", err)
		}
	})
}
