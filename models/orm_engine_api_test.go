package models

import (
	"bytes"
	"context"
	"reflect"
	"slices"
	"testing"
	"time"
)

// TestEngineRecordAPI: the record API addons build on (api.go): Create,
// Load, Search, SearchRead, Count, DisplayNames, SetColumns, DeleteWhere,
// UpdateWhere, Call and WithUser.
func TestEngineRecordAPI(t *testing.T) {
	forEachEngineDB(t, func(t *testing.T, r *engineReg) {
		mo, ml := r.Model("test.order"), r.Model("test.order.line")
		setup := func(t *testing.T) (*Env, engineFixture, *Env, *Env) {
			env := r.testEnv(t)
			f := makeEngineFixture(t, env)
			return env, f, env.WithUser(makeUser(t, env, "tester", groupTestUser)), env.WithUser(makeUser(t, env, "internal", GroupUser))
		}

		t.Run("Create", func(t *testing.T) {
			_, f, tester, internal := setup(t)
			id, err := tester.Create(mo, map[string]any{"name": "T", "category_id": f.misc})
			if err != nil || id <= f.order {
				t.Fatalf("tester Create = %d, %v", id, err)
			}
			got := readOne(t, tester, "test.order", id, "state", "category_label", "user_id")
			if got["state"] != "draft" || got["category_label"] != "[Misc] T" || !reflect.DeepEqual(got["user_id"], []any{tester.UID, "Tester"}) {
				t.Errorf("Create applied defaults and computes: %v", got)
			}
			_, err = internal.Create(mo, map[string]any{"name": "I"})
			wantErr(t, "internal user Create", err, KindAccess, "not allowed to create 'Test Order'")
		})

		t.Run("Load", func(t *testing.T) {
			env, f, _, internal := setup(t)
			b := env.mustCreate(t, "test.order", map[string]any{"name": "B", "data": "AP94"})
			recs, err := internal.Load(mo, []int64{b, 424242, f.order, b})
			if err != nil {
				t.Fatalf("Load checks no access: %v", err)
			}
			if len(recs) != 2 || recs[0].ID != b || recs[1].ID != f.order {
				t.Fatalf("Load keeps the order of ids, drops missing and repeated ones: %v", recs)
			}
			o := recs[1]
			if o.Str("name") != "SO1" || o.Int("category_id") != f.tools || o.Float("amount") != 10.5 || o.Int("qty") != 3 || !o.Bool("active") ||
				!o.Time("date_order").Equal(time.Date(2024, 3, 4, 5, 6, 7, 0, time.UTC)) || o.Get("note") != nil || o.Str("category_label") != "[Tools] SO1" {
				t.Errorf("loaded values: %v", o.vals)
			}
			if !bytes.Equal(recs[0].Bytes("data"), []byte{0, 0xff, 'x'}) {
				t.Errorf("loaded binary = %v", recs[0].Bytes("data"))
			}
			recs, err = env.Load(mo, []int64{f.order}, "name")
			if err != nil || recs[0].Str("name") != "SO1" || recs[0].Get("amount") != nil {
				t.Errorf("Load of one field loaded %v, %v", recs, err)
			}
			_, err = env.Load(mo, []int64{f.order}, "nope")
			wantErr(t, "Load of an unknown field", err, KindValue, "nope")
			if recs, err := env.Load(mo, nil); err != nil || len(recs) != 0 {
				t.Errorf("Load of no id = %v, %v", recs, err)
			}
		})

		t.Run("Search SearchRead Count DisplayNames", func(t *testing.T) {
			env, f, _, internal := setup(t)
			b := env.mustCreate(t, "test.order", map[string]any{"name": "B", "amount": 1.0})
			c := env.mustCreate(t, "test.order", map[string]any{"name": "C", "amount": 2.0, "active": false})
			cases := []struct {
				domain        []any
				offset, limit int64
				order         string
				want          []int64
			}{
				{nil, 0, 0, "", []int64{b, f.order}},
				{nil, 1, 0, "", []int64{f.order}},
				{nil, 0, 1, "amount desc", []int64{f.order}},
				{[]any{L("active", "=", false)}, 0, 0, "", []int64{c}},
				{[]any{"|", L("amount", "<", 1.5), L("category_id.name", "=", "Tools")}, 0, 0, "id desc", []int64{b, f.order}},
			}
			for _, k := range cases {
				if got, err := env.Search(mo, k.domain, k.offset, k.limit, k.order); err != nil || !reflect.DeepEqual(got, k.want) {
					t.Errorf("Search %v %d %d %q = %v, %v; want %v", k.domain, k.offset, k.limit, k.order, got, err, k.want)
				}
			}
			_, err := env.Search(mo, []any{L("amount", "~", 1)}, 0, 0, "")
			wantErr(t, "Search with a bad operator", err, KindValue)
			_, err = internal.Search(mo, nil, 0, 0, "")
			wantErr(t, "internal user Search", err, KindAccess)
			if n, err := env.Count(mo, nil, 0); err != nil || n != 2 {
				t.Errorf("Count = %d, %v", n, err)
			}
			if n, _ := env.Count(r.Model("test.order.line"), nil, 1); n != 1 {
				t.Errorf("Count with limit 1 = %d", n)
			}
			rows, err := env.SearchRead(mo, []any{L("name", "=", "SO1")}, []string{"category_id", "name"}, 0, 0, "")
			if err != nil || len(rows) != 1 {
				t.Fatalf("SearchRead = %v, %v", rows, err)
			}
			if got := dictMap(rows[0]); !reflect.DeepEqual(got, map[string]any{"id": f.order, "category_id": []any{f.tools, "Tools"}, "name": "SO1"}) {
				t.Errorf("SearchRead row = %v", got)
			}
			names, err := env.DisplayNames(mo, []int64{b, f.order, 424242})
			if err != nil || !reflect.DeepEqual(names, map[int64]string{b: "B", f.order: "SO1"}) {
				t.Errorf("DisplayNames = %v, %v", names, err)
			}
		})

		t.Run("SetColumns", func(t *testing.T) {
			env, f, _, _ := setup(t)
			r.log.take()
			n, err := env.SetColumns(ml, []int64{f.line1, f.line2}, map[string]any{"qty": int64(100)})
			if err != nil || n != 2 {
				t.Fatalf("SetColumns = %d, %v", n, err)
			}
			if got := readOne(t, env, "test.order.line", f.line1, "qty", "subtotal"); got["qty"] != int64(100) || got["subtotal"] != 2.0 {
				t.Errorf("SetColumns recomputed or did not write: %v", got)
			}
			if _, err := env.SetColumns(mo, []int64{f.order}, map[string]any{"amount": -5.0, "priority": int64(99)}); err != nil {
				t.Errorf("SetColumns ran a constraint: %v", err)
			}
			if _, err := env.SetColumns(mo, []int64{f.order}, map[string]any{"write_date": "2000-01-02 03:04:05", "date_order": "2001-02-03T04:05:06"}); err != nil {
				t.Fatal(err)
			}
			if _, err := env.SetColumns(mo, []int64{f.order}, map[string]any{"note": "quiet"}); err != nil {
				t.Fatal(err)
			}
			got := readOne(t, env, "test.order", f.order, "write_date", "date_order", "note", "amount")
			if !reflect.DeepEqual(got, map[string]any{"id": f.order, "write_date": "2000-01-02 03:04:05", "date_order": "2001-02-03 04:05:06", "note": "quiet", "amount": -5.0}) {
				t.Errorf("after SetColumns: %v (write_date only when named)", got)
			}
			if calls := r.log.take(); len(calls) != 0 {
				t.Errorf("SetColumns ran hooks: %v", calls)
			}
			gone := env.mustCreate(t, "test.order", map[string]any{"name": "gone"})
			if err := env.Unlink(mo, []int64{gone}); err != nil {
				t.Fatal(err)
			}
			if n, err := env.SetColumns(mo, []int64{gone}, map[string]any{"note": "x"}); err != nil || n != 0 {
				t.Errorf("SetColumns on a deleted record = %d, %v; want 0 rows", n, err)
			}
			for _, vals := range []map[string]any{{"nope": 1}, {"double": 1.0}, {"line_ids": []any{}}} {
				_, err := env.SetColumns(mo, []int64{f.order}, vals)
				wantErr(t, "SetColumns of a non-column", err, KindValue, "Invalid field")
			}
			_, err = env.SetColumns(mo, []int64{f.order}, map[string]any{"qty": "many"})
			wantErr(t, "SetColumns converts", err, KindValue, "qty")
		})

		t.Run("DeleteWhere UpdateWhere", func(t *testing.T) {
			env, f, _, internal := setup(t)
			keep := env.mustCreate(t, "test.order", map[string]any{"name": "keep", "line_ids": []any{[]any{int64(0), int64(0), map[string]any{"qty": int64(1)}}}})
			if err := env.Write(mo, []int64{f.order}, map[string]any{"state": "done"}); err != nil {
				t.Fatal(err)
			}
			n, err := internal.UpdateWhere(ml, []any{L("order_id.state", "=", "done")}, map[string]any{"qty": int64(7), "price": 1.0})
			if err != nil || n != 2 {
				t.Fatalf("UpdateWhere = %d, %v", n, err)
			}
			if got := readOne(t, env, "test.order.line", f.line1, "qty", "subtotal"); got["qty"] != int64(7) || got["subtotal"] != 2.0 {
				t.Errorf("UpdateWhere recomputed or did not write: %v", got)
			}
			if n, err := env.UpdateWhere(mo, []any{L("id", "=", keep)}, map[string]any{"amount": -1.0}); err != nil || n != 1 {
				t.Errorf("UpdateWhere runs no constraint: %d, %v", n, err)
			}
			_, err = env.UpdateWhere(mo, nil, map[string]any{"nope": 1})
			wantErr(t, "UpdateWhere of an unknown field", err, KindValue, "nope")
			_, err = env.UpdateWhere(mo, []any{L("nope", "=", 1)}, map[string]any{"note": "x"})
			wantErr(t, "UpdateWhere with a bad domain", err, KindValue, "nope")
			r.log.take()
			n, err = internal.DeleteWhere(mo, []any{L("state", "=", "done"), L("line_ids.qty", ">", int64(0))})
			if err != nil || n != 1 {
				t.Fatalf("DeleteWhere of the done order = %d, %v (no access check, no BeforeUnlink)", n, err)
			}
			if calls := r.log.take(); len(calls) != 0 {
				t.Errorf("DeleteWhere ran hooks: %v", calls)
			}
			if ex, _ := env.existing(ml, []int64{f.line1, f.line2}); len(ex) != 0 {
				t.Errorf("the database's cascade did not delete the lines: %v", ex)
			}
			if ex, _ := env.existing(mo, []int64{keep}); len(ex) != 1 {
				t.Errorf("DeleteWhere deleted another order")
			}
			_, err = env.DeleteWhere(mo, []any{L("nope", "=", 1)})
			wantErr(t, "DeleteWhere with a bad domain", err, KindValue, "nope")
		})

		t.Run("Call WithUser", func(t *testing.T) {
			env, f, tester, internal := setup(t)
			got, err := tester.Call(mo, "action_done", []any{[]any{f.order}}, map[string]any{"note": "by tester"})
			if err != nil || got != true {
				t.Fatalf("Call action_done = %v, %v", got, err)
			}
			if o := readOne(t, env, "test.order", f.order, "state", "note", "write_uid"); o["state"] != "done" || o["note"] != "by tester" ||
				!reflect.DeepEqual(o["write_uid"], []any{tester.UID, "Tester"}) {
				t.Errorf("after action_done: %v", o)
			}
			_, err = internal.Call(mo, "action_done", []any{f.order}, nil)
			wantErr(t, "internal user action_done", err, KindAccess)
			if n, err := env.Call(mo, "search_count", []any{[]any{}}, nil); err != nil || n != int64(1) {
				t.Errorf("Call of a generic method = %v, %v", n, err)
			}
			_, err = env.Call(mo, "nope", nil, nil)
			wantErr(t, "Call of an unknown method", err, KindAttribute, "The method 'nope' does not exist on the model 'test.order'")
			_, err = env.Call(mo, "action_done", nil, nil)
			wantErr(t, "record-level Call without ids", err, KindType, "action_done() missing 1 required positional argument: 'ids'")
			_, err = env.Call(mo, "action_done", []any{f.order, "a", "b"}, nil)
			wantErr(t, "Call with too many arguments", err, KindType, "positional arguments")

			if tester.IsSuperuser() || !env.WithUser(Superuser).IsSuperuser() || env.Sudo().WithUser(internal.UID).IsSuperuser() {
				t.Errorf("WithUser must take the user's rights: su flag not reset")
			}
			for _, c := range []struct {
				env   *Env
				group string
				want  bool
			}{
				{tester, groupTestUser, true}, {tester, GroupUser, true}, {tester, GroupSystem, false},
				{internal, groupTestUser, false}, {env.WithUser(AdminUID), groupTestUser, true},
			} {
				if got := c.env.HasGroup(c.group); got != c.want {
					t.Errorf("uid %d HasGroup(%s) = %v, want %v", c.env.UID, c.group, got, c.want)
				}
			}
			if _, err := env.Sudo().WithUser(internal.UID).Read(mo, []int64{f.order}, nil, ""); KindOf(err) != KindAccess {
				t.Errorf("a Sudo env WithUser reads with the user's rights: %v", err)
			}
		})
	})
}

// TestEngineTransactions: Begin's end commits or rolls back; what was
// queued with AfterCommit or NotifyAfterCommit runs, in order, only after
// a commit, never after a rollback; Transaction does the same around a
// function; outside a transaction both run at once.
func TestEngineTransactions(t *testing.T) {
	forEachEngineDB(t, func(t *testing.T, r *engineReg) {
		ctx := context.Background()
		mo := r.Model("test.order")
		exists := func(name string) bool {
			t.Helper()
			var n int64
			err := r.Read(ctx, Superuser, nil, func(env *Env) error {
				var err error
				n, err = env.Count(mo, []any{L("name", "=", name)}, 0)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return n == 1
		}
		note := func(typ string) Notification {
			return Notification{Channel: "test.orders", Type: typ, Payload: map[string]any{"t": typ}}
		}
		types := func(notes []Notification) []string {
			var out []string
			for _, n := range notes {
				out = append(out, n.Type)
			}
			return out
		}
		for _, commit := range []bool{true, false} {
			env, end, err := r.Begin(ctx, AdminUID)
			if err != nil {
				t.Fatal(err)
			}
			if env.UID != AdminUID || env.IsSuperuser() {
				t.Errorf("Begin env: uid %d, superuser %v", env.UID, env.IsSuperuser())
			}
			var ran []int
			name := "committed"
			if !commit {
				name = "rolled back"
			}
			if _, err := env.Create(mo, map[string]any{"name": name}); err != nil {
				t.Fatal(err)
			}
			visible := false
			env.AfterCommit(func() { ran, visible = append(ran, 1), exists(name) })
			env.NotifyAfterCommit(note("created"), note("again"))
			env.AfterCommit(func() { ran = append(ran, 2) })
			if len(ran) != 0 || len(r.bus.take()) != 0 {
				t.Errorf("after-commit work ran before the end of the transaction")
			}
			if err := end(commit); err != nil {
				t.Fatalf("end(%v): %v", commit, err)
			}
			notes := r.bus.take()
			if commit {
				if !slices.Equal(ran, []int{1, 2}) || !slices.Equal(types(notes), []string{"created", "again"}) {
					t.Errorf("after commit: ran %v, notified %v", ran, types(notes))
				}
				if !visible {
					t.Errorf("AfterCommit work ran before the commit: the order was not visible outside the transaction")
				}
				if notes[0].Channel != "test.orders" || !reflect.DeepEqual(notes[0].Payload, map[string]any{"t": "created"}) {
					t.Errorf("notification = %+v", notes[0])
				}
			} else if len(ran) != 0 || len(notes) != 0 {
				t.Errorf("after rollback: ran %v, notified %v", ran, types(notes))
			}
			if exists(name) != commit {
				t.Errorf("order %q exists after end(%v): %v", name, commit, !commit)
			}
		}

		ran := false
		err := r.Transaction(ctx, AdminUID, nil, func(env *Env) error {
			if _, err := env.Create(mo, map[string]any{"name": "failed"}); err != nil {
				return err
			}
			env.AfterCommit(func() { ran = true })
			env.NotifyAfterCommit(note("failed"))
			return UserErrorf("changed my mind")
		})
		if KindOf(err) != KindUser || err.Error() != "changed my mind" {
			t.Errorf("Transaction returns fn's error as is: %v", err)
		}
		if ran || len(r.bus.take()) != 0 || exists("failed") {
			t.Errorf("a failed Transaction committed or ran its after-commit work")
		}
		err = r.Transaction(ctx, AdminUID, nil, func(env *Env) error {
			_, err := env.Create(mo, map[string]any{"name": "done", "amount": -1.0})
			return err
		})
		wantErr(t, "Transaction with a failing constraint", err, KindValidation, "Amount must not be negative")
		if exists("done") {
			t.Errorf("a create whose constraint failed was committed")
		}
		err = r.Transaction(ctx, AdminUID, nil, func(env *Env) error {
			env.AfterCommit(func() { ran = true })
			env.NotifyAfterCommit(note("ok"))
			_, err := env.Create(mo, map[string]any{"name": "ok"})
			return err
		})
		if err != nil || !ran || !slices.Equal(types(r.bus.take()), []string{"ok"}) || !exists("ok") {
			t.Errorf("a successful Transaction: %v, ran %v", err, ran)
		}

		// Outside a transaction: at once.
		_ = r.Read(ctx, AdminUID, nil, func(env *Env) error {
			ran = false
			env.AfterCommit(func() { ran = true })
			env.NotifyAfterCommit(note("now"))
			if !ran || !slices.Equal(types(r.bus.take()), []string{"now"}) {
				t.Errorf("outside a transaction, after-commit work must run at once")
			}
			return nil
		})
		r.Notify(ctx)
		r.Notify(ctx, note("direct"))
		if got := types(r.bus.take()); !slices.Equal(got, []string{"direct"}) {
			t.Errorf("Registry.Notify delivered %v", got)
		}
	})
}
