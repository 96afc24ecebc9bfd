package mqtt_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// summaryRow is one mqtt_topic_summary row as the tests read it.
type summaryRow struct {
	Count   int64
	Payload string
	Retain  bool
	QoS     int64
}

func readSummary(t *testing.T, r *modelstest.App, broker int64) map[string]summaryRow {
	t.Helper()
	rows, err := r.DB().Raw(`SELECT "topic", "message_count", "last_payload", "retain", "qos" FROM "mqtt_topic_summary" WHERE "broker_id" = ?`, broker).Rows()
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]summaryRow{}
	for rows.Next() {
		var topic string
		var s summaryRow
		if err := rows.Scan(&topic, &s.Count, &s.Payload, &s.Retain, &s.QoS); err != nil {
			t.Fatal(err)
		}
		out[topic] = s
	}
	return out
}

func newBroker(t *testing.T, r *modelstest.App, name string) int64 {
	t.Helper()
	res, err := r.Execute(context.Background(), models.Call{UID: models.AdminUID, Model: "mqtt.broker", Method: "create", Args: []any{map[string]any{"name": name}}})
	if err != nil {
		t.Fatal(err)
	}
	return res.(int64)
}

// TestTopicSummaryIngest, on each database: InsertHistory keeps the
// summary per topic (count, last payload, retain, QoS), received rows
// only, redeliveries not counted, payload cut; deleting the broker
// deletes its rows, the purge's sweep those of a broker gone.
func TestTopicSummaryIngest(t *testing.T) {
	forEachDB(t, func(t *testing.T, r *modelstest.App) {
		ctx := context.Background()
		id := newBroker(t, r, "summary")
		long := strings.Repeat("é", mqtt.SummaryPayloadMax) // 2 bytes each
		batches := [][]mqtt.HistoryRow{
			{
				{BrokerID: id, Topic: "a/b", Payload: []byte("1"), Direction: "receive"},
				{BrokerID: id, Topic: "a/b", Payload: []byte("2"), Direction: "receive", QoS: 1, Retain: true},
				{BrokerID: id, Topic: "a/c", Payload: []byte(long), Direction: "receive"},
				{BrokerID: id, Topic: "out/x", Payload: []byte("sent"), Direction: "send"},
				{BrokerID: id, Topic: "q/1", Payload: []byte("p"), Direction: "receive", QoS: 1, PacketID: 7, Session: "s"},
			},
			{
				{BrokerID: id, Topic: "a/b", Payload: []byte("3"), Direction: "receive", QoS: 2},
				{BrokerID: id, Topic: "q/1", Payload: []byte("p"), Direction: "receive", QoS: 1, PacketID: 7, Dup: true, Session: "s"},
			},
		}
		for _, b := range batches {
			if err := r.MQTT.InsertHistory(ctx, b); err != nil {
				t.Fatal(err)
			}
		}
		got := readSummary(t, r, id)
		want := map[string]summaryRow{
			"a/b": {3, "3", false, 2},
			"a/c": {1, mqtt.Truncate(long, mqtt.SummaryPayloadMax), false, 0},
			"q/1": {1, "p", false, 1},
		}
		if len(got) != len(want) {
			t.Errorf("summary %v, want %v", got, want)
		}
		for k, w := range want {
			if got[k] != w {
				t.Errorf("%s: %+v, want %+v", k, got[k], w)
			}
		}
		// A retained last message sets the flag.
		if err := r.MQTT.InsertHistory(ctx, []mqtt.HistoryRow{{BrokerID: id, Topic: "a/b", Payload: []byte("r"), Direction: "receive", Retain: true}}); err != nil {
			t.Fatal(err)
		}
		if s := readSummary(t, r, id)["a/b"]; !s.Retain || s.Count != 4 || s.Payload != "r" {
			t.Errorf("after a retained message: %+v", s)
		}
		// The purge keeps the counts (documented), sweeps a deleted broker's rows.
		if _, err := r.MQTT.PurgeHistory(ctx); err != nil {
			t.Fatal(err)
		}
		if n := len(readSummary(t, r, id)); n != 3 {
			t.Errorf("%d rows after the purge, want 3", n)
		}
		if err := r.DB().Exec(`INSERT INTO "mqtt_topic_summary" ("broker_id", "topic", "message_count") VALUES (?, 'ghost', 1)`, id+1000).Error; err != nil {
			t.Fatal(err)
		}
		if _, err := r.MQTT.PurgeHistory(ctx); err != nil {
			t.Fatal(err)
		}
		if n := len(readSummary(t, r, id+1000)); n != 0 {
			t.Errorf("%d rows of a deleted broker left after the purge", n)
		}
		if _, err := r.Execute(ctx, models.Call{UID: models.AdminUID, Model: "mqtt.broker", Method: "unlink", Args: []any{[]any{id}}}); err != nil {
			t.Fatal(err)
		}
		if n := len(readSummary(t, r, id)); n != 0 {
			t.Errorf("%d rows left after the broker's deletion", n)
		}
	})
}

// TestTopicSummaryRebuild, on each database: the back-fill from the
// history (RebuildTopicSummary, the migration's statement) gives the
// counts and last values of the rows kept.
func TestTopicSummaryRebuild(t *testing.T) {
	forEachDB(t, func(t *testing.T, r *modelstest.App) {
		ctx := context.Background()
		id := newBroker(t, r, "rebuild")
		t0 := time.Now().UTC().Add(-time.Hour)
		rows := []mqtt.HistoryRow{
			{BrokerID: id, Topic: "x/y", Payload: []byte("old"), Direction: "receive", Timestamp: t0},
			{BrokerID: id, Topic: "x/y", Payload: []byte("new"), Direction: "receive", Retain: true, QoS: 1, Timestamp: t0.Add(time.Minute)},
			{BrokerID: id, Topic: "x/z", Payload: []byte("z"), Direction: "receive", Timestamp: t0},
		}
		if err := r.MQTT.InsertHistory(ctx, rows); err != nil {
			t.Fatal(err)
		}
		if err := r.DB().Exec(`DELETE FROM "mqtt_topic_summary"`).Error; err != nil {
			t.Fatal(err)
		}
		if err := r.MQTT.RebuildTopicSummary(ctx); err != nil {
			t.Fatal(err)
		}
		got := readSummary(t, r, id)
		if got["x/y"] != (summaryRow{2, "new", true, 1}) || got["x/z"] != (summaryRow{1, "z", false, 0}) || len(got) != 2 {
			t.Errorf("rebuilt summary %v", got)
		}
	})
}

// treeCall runs get_topic_tree as uid.
func treeCall(r *modelstest.App, uid int64, ids []int64, kwargs map[string]any) (map[string]any, error) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	res, err := r.Execute(context.Background(), models.Call{UID: uid, Model: "mqtt.broker", Method: "get_topic_tree", Args: []any{args}, Kwargs: kwargs})
	if err != nil {
		return nil, err
	}
	return res.(map[string]any), nil
}

// names renders a level as "name:count[+]" (+: has children), and a
// topic's last payload as "=payload".
func names(nodes []any) string {
	var parts []string
	for _, x := range nodes {
		n := x.(map[string]any)
		s := n["name"].(string) + ":" + strconv.FormatInt(n["count"].(int64), 10)
		if n["has_children"].(bool) {
			s += "+"
		}
		if n["is_topic"].(bool) {
			s += "=" + n["last_payload"].(string)
		}
		if kids, ok := n["children"].([]any); ok {
			s += "(" + names(kids) + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

// TestTopicTree, on each database: levels, depth, search, limit and
// access of mqtt.broker.get_topic_tree.
func TestTopicTree(t *testing.T) {
	forEachDB(t, func(t *testing.T, r *modelstest.App) {
		ctx := context.Background()
		id := newBroker(t, r, "tree")
		other := newBroker(t, r, "other")
		var rows []mqtt.HistoryRow
		add := func(b int64, topic, payload string, n int) {
			for i := 0; i < n; i++ {
				rows = append(rows, mqtt.HistoryRow{BrokerID: b, Topic: topic, Payload: []byte(payload), Direction: "receive"})
			}
		}
		add(id, "plant/line1/temp", "21.5", 3)
		add(id, "plant/line1/hum", "40", 2)
		add(id, "plant/line2/temp", "19", 1)
		add(id, "plant", "root", 1)
		add(id, "/leading", "L", 1)
		add(id, "Zeta", "z", 1)
		add(other, "plant/elsewhere", "o", 5)
		if err := r.MQTT.InsertHistory(ctx, rows); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name   string
			kwargs map[string]any
			want   string
		}{
			{"root", nil, ":1+ Zeta:1=z plant:7+=root"},
			{"a level", map[string]any{"prefix": "plant"}, "line1:5+ line2:1+"},
			{"two levels", map[string]any{"prefix": "plant", "depth": int64(2)}, "line1:5+(hum:2=40 temp:3=21.5) line2:1+(temp:1=19)"},
			{"the empty first level", map[string]any{"prefix": ""}, "leading:1=L"},
			{"a leaf has no children", map[string]any{"prefix": "plant/line1/temp"}, ""},
			{"search", map[string]any{"search": "TEMP", "depth": int64(5)}, "plant:4+(line1:3+(temp:3=21.5) line2:1+(temp:1=19))"},
			{"search under a prefix", map[string]any{"search": "hum", "prefix": "plant/line1"}, "hum:2=40"},
			{"limit", map[string]any{"limit": int64(1)}, ":1+"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				res, err := treeCall(r, models.AdminUID, []int64{id}, c.kwargs)
				if err != nil {
					t.Fatal(err)
				}
				if got := names(res["nodes"].([]any)); got != c.want {
					t.Errorf("got  %q\nwant %q", got, c.want)
				}
			})
		}
		// Neighbours of a prefix in byte order (and in a locale's) are not
		// under it: "a/b-", "a/bx" and "a/b0" around "a/b/".
		edge := newBroker(t, r, "edge")
		var erows []mqtt.HistoryRow
		for _, topic := range []string{"a/b-c/x", "a/b/in", "a/bx", "a/b0", "a/b/é/deep", "a/b", `a/b/q"u\o,{x} y`} {
			erows = append(erows, mqtt.HistoryRow{BrokerID: edge, Topic: topic, Payload: []byte("v"), Direction: "receive"})
		}
		if err := r.MQTT.InsertHistory(ctx, erows); err != nil {
			t.Fatal(err)
		}
		res, err := treeCall(r, models.AdminUID, []int64{edge}, map[string]any{"prefix": "a/b"})
		if got := names(res["nodes"].([]any)); err != nil || got != `in:1=v q"u\o,{x} y:1=v é:1+` {
			t.Errorf("children of a/b: %q, %v", got, err)
		}
		res, _ = treeCall(r, models.AdminUID, []int64{id}, map[string]any{"limit": int64(1)})
		if res["more"] != int64(2) {
			t.Errorf("more = %v, want 2", res["more"])
		}
		// A leaf's last time and topic count.
		res, _ = treeCall(r, models.AdminUID, []int64{id}, map[string]any{"prefix": "plant/line2"})
		n := res["nodes"].([]any)[0].(map[string]any)
		if _, err := time.Parse(models.DatetimeFormat, n["last_time"].(string)); err != nil || n["topics"] != int64(1) || n["retain"] != false {
			t.Errorf("leaf %v", n)
		}
		// Access: an MQTT / User reads it; a user without the group does not.
		user := newUserIn(t, r, "tree_user", "pw-tree-user-1", mqtt.GroupUser)
		if _, err := treeCall(r, user, []int64{id}, nil); err != nil {
			t.Errorf("MQTT / User: %v", err)
		}
		plain := newUserIn(t, r, "tree_plain", "pw-tree-plain-1", models.GroupUser)
		_, err = treeCall(r, plain, []int64{id}, nil)
		if models.KindOf(err) != models.KindAccess {
			t.Errorf("internal user without MQTT: %v, want an AccessError", err)
		}
		if _, err := treeCall(r, models.AdminUID, []int64{id + 999}, nil); err == nil {
			t.Errorf("a missing broker: no error")
		}
	})
}

// TestTopicSummaryBackfillOnce, on each database: the migration fills
// the summary from the history once (a database from before it: no
// marker row), and a later start leaves it alone.
func TestTopicSummaryBackfillOnce(t *testing.T) {
	forEachDB(t, func(t *testing.T, r *modelstest.App) {
		ctx := context.Background()
		id := newBroker(t, r, "backfill")
		if err := r.MQTT.InsertHistory(ctx, []mqtt.HistoryRow{
			{BrokerID: id, Topic: "old/a", Payload: []byte("1"), Direction: "receive"},
			{BrokerID: id, Topic: "old/a", Payload: []byte("2"), Direction: "receive"},
		}); err != nil {
			t.Fatal(err)
		}
		// As before the summary existed: no rows, no marker.
		db := r.DB()
		if err := db.Exec(`DELETE FROM "mqtt_topic_summary"`).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Exec(`DELETE FROM "mqtt_topic_summary_backfill"`).Error; err != nil {
			t.Fatal(err)
		}
		if err := r.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if got := readSummary(t, r, id); got["old/a"] != (summaryRow{2, "2", false, 0}) || len(got) != 1 {
			t.Fatalf("after the first migration: %v", got)
		}
		// Later starts: the marker is there, the summary stays as it is.
		if err := db.Exec(`DELETE FROM "mqtt_topic_summary"`).Error; err != nil {
			t.Fatal(err)
		}
		if err := r.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if got := readSummary(t, r, id); len(got) != 0 {
			t.Errorf("a second migration filled it again: %v", got)
		}
	})
}
