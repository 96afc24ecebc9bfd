package models

import (
	"reflect"
	"slices"
	"testing"
)

// TestEngineValidation: what create and write refuse, with the error
// kind and the words a client sees: required fields, selection values,
// wrong types, unique columns and composite unique indexes, size-limited
// chars, model and extension constraints, a Prepare hook's refusal and
// foreign keys. Each case runs in a savepoint.
func TestEngineValidation(t *testing.T) {
	forEachEngineDB(t, func(t *testing.T, r *engineReg) {
		env := r.testEnv(t)
		f := makeEngineFixture(t, env)
		cases := []struct {
			what  string
			model string
			vals  map[string]any
			write int64 // write vals on this id instead of creating
			kind  Kind  // 0: must succeed
			msg   string
		}{
			{"required missing", "test.order", map[string]any{"note": "x"}, 0, KindValidation, "Missing required value for the field 'Order Reference' (name)"},
			{"required empty", "test.order", map[string]any{"name": ""}, 0, KindValidation, "Missing required value for the field 'Order Reference' (name)"},
			{"required written False", "test.order", map[string]any{"name": false}, f.order, KindValidation, "(name)"},
			{"required many2one", "test.order.line", map[string]any{"name": "orphan"}, 0, KindValidation, "(order_id)"},
			{"selection", "test.order", map[string]any{"name": "x", "state": "bogus"}, 0, KindValue, "Wrong value for test.order.state"},
			{"selection of another type", "test.order", map[string]any{"name": "x", "state": int64(1)}, 0, KindValue, "test.order.state"},
			{"integer", "test.order", map[string]any{"name": "x", "qty": "many"}, 0, KindValue, "test.order.qty"},
			{"integer with a fraction", "test.order", map[string]any{"name": "x", "qty": 1.5}, 0, KindValue, "test.order.qty"},
			{"float", "test.order", map[string]any{"name": "x", "amount": "lots"}, 0, KindValue, "test.order.amount"},
			{"many2one", "test.order", map[string]any{"name": "x", "category_id": "Tools"}, 0, KindValue, "a record id"},
			{"many2one to nothing", "test.order", map[string]any{"name": "x", "category_id": int64(424242)}, 0, KindValidation, "a referenced record does not exist"},
			{"datetime", "test.order", map[string]any{"name": "x", "date_order": "yesterday"}, 0, KindValue, "not a datetime"},
			{"date", "test.order", map[string]any{"name": "x", "day": "29/02/2024"}, 0, KindValue, "not a date"},
			{"binary", "test.order", map[string]any{"name": "x", "data": "not base64!"}, 0, KindValue, "base64"},
			{"char of invalid UTF-8", "test.order", map[string]any{"name": "x", "note": "\xff"}, 0, KindValue, "UTF-8"},
			{"char of a list", "test.order", map[string]any{"name": []any{"x"}}, 0, KindValue, "a string"},
			{"unknown field", "test.order", map[string]any{"name": "x", "nope": int64(1)}, 0, KindValue, "nope"},
			{"unique", "test.order", map[string]any{"name": "x", "ref": "R1"}, 0, KindValidation, "unique"},
			{"unique on write", "test.order", map[string]any{"ref": "R1"}, env.mustCreate(t, "test.order", map[string]any{"name": "y"}), KindValidation, "unique"},
			{"composite unique index", "test.label", map[string]any{"name": "red", "color": int64(1)}, 0, KindValidation, "unique"},
			{"composite index, other color", "test.label", map[string]any{"name": "red", "color": int64(3)}, 0, 0, ""},
			{"size", "test.order", map[string]any{"name": "x", "code": "123456789"}, 0, KindValidation, "Code: at most 8 characters"},
			{"size counts characters", "test.order", map[string]any{"name": "x", "code": "éééééééé"}, 0, 0, ""},
			{"constraint on create", "test.order", map[string]any{"name": "x", "amount": -1.0}, 0, KindValidation, "Amount must not be negative"},
			{"constraint on write", "test.order", map[string]any{"amount": -0.5}, f.order, KindValidation, "Amount must not be negative"},
			{"extension constraint", "test.order", map[string]any{"name": "x", "priority": int64(11)}, 0, KindValidation, "Priority must be at most 10"},
			{"extension constraint on write", "test.order", map[string]any{"priority": int64(11)}, f.order, KindValidation, "Priority must be at most 10"},
			{"prepare refuses", "test.order", map[string]any{"name": " forbidden "}, 0, KindUser, "is forbidden"},
			{"prepare refuses a write", "test.order", map[string]any{"name": "forbidden"}, f.order, KindUser, "is forbidden"},
		}
		for _, c := range cases {
			t.Run(c.what, func(t *testing.T) {
				savepoint(t, env, func() {
					var err error
					if c.write != 0 {
						err = env.Write(r.Model(c.model), []int64{c.write}, c.vals)
					} else {
						_, err = env.tcreate(c.model, c.vals)
					}
					if c.kind == 0 {
						if err != nil {
							t.Errorf("must succeed: %v", err)
						}
						return
					}
					wantErr(t, c.what, err, c.kind, c.msg)
				})
			})
		}
		// The extension's composite unique index (category_id, ext_code).
		env.mustCreate(t, "test.order", map[string]any{"name": "e1", "category_id": f.tools, "ext_code": "X"})
		savepoint(t, env, func() {
			_, err := env.tcreate("test.order", map[string]any{"name": "e2", "category_id": f.tools, "ext_code": "X"})
			wantErr(t, "extension index duplicate", err, KindValidation, "unique")
		})
		if _, err := env.tcreate("test.order", map[string]any{"name": "e3", "category_id": f.misc, "ext_code": "X"}); err != nil {
			t.Errorf("same ext_code in another category: %v", err)
		}
	})
}

// TestEngineInvalidFieldMessage: Odoo words an unknown field
// "Invalid field 'nope' on model 'test.order'" (Python's %r of a str), as
// the engine's order parser does.
func TestEngineInvalidFieldMessage(t *testing.T) {
	forEachEngineDB(t, func(t *testing.T, r *engineReg) {
		env := r.testEnv(t)
		const want = "Invalid field 'nope' on model 'test.order'"
		_, err := env.Read(r.Model("test.order"), nil, []string{"nope"}, "")
		if err == nil {
			t.Fatal("read of an unknown field succeeded")
		}
		if err.Error() != want {
			t.Errorf("unknown field message is %s, want %s (Python's repr quotes)", err.Error(), want)
		}
	})
}

// TestEngineConversions: client values are converted by their field's
// type as Odoo does, and read back in read()'s format.
func TestEngineConversions(t *testing.T) {
	forEachEngineDB(t, func(t *testing.T, r *engineReg) {
		env := r.testEnv(t)
		f := makeEngineFixture(t, env)
		cases := []struct {
			field string
			in    any
			want  any
		}{
			{"note", int64(1883), "1883"},
			{"note", 1.5, "1.5"},
			{"note", false, false},
			{"qty", "42", int64(42)},
			{"qty", float64(7), int64(7)},
			{"qty", nil, int64(0)},
			{"amount", "2.5", 2.5},
			{"amount", int64(2), 2.0},
			{"active", int64(0), false},
			{"active", "x", true},
			{"active", "", false},
			{"active", nil, false},
			{"date_order", "2024-01-02T03:04:05", "2024-01-02 03:04:05"},
			{"date_order", "2024-01-02 03:04:05.123456", "2024-01-02 03:04:05"},
			{"date_order", "2024-01-02T03:04:05+02:00", "2024-01-02 01:04:05"},
			{"date_order", "2024-01-02", "2024-01-02 00:00:00"},
			{"date_order", false, false},
			{"day", "2024-01-02 10:00:00", "2024-01-02"},
			{"data", "aGVs\nbG8=", "aGVsbG8="},
			{"data", []byte{0, 0xff, 'x'}, "AP94"},
			{"category_id", float64(f.misc), []any{f.misc, "Misc"}},
			{"state", "done", "done"},
			{"state", false, false},
		}
		mo := r.Model("test.order")
		for _, c := range cases {
			if err := env.Write(mo, []int64{f.order}, map[string]any{c.field: c.in}); err != nil {
				t.Errorf("write %s = %#v: %v", c.field, c.in, err)
				continue
			}
			if got := readOne(t, env, "test.order", f.order, c.field)[c.field]; !reflect.DeepEqual(got, c.want) {
				t.Errorf("%s written %#v reads %#v, want %#v", c.field, c.in, got, c.want)
			}
		}
	})
}

// TestEngineMany2oneZero: Odoo stores a many2one written 0 as NULL
// (Many2one.convert_to_column: value or None), as Bulk does here.
func TestEngineMany2oneZero(t *testing.T) {
	forEachEngineDB(t, func(t *testing.T, r *engineReg) {
		env := r.testEnv(t)
		f := makeEngineFixture(t, env)
		err := env.Write(r.Model("test.order"), []int64{f.order}, map[string]any{"category_id": int64(0)})
		if err != nil {
			t.Fatalf("writing many2one category_id = 0 fails with %q; Odoo stores 0 as NULL", err)
		}
		if got := readOne(t, env, "test.order", f.order, "category_id")["category_id"]; got != false {
			t.Errorf("many2one written 0 reads %#v, want False", got)
		}
	})
}

// TestEngineHooks: Default, Prepare, BeforeUnlink and Changed, and the
// extension's Changed chained after the model's own.
func TestEngineHooks(t *testing.T) {
	forEachEngineDB(t, func(t *testing.T, r *engineReg) {
		env := r.testEnv(t)
		f := makeEngineFixture(t, env)
		mo := r.Model("test.order")
		r.log.take()
		id := env.mustCreate(t, "test.order", map[string]any{"name": "  padded  ", "active": false})
		if got := r.log.take(); !slices.Equal(got, []string{"prepare create=true", "own created 1", "ext changed 1 [] false"}) {
			t.Errorf("create told %q", got)
		}
		got := readOne(t, env, "test.order", id, "name", "state", "active", "user_id", "date_order", "priority_label")
		want := map[string]any{"id": id, "name": "padded", "state": "draft", "active": false, "user_id": []any{Superuser, "OdooBot"},
			"date_order": "2024-03-04 05:06:07", "priority_label": "normal"}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("after create: %#v\nwant %#v", got, want)
		}
		if err := env.Write(mo, []int64{id}, map[string]any{"note": "n", "amount": 1.0, "name": " trimmed "}); err != nil {
			t.Fatal(err)
		}
		if got := r.log.take(); !slices.Equal(got, []string{"prepare create=false", "own wrote [amount name note]", "ext changed 1 [amount name note] false"}) {
			t.Errorf("write told %q", got)
		}
		if got := readOne(t, env, "test.order", id, "name", "state")["name"]; got != "trimmed" {
			t.Errorf("Prepare on write: name = %#v", got)
		}
		// Defaults apply to create only; a default a user's env gives.
		admin := env.WithUser(AdminUID)
		nid, err := admin.tcreate("test.note", map[string]any{"name": "mine"})
		if err != nil {
			t.Fatal(err)
		}
		if got := readOne(t, env, "test.note", nid, "user_id")["user_id"]; !reflect.DeepEqual(got, []any{AdminUID, "Administrator"}) {
			t.Errorf("default user_id of admin's note = %#v", got)
		}
		if err := env.Write(mo, []int64{id}, map[string]any{"state": "done"}); err != nil {
			t.Fatal(err)
		}
		r.log.take()
		wantErr(t, "unlink of a done order", env.Unlink(mo, []int64{f.order, id}), KindUser, "You cannot delete a done order.")
		if got := r.log.take(); !slices.Equal(got, []string{"before_unlink [" + itoa(f.order) + " " + itoa(id) + "]"}) {
			t.Errorf("a refused unlink told %q", got)
		}
		if ex, _ := env.existing(mo, []int64{f.order, id}); len(ex) != 2 {
			t.Errorf("a refused unlink deleted records: %v left", ex)
		}
		if err := env.Unlink(mo, []int64{f.order}); err != nil {
			t.Fatal(err)
		}
		if got := r.log.take(); !slices.Equal(got, []string{"before_unlink [" + itoa(f.order) + "]", "own deleted [SO1]", "ext changed 1 [] true"}) {
			t.Errorf("unlink told %q (Changed must still see the row)", got)
		}
	})
}

// TestEngineExtension: a second addon's extension of test.order gets
// columns for its stored fields, computes its computed field, answers its
// method and is described by fields_get like the model's own fields.
func TestEngineExtension(t *testing.T) {
	forEachEngineDB(t, func(t *testing.T, r *engineReg) {
		env := r.testEnv(t)
		cols, err := r.columns(env.DB(), "test_order")
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []string{"priority", "ext_code", "shout", "name"} {
			if !cols[c] {
				t.Errorf("test_order has no column %s", c)
			}
		}
		id := env.mustCreate(t, "test.order", map[string]any{"name": "ext", "priority": int64(3)})
		if got := readOne(t, env, "test.order", id, "priority", "shout"); got["priority"] != int64(3) || got["shout"] != "EXT" {
			t.Errorf("extension fields = %#v", got)
		}
		got, err := env.Call(r.Model("test.order"), "ext_ping", []any{"hi"}, nil)
		if err != nil || got != "hi from test.order" {
			t.Errorf("extension method = %#v, %v", got, err)
		}
		fg, err := env.call("test.order", "fields_get", []any{[]any{"priority", "shout"}, []any{"type", "store", "readonly"}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		d := fg.(*Dict)
		if d.Len() != 2 {
			t.Errorf("fields_get(allfields) of two extension fields gave %v", d.Keys())
		}
		if v, _ := d.Get("shout"); v == nil || !reflect.DeepEqual(dictMap(v.(*Dict)), map[string]any{"type": "char", "store": true, "readonly": true}) {
			t.Errorf("fields_get shout = %#v", v)
		}
		if _, err := env.Call(r.Model("test.category"), "ext_ping", []any{"hi"}, nil); KindOf(err) != KindAttribute {
			t.Errorf("the extension's method on another model: %v", err)
		}
	})
}

func dictMap(d *Dict) map[string]any {
	out := map[string]any{}
	d.Range(func(k string, v any) bool { out[k] = v; return true })
	return out
}
