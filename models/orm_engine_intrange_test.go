package models

import (
	"context"
	"math"
	"testing"
)

// TestEngineIntegerRange: an integer field holds PostgreSQL's integer, as
// Odoo's does (int4); a value beyond it is a ValidationError naming the
// field and the range on both engines, wherever it comes from (create,
// write, a float or a string, the bulk insert). A many2one beyond int64
// is refused the same way, and one to a record that does not exist is a
// ValidationError rather than a database error. Domains compare integer
// fields with values beyond the range without an error.
func TestEngineIntegerRange(t *testing.T) {
	forEachEngineDB(t, func(t *testing.T, r *engineReg) {
		ctx := context.Background()
		for _, c := range []struct {
			name string
			vals map[string]any
			kind Kind
			msg  []string
		}{
			{"max int4", map[string]any{"qty": int64(math.MaxInt32)}, 0, nil},
			{"min int4", map[string]any{"qty": int64(math.MinInt32)}, 0, nil},
			{"2^31", map[string]any{"qty": int64(1) << 31}, KindValidation, []string{"qty", "2147483648", "-2147483648", "2147483647"}},
			{"below", map[string]any{"qty": int64(math.MinInt32) - 1}, KindValidation, []string{"qty", "-2147483649"}},
			{"float", map[string]any{"qty": 3e9}, KindValidation, []string{"qty", "3000000000"}},
			{"huge float", map[string]any{"qty": 1e300}, KindValidation, []string{"qty"}},
			{"string", map[string]any{"qty": "3000000000"}, KindValidation, []string{"qty"}},
			{"beyond int64 string", map[string]any{"qty": "99999999999999999999"}, KindValidation, []string{"qty"}},
			{"many2one beyond int64", map[string]any{"category_id": 1e20}, KindValidation, []string{"category_id", "9223372036854775807"}},
			{"many2one missing", map[string]any{"category_id": beyondInt4}, KindValidation, []string{"does not exist"}},
		} {
			t.Run(c.name, func(t *testing.T) {
				vals := map[string]any{"name": "range " + c.name}
				for k, v := range c.vals {
					vals[k] = v
				}
				_, err := r.Execute(ctx, Call{UID: AdminUID, Model: "test.order", Method: "create", Args: []any{vals}})
				if c.kind == 0 {
					if err != nil {
						t.Fatalf("create %v: %v", c.vals, err)
					}
					return
				}
				wantErr(t, "create", err, c.kind, c.msg...)
				if t.Failed() {
					return
				}
				var id int64
				if err := r.Transaction(ctx, AdminUID, nil, func(env *Env) error {
					var err error
					id, err = env.Create(r.Model("test.order"), map[string]any{"name": "range write " + c.name})
					return err
				}); err != nil {
					t.Fatal(err)
				}
				_, err = r.Execute(ctx, Call{UID: AdminUID, Model: "test.order", Method: "write", Args: []any{[]any{id}, c.vals}})
				wantErr(t, "write", err, c.kind, c.msg...)
			})
		}
		b, err := r.Bulk("test.event", "name", "count")
		if err != nil {
			t.Fatal(err)
		}
		wantErr(t, "bulk insert", b.Insert(ctx, [][]any{{"bulk", int64(1) << 40}}), KindValidation, "count")

		env := r.testEnv(t)
		three := env.mustCreate(t, "test.order", map[string]any{"name": "three", "qty": int64(3)})
		for _, c := range []struct {
			domain []any
			want   bool // three matches
		}{
			{[]any{L("qty", ">", 3e9)}, false},
			{[]any{L("qty", ">=", int64(1)<<40)}, false},
			{[]any{L("qty", "<", 3e9)}, true},
			{[]any{L("qty", "<=", 1e300)}, true},
			{[]any{L("qty", ">", -1e300)}, true},
			{[]any{L("qty", "<", int64(math.MinInt32)-1)}, false},
			{[]any{L("qty", "=", int64(1)<<40)}, false},
			{[]any{L("qty", "!=", int64(1)<<40)}, true},
			{[]any{L("qty", "in", []any{3e9, int64(3)})}, true},
			{[]any{L("qty", "in", []any{3e9})}, false},
			{[]any{L("qty", "not in", []any{3e9})}, true},
			{[]any{L("id", "<", 1e300)}, true},
			{[]any{L("category_id", "!=", 1e20)}, true},
		} {
			ids, err := env.tsearch("test.order", append(c.domain, L("id", "=", three)), 0, 0, "")
			if err != nil {
				t.Errorf("search %v: %v", c.domain, err)
				continue
			}
			if got := len(ids) == 1; got != c.want {
				t.Errorf("search %v matches the record: %v, want %v", c.domain, got, c.want)
			}
		}
	})
}
