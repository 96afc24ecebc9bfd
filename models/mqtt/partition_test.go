package mqtt_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

const historyModel = "mqtt.signal.history"

// forPostgres runs fn on a fresh PostgreSQL registry (CI: required), and
// checks that SQLite keeps a plain table the partition calls leave alone.
func forPostgres(t *testing.T, fn func(t *testing.T, r *modelstest.App), opts ...modelstest.Options) {
	for _, kind := range modelstest.Kinds(t) {
		t.Run(kind, func(t *testing.T) {
			r := modelstest.NewFor(t, kind, opts...)
			if kind == "sqlite" {
				ctx := context.Background()
				n, err := r.EnsurePartitions(ctx, historyModel, time.Now())
				d, err2 := r.DropPartitions(ctx, historyModel, time.Now().AddDate(1, 0, 0), "")
				if n != 0 || err != nil || len(d) != 0 || err2 != nil {
					t.Errorf("SQLite: EnsurePartitions %d, %v; DropPartitions %v, %v", n, err, d, err2)
				}
				return
			}
			fn(t, r)
		})
	}
}

// partitionsOf lists the partitions of the history by pg_inherits, with
// their bounds as PostgreSQL prints them.
func partitionsOf(t *testing.T, r *modelstest.App) map[string]string {
	t.Helper()
	var rows []struct{ Name, Bound string }
	if err := r.DB().Raw(`SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_inherits i
		JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'mqtt_signal_history'::regclass`).Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, x := range rows {
		out[x.Name] = x.Bound
	}
	return out
}

// partitionOf is the partition that holds history row id ("" if none).
func partitionOf(t *testing.T, r *modelstest.App, id int64) string {
	t.Helper()
	var names []string
	if err := r.DB().Raw(`SELECT tableoid::regclass::text FROM mqtt_signal_history WHERE id = ?`, id).Scan(&names).Error; err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		return ""
	}
	return names[0]
}

// insertAt stores one received row of broker at ts and returns its id.
func insertAt(t *testing.T, r *modelstest.App, broker int64, topic string, ts time.Time) int64 {
	t.Helper()
	if err := r.MQTT.InsertHistory(context.Background(), []mqtt.HistoryRow{{BrokerID: broker, Topic: topic, Payload: []byte("x"), Direction: "receive", Timestamp: ts}}); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	if err := r.DB().Raw(`SELECT max(id) FROM mqtt_signal_history WHERE topic = ?`, topic).Scan(&ids).Error; err != nil || len(ids) == 0 {
		t.Fatalf("id of %s: %v", topic, err)
	}
	return ids[0]
}

func day(t time.Time) string { return t.UTC().Format("20060102") }

// TestPartitionFresh: a new PostgreSQL database has the history
// partitioned by day, with today and the next 3 days and a default; rows
// of today, the past and the far future are stored, read, found and
// deleted by id through the ORM; a partition made later for rows already
// in the default takes them out of it.
func TestPartitionFresh(t *testing.T) {
	forPostgres(t, func(t *testing.T, r *modelstest.App) {
		ctx := context.Background()
		var kind string
		if err := r.DB().Raw(`SELECT relkind::text FROM pg_class WHERE relname = 'mqtt_signal_history'`).Scan(&kind).Error; err != nil || kind != "p" {
			t.Fatalf("relkind %q, %v", kind, err)
		}
		now := time.Now().UTC()
		parts := partitionsOf(t, r)
		want := []string{"mqtt_signal_history_default"}
		for i := 0; i <= 3; i++ {
			want = append(want, "mqtt_signal_history_p"+day(now.AddDate(0, 0, i)))
		}
		for _, w := range want {
			if _, ok := parts[w]; !ok {
				t.Errorf("partition %s missing: %v", w, parts)
			}
		}
		if len(parts) != len(want) {
			t.Errorf("partitions %v, want %v", parts, want)
		}
		broker := exec(t, r, models.AdminUID, "mqtt.broker", "create", map[string]any{"name": "P"}).(int64)
		past := now.AddDate(0, 0, -30)
		ids := map[string]int64{
			"today":  insertAt(t, r, broker, "t/today", now),
			"past":   insertAt(t, r, broker, "t/past", past),
			"future": insertAt(t, r, broker, "t/future", time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)),
		}
		for name, wantPart := range map[string]string{"today": "mqtt_signal_history_p" + day(now), "past": "mqtt_signal_history_default", "future": "mqtt_signal_history_default"} {
			if got := partitionOf(t, r, ids[name]); got != wantPart {
				t.Errorf("%s row in %q, want %q", name, got, wantPart)
			}
		}
		// A row created through the ORM (create, not the bulk insert).
		orm := exec(t, r, models.AdminUID, historyModel, "create", map[string]any{"payload": "o", "direction": "send", "topic": "t/orm", "broker_id": broker}).(int64)
		all := []any{ids["today"], ids["past"], ids["future"], orm}
		read := exec(t, r, models.AdminUID, historyModel, "read", all, []any{"topic"}).([]*models.Dict)
		if len(read) != 4 {
			t.Fatalf("read by id: %v", read)
		}
		found := exec(t, r, models.AdminUID, historyModel, "search", []any{[]any{"id", "in", all}}).([]int64)
		if fmt.Sprint(found) != fmt.Sprint([]int64{ids["future"], orm, ids["today"], ids["past"]}) && len(found) != 4 {
			t.Errorf("search by id: %v", found)
		}
		// The past day's partition made now takes its row from the default.
		if n, err := r.EnsurePartitions(ctx, historyModel, past); err != nil || n != 4 {
			t.Fatalf("EnsurePartitions(past): %d, %v", n, err)
		}
		if got := partitionOf(t, r, ids["past"]); got != "mqtt_signal_history_p"+day(past) {
			t.Errorf("past row in %q after its partition was made", got)
		}
		if n, err := r.EnsurePartitions(ctx, historyModel, past); err != nil || n != 0 {
			t.Errorf("EnsurePartitions again: %d, %v", n, err)
		}
		exec(t, r, models.AdminUID, historyModel, "unlink", []any{ids["past"], orm})
		left := exec(t, r, models.AdminUID, historyModel, "search_count", []any{}).(int64)
		if left != 2 || partitionOf(t, r, ids["past"]) != "" {
			t.Errorf("after unlink: %d rows", left)
		}
		// The partition key cannot be cleared (a ValidationError, not
		// PostgreSQL's not-null violation).
		if _, err := r.Execute(ctx, models.Call{UID: models.AdminUID, Model: historyModel, Method: "write",
			Args: []any{[]any{ids["today"]}, map[string]any{"timestamp": false}}}); models.KindOf(err) != models.KindValidation {
			t.Errorf("write timestamp False: %v", err)
		}
		// The sequence numbers on: a new row's id is above every other.
		next := insertAt(t, r, broker, "t/next", now)
		if next <= ids["future"] || next <= orm {
			t.Errorf("next id %d", next)
		}
	})
}

// TestPartitionMonthly: the month grain makes one partition a month, and
// the same database opened later with the day grain gets days only where
// no month partition is (no overlap, nothing fails).
func TestPartitionMonthly(t *testing.T) {
	for _, kind := range modelstest.Kinds(t) {
		if kind != "postgres" {
			continue
		}
		t.Run(kind, func(t *testing.T) {
			dsn := modelstest.DSN(t, kind)
			r := modelstest.Open(t, dsn, modelstest.Options{HistoryPartition: models.GrainMonth})
			now := time.Now().UTC()
			first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
			parts := partitionsOf(t, r)
			if len(parts) != 5 {
				t.Errorf("partitions %v, want a default and 4 months", parts)
			}
			for i := 0; i <= 3; i++ {
				from := first.AddDate(0, i, 0)
				name := "mqtt_signal_history_p" + from.Format("200601")
				want := fmt.Sprintf("FOR VALUES FROM ('%s') TO ('%s')", from.Format(time.DateTime), from.AddDate(0, 1, 0).Format(time.DateTime))
				if parts[name] != want {
					t.Errorf("%s: %q, want %q", name, parts[name], want)
				}
			}
			daily := modelstest.Open(t, dsn, modelstest.Options{HistoryPartition: models.GrainDay})
			if again := partitionsOf(t, daily); len(again) != 5 {
				t.Errorf("the day grain's start changed the month partitions: %v", again)
			}
			// The last day of the last month partition: the 4 days from
			// there reach 3 days into the next month, which get one
			// partition each.
			end := first.AddDate(0, 4, 0)
			later := end.AddDate(0, 0, -1)
			n, err := daily.EnsurePartitions(context.Background(), historyModel, later)
			if err != nil || n != 3 {
				t.Errorf("day partitions after the months: %d, %v (%v)", n, err, partitionsOf(t, daily))
			}
			for i := 0; i < 3; i++ {
				if _, ok := partitionsOf(t, daily)["mqtt_signal_history_p"+day(end.AddDate(0, 0, i))]; !ok {
					t.Errorf("no day partition at %s", day(end.AddDate(0, 0, i)))
				}
			}
		})
	}
}

// TestPartitionMigrateExisting: a plain history table of a database from
// before partitioning, with rows, is converted in place at start: rows
// and ids kept, the sequence continues, the old table is a partition, the
// missing columns and the foreign key reach new partitions, and a second
// start changes nothing.
func TestPartitionMigrateExisting(t *testing.T) {
	forPostgres(t, func(t *testing.T, r *modelstest.App) {
		ctx := context.Background()
		db := r.DB()
		broker := exec(t, r, models.AdminUID, "mqtt.broker", "create", map[string]any{"name": "M"}).(int64)
		sub := exec(t, r, models.AdminUID, "mqtt.subscription", "create", map[string]any{"broker_id": broker, "topic": "s/1"}).(int64)
		sig := exec(t, r, models.AdminUID, "mqtt.signal", "create", map[string]any{"broker_id": broker, "subscription_id": sub, "payload": "on"}).(int64)
		now := time.Now().UTC().Truncate(time.Second)
		old := []string{
			`DROP TABLE mqtt_signal_history`,
			// The shape syncTables gave it (fewer columns: the newer ones
			// are added on the partitioned parent).
			`CREATE TABLE mqtt_signal_history ("id" BIGSERIAL PRIMARY KEY, "signal_id" BIGINT REFERENCES "mqtt_signal" ("id") ON DELETE SET NULL,
				"broker_id" BIGINT, "payload" TEXT, "topic" VARCHAR, "direction" VARCHAR, "timestamp" TIMESTAMP, "create_date" TIMESTAMP)`,
			`CREATE INDEX mqtt_signal_history_topic_index ON mqtt_signal_history (topic)`,
			`CREATE INDEX mqtt_signal_history_timestamp_index ON mqtt_signal_history ("timestamp")`,
			`SELECT setval('mqtt_signal_history_id_seq', 1000)`,
		}
		for _, s := range old {
			if err := db.Exec(s).Error; err != nil {
				t.Fatalf("%s: %v", s, err)
			}
		}
		for i := 0; i < 50; i++ {
			ts := any(now.AddDate(0, 0, -i))
			if i == 7 {
				ts = nil // filled from create_date
			}
			if err := db.Exec(`INSERT INTO mqtt_signal_history (signal_id, payload, topic, direction, "timestamp", create_date) VALUES (?, 'p', ?, 'receive', ?, ?)`,
				sig, fmt.Sprintf("old/%d", i), ts, now.AddDate(0, 0, -7)).Error; err != nil {
				t.Fatal(err)
			}
		}
		// A row stamped years ahead goes to the default partition rather
		// than stretch the legacy one over the days to come.
		if err := db.Exec(`INSERT INTO mqtt_signal_history (payload, topic, direction, "timestamp") VALUES ('p', 'ahead', 'receive', '2100-01-01')`).Error; err != nil {
			t.Fatal(err)
		}
		if err := r.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		parts := partitionsOf(t, r)
		legacy, ok := parts["mqtt_signal_history_legacy"]
		oldest := now.AddDate(0, 0, -49)
		wantBound := fmt.Sprintf("FOR VALUES FROM ('%s 00:00:00') TO ('%s 00:00:00')", oldest.Format(time.DateOnly), now.AddDate(0, 0, 1).Format(time.DateOnly))
		if !ok || legacy != wantBound {
			t.Fatalf("legacy partition %q, want %q (%v)", legacy, wantBound, parts)
		}
		// Today is the legacy's: the days ahead get theirs.
		if _, ok := parts["mqtt_signal_history_p"+day(now.AddDate(0, 0, 1))]; !ok || len(parts) != 5 {
			t.Errorf("partitions %v", parts)
		}
		var ids []int64
		if err := db.Raw(`SELECT id FROM mqtt_signal_history ORDER BY id`).Scan(&ids).Error; err != nil || len(ids) != 51 || ids[0] != 1001 || ids[50] != 1051 {
			t.Fatalf("ids after conversion: %v, %v", ids, err)
		}
		if p := partitionOf(t, r, 1051); p != "mqtt_signal_history_default" {
			t.Errorf("the row of 2100 is in %q", p)
		}
		var nulls int64
		db.Raw(`SELECT count(*) FROM mqtt_signal_history WHERE "timestamp" IS NULL OR payload_raw IS NOT NULL`).Scan(&nulls)
		if nulls != 0 {
			t.Errorf("%d rows without a timestamp (or with a raw payload)", nulls)
		}
		// The ORM reads, writes and deletes the old rows by id; new rows
		// continue the sequence and go to today's... the legacy partition.
		read := exec(t, r, models.AdminUID, historyModel, "read", []any{int64(1001), int64(1008)}, []any{"topic", "timestamp", "signal_id"}).([]*models.Dict)
		if len(read) != 2 {
			t.Fatalf("read old rows: %v", read)
		}
		topic, _ := read[0].Get("topic")
		ts, _ := read[1].Get("timestamp")
		if topic != "old/0" || ts != now.AddDate(0, 0, -7).Format(models.DatetimeFormat) {
			t.Errorf("read old rows: topic %v, filled timestamp %v", topic, ts)
		}
		exec(t, r, models.AdminUID, historyModel, "unlink", []any{int64(1002)})
		next := insertAt(t, r, 0, "new/1", now.AddDate(0, 0, 2))
		if next != 1052 || partitionOf(t, r, next) != "mqtt_signal_history_p"+day(now.AddDate(0, 0, 2)) {
			t.Errorf("new row %d in %s", next, partitionOf(t, r, next))
		}
		if err := db.Exec(`UPDATE mqtt_signal_history SET signal_id = ? WHERE id = ?`, sig, next).Error; err != nil {
			t.Fatal(err)
		}
		// The foreign key's ON DELETE SET NULL holds on old and new rows.
		exec(t, r, models.AdminUID, "mqtt.signal", "unlink", []any{sig})
		var linked int64
		db.Raw(`SELECT count(*) FROM mqtt_signal_history WHERE signal_id IS NOT NULL`).Scan(&linked)
		if linked != 0 {
			t.Errorf("%d rows still linked to the deleted signal", linked)
		}
		// Indexes live on the parent, and the legacy's are its partitions'.
		var pidx []string
		db.Raw(`SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = 'mqtt_signal_history'::regclass ORDER BY 1`).Scan(&pidx)
		for _, w := range []string{"mqtt_signal_history_pkey", "mqtt_signal_history_topic_index", "mqtt_signal_history_timestamp_index"} {
			if !strings.Contains(strings.Join(pidx, " "), w) {
				t.Errorf("parent index %s missing: %v", w, pidx)
			}
		}
		var owner string
		db.Raw(`SELECT pg_get_serial_sequence('mqtt_signal_history', 'id')`).Scan(&owner)
		if owner != "public.mqtt_signal_history_id_seq" {
			t.Errorf("sequence owner: %q", owner)
		}
		// Second start: nothing to do.
		if err := r.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if again := partitionsOf(t, r); fmt.Sprint(again) != fmt.Sprint(parts) {
			t.Errorf("second start changed the partitions: %v -> %v", parts, again)
		}
	})
}

// TestPartitionRetention: retention drops a partition every broker's rule
// empties (gone from pg_inherits), keeps one holding a row of a broker
// without an age limit, deletes rows in a partition that straddles a
// cut-off, and never loses a row newer than its broker's cut-off.
func TestPartitionRetention(t *testing.T) {
	forPostgres(t, func(t *testing.T, r *modelstest.App) {
		ctx := context.Background()
		now := time.Now().UTC()
		create := func(name string, vals map[string]any) int64 {
			vals["name"] = name
			return exec(t, r, models.AdminUID, "mqtt.broker", "create", vals).(int64)
		}
		a := create("A", map[string]any{"history_max_age_days": int64(5)})
		b := create("B", map[string]any{"history_max_age_days": int64(10), "history_max_rows": int64(1000)})
		c := create("C", map[string]any{"history_max_rows": int64(1000)}) // by rows only
		for _, d := range []int{20, 15, 8} {
			if _, err := r.EnsurePartitions(ctx, historyModel, now.AddDate(0, 0, -d)); err != nil {
				t.Fatal(err)
			}
		}
		at := func(d int) time.Time { return now.AddDate(0, 0, -d) }
		gone := map[int64]bool{
			insertAt(t, r, a, "a20", at(20)): true,
			insertAt(t, r, b, "b20", at(20)): true,
			insertAt(t, r, a, "a15", at(15)): true, // its partition stays (c15), the row goes by DELETE
			insertAt(t, r, a, "a8", at(8)):   true,
			insertAt(t, r, a, "a6", at(6)):   true, // default partition
		}
		c15 := insertAt(t, r, c, "c15", at(15))
		kept := map[int64]bool{
			c15:                            true,
			insertAt(t, r, b, "b8", at(8)): true, // newer than B's 10 days, in a partition older than A's 5
			insertAt(t, r, a, "a4", at(4)): true,
			insertAt(t, r, a, "a0", now):   true,
			insertAt(t, r, b, "b0", now):   true,
		}
		if _, err := r.MQTT.PurgeHistory(ctx); err != nil {
			t.Fatal(err)
		}
		parts := partitionsOf(t, r)
		if _, ok := parts["mqtt_signal_history_p"+day(at(20))]; ok {
			t.Errorf("partition of 20 days ago not dropped: %v", parts)
		}
		for _, d := range []int{15, 8} {
			if _, ok := parts["mqtt_signal_history_p"+day(at(d))]; !ok {
				t.Errorf("partition of %d days ago dropped: %v", d, parts)
			}
		}
		for id := range gone {
			if p := partitionOf(t, r, id); p != "" {
				t.Errorf("row %d kept in %s", id, p)
			}
		}
		for id := range kept {
			if partitionOf(t, r, id) == "" {
				t.Errorf("row %d lost", id)
			}
		}
		// Once C's row is gone by its own rule, its partition goes too.
		exec(t, r, models.AdminUID, "mqtt.broker", "write", []any{c}, map[string]any{"history_max_rows": int64(0), "history_max_age_days": int64(12)})
		if _, err := r.MQTT.PurgeHistory(ctx); err != nil {
			t.Fatal(err)
		}
		if _, ok := partitionsOf(t, r)["mqtt_signal_history_p"+day(at(15))]; ok {
			t.Errorf("partition of 15 days ago kept once empty of kept rows")
		}
		for id := range kept {
			if partitionOf(t, r, id) == "" && id != c15 {
				t.Errorf("row %d lost", id)
			}
		}
	})
}

// TestPartitionConcurrentMaintainers: two registries on one database
// (two instances) create the same partitions, move default rows and
// migrate at the same time without an error, and end with one partition
// per day.
func TestPartitionConcurrentMaintainers(t *testing.T) {
	for _, kind := range modelstest.Kinds(t) {
		if kind != "postgres" {
			continue
		}
		t.Run(kind, func(t *testing.T) {
			dsn := modelstest.DSN(t, kind)
			one, two := modelstest.Open(t, dsn), modelstest.Open(t, dsn)
			ctx := context.Background()
			now := time.Now().UTC()
			broker := exec(t, one, models.AdminUID, "mqtt.broker", "create", map[string]any{"name": "C"}).(int64)
			for d := 10; d < 30; d++ { // rows in the default, of days to come
				insertAt(t, one, broker, fmt.Sprintf("f%d", d), now.AddDate(0, 0, d))
			}
			var wg sync.WaitGroup
			errs := make(chan error, 64)
			for _, app := range []*modelstest.App{one, two} {
				wg.Go(func() {
					for d := 0; d < 30; d++ {
						if _, err := app.EnsurePartitions(ctx, historyModel, now.AddDate(0, 0, d)); err != nil {
							errs <- err
						}
					}
				})
				wg.Go(func() {
					if err := app.Migrate(ctx); err != nil {
						errs <- err
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			parts := partitionsOf(t, one)
			if len(parts) != 34 { // default + days 0..33
				t.Errorf("%d partitions, want 34", len(parts))
			}
			var inDefault, total int64
			one.DB().Raw(`SELECT count(*) FROM mqtt_signal_history_default`).Scan(&inDefault)
			one.DB().Raw(`SELECT count(*) FROM mqtt_signal_history`).Scan(&total)
			if inDefault != 0 || total != 20 {
				t.Errorf("default holds %d rows, %d in all (want 0, 20)", inDefault, total)
			}
		})
	}
}
