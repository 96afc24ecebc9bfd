package models

import (
	"reflect"
	"testing"
)

// TestEngineWriteUnlinkMissing: write on ids that do not exist fails with
// Odoo's MissingError text and changes nothing (unlink ignores them, as
// TestEngineUnlinkDeleted checks); unlink cascades
// to lines (ondelete cascade), sets many2ones NULL (set null), is refused
// by a restrict many2one, and drops many2many links.
func TestEngineWriteUnlinkMissing(t *testing.T) {
	forEachEngineDB(t, func(t *testing.T, r *engineReg) {
		env := r.testEnv(t)
		f := makeEngineFixture(t, env)
		mo := r.Model("test.order")
		cases := []struct {
			what string
			env  *Env
			ids  []int64
			msg  string
		}{
			{"one missing", env, []int64{f.order, 424242}, "Record does not exist or has been deleted.\n(Record: test.order(424242,), User: 1)"},
			{"two missing", env, []int64{424242, f.order, 424243}, "Record does not exist or has been deleted.\n(Record: test.order(424242, 424243), User: 1)"},
			{"as admin", env.WithUser(AdminUID), []int64{424242}, "Record does not exist or has been deleted.\n(Record: test.order(424242,), User: 2)"},
		}
		for _, c := range cases {
			err := c.env.Write(mo, c.ids, map[string]any{"note": "changed"})
			if KindOf(err) != KindMissing || err.Error() != c.msg {
				t.Errorf("write %s: %q (kind %v), want MissingError %q", c.what, err, KindOf(err), c.msg)
			}
		}
		if got := readOne(t, env, "test.order", f.order, "note"); got["note"] != false {
			t.Errorf("a write refused for a missing id changed the existing one: note = %#v", got["note"])
		}
		if err := env.Write(mo, nil, map[string]any{"note": "x"}); err != nil {
			t.Errorf("write of no record: %v", err)
		}
		if err := env.Unlink(mo, []int64{}); err != nil {
			t.Errorf("unlink of no record: %v", err)
		}
		if err := env.Write(mo, []int64{f.order, f.order}, map[string]any{"note": "twice"}); err != nil {
			t.Errorf("write with a repeated id: %v", err)
		}
		_, err := env.call("test.order", "write", []any{f.order, map[string]any{"bogus": int64(1)}}, nil)
		wantErr(t, "write of an unknown field", err, KindValue, "bogus", "test.order")

		// A restrict many2one refuses the delete of what it points at.
		env.mustCreate(t, "test.order.line", map[string]any{"order_id": f.order, "label_id": f.red})
		savepoint(t, env, func() {
			err := env.Unlink(r.Model("test.label"), []int64{f.red})
			wantErr(t, "unlink of a label a line restricts", err, KindValidation, "another model requires the record being deleted")
		})
		event := env.mustCreate(t, "test.event", map[string]any{"order_id": f.order, "name": "e"})
		other := env.mustCreate(t, "test.order", map[string]any{"name": "other", "category_id": f.tools, "label_ids": []any{[]any{int64(4), f.red}}})
		if err := env.Unlink(mo, []int64{f.order}); err != nil {
			t.Fatal(err)
		}
		for model, ids := range map[string][]int64{"test.order": {f.order}, "test.order.line": {f.line1, f.line2}, "test.event": {event}} {
			if left, _ := env.existing(r.Model(model), ids); len(left) != 0 {
				t.Errorf("%s %v left after unlinking their order", model, left)
			}
		}
		if left, _ := env.existing(r.Model("test.label"), []int64{f.red, f.blue}); len(left) != 2 {
			t.Errorf("unlinking an order deleted its labels: %v left", left)
		}
		var links int64
		env.DB().Raw(`SELECT COUNT(*) FROM "test_label_test_order_rel"`).Scan(&links)
		if links != 1 {
			t.Errorf("many2many rows left = %d, want only the other order's", links)
		}
		if err := env.Unlink(r.Model("test.category"), []int64{f.tools}); err != nil {
			t.Fatal(err)
		}
		if got := readOne(t, env, "test.order", other, "category_id"); got["category_id"] != false {
			t.Errorf("set null many2one after its record was deleted = %#v", got["category_id"])
		}
	})
}

// TestEngineX2manyCommands runs every x2many command (0 create, 1 update,
// 2 delete, 3 unlink, 4 link, 5 clear, 6 replace) on a one2many whose
// inverse is optional (test.parent.child_ids) and on a many2many
// (test.order.label_ids), checking the relation and the records after
// each step.
func TestEngineX2manyCommands(t *testing.T) {
	forEachEngineDB(t, func(t *testing.T, r *engineReg) {
		env := r.testEnv(t)
		f := makeEngineFixture(t, env)
		ids := map[string]int64{"red": f.red, "blue": f.blue}
		ids["P"] = env.mustCreate(t, "test.parent", map[string]any{"name": "P"})
		ids["free"] = env.mustCreate(t, "test.child", map[string]any{"name": "free"})
		ids["O"] = env.mustCreate(t, "test.order", map[string]any{"name": "O"})
		// byName finds a record created by a command.
		byName := func(model, name string) int64 {
			got, err := env.tsearch(model, []any{L("name", "=", name)}, 0, 0, "")
			if err != nil || len(got) != 1 {
				t.Fatalf("%s named %s: %v %v", model, name, got, err)
			}
			return got[0]
		}
		id := func(label string) int64 {
			if v, ok := ids[label]; ok {
				return v
			}
			t.Fatalf("no record labelled %s", label)
			return 0
		}
		type step struct {
			cmd     func() []any
			related []string          // labels, in read order, afterwards
			names   map[string]string // label -> name afterwards ("" = deleted)
			created string            // label the step's (0, 0, v) creates, looked up by name
		}
		run := func(t *testing.T, model, field, comodel, owner string, steps []step) {
			for i, s := range steps {
				cmd := s.cmd()
				if err := env.Write(r.Model(model), []int64{id(owner)}, map[string]any{field: []any{cmd}}); err != nil {
					t.Fatalf("step %d %v: %v", i, cmd, err)
				}
				if s.created != "" {
					ids[s.created] = byName(comodel, s.created)
				}
				got := readOne(t, env, model, id(owner), field)[field]
				want := []int64{}
				for _, l := range s.related {
					want = append(want, id(l))
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("step %d %v: %s = %v, want %v %v", i, cmd, field, got, s.related, want)
				}
				for l, name := range s.names {
					ex, _ := env.existing(r.Model(comodel), []int64{id(l)})
					switch {
					case name == "" && len(ex) != 0:
						t.Errorf("step %d %v: %s still exists", i, cmd, l)
					case name != "" && len(ex) == 0:
						t.Errorf("step %d %v: %s was deleted", i, cmd, l)
					case name != "":
						if n := readOne(t, env, comodel, id(l), "name")["name"]; n != name {
							t.Errorf("step %d %v: %s is named %#v, want %q", i, cmd, l, n, name)
						}
					}
				}
			}
		}
		c := func(v ...any) func() []any { return func() []any { return v } }
		ref := func(code int64, label string) func() []any {
			return func() []any { return []any{code, id(label), int64(0)} }
		}
		t.Run("one2many", func(t *testing.T) {
			run(t, "test.parent", "child_ids", "test.child", "P", []step{
				{cmd: c(int64(0), int64(0), map[string]any{"name": "a"}), related: []string{"a"}, created: "a"},
				{cmd: c(int64(0), int64(0), map[string]any{"name": "b"}), related: []string{"a", "b"}, created: "b"},
				{cmd: func() []any { return []any{int64(1), id("a"), map[string]any{"name": "a2"}} }, related: []string{"a", "b"}, names: map[string]string{"a": "a2"}},
				{cmd: ref(2, "b"), related: []string{"a"}, names: map[string]string{"b": ""}},
				{cmd: ref(4, "free"), related: []string{"free", "a"}}, // comodel order: id
				{cmd: ref(3, "a"), related: []string{"free"}, names: map[string]string{"a": "a2"}},
				{cmd: func() []any { return []any{int64(6), int64(0), []any{id("a"), id("free")}} }, related: []string{"free", "a"}},
				{cmd: c(int64(5)), related: nil, names: map[string]string{"a": "a2", "free": "free"}},
			})
			if got := readOne(t, env, "test.child", id("free"), "parent_id")["parent_id"]; got != false {
				t.Errorf("(5,) must detach the children: parent_id = %#v", got)
			}
		})
		t.Run("many2many", func(t *testing.T) {
			run(t, "test.order", "label_ids", "test.label", "O", []step{
				{cmd: c(int64(0), int64(0), map[string]any{"name": "green"}), related: []string{"green"}, created: "green"},
				{cmd: ref(4, "red"), related: []string{"red", "green"}},
				{cmd: ref(4, "red"), related: []string{"red", "green"}},
				{cmd: func() []any { return []any{int64(1), id("green"), map[string]any{"name": "lime"}} }, related: []string{"red", "green"}, names: map[string]string{"green": "lime"}},
				{cmd: ref(3, "red"), related: []string{"green"}, names: map[string]string{"red": "red"}},
				{cmd: func() []any { return []any{int64(6), int64(0), []any{id("blue"), id("red"), id("blue")}} }, related: []string{"red", "blue"}, names: map[string]string{"green": "lime"}},
				{cmd: ref(2, "blue"), related: []string{"red"}, names: map[string]string{"blue": ""}},
				{cmd: c(int64(5), int64(0), int64(0)), related: nil, names: map[string]string{"red": "red"}},
			})
			// The fixture order still has red: (5,) cleared only O's links.
			if got := readOne(t, env, "test.order", f.order, "label_ids")["label_ids"]; !reflect.DeepEqual(got, []int64{f.red}) {
				t.Errorf("fixture order labels = %v, want [red] (blue was deleted)", got)
			}
		})
		t.Run("errors", func(t *testing.T) {
			mo := r.Model("test.order")
			cases := []struct {
				what string
				vals map[string]any
				kind Kind
				msg  string
			}{
				{"unknown command", map[string]any{"label_ids": []any{[]any{int64(7), f.red}}}, KindValue, "Unknown x2many command 7"},
				{"update without id", map[string]any{"line_ids": []any{[]any{int64(1), int64(0), map[string]any{}}}}, KindValue, "needs a record id"},
				{"create without values", map[string]any{"line_ids": []any{[]any{int64(0), int64(0), "x"}}}, KindValue, "needs a dict of values"},
				{"not a command", map[string]any{"label_ids": []any{"x"}}, KindValue, "Invalid command"},
				{"not a list", map[string]any{"label_ids": "x"}, KindValue, "expected a list of commands"},
				{"link a missing record", map[string]any{"label_ids": []any{[]any{int64(4), int64(424242)}}}, KindMissing, "test.label(424242,)"},
				{"link a missing line", map[string]any{"line_ids": []any{[]any{int64(4), int64(424242)}}}, KindMissing, "test.order.line(424242,)"},
			}
			for _, c := range cases {
				savepoint(t, env, func() {
					wantErr(t, c.what, env.Write(mo, []int64{f.order}, c.vals), c.kind, c.msg)
				})
			}
			if err := env.Write(mo, []int64{f.order}, map[string]any{"label_ids": false}); err != nil {
				t.Errorf("False for a many2many: %v", err)
			}
		})
	})
}

// TestEngineX2manyCascadeInverse: on a one2many whose inverse many2one is
// required with ondelete cascade (order lines), Odoo's (3, id), (5,) and
// (6, 0, ids) delete the lines they drop instead of emptying their
// required order_id.
func TestEngineX2manyCascadeInverse(t *testing.T) {
	forEachEngineDB(t, func(t *testing.T, r *engineReg) {
		env := r.testEnv(t)
		f := makeEngineFixture(t, env)
		mo := r.Model("test.order")
		cmds := []struct {
			what string
			cmd  []any
			gone []int64
		}{
			{"(3, id)", []any{int64(3), f.line1, int64(0)}, []int64{f.line1}},
			{"(6, 0, ids)", []any{int64(6), int64(0), []any{f.line2}}, []int64{f.line1}},
			{"(5,)", []any{int64(5)}, []int64{f.line1, f.line2}},
		}
		for _, c := range cmds {
			savepoint(t, env, func() {
				err := env.Write(mo, []int64{f.order}, map[string]any{"line_ids": []any{c.cmd}})
				if err != nil {
					t.Errorf("%s on test.order.line_ids (inverse order_id required, ondelete cascade) fails with %q", c.what, err)
				}
				if left, _ := env.existing(r.Model("test.order.line"), c.gone); len(left) != 0 {
					t.Errorf("%s left lines %v", c.what, left)
				}
			})
		}
	})
}
