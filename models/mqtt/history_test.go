package mqtt_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// TestInsertHistory: the batch path of the listener (COPY on PostgreSQL,
// multi-row INSERTs on SQLite) stores every row exactly, binary payloads
// included, and the history's broker/subscription links are cleaned by
// code where they have no foreign key.
func TestInsertHistory(t *testing.T) {
	forEachDB(t, func(t *testing.T, r *modelstest.App) {
		ctx := context.Background()
		call := func(model, method string, args ...any) any {
			t.Helper()
			res, err := r.Execute(ctx, models.Call{UID: models.AdminUID, Model: model, Method: method, Args: args})
			if err != nil {
				t.Fatalf("%s.%s: %v", model, method, err)
			}
			return res
		}
		broker := call("mqtt.broker", "create", map[string]any{"name": "B"}).(int64)
		sub := call("mqtt.subscription", "create", map[string]any{"broker_id": broker, "topic": "bin/#"}).(int64)
		all := make([]byte, 256)
		for i := range all {
			all[i] = byte(i)
		}
		ts := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
		rows := make([]mqtt.HistoryRow, 0, 1000)
		for i := 0; i < 1000; i++ {
			rows = append(rows, mqtt.HistoryRow{BrokerID: broker, SubscriptionID: sub, Topic: fmt.Sprintf("bin/%d", i), Payload: []byte(fmt.Sprintf("v%d", i)), QoS: 1, Direction: "receive", Timestamp: ts})
		}
		rows[7].Payload = all
		rows[8].Payload = nil
		if err := r.MQTT.InsertHistory(ctx, rows); err != nil {
			t.Fatal(err)
		}
		if n := call("mqtt.signal.history", "search_count", []any{[]any{"broker_id", "=", broker}}); n != int64(1000) {
			t.Fatalf("stored %v rows", n)
		}
		got := call("mqtt.signal.history", "search_read", []any{[]any{"topic", "=", "bin/7"}}, []any{"payload_raw", "payload", "qos", "subscription_id", "timestamp", "display_name"}).([]*models.Dict)
		raw, _ := got[0].Get("payload_raw")
		b, _ := base64.StdEncoding.DecodeString(raw.(string))
		if !bytes.Equal(b, all) {
			t.Errorf("binary payload not stored exactly: %d bytes", len(b))
		}
		if text, _ := got[0].Get("payload"); bytes.IndexByte([]byte(text.(string)), 0) >= 0 {
			t.Errorf("text view keeps NUL")
		}
		if v, _ := got[0].Get("timestamp"); v != "2026-05-06 07:08:09" {
			t.Errorf("timestamp %v", v)
		}
		if v, _ := got[0].Get("display_name"); v != "bin/7 - 2026-05-06 07:08:09" {
			t.Errorf("display_name %v", v)
		}
		// Deleting the subscription keeps the rows, unlinked.
		call("mqtt.subscription", "unlink", []any{sub})
		if n := call("mqtt.signal.history", "search_count", []any{[]any{"subscription_id", "!=", false}}); n != int64(0) {
			t.Errorf("rows still linked to a deleted subscription: %v", n)
		}
		// Deleting the broker deletes its history (ondelete cascade).
		call("mqtt.broker", "unlink", []any{broker})
		if n := call("mqtt.signal.history", "search_count", []any{}); n != int64(0) {
			t.Errorf("history left after its broker was deleted: %v", n)
		}
		// A row that arrived after its broker was deleted is swept.
		if err := r.MQTT.InsertHistory(ctx, []mqtt.HistoryRow{{BrokerID: broker, SubscriptionID: sub, Topic: "late", Payload: []byte("x"), Direction: "receive"}}); err != nil {
			t.Fatal(err)
		}
		if n, err := r.MQTT.PurgeHistory(ctx); err != nil || n != 1 {
			t.Errorf("orphan sweep: %d, %v", n, err)
		}
		// Retention by rows and by age.
		broker = call("mqtt.broker", "create", map[string]any{"name": "R", "history_max_rows": int64(10)}).(int64)
		old := []mqtt.HistoryRow{}
		for i := 0; i < 25; i++ {
			old = append(old, mqtt.HistoryRow{BrokerID: broker, Topic: "t", Payload: []byte("x"), Direction: "receive", Timestamp: time.Now().Add(-time.Duration(25-i) * time.Minute)})
		}
		if err := r.MQTT.InsertHistory(ctx, old); err != nil {
			t.Fatal(err)
		}
		if n, err := r.MQTT.PurgeHistory(ctx); err != nil || n != 15 {
			t.Errorf("purge by rows: %d, %v", n, err)
		}
		call("mqtt.broker", "write", []any{broker}, map[string]any{"history_max_rows": int64(0), "history_max_age_days": int64(1)})
		if err := r.MQTT.InsertHistory(ctx, []mqtt.HistoryRow{{BrokerID: broker, Topic: "t", Payload: []byte("x"), Direction: "receive", Timestamp: time.Now().Add(-48 * time.Hour)}}); err != nil {
			t.Fatal(err)
		}
		if n, err := r.MQTT.PurgeHistory(ctx); err != nil || n != 1 {
			t.Errorf("purge by age: %d, %v", n, err)
		}
	})
}

// TestInsertHistoryProperties: MQTT 5 properties are stored exactly by
// the batch path, user properties as a JSON list keeping order and
// repeated names, and a 3.1.1 row keeps them empty.
func TestInsertHistoryProperties(t *testing.T) {
	forEachDB(t, func(t *testing.T, r *modelstest.App) {
		ctx := context.Background()
		broker, err := r.Execute(ctx, models.Call{UID: models.AdminUID, Model: "mqtt.broker", Method: "create", Args: []any{map[string]any{"name": "B5", "protocol": "MQTTv5"}}})
		if err != nil {
			t.Fatal(err)
		}
		props := mqtt.Properties{ContentType: "application/json", ResponseTopic: "r/1", CorrelationData: []byte{0, 1, 0xff},
			UserProperties: []mqtt.UserProperty{{Key: "a", Value: "1"}, {Key: "b", Value: "2"}, {Key: "a", Value: "3"}}, MessageExpiry: 1<<32 - 1}
		rows := []mqtt.HistoryRow{
			{BrokerID: broker.(int64), Topic: "p/5", Payload: []byte("{}"), Direction: "receive", Properties: props},
			{BrokerID: broker.(int64), Topic: "p/3", Payload: []byte("x"), Direction: "receive"},
		}
		if err := r.MQTT.InsertHistory(ctx, rows); err != nil {
			t.Fatal(err)
		}
		res, err := r.Execute(ctx, models.Call{UID: models.AdminUID, Model: "mqtt.signal.history", Method: "search_read",
			Args:   []any{[]any{[]any{"broker_id", "=", broker}}, []any{"topic", "content_type", "response_topic", "correlation_data", "user_properties", "message_expiry"}},
			Kwargs: map[string]any{"order": "topic desc"}})
		if err != nil {
			t.Fatal(err)
		}
		got := res.([]*models.Dict)
		want := map[string]any{"content_type": "application/json", "response_topic": "r/1", "correlation_data": base64.StdEncoding.EncodeToString(props.CorrelationData),
			"user_properties": `[["a","1"],["b","2"],["a","3"]]`, "message_expiry": int64(1<<31 - 1)}
		for k, v := range want {
			if g, _ := got[0].Get(k); g != v {
				t.Errorf("v5 row %s = %#v, want %#v", k, g, v)
			}
		}
		for _, k := range []string{"content_type", "response_topic", "correlation_data", "user_properties"} {
			if g, _ := got[1].Get(k); g != false {
				t.Errorf("3.1.1 row %s = %#v, want False", k, g)
			}
		}
		if g, _ := got[1].Get("message_expiry"); g != int64(0) {
			t.Errorf("3.1.1 row message_expiry = %#v", g)
		}
	})
}
