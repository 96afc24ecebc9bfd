package models

import (
	"context"
	"testing"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/internal/testdb"
)

// TestMigrateWidensInt4IDs: a PostgreSQL database made before ids were
// bigint (SERIAL ids, INTEGER many2ones and many2many columns, as the old
// DDL made them) is widened by Migrate, keeps its rows, and then takes
// records numbered beyond 2^31 that point at each other. A second Migrate
// finds nothing left to do.
func TestMigrateWidensInt4IDs(t *testing.T) {
	e := &engineReg{log: &hookLog{}, bus: &testBus{}}
	e.Registry = openRegistry(t, testdb.Postgres(t), Options{Notifier: e.bus}, engineAddons(e.log)...)
	ctx := context.Background()
	db := e.DB()
	old := []string{"test.label", "test.order", "test.event"}
	for _, name := range old {
		mustExec(t, db, `CREATE TABLE `+quote(e.Model(name).Table)+` ("id" SERIAL PRIMARY KEY)`)
	}
	mustExec(t, db, `ALTER TABLE "test_event" ADD COLUMN "order_id" INTEGER REFERENCES "test_order" ("id") ON DELETE SET NULL`)
	tags := e.Model("test.event").Field("tag_ids")
	own, other := m2mColumns(tags)
	mustExec(t, db, `CREATE TABLE `+quote(tags.RelTable)+` (`+quote(own)+` INTEGER NOT NULL REFERENCES "test_event" ("id") ON DELETE CASCADE, `+
		quote(other)+` INTEGER NOT NULL REFERENCES "test_label" ("id") ON DELETE CASCADE, PRIMARY KEY (`+quote(own)+`, `+quote(other)+`))`)
	mustExec(t, db, `INSERT INTO "test_order" DEFAULT VALUES`)
	mustExec(t, db, `INSERT INTO "test_label" DEFAULT VALUES`)
	mustExec(t, db, `INSERT INTO "test_event" ("order_id") VALUES (1)`)
	mustExec(t, db, `INSERT INTO `+quote(tags.RelTable)+` VALUES (1, 1)`)

	for range 2 {
		if err := e.Migrate(ctx); err != nil {
			t.Fatalf("migrate: %v", err)
		}
	}
	if _, err := e.Init(ctx, "admin"); err != nil {
		t.Fatalf("init: %v", err)
	}
	for table, cols := range map[string][]string{"test_label": {"id"}, "test_order": {"id"}, "test_event": {"id", "order_id"}, tags.RelTable: {own, other}} {
		for _, col := range cols {
			var typ string
			if err := db.Raw(`SELECT data_type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? AND column_name = ?`, table, col).Scan(&typ).Error; err != nil || typ != "bigint" {
				t.Errorf("%s.%s is %q after the migration (%v), want bigint", table, col, typ, err)
			}
		}
	}
	var int4Seqs int64
	if err := db.Raw(`SELECT COUNT(*) FROM pg_sequence WHERE seqtypid = 'integer'::regtype`).Scan(&int4Seqs).Error; err != nil || int4Seqs != 0 {
		t.Errorf("%d int4 sequences left (%v)", int4Seqs, err)
	}

	env := e.testEnv(t)
	if got := readOne(t, env, "test.event", 1, "order_id", "tag_ids"); got["tag_ids"] == nil || len(got["tag_ids"].([]int64)) != 1 {
		t.Errorf("the old event after the migration: %v", got)
	}
	for i, model := range old {
		setNextID(t, e, model, beyondInt4+int64(i)*1000)
	}
	label := env.mustCreate(t, "test.label", map[string]any{"name": "big"})
	order := env.mustCreate(t, "test.order", map[string]any{"name": "big"})
	event := env.mustCreate(t, "test.event", map[string]any{"name": "big", "order_id": order, "tag_ids": []any{[]any{int64(6), int64(0), []any{label}}}})
	got := readOne(t, env, "test.event", event, "order_id", "tag_ids")
	if o, ok := got["order_id"].([]any); !ok || o[0] != order || event < beyondInt4 {
		t.Errorf("event %d: order_id = %v, want [%d, ...]", event, got["order_id"], order)
	}
	if tags, ok := got["tag_ids"].([]int64); !ok || len(tags) != 1 || tags[0] != label {
		t.Errorf("event %d: tag_ids = %v, want [%d]", event, got["tag_ids"], label)
	}
}
