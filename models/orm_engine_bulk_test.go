package models

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"
)

// TestEngineBulk: Registry.Bulk checks its columns when it is made, and
// Insert stores rows in their canonical Go form converted by field type
// (many2one 0 and zero times as NULL, datetimes in UTC to the second,
// binary bytes exact), fills create_date and write_date, and takes more
// rows than one SQLite statement holds.
func TestEngineBulk(t *testing.T) {
	forEachEngineDB(t, func(t *testing.T, r *engineReg) {
		ctx := context.Background()
		for _, c := range []struct {
			model  string
			fields []string
		}{
			{"no.such", []string{"name"}},
			{"test.event", []string{"name", "nope"}},
			{"test.event", []string{"upper"}},   // not stored
			{"test.event", []string{"tag_ids"}}, // many2many
			{"test.event", []string{"create_date"}},
			{"test.event", []string{"id", "name"}},
		} {
			if _, err := r.Bulk(c.model, c.fields...); err == nil {
				t.Errorf("Bulk(%s, %v) accepted", c.model, c.fields)
			}
		}
		b, err := r.Bulk("test.event", "name", "order_id", "stamp", "payload", "value", "count", "flag")
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Insert(ctx, nil); err != nil {
			t.Errorf("Insert of no row: %v", err)
		}
		if err := b.Insert(ctx, [][]any{{"short", int64(0)}}); err == nil {
			t.Errorf("Insert of a row of 2 values for 7 fields succeeded")
		}

		var order int64
		if err := r.Transaction(ctx, Superuser, nil, func(env *Env) error {
			var err error
			order, err = env.Create(r.Model("test.order"), map[string]any{"name": "bulk"})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		zone := time.FixedZone("UTC+2", 2*3600)
		const n = 2*sqliteRowsPerInsert + 15
		type want struct {
			order   any // int64 or nil
			stamp   any // time.Time or nil
			payload []byte
		}
		rows := make([][]any, n)
		wants := make([]want, n)
		for i := range rows {
			var w want
			var ord, stamp any
			switch i % 3 {
			case 0:
				ord, w.order = order, order
				stamp = time.Date(2024, 5, 6, 7, 8, 9, 987654321, zone)
				w.stamp = time.Date(2024, 5, 6, 5, 8, 9, 0, time.UTC)
			case 1:
				ord, stamp = int64(0), time.Time{}
			case 2:
				ord, stamp = int64(0), nil
			}
			w.payload = []byte{0, byte(i), 0xff, '\n', 0x80}
			wants[i] = w
			rows[i] = []any{fmt.Sprintf("e%03d", i), ord, stamp, w.payload, float64(i) / 4, int64(i), i%2 == 0}
		}
		if err := b.Insert(ctx, rows); err != nil {
			t.Fatal(err)
		}

		env := r.testEnv(t)
		me := r.Model("test.event")
		ids, err := env.Search(me, nil, 0, 0, "name")
		if err != nil || len(ids) != n {
			t.Fatalf("%d events stored, want %d (%v)", len(ids), n, err)
		}
		recs, err := env.Load(me, ids)
		if err != nil {
			t.Fatal(err)
		}
		for i, rec := range recs {
			w := wants[i]
			if rec.Str("name") != fmt.Sprintf("e%03d", i) || rec.Int("count") != int64(i) || rec.Float("value") != float64(i)/4 || rec.Bool("flag") != (i%2 == 0) {
				t.Errorf("row %d: %v", i, rec.vals)
			}
			if got := rec.Get("order_id"); got != w.order {
				t.Errorf("row %d: order_id = %#v, want %#v", i, got, w.order)
			}
			switch got := rec.Get("stamp"); {
			case w.stamp == nil && got != nil:
				t.Errorf("row %d: stamp = %#v, want NULL", i, got)
			case w.stamp != nil && (got == nil || !got.(time.Time).Equal(w.stamp.(time.Time))):
				t.Errorf("row %d: stamp = %#v, want %v", i, got, w.stamp)
			}
			if !bytes.Equal(rec.Bytes("payload"), w.payload) {
				t.Errorf("row %d: payload = %v, want %v", i, rec.Bytes("payload"), w.payload)
			}
			cd, wd := rec.Get("create_date"), rec.Get("write_date")
			if cd == nil || wd == nil || !cd.(time.Time).Equal(wd.(time.Time)) {
				t.Errorf("row %d: create_date %v, write_date %v: both set, equal", i, cd, wd)
			}
		}
		got := readOne(t, env, "test.event", ids[0], "stamp", "payload", "order_id", "upper")
		if got["stamp"] != "2024-05-06 05:08:09" || got["payload"] != "AAD/CoA=" || fmt.Sprint(got["order_id"]) != fmt.Sprint([]any{order, "bulk"}) || got["upper"] != "E000" {
			t.Errorf("read of a bulk row = %v", got)
		}
		if got := readOne(t, env, "test.event", ids[1], "order_id", "stamp"); got["order_id"] != false || got["stamp"] != false {
			t.Errorf("read of a row without order or stamp = %v", got)
		}
	})
}
