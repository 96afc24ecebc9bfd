package models

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestEngineAccess: model access per group (with Odoo's message naming
// the groups that have it), nested creates checked on the comodel, field
// Groups on read, write, search and fields_get, record Rules on search,
// read, write and unlink (not for Settings members), ReadOnly models
// refusing writes even to administrators, and check_access_rights.
func TestEngineAccess(t *testing.T) {
	forEachEngineDB(t, func(t *testing.T, r *engineReg) {
		su := r.testEnv(t)
		f := makeEngineFixture(t, su)
		tester := su.WithUser(makeUser(t, su, "tester", groupTestUser))
		other := su.WithUser(makeUser(t, su, "other", groupTestUser))
		internal := su.WithUser(makeUser(t, su, "internal", GroupUser))
		admin := su.WithUser(AdminUID)
		mo, mc, ml := r.Model("test.order"), r.Model("test.category"), r.Model("test.log")
		const contact = "\n\nContact your administrator to request access if necessary."

		t.Run("model access", func(t *testing.T) {
			type op func(env *Env) error
			create := func(m *Model, vals map[string]any) op {
				return func(env *Env) error { _, err := env.Create(m, vals); return err }
			}
			read := func(m *Model, id int64) op {
				return func(env *Env) error { _, err := env.Read(m, []int64{id}, nil, ""); return err }
			}
			search := func(m *Model) op { return func(env *Env) error { _, err := env.Search(m, nil, 0, 0, ""); return err } }
			write := func(m *Model, id int64) op {
				return func(env *Env) error { return env.Write(m, []int64{id}, map[string]any{"name": "w"}) }
			}
			unlink := func(m *Model, id int64) op { return func(env *Env) error { return env.Unlink(m, []int64{id}) } }
			logID := su.mustCreate(t, "test.log", map[string]any{"name": "boot"})
			cases := []struct {
				what string
				env  *Env
				op   op
				msg  string // "": allowed
			}{
				{"tester reads orders", tester, read(mo, f.order), ""},
				{"tester searches orders", tester, search(mo), ""},
				{"tester creates an order", tester, create(mo, map[string]any{"name": "t"}), ""},
				{"tester writes an order", tester, write(mo, f.order), ""},
				{"tester unlinks an order", tester, unlink(mo, f.order),
					"You are not allowed to delete 'Test Order' (test.order) records.\n\nThis operation is allowed for the following groups:\n\t- Settings" + contact},
				{"internal user reads orders", internal, read(mo, f.order),
					"You are not allowed to access 'Test Order' (test.order) records.\n\nThis operation is allowed for the following groups:\n\t- Settings\n\t- Test / User" + contact},
				{"internal user searches orders", internal, search(mo), "You are not allowed to access 'Test Order' (test.order) records."},
				{"tester creates a category", tester, create(mc, map[string]any{"name": "c"}), "You are not allowed to create 'Test Category' (test.category) records."},
				{"tester reads categories", tester, read(mc, f.tools), ""},
				{"admin unlinks an order", admin, unlink(mo, f.order), ""},
				{"tester nests a line", tester, create(mo, map[string]any{"name": "n", "line_ids": []any{[]any{int64(0), int64(0), map[string]any{"name": "l"}}}}), ""},
				{"tester links a label", tester, create(mo, map[string]any{"name": "n", "label_ids": []any{[]any{int64(4), f.red}}}), ""},
				{"tester nests a label", tester, create(mo, map[string]any{"name": "n", "label_ids": []any{[]any{int64(0), int64(0), map[string]any{"name": "l"}}}}),
					"You are not allowed to create 'Test Label' (test.label) records."},
				{"admin reads a read-only model", admin, read(ml, logID), ""},
				{"tester reads a read-only model", tester, read(ml, logID), ""},
				{"admin creates in a read-only model", admin, create(ml, map[string]any{"name": "x"}), "You are not allowed to create 'Test Log' (test.log) records." + contact},
				{"admin writes a read-only model", admin, write(ml, logID), "You are not allowed to modify 'Test Log' (test.log) records." + contact},
				{"admin unlinks in a read-only model", admin, unlink(ml, logID), "You are not allowed to delete 'Test Log' (test.log) records." + contact},
				{"the superuser writes a read-only model", su, write(ml, logID), ""},
			}
			for _, c := range cases {
				t.Run(c.what, func(t *testing.T) {
					savepoint(t, su, func() {
						err := c.op(c.env)
						switch {
						case c.msg == "" && err != nil:
							t.Errorf("refused: %v", err)
						case c.msg == "":
						case KindOf(err) != KindAccess:
							t.Errorf("got %v (kind %v), want an AccessError", err, KindOf(err))
						case strings.HasSuffix(c.msg, contact) && err.Error() != c.msg:
							t.Errorf("message %q, want %q", err.Error(), c.msg)
						case !strings.HasPrefix(err.Error(), c.msg):
							t.Errorf("message %q, want it to start with %q", err.Error(), c.msg)
						}
					})
				})
			}
		})

		t.Run("field groups", func(t *testing.T) {
			if err := su.Write(mo, []int64{f.order}, map[string]any{"private_note": "psst"}); err != nil {
				t.Fatal(err)
			}
			recs, err := tester.Read(mo, []int64{f.order}, nil, "")
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := recs[0].Get("private_note"); ok {
				t.Errorf("a field of Settings is among a tester's default read fields")
			}
			rows, err := tester.SearchRead(mo, nil, nil, 0, 0, "")
			if err != nil || len(rows) == 0 {
				t.Fatalf("search_read = %v, %v", rows, err)
			}
			if _, ok := rows[0].Get("private_note"); ok {
				t.Errorf("a field of Settings is among a tester's default search_read fields")
			}
			_, err = tester.Read(mo, []int64{f.order}, []string{"name", "private_note"}, "")
			wantErr(t, "tester reads private_note", err, KindAccess, "security restrictions", "private_note")
			wantErr(t, "tester writes private_note", tester.Write(mo, []int64{f.order}, map[string]any{"private_note": "x"}), KindAccess, "private_note")
			_, err = tester.Create(mo, map[string]any{"name": "x", "private_note": "x"})
			wantErr(t, "tester creates with private_note", err, KindAccess, "private_note")
			_, err = tester.Search(mo, []any{L("private_note", "=", "psst")}, 0, 0, "")
			if KindOf(err) != KindAccess && KindOf(err) != KindValue {
				t.Errorf("tester searching on private_note: %v", err)
			}
			if got := readOne(t, admin, "test.order", f.order, "private_note")["private_note"]; got != "psst" {
				t.Errorf("admin reads private_note = %#v", got)
			}
			for _, c := range []struct {
				env  *Env
				want bool
			}{{tester, false}, {admin, true}} {
				fg, err := c.env.call("test.order", "fields_get", nil, nil)
				if err != nil {
					t.Fatal(err)
				}
				if _, ok := fg.(*Dict).Get("private_note"); ok != c.want {
					t.Errorf("fields_get for uid %d lists private_note: %v, want %v", c.env.UID, ok, c.want)
				}
				keys, _ := c.env.call("test.order", "fields_get_keys", nil, nil)
				if has := slices.Contains(keys.([]string), "private_note"); has != c.want {
					t.Errorf("fields_get_keys for uid %d lists private_note: %v, want %v", c.env.UID, has, c.want)
				}
			}
		})

		t.Run("record rules", func(t *testing.T) {
			mn := r.Model("test.note")
			mine, err := tester.Create(mn, map[string]any{"name": "mine"})
			if err != nil {
				t.Fatal(err)
			}
			theirs, err := other.Create(mn, map[string]any{"name": "theirs"})
			if err != nil {
				t.Fatal(err)
			}
			ids, err := tester.Search(mn, nil, 0, 0, "")
			if err != nil || !reflect.DeepEqual(ids, []int64{mine}) {
				t.Errorf("tester's notes = %v, %v; want only %d", ids, err, mine)
			}
			if n, _ := tester.Count(mn, nil, 0); n != 1 {
				t.Errorf("tester counts %d notes", n)
			}
			if recs, err := tester.Read(mn, []int64{mine, 424242}, []string{"name"}, ""); err != nil || len(recs) != 1 {
				t.Errorf("read of an own and a missing note = %v, %v", recs, err)
			}
			_, err = tester.Read(mn, []int64{mine, theirs}, []string{"name"}, "")
			wantErr(t, "read of another's note", err, KindAccess, "Due to security restrictions, you are not allowed to access 'Test Note' (test.note) records.")
			wantErr(t, "write of another's note", tester.Write(mn, []int64{theirs}, map[string]any{"name": "x"}), KindAccess,
				"Due to security restrictions, you are not allowed to modify 'Test Note' (test.note) records.")
			wantErr(t, "unlink of another's note", tester.Unlink(mn, []int64{theirs}), KindAccess,
				"Due to security restrictions, you are not allowed to delete 'Test Note' (test.note) records.")
			wantErr(t, "CheckRecords", tester.CheckRecords(mn, []int64{theirs}, OpWrite), KindAccess, "not allowed to modify")
			wantErr(t, "write of a missing note", tester.Write(mn, []int64{424242}, map[string]any{"name": "x"}), KindMissing, "test.note(424242,)")
			if err := tester.Write(mn, []int64{mine}, map[string]any{"name": "still mine"}); err != nil {
				t.Errorf("write of an own note: %v", err)
			}
			for _, env := range []*Env{admin, su} {
				if ids, _ := env.Search(mn, nil, 0, 0, "id"); !reflect.DeepEqual(ids, []int64{mine, theirs}) {
					t.Errorf("uid %d (rules do not apply) sees notes %v", env.UID, ids)
				}
			}
			if err := tester.Unlink(mn, []int64{mine}); err != nil {
				t.Errorf("unlink of an own note: %v", err)
			}
		})

		t.Run("check_access_rights", func(t *testing.T) {
			cases := []struct {
				env   *Env
				model string
				op    string
				raise bool
				want  any
				kind  Kind
			}{
				{tester, "test.order", "write", true, true, 0},
				{tester, "test.order", "unlink", false, false, 0},
				{tester, "test.order", "unlink", true, nil, KindAccess},
				{internal, "test.order", "read", false, false, 0},
				{admin, "test.log", "write", false, false, 0},
				{admin, "test.log", "read", true, true, 0},
				{su, "test.log", "unlink", true, true, 0},
				{tester, "test.order", "bogus", false, nil, KindValue},
			}
			for _, c := range cases {
				got, err := c.env.call(c.model, "check_access_rights", []any{c.op}, map[string]any{"raise_exception": c.raise})
				if c.kind != 0 {
					if KindOf(err) != c.kind {
						t.Errorf("uid %d %s %s: %v, want kind %v", c.env.UID, c.model, c.op, err, c.kind)
					}
					continue
				}
				if err != nil || got != c.want {
					t.Errorf("uid %d %s %s raise=%v = %v, %v; want %v", c.env.UID, c.model, c.op, c.raise, got, err, c.want)
				}
			}
			if err := internal.CheckAccess(mo, OpRead); KindOf(err) != KindAccess {
				t.Errorf("CheckAccess of an internal user on orders: %v", err)
			}
			if err := tester.CheckAccess(mo, OpCreate); err != nil {
				t.Errorf("CheckAccess of a tester creating orders: %v", err)
			}
		})
	})
}
