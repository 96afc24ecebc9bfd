package mqtt_test

import (
	"context"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// TestRedeliveryWindow, on each database: batches of received rows go
// through InsertHistory one after the other, and each row is stored or
// found a redelivery (Duplicate) as the window says.
func TestRedeliveryWindow(t *testing.T) {
	type msg struct {
		packet  uint16
		dup     bool
		topic   string
		payload string
		want    bool // stored (not a duplicate)
	}
	cases := []struct {
		name    string
		batches [][]msg
		age     time.Duration // before the last batch, the recorded rows are made this old
	}{
		{"a DUP redelivery of a stored message is dropped", [][]msg{
			{{1, false, "m/a", "1", true}, {2, false, "m/a", "2", true}},
			{{1, true, "m/a", "1", false}, {2, true, "m/a", "2", false}, {3, false, "m/a", "3", true}},
		}, 0},
		{"a DUP message never stored is stored", [][]msg{
			{{1, false, "m/a", "1", true}},
			{{2, true, "m/a", "2", true}, {3, true, "m/a", "3", true}},
		}, 0},
		{"a DUP message with another content under a stored packet id is stored", [][]msg{
			{{1, false, "m/a", "1", true}},
			{{1, true, "m/a", "other", true}, {1, true, "m/b", "1", true}},
		}, 0},
		{"the same content twice without DUP is stored twice", [][]msg{
			{{1, false, "m/a", "same", true}, {2, false, "m/a", "same", true}},
			{{1, false, "m/a", "same", true}},
		}, 0},
		{"a DUP copy in the batch of its original is dropped", [][]msg{
			{{5, false, "m/a", "x", true}, {5, true, "m/a", "x", false}, {6, true, "m/a", "y", true}, {6, true, "m/a", "y", false}},
		}, 0},
		{"a redelivery after the window is stored", [][]msg{
			{{1, false, "m/a", "1", true}},
			{{1, true, "m/a", "1", true}},
		}, mqtt.RedeliveryWindow + time.Minute},
		{"a packet id reused for a new message is keyed on it", [][]msg{
			{{1, false, "m/a", "old", true}},
			{{1, false, "m/a", "new", true}},
			{{1, true, "m/a", "old", true}, {1, true, "m/a", "old", false}},
		}, 0},
		{"untracked rows (packet id 0) are always stored", [][]msg{
			{{0, false, "m/a", "z", true}},
			{{0, true, "m/a", "z", true}},
		}, 0},
	}
	forEachDB(t, func(t *testing.T, r *modelstest.App) {
		ctx := context.Background()
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				broker, err := r.Execute(ctx, models.Call{UID: models.AdminUID, Model: "mqtt.broker", Method: "create", Args: []any{map[string]any{"name": c.name}}})
				if err != nil {
					t.Fatal(err)
				}
				id := broker.(int64)
				want := 0
				for bi, b := range c.batches {
					if bi == len(c.batches)-1 && c.age > 0 {
						old := time.Now().Add(-c.age).UnixMilli()
						if err := r.DB().Exec(`UPDATE "mqtt_ingest_redelivery" SET "stored_at" = ? WHERE "broker_id" = ?`, old, id).Error; err != nil {
							t.Fatal(err)
						}
					}
					rows := make([]mqtt.HistoryRow, len(b))
					for i, m := range b {
						rows[i] = mqtt.HistoryRow{BrokerID: id, Topic: m.topic, Payload: []byte(m.payload), QoS: 1, Direction: "receive", PacketID: m.packet, Dup: m.dup}
					}
					if err := r.MQTT.InsertHistory(ctx, rows); err != nil {
						t.Fatal(err)
					}
					for i, m := range b {
						if rows[i].Duplicate == m.want {
							t.Errorf("batch %d row %d (%+v): duplicate %v", bi, i, m, rows[i].Duplicate)
						}
						if m.want {
							want++
						}
					}
				}
				var n int64
				if err := r.DB().Raw(`SELECT COUNT(*) FROM "mqtt_signal_history" WHERE "broker_id" = ?`, id).Scan(&n).Error; err != nil {
					t.Fatal(err)
				}
				if n != int64(want) {
					t.Errorf("%d rows stored, want %d", n, want)
				}
			})
		}
	})
}

// TestRedeliveryWindowPerSession, on each database: packet ids are per
// session, so with a shared group two instances' sessions on one broker
// (two client ids) use the same ids for different messages. A DUP
// message is a redelivery only of what its own session stored.
func TestRedeliveryWindowPerSession(t *testing.T) {
	type msg struct {
		session string
		packet  uint16
		dup     bool
		payload string
		want    bool // stored
	}
	batches := [][]msg{
		{{"c-1", 1, false, "a", true}, {"c-2", 1, false, "b", true}, {"c-3", 1, false, "a", true}},
		// c-2's redelivery is dropped; c-1's DUP with c-2's content is
		// not a redelivery of c-1's message; the same content on the
		// same packet id of c-3 is c-3's own redelivery.
		{{"c-2", 1, true, "b", false}, {"c-1", 1, true, "b", true}, {"c-3", 1, true, "a", false}},
	}
	forEachDB(t, func(t *testing.T, r *modelstest.App) {
		ctx := context.Background()
		broker, err := r.Execute(ctx, models.Call{UID: models.AdminUID, Model: "mqtt.broker", Method: "create", Args: []any{map[string]any{"name": "shared", "shared_group": "g"}}})
		if err != nil {
			t.Fatal(err)
		}
		id := broker.(int64)
		for bi, b := range batches {
			rows := make([]mqtt.HistoryRow, len(b))
			for i, m := range b {
				rows[i] = mqtt.HistoryRow{BrokerID: id, Topic: "m/a", Payload: []byte(m.payload), QoS: 1, Direction: "receive",
					PacketID: m.packet, Dup: m.dup, Session: m.session}
			}
			if err := r.MQTT.InsertHistory(ctx, rows); err != nil {
				t.Fatal(err)
			}
			for i, m := range b {
				if rows[i].Duplicate == m.want {
					t.Errorf("batch %d row %d (%+v): duplicate %v", bi, i, m, rows[i].Duplicate)
				}
			}
		}
	})
}
