package models

import (
	"reflect"
	"testing"
	"time"
)

// TestEngineReadFormats: read()'s output per field type, on SQLite and
// PostgreSQL: many2one as [id, name] or a bare id depending on load,
// x2many as id lists, NULLs as False (0 for numbers), secret fields as
// False and never among the default fields, Odoo's datetime and date
// formats, binary as base64, id first, missing ids dropped.
func TestEngineReadFormats(t *testing.T) {
	forEachEngineDB(t, func(t *testing.T, r *engineReg) {
		env := r.testEnv(t)
		f := makeEngineFixture(t, env)
		mo := r.Model("test.order")
		if err := env.Write(mo, []int64{f.order}, map[string]any{"day": "2024-02-29", "data": "aGVsbG8=", "token": "t0p"}); err != nil {
			t.Fatal(err)
		}
		bare := env.mustCreate(t, "test.order", map[string]any{"name": "bare", "date_order": false})

		fields := []string{"name", "category_id", "state", "amount", "qty", "double", "date_order", "day", "note", "data",
			"token", "active", "label_ids", "line_ids", "watcher_ids", "display_name", "category_label", "total_qty"}
		recs, err := env.Read(mo, []int64{f.order, 424242, bare}, fields, "_classic_read")
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 2 {
			t.Fatalf("read must drop the missing id: %d records", len(recs))
		}
		for _, d := range recs {
			if keys := d.Keys(); keys[0] != "id" || len(keys) != len(fields)+1 {
				t.Errorf("keys = %v: id first, then the %d fields asked", keys, len(fields))
			}
		}
		got := map[string]any{}
		recs[0].Range(func(k string, v any) bool { got[k] = v; return true })
		want := map[string]any{
			"id": f.order, "name": "SO1", "category_id": []any{f.tools, "Tools"}, "state": "draft",
			"amount": 10.5, "qty": int64(3), "double": 21.0, "date_order": "2024-03-04 05:06:07", "day": "2024-02-29",
			"note": false, "data": "aGVsbG8=", "token": false, "active": true,
			"label_ids": []int64{f.red, f.blue}, "line_ids": []int64{f.line2, f.line1}, "watcher_ids": []int64{},
			"display_name": "SO1", "category_label": "[Tools] SO1", "total_qty": int64(6),
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("read =\n%#v\nwant\n%#v", got, want)
		}
		got = map[string]any{}
		recs[1].Range(func(k string, v any) bool { got[k] = v; return true })
		for k, w := range map[string]any{"category_id": false, "amount": 0.0, "qty": int64(0), "date_order": false,
			"day": false, "data": false, "token": false, "label_ids": []int64{}, "line_ids": []int64{}, "category_label": false} {
			if !reflect.DeepEqual(got[k], w) {
				t.Errorf("empty %s reads %#v, want %#v", k, got[k], w)
			}
		}

		// load: "_classic_write" (RPC load=False) gives bare many2one ids.
		recs, _ = env.Read(mo, []int64{f.order}, []string{"category_id", "user_id"}, "_classic_write")
		if v, _ := recs[0].Get("category_id"); v != f.tools {
			t.Errorf("bare many2one = %#v, want %d", v, f.tools)
		}
		res, err := env.call("test.order", "read", []any{[]any{f.order}, []any{"category_id"}}, map[string]any{"load": false})
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := res.([]*Dict)[0].Get("category_id"); v != f.tools {
			t.Errorf("read(load=False) many2one = %#v", v)
		}

		// Default fields: every readable field but secrets.
		recs, _ = env.Read(mo, []int64{f.order}, nil, classicRead)
		if _, ok := recs[0].Get("token"); ok {
			t.Errorf("a secret field is among the default read fields")
		}
		for _, name := range []string{"create_date", "write_uid", "display_name", "priority", "line_ids"} {
			if _, ok := recs[0].Get(name); !ok {
				t.Errorf("default read lacks %s", name)
			}
		}
		if v, _ := recs[0].Get("create_date"); !isDatetimeText(v) {
			t.Errorf("create_date = %#v, want YYYY-MM-DD HH:MM:SS", v)
		}
		if v, _ := recs[0].Get("create_uid"); !reflect.DeepEqual(v, []any{Superuser, "OdooBot"}) {
			t.Errorf("create_uid = %#v", v)
		}
		if _, err := env.Read(mo, []int64{f.order}, []string{"name", "nope"}, ""); err == nil {
			t.Errorf("reading an unknown field must fail")
		} else {
			wantErr(t, "unknown field", err, KindValue, "nope", "test.order")
		}
		// A search_read of one field, through a non-stored computed one.
		rows, err := env.SearchRead(mo, []any{L("id", "=", f.order)}, []string{"double", "name"}, 0, 0, "")
		if err != nil || len(rows) != 1 {
			t.Fatalf("search_read = %v, %v", rows, err)
		}
		if v, _ := rows[0].Get("double"); v != 21.0 {
			t.Errorf("non-stored computed in search_read = %#v", v)
		}
	})
}

func isDatetimeText(v any) bool {
	s, ok := v.(string)
	if !ok {
		return false
	}
	_, err := time.Parse(DatetimeFormat, s)
	return err == nil
}

// TestEngineComputed: stored computed and related fields are computed at
// create and recomputed across models when what they depend on changes:
// own fields, a many2one's name, a two-hop related path, and a chain
// (category -> order label -> line's related label).
func TestEngineComputed(t *testing.T) {
	forEachEngineDB(t, func(t *testing.T, r *engineReg) {
		env := r.testEnv(t)
		f := makeEngineFixture(t, env)
		mo, ml, mc := r.Model("test.order"), r.Model("test.order.line"), r.Model("test.category")
		line := func(id int64) map[string]any {
			return readOne(t, env, "test.order.line", id, "subtotal", "order_state", "category_name", "order_label")
		}
		check := func(what string, got, want map[string]any) {
			t.Helper()
			for k, w := range want {
				if !reflect.DeepEqual(got[k], w) {
					t.Errorf("%s: %s = %#v, want %#v", what, k, got[k], w)
				}
			}
		}
		check("at create", line(f.line1), map[string]any{"subtotal": 2.0, "order_state": "draft", "category_name": "Tools"})
		later := env.mustCreate(t, "test.order.line", map[string]any{"order_id": f.order, "name": "washer"})
		check("line created after its order", line(later), map[string]any{"order_label": "[Tools] SO1"})

		steps := []struct {
			what  string
			model *Model
			id    int64
			vals  map[string]any
			line  map[string]any // line1 afterwards
			order map[string]any // the order afterwards
		}{
			{"own fields", ml, f.line1, map[string]any{"qty": int64(10)}, map[string]any{"subtotal": 5.0}, nil},
			{"related one hop", mo, f.order, map[string]any{"state": "done"}, map[string]any{"order_state": "done"}, nil},
			{"many2one name, two hops and a chain", mc, f.tools, map[string]any{"name": "Hardware"},
				map[string]any{"category_name": "Hardware", "order_label": "[Hardware] SO1"}, map[string]any{"category_label": "[Hardware] SO1"}},
			{"the many2one itself", mo, f.order, map[string]any{"category_id": f.misc},
				map[string]any{"category_name": "Misc", "order_label": "[Misc] SO1"}, map[string]any{"category_label": "[Misc] SO1"}},
			{"own field of a computed on the comodel", mo, f.order, map[string]any{"name": "SO9"},
				map[string]any{"order_label": "[Misc] SO9"}, map[string]any{"category_label": "[Misc] SO9", "shout": "SO9"}},
			{"many2one cleared", mo, f.order, map[string]any{"category_id": false},
				map[string]any{"category_name": false, "order_label": false}, map[string]any{"category_label": false}},
			{"line moved to another order", ml, f.line1, map[string]any{"order_id": env.mustCreate(t, "test.order", map[string]any{"name": "SO2", "category_id": f.tools})},
				map[string]any{"category_name": "Hardware", "order_label": "[Hardware] SO2", "order_state": "draft"}, nil},
		}
		for _, s := range steps {
			if err := env.Write(s.model, []int64{s.id}, s.vals); err != nil {
				t.Fatalf("%s: %v", s.what, err)
			}
			check(s.what, line(f.line1), s.line)
			if s.order != nil {
				check(s.what, readOne(t, env, "test.order", f.order, "category_label", "shout"), s.order)
			}
		}
		ids, err := env.Search(ml, []any{L("category_name", "=", "Hardware")}, 0, 0, "")
		if err != nil || !reflect.DeepEqual(ids, []int64{f.line1}) {
			t.Errorf("search on a related stored field = %v, %v", ids, err)
		}
		// Computed fields cannot be written: the value is ignored.
		if err := env.Write(ml, []int64{f.line2}, map[string]any{"subtotal": 99.0, "category_name": "x"}); err != nil {
			t.Fatal(err)
		}
		check("writing computed fields", line(f.line2), map[string]any{"subtotal": 0.5, "category_name": false})
	})
}

// TestEngineComputedAfterComodelUnlink: deleting a category sets the
// orders' many2one to NULL (ondelete set null); Odoo then recomputes what
// depends on it (unlink marks the dependents modified).
func TestEngineComputedAfterComodelUnlink(t *testing.T) {
	forEachEngineDB(t, func(t *testing.T, r *engineReg) {
		env := r.testEnv(t)
		f := makeEngineFixture(t, env)
		if err := env.Unlink(r.Model("test.category"), []int64{f.tools}); err != nil {
			t.Fatal(err)
		}
		got := readOne(t, env, "test.order", f.order, "category_id", "category_label")
		if got["category_id"] != false {
			t.Fatalf("category_id after its record was deleted = %#v", got["category_id"])
		}
		if got["category_label"] != false {
			t.Errorf("stored computed test.order.category_label (depends on category_id.name) keeps %#v after the category was deleted", got["category_label"])
		}
		if l := readOne(t, env, "test.order.line", f.line1, "category_name"); l["category_name"] != false {
			t.Errorf("related line category_name after the category was deleted = %#v", l["category_name"])
		}
	})
}

// TestEngineComputedThroughOne2many: a stored computed field depending
// on "line_ids.qty" follows changes made on the lines themselves, as
// Odoo's amount_total follows its lines.
func TestEngineComputedThroughOne2many(t *testing.T) {
	forEachEngineDB(t, func(t *testing.T, r *engineReg) {
		env := r.testEnv(t)
		f := makeEngineFixture(t, env)
		total := func() any { return readOne(t, env, "test.order", f.order, "total_qty")["total_qty"] }
		if got := total(); got != int64(6) {
			t.Fatalf("total_qty at create = %#v, want 6", got)
		}
		// Through the order's own one2many field it is recomputed.
		if err := env.Write(r.Model("test.order"), []int64{f.order}, map[string]any{"line_ids": []any{[]any{int64(1), f.line1, map[string]any{"qty": int64(5)}}}}); err != nil {
			t.Fatal(err)
		}
		if got := total(); got != int64(7) {
			t.Errorf("total_qty after (1, line, {qty: 5}) on the order = %#v, want 7", got)
		}
		if err := env.Write(r.Model("test.order.line"), []int64{f.line1}, map[string]any{"qty": int64(8)}); err != nil {
			t.Fatal(err)
		}
		if got := total(); got != int64(10) {
			t.Errorf("stored computed test.order.total_qty (Depends line_ids.qty) = %#v after writing a line's qty, want 10", got)
		}
		// A deleted line leaves the total, as a line written does.
		if err := env.Unlink(r.Model("test.order.line"), []int64{f.line1}); err != nil {
			t.Fatal(err)
		}
		if got := total(); got != int64(2) {
			t.Errorf("total_qty after the line of 8 was deleted = %#v, want 2", got)
		}
	})
}

// TestEngineComputedNestedCreate: lines created by (0, 0, vals) inside
// their order's create get related values of the order's stored computed
// fields, as in Odoo, where the whole create is computed before anything
// reads it.
func TestEngineComputedNestedCreate(t *testing.T) {
	forEachEngineDB(t, func(t *testing.T, r *engineReg) {
		env := r.testEnv(t)
		f := makeEngineFixture(t, env)
		got := readOne(t, env, "test.order.line", f.line1, "category_name", "order_label")
		if got["category_name"] != "Tools" {
			t.Fatalf("category_name of a nested line = %#v, want Tools", got["category_name"])
		}
		if got["order_label"] != "[Tools] SO1" {
			t.Errorf("test.order.line.order_label (related order_id.category_label) of a line created by (0, 0, vals) in its order's create = %#v, want \"[Tools] SO1\"", got["order_label"])
		}
	})
}
