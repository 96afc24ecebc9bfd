package mqtt_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// TestHistoryPurge: purge(domain) deletes the matching history rows,
// more than one chunk of them, returns the count, leaves the others;
// MQTT users may not purge; a domain that is not a list is a ValueError.
func TestHistoryPurge(t *testing.T) {
	defer mqtt.SetPurgeChunk(50)()
	forEachDB(t, func(t *testing.T, r *modelstest.App) {
		a := exec(t, r, models.AdminUID, "mqtt.broker", "create", map[string]any{"name": "Purge A"}).(int64)
		b := exec(t, r, models.AdminUID, "mqtt.broker", "create", map[string]any{"name": "Purge B"}).(int64)
		const n = 3*50 + 17 // more than one chunk
		for start := 0; start < n; start += 100 {
			var vals []any
			for i := start; i < min(n, start+100); i++ {
				vals = append(vals, map[string]any{"broker_id": a, "topic": fmt.Sprintf("p/%d", i%7), "payload": "1", "direction": "receive"})
			}
			exec(t, r, models.AdminUID, "mqtt.signal.history", "create", vals)
		}
		exec(t, r, models.AdminUID, "mqtt.signal.history", "create", map[string]any{"broker_id": b, "topic": "p/0", "payload": "1", "direction": "receive"})
		user := newUserIn(t, r, "purge-user", "pw-purge-user", mqtt.GroupUser)
		manager := newUserIn(t, r, "purge-manager", "pw-purge-manager", mqtt.GroupManager)
		count := func(domain []any) int64 {
			return exec(t, r, models.AdminUID, "mqtt.signal.history", "search_count", domain).(int64)
		}
		ctx := context.Background()
		if _, err := r.Execute(ctx, models.Call{UID: user, Model: "mqtt.signal.history", Method: "purge", Args: []any{[]any{}}}); models.KindOf(err) != models.KindAccess {
			t.Errorf("purge as an MQTT user: %v, want an AccessError", err)
		}
		if _, err := r.Execute(ctx, models.Call{UID: manager, Model: "mqtt.signal.history", Method: "purge", Args: []any{"all"}}); models.KindOf(err) != models.KindValue {
			t.Errorf("purge('all'): %v, want a ValueError", err)
		}
		// A search's purge: one topic of broker A.
		topic := []any{[]any{"broker_id", "=", a}, []any{"topic", "=", "p/3"}}
		want := count(topic)
		got, err := r.Execute(ctx, models.Call{UID: manager, Model: "mqtt.signal.history", Method: "purge", Kwargs: map[string]any{"domain": topic}})
		if err != nil || got != want || count(topic) != 0 {
			t.Fatalf("purge of a topic = %v, %v (want %d), %d left", got, err, want, count(topic))
		}
		// A broker's purge: everything of A, B untouched.
		ofA := []any{[]any{"broker_id", "=", a}}
		want = count(ofA)
		got, err = r.Execute(ctx, models.Call{UID: manager, Model: "mqtt.signal.history", Method: "purge", Args: []any{ofA}})
		if err != nil || got != want || want <= 50 || count(ofA) != 0 {
			t.Fatalf("purge of broker A = %v, %v (want %d), %d left", got, err, want, count(ofA))
		}
		if left := count([]any{[]any{"broker_id", "=", b}}); left != 1 {
			t.Errorf("broker B has %d rows, want 1", left)
		}
	})
}
