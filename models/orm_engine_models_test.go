package models

// The engine's own ORM suite runs on the models declared here, as Odoo
// tests its ORM on test modules (test_orm, test_new_api), never on the
// product's addons: a category, an order with lines and labels, notes
// under record rules, a read-only log and an event table for bulk
// inserts, plus a second addon extending test.order. Hooks write to a
// hookLog the tests read; notifications go to a testBus.

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/internal/testdb"
)

// hookLog records, in order, what the test models' hooks were told.
type hookLog struct {
	mu    sync.Mutex
	calls []string
}

func (h *hookLog) add(format string, args ...any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls = append(h.calls, fmt.Sprintf(format, args...))
}

// take returns the calls recorded since the last take.
func (h *hookLog) take() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := h.calls
	h.calls = nil
	return out
}

// testBus is a Notifier keeping what it was given.
type testBus struct {
	mu    sync.Mutex
	notes []Notification
}

func (b *testBus) Notify(_ context.Context, notes ...Notification) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.notes = append(b.notes, notes...)
}

func (b *testBus) take() []Notification {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.notes
	b.notes = nil
	return out
}

// engineReg is a registry on the engine test models, with the log of
// their hooks and the bus it notifies.
type engineReg struct {
	*Registry
	log *hookLog
	bus *testBus
}

// engineAddons are the test addon (domain and engine test models) and
// the extension addon, fresh, their hooks writing to log.
func engineAddons(log *hookLog) []Addon {
	return []Addon{testAddon{append(domainTestModels(), engineModels(log)...)}, extAddon{log}}
}

// newEngineReg builds a fresh registry of kind on the engine addons. On
// SQLite its database is a copy of a template migrated and initialised
// once per test binary: initialising anew (ir.model.fields rows for some
// 300 fields) costs over a second per registry under the race detector.
func newEngineReg(t testing.TB, kind string) *engineReg {
	t.Helper()
	e := &engineReg{log: &hookLog{}, bus: &testBus{}}
	opts := Options{Notifier: e.bus}
	if kind != "sqlite" {
		e.Registry = newRegistryWith(t, kind, opts, engineAddons(e.log)...)
		e.bus.take() // Init's notes (rights changed as it made the users), which the SQLite template's copies never hear
		return e
	}
	engineTemplate.once.Do(func() { engineTemplate.data, engineTemplate.err = makeEngineTemplate() })
	if engineTemplate.err != nil {
		t.Fatalf("engine template database: %v", engineTemplate.err)
	}
	path := filepath.Join(t.TempDir(), "test.db")
	if err := os.WriteFile(path, engineTemplate.data, 0o600); err != nil {
		t.Fatalf("copy the engine template database: %v", err)
	}
	e.Registry = openRegistry(t, "sqlite:"+path, opts, engineAddons(e.log)...)
	// Migrating a migrated database changes nothing; Init's only state
	// outside the database is the session secret.
	if err := e.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if err := e.loadSecret(context.Background()); err != nil {
		t.Fatalf("load secret: %v", err)
	}
	return e
}

// engineTemplate is the SQLite file of a migrated, initialised engine
// registry; the error is kept rather than failing inside Do, so that every
// test sees it.
var engineTemplate struct {
	once sync.Once
	data []byte
	err  error
}

// makeEngineTemplate builds the template in a folder of its own, gone
// when it returns, and returns the database file.
func makeEngineTemplate() ([]byte, error) {
	dir, err := os.MkdirTemp("", "engine-template")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "template.db")
	db, d, err := OpenDB("sqlite:" + path)
	if err != nil {
		return nil, err
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	defer sqlDB.Close()
	r, err := New(Options{DB: db, Dialect: d, Logger: slog.New(slog.DiscardHandler), HashCost: 4}, engineAddons(&hookLog{})...)
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	if err := r.Migrate(ctx); err != nil {
		return nil, err
	}
	if _, err := r.Init(ctx, "admin"); err != nil {
		return nil, err
	}
	// Everything into the main file, which is all that is copied.
	if err := db.Exec("PRAGMA wal_checkpoint(TRUNCATE)").Error; err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	return os.ReadFile(path)
}

// forEachEngineDB runs fn on a fresh engine registry per database kind.
func forEachEngineDB(t *testing.T, fn func(t *testing.T, r *engineReg)) {
	for _, kind := range testdb.Kinds(t) {
		t.Run(kind, func(t *testing.T) { fn(t, newEngineReg(t, kind)) })
	}
}

var orderStates = Choices("draft", "Draft", "done", "Done")

// categoryLabel is test.order's stored computed label: "[category] name",
// false without a category. It reads the category, so it depends on its
// name across models.
func categoryLabel(env *Env, rec *Record) (any, error) {
	id := rec.Int("category_id")
	if id == 0 {
		return false, nil
	}
	cats, err := env.Load(env.Registry().Model("test.category"), []int64{id}, "name")
	if err != nil || len(cats) == 0 {
		return false, err
	}
	return "[" + cats[0].Str("name") + "] " + rec.Str("name"), nil
}

// totalQty sums the order's line quantities, a computed field depending
// on a one2many.
func totalQty(env *Env, rec *Record) (any, error) {
	lines := env.Registry().Model("test.order.line")
	ids, err := env.Search(lines, []any{[]any{"order_id", "=", rec.ID}}, 0, 0, "")
	if err != nil {
		return nil, err
	}
	recs, err := env.Load(lines, ids, "qty")
	if err != nil {
		return nil, err
	}
	var n int64
	for _, l := range recs {
		n += l.Int("qty")
	}
	return n, nil
}

func engineModels(log *hookLog) []*Model {
	return []*Model{
		{
			Name: "test.category", Description: "Test Category", Order: "sequence, name",
			Fields: []*Field{
				{Name: "name", Type: Char, Required: true},
				{Name: "sequence", Type: Integer},
			},
			Access: map[string]string{groupTestUser: "r", GroupSystem: "rwcu"},
		},
		{
			Name: "test.order", Description: "Test Order", Order: "name, id",
			Fields: []*Field{
				{Name: "name", Type: Char, Required: true, String: "Order Reference"},
				{Name: "ref", Type: Char, Unique: true, NoCopy: true},
				{Name: "code", Type: Char, Size: 8, Help: "Short code"},
				{Name: "state", Type: Selection, Selection: orderStates, Default: Constant("draft")},
				{Name: "category_id", Type: Many2one, Relation: "test.category"},
				{Name: "category_label", Type: Char, Compute: categoryLabel, Depends: []string{"name", "category_id.name"}},
				{Name: "amount", Type: Float},
				{Name: "qty", Type: Integer},
				{Name: "double", Type: Float, NotStored: true, Compute: func(_ *Env, rec *Record) (any, error) { return 2 * rec.Float("amount"), nil }},
				{Name: "date_order", Type: Datetime, Default: Constant(time.Date(2024, 3, 4, 5, 6, 7, 0, time.UTC))},
				{Name: "day", Type: Date},
				{Name: "note", Type: Text},
				{Name: "data", Type: Binary},
				{Name: "token", Type: Char, Secret: true, Default: Constant("tok")},
				{Name: "private_note", Type: Char, Groups: []string{GroupSystem}},
				{Name: "active", Type: Boolean, Default: Constant(true)},
				{Name: "line_ids", Type: One2many, Relation: "test.order.line", InverseName: "order_id"},
				{Name: "label_ids", Type: Many2many, Relation: "test.label"},
				{Name: "watcher_ids", Type: Many2many, Relation: "test.label", RelTable: "test_order_watcher_rel", NoCopy: true},
				{Name: "user_id", Type: Many2one, Relation: "res.users", Default: func(env *Env) any { return env.UID }},
				{Name: "priority_label", Type: Char, NoCopy: true, Default: Constant("normal")},
				{Name: "total_qty", Type: Integer, Compute: totalQty, Depends: []string{"line_ids.qty"}},
			},
			Access: map[string]string{groupTestUser: "rwc", GroupSystem: "rwcu"},
			Constraints: []Constraint{func(_ *Env, recs []*Record) error {
				for _, r := range recs {
					if r.Float("amount") < 0 {
						return ValidationErrorf("Amount must not be negative (order %d)", r.ID)
					}
				}
				return nil
			}},
			Prepare: func(_ *Env, vals map[string]any, create bool) error {
				log.add("prepare create=%v", create)
				if s, ok := vals["name"].(string); ok {
					if strings.TrimSpace(s) == "forbidden" {
						return UserErrorf("The name %q is forbidden", s)
					}
					vals["name"] = strings.TrimSpace(s)
				}
				return nil
			},
			BeforeUnlink: func(env *Env, ids []int64) error {
				log.add("before_unlink %v", ids)
				recs, err := env.Load(env.Registry().Model("test.order"), ids, "state")
				if err != nil {
					return err
				}
				for _, r := range recs {
					if r.Str("state") == "done" {
						return UserErrorf("You cannot delete a done order.")
					}
				}
				return nil
			},
			Changed: func(env *Env, ids []int64, names []string, deleted bool) {
				switch {
				case deleted:
					recs, _ := env.Load(env.Registry().Model("test.order"), ids, "name")
					var ns []string
					for _, r := range recs {
						ns = append(ns, r.Str("name"))
					}
					log.add("own deleted %v", ns)
				case names == nil:
					log.add("own created %d", len(ids))
				default:
					log.add("own wrote %v", names)
				}
			},
			Methods: map[string]*Method{
				"action_done": {Kind: RecordLevel, Params: []Param{{Name: "note", Optional: true, Default: "done"}}, Fn: func(env *Env, ids []int64, a Args) (any, error) {
					err := env.Write(env.CurrentModel(), ids, map[string]any{"state": "done", "note": a.Get("note")})
					return err == nil, err
				}},
			},
		},
		{
			Name: "test.order.line", Description: "Test Order Line", Order: "sequence, id",
			Fields: []*Field{
				{Name: "order_id", Type: Many2one, Relation: "test.order", Required: true, OnDelete: "cascade"},
				{Name: "name", Type: Char},
				{Name: "sequence", Type: Integer},
				{Name: "qty", Type: Integer},
				{Name: "price", Type: Float},
				{Name: "subtotal", Type: Float, Compute: func(_ *Env, rec *Record) (any, error) {
					return float64(rec.Int("qty")) * rec.Float("price"), nil
				}, Depends: []string{"qty", "price"}},
				{Name: "order_state", Type: Selection, Selection: orderStates, Related: "order_id.state"},
				{Name: "category_name", Type: Char, Related: "order_id.category_id.name"},
				{Name: "order_label", Type: Char, Related: "order_id.category_label"},
				{Name: "label_id", Type: Many2one, Relation: "test.label", OnDelete: "restrict"},
			},
			Access: map[string]string{groupTestUser: "rwcu", GroupSystem: "rwcu"},
		},
		{
			Name: "test.label", Description: "Test Label", Order: "name, id",
			Fields: []*Field{
				{Name: "name", Type: Char, Required: true},
				{Name: "color", Type: Integer},
			},
			Indexes: []Index{{Fields: []string{"name", "color"}, Unique: true}},
			Access:  map[string]string{groupTestUser: "r", GroupSystem: "rwcu"},
		},
		{
			Name: "test.note", Description: "Test Note",
			Fields: []*Field{
				{Name: "name", Type: Char},
				{Name: "user_id", Type: Many2one, Relation: "res.users", Default: func(env *Env) any { return env.UID }},
			},
			Access: map[string]string{groupTestUser: "rwcu"},
			Rules:  func(env *Env) []any { return []any{[]any{"user_id", "=", env.UID}} },
		},
		{
			Name: "test.log", Description: "Test Log", ReadOnly: true,
			Fields: []*Field{{Name: "name", Type: Char}},
			Access: map[string]string{groupTestUser: "r", GroupSystem: "rwcu"},
		},
		{
			Name: "test.event", Description: "Test Event", Order: "id",
			Fields: []*Field{
				{Name: "name", Type: Char},
				{Name: "order_id", Type: Many2one, Relation: "test.order", OnDelete: "cascade"},
				{Name: "stamp", Type: Datetime},
				{Name: "payload", Type: Binary},
				{Name: "value", Type: Float},
				{Name: "count", Type: Integer},
				{Name: "flag", Type: Boolean},
				{Name: "upper", Type: Char, NotStored: true, Compute: func(_ *Env, rec *Record) (any, error) { return strings.ToUpper(rec.Str("name")), nil }},
				{Name: "tag_ids", Type: Many2many, Relation: "test.label"},
			},
			Access: map[string]string{GroupSystem: "rwcu"},
		},
	}
}

// extAddon extends test.order from a second addon, as an Odoo module
// inheriting another's model: fields (one stored computed), a method, a
// constraint, a composite unique index and a Changed hook.
type extAddon struct{ log *hookLog }

func (a extAddon) Manifest() Manifest {
	return Manifest{
		Name:    "test_ext",
		Depends: []string{"test"},
		Extends: []*Extension{{
			Model: "test.order",
			Fields: []*Field{
				{Name: "priority", Type: Integer},
				{Name: "ext_code", Type: Char},
				{Name: "shout", Type: Char, Compute: func(_ *Env, rec *Record) (any, error) { return strings.ToUpper(rec.Str("name")), nil }, Depends: []string{"name"}},
			},
			Methods: map[string]*Method{
				"ext_ping": {Kind: ModelLevel, Params: []Param{{Name: "word"}}, Fn: func(env *Env, _ []int64, a Args) (any, error) {
					return fmt.Sprintf("%s from %s", a.Get("word"), env.CurrentModel().Name), nil
				}},
			},
			Constraints: []Constraint{func(_ *Env, recs []*Record) error {
				for _, r := range recs {
					if r.Int("priority") > 10 {
						return ValidationErrorf("Priority must be at most 10")
					}
				}
				return nil
			}},
			Indexes: []Index{{Fields: []string{"category_id", "ext_code"}, Unique: true}},
			Changed: func(_ *Env, ids []int64, names []string, deleted bool) {
				a.log.add("ext changed %d %v %v", len(ids), names, deleted)
			},
		}},
	}
}

// engineFixture is a small data set: two categories, two labels, an order
// in category "Tools" with both labels and two lines.
type engineFixture struct {
	tools, misc, red, blue, order, line1, line2 int64
}

func makeEngineFixture(t *testing.T, env *Env) engineFixture {
	t.Helper()
	var f engineFixture
	f.tools = env.mustCreate(t, "test.category", map[string]any{"name": "Tools", "sequence": int64(1)})
	f.misc = env.mustCreate(t, "test.category", map[string]any{"name": "Misc", "sequence": int64(2)})
	f.red = env.mustCreate(t, "test.label", map[string]any{"name": "red", "color": int64(1)})
	f.blue = env.mustCreate(t, "test.label", map[string]any{"name": "blue", "color": int64(2)})
	f.order = env.mustCreate(t, "test.order", map[string]any{
		"name": "SO1", "ref": "R1", "category_id": f.tools, "amount": 10.5, "qty": int64(3),
		"label_ids": []any{[]any{int64(6), int64(0), []any{f.blue, f.red}}},
		"line_ids": []any{
			[]any{int64(0), int64(0), map[string]any{"name": "bolt", "sequence": int64(2), "qty": int64(4), "price": 0.5}},
			[]any{int64(0), int64(0), map[string]any{"name": "nut", "sequence": int64(1), "qty": int64(2), "price": 0.25}},
		},
	})
	lines, err := env.tsearch("test.order.line", []any{L("order_id", "=", f.order)}, 0, 0, "name")
	if err != nil || len(lines) != 2 {
		t.Fatalf("fixture lines = %v, %v", lines, err)
	}
	f.line1, f.line2 = lines[0], lines[1] // bolt, nut
	return f
}

// readOne reads one record's fields as a map, failing the test on error.
func readOne(t *testing.T, env *Env, model string, id int64, fields ...string) map[string]any {
	t.Helper()
	recs, err := env.Read(env.reg.Model(model), []int64{id}, fields, "_classic_read")
	if err != nil {
		t.Fatalf("read %s(%d) %v: %v", model, id, fields, err)
	}
	if len(recs) != 1 {
		t.Fatalf("read %s(%d): %d records", model, id, len(recs))
	}
	out := map[string]any{}
	recs[0].Range(func(k string, v any) bool { out[k] = v; return true })
	return out
}

// savepoint runs fn in a savepoint rolled back afterwards, so that a
// failed statement (which aborts a PostgreSQL transaction) or a create
// whose constraint failed after its INSERT leaves nothing behind.
func savepoint(t *testing.T, env *Env, fn func()) {
	t.Helper()
	if err := env.DB().SavePoint("engine_sp").Error; err != nil {
		t.Fatalf("savepoint: %v", err)
	}
	defer func() {
		if err := env.DB().RollbackTo("engine_sp").Error; err != nil {
			t.Fatalf("rollback to savepoint: %v", err)
		}
	}()
	fn()
}

// groupID is the res.groups id of a group key.
func groupID(t *testing.T, env *Env, key string) int64 {
	t.Helper()
	ids, err := env.Sudo().tsearch("res.groups", []any{L("xml_id", "=", key)}, 0, 0, "")
	if err != nil || len(ids) != 1 {
		t.Fatalf("group %s: %v %v", key, ids, err)
	}
	return ids[0]
}

// makeUser creates a user in groups (keys) and returns its id.
func makeUser(t *testing.T, env *Env, login string, groups ...string) int64 {
	t.Helper()
	gids := []any{}
	for _, g := range groups {
		gids = append(gids, groupID(t, env, g))
	}
	return env.Sudo().mustCreate(t, "res.users", map[string]any{
		"name": strings.ToUpper(login[:1]) + login[1:], "login": login, "password": "pw-" + login,
		"groups_id": []any{[]any{int64(6), int64(0), gids}},
	})
}

// wantErr fails unless err is of kind and its message contains each of
// parts.
func wantErr(t *testing.T, what string, err error, kind Kind, parts ...string) {
	t.Helper()
	if err == nil || KindOf(err) != kind {
		t.Errorf("%s: got %v (kind %v), want a %v error", what, err, KindOf(err), kind)
		return
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("%s: %q does not contain %q", what, err.Error(), p)
		}
	}
}
