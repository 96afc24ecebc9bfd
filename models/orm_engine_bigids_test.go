package models

import (
	"context"
	"testing"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/internal/testdb"
)

// beyondInt4 is an id past PostgreSQL's integer (2^31 - 1): what a
// table reaches after two billion inserts.
const beyondInt4 = int64(1)<<31 + 10

// setNextID makes the next record of model get id next.
func setNextID(t *testing.T, r *engineReg, model string, next int64) {
	t.Helper()
	db, err := r.DB().DB()
	if err != nil {
		t.Fatal(err)
	}
	testdb.SetNextID(t, db, string(r.Dialect()), r.Model(model).Table, next)
}

// TestEngineBigIDs: records numbered beyond 2^31 are created, referenced
// by many2one and many2many columns (through create and the bulk insert),
// read, searched, written and deleted on both engines: ids and the
// columns pointing at them are 64-bit.
func TestEngineBigIDs(t *testing.T) {
	forEachEngineDB(t, func(t *testing.T, r *engineReg) {
		ctx := context.Background()
		for i, model := range []string{"test.order", "test.label", "test.event", "test.order.line"} {
			setNextID(t, r, model, beyondInt4+int64(i)*1000)
		}
		var label, order, event int64
		err := r.Transaction(ctx, Superuser, nil, func(env *Env) error {
			label = env.mustCreate(t, "test.label", map[string]any{"name": "big"})
			order = env.mustCreate(t, "test.order", map[string]any{"name": "big order", "label_ids": []any{[]any{int64(4), label}},
				"line_ids": []any{[]any{int64(0), int64(0), map[string]any{"name": "l", "qty": int64(2)}}}})
			event = env.mustCreate(t, "test.event", map[string]any{"name": "e", "order_id": order, "tag_ids": []any{[]any{int64(6), int64(0), []any{label}}}})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for name, id := range map[string]int64{"label": label, "order": order, "event": event} {
			if id < beyondInt4 {
				t.Fatalf("%s id %d, want one beyond 2^31", name, id)
			}
		}
		// The bulk insert path (COPY on PostgreSQL) with a big many2one.
		b, err := r.Bulk("test.event", "name", "order_id")
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Insert(ctx, [][]any{{"bulk", order}}); err != nil {
			t.Fatalf("bulk insert: %v", err)
		}
		var n int64
		if err := r.DB().Raw(`SELECT COUNT(*) FROM "test_event" WHERE "order_id" = ? AND "name" = ?`, order, "bulk").Scan(&n).Error; err != nil || n != 1 {
			t.Errorf("bulk rows with the big order: %d, %v", n, err)
		}

		env := r.testEnv(t)
		got := readOne(t, env, "test.event", event, "order_id", "tag_ids")
		if o, ok := got["order_id"].([]any); !ok || o[0] != order {
			t.Errorf("order_id = %v, want [%d, ...]", got["order_id"], order)
		}
		if tags, ok := got["tag_ids"].([]int64); !ok || len(tags) != 1 || tags[0] != label {
			t.Errorf("tag_ids = %v, want [%d]", got["tag_ids"], label)
		}
		lines := readOne(t, env, "test.order", order, "line_ids", "total_qty")
		if l, ok := lines["line_ids"].([]int64); !ok || len(l) != 1 || l[0] < beyondInt4 || lines["total_qty"] != int64(2) {
			t.Errorf("order lines = %v", lines)
		}
		ids, err := env.tsearch("test.event", []any{L("id", ">=", float64(beyondInt4)), L("order_id", "=", order), L("name", "=", "e")}, 0, 0, "")
		if err != nil || len(ids) != 1 || ids[0] != event {
			t.Errorf("search on big ids = %v, %v, want [%d]", ids, err, event)
		}
		if err := env.Write(r.Model("test.event"), []int64{event}, map[string]any{"name": "e2"}); err != nil {
			t.Errorf("write: %v", err)
		}
		if err := env.Unlink(r.Model("test.event"), []int64{event}); err != nil {
			t.Errorf("unlink: %v", err)
		}
	})
}
