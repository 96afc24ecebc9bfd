// The race detector makes the pure-Go SQLite ~17x slower on these 66,000
// row statements (6 minutes instead of 21 s) and finds nothing in them that
// the other tests do not run: make test runs this file without -race,
// after the race suite.

//go:build !race

package models

import (
	"context"
	"fmt"
	"testing"
)

// manyIDs is more ids than one statement may bind on either engine:
// SQLite allows 32766 parameters, PostgreSQL 65535.
const manyIDs = 66000

// bulkRecords inserts n rows of model with a name each, through the bulk
// path (a create per row would take minutes under the race detector), and
// returns their ids in insertion order.
func bulkRecords(t *testing.T, r *engineReg, model string, n int) []int64 {
	t.Helper()
	b, err := r.Bulk(model, "name")
	if err != nil {
		t.Fatal(err)
	}
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = []any{fmt.Sprintf("%s %06d", model, i)}
	}
	if err := b.Insert(context.Background(), rows); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	if err := r.DB().Raw(`SELECT "id" FROM ` + quote(r.Model(model).Table) + ` ORDER BY "id"`).Scan(&ids).Error; err != nil {
		t.Fatal(err)
	}
	if len(ids) != n {
		t.Fatalf("%s holds %d rows, want %d", model, len(ids), n)
	}
	return ids
}

// TestEngineManyIDs: the generic methods take more ids than a statement
// can bind (the engine splits its id lists), on both engines: read with
// a many2many and a one2many column, name_get, exists, search and
// search_count on ('id', 'in', ids), write and unlink.
func TestEngineManyIDs(t *testing.T) {
	forEachEngineDB(t, func(t *testing.T, r *engineReg) {
		events := bulkRecords(t, r, "test.event", manyIDs)
		orders := bulkRecords(t, r, "test.order", manyIDs)
		ids := func(list []int64) []any { return []any{toAnyIDs(list)} }
		count := func(v any) int {
			switch x := v.(type) {
			case []*Dict:
				return len(x)
			case []any:
				return len(x)
			case []int64:
				return len(x)
			case int64:
				return int(x)
			}
			t.Fatalf("unexpected result %T", v)
			return 0
		}
		for _, c := range []struct {
			model, method string
			args          []any
			kwargs        map[string]any
		}{
			{"test.event", "read", ids(events), map[string]any{"fields": []any{"name", "tag_ids", "order_id"}}},
			{"test.order", "read", ids(orders), map[string]any{"fields": []any{"name", "line_ids", "label_ids"}}},
			{"test.event", "name_get", ids(events), nil},
			{"test.event", "exists", ids(events), nil},
			{"test.event", "search", []any{[]any{[]any{"id", "in", toAnyIDs(events)}}}, nil},
			{"test.event", "search_count", []any{[]any{[]any{"id", "in", toAnyIDs(events)}}}, nil},
			{"test.event", "search_read", []any{[]any{[]any{"id", "in", toAnyIDs(events)}}, []any{"name"}}, nil},
		} {
			t.Run(c.model+"."+c.method, func(t *testing.T) {
				env := r.testEnv(t)
				res, err := env.call(c.model, c.method, c.args, c.kwargs)
				if err != nil {
					t.Fatalf("%s: %v", c.method, err)
				}
				if n := count(res); n != manyIDs {
					t.Errorf("%s returned %d records, want %d", c.method, n, manyIDs)
				}
			})
		}
		t.Run("write then unlink", func(t *testing.T) {
			env := r.testEnv(t)
			if _, err := env.call("test.event", "write", []any{toAnyIDs(events), map[string]any{"count": int64(7)}}, nil); err != nil {
				t.Fatalf("write: %v", err)
			}
			n, err := env.Count(r.Model("test.event"), []any{[]any{"count", "=", int64(7)}}, 0)
			if err != nil || n != manyIDs {
				t.Errorf("after write, %d records have count 7 (%v), want %d", n, err, manyIDs)
			}
			if _, err := env.call("test.event", "unlink", []any{toAnyIDs(events)}, nil); err != nil {
				t.Fatalf("unlink: %v", err)
			}
			if n, err := env.Count(r.Model("test.event"), []any{}, 0); err != nil || n != 0 {
				t.Errorf("after unlink, %d records are left (%v)", n, err)
			}
		})
	})
}
