package models

// Test helpers of the model suite, in one place. Names:
//   newTestRegistry(t, extra...)  fresh migrated SQLite registry (+ extra models)
//   newRegistryWith(t, kind, opts, addons...) the same of any kind, any addons
//   forEachDB(t, fn)              runs fn on SQLite and on PostgreSQL (CI: required)
//   r.testEnv(t)                  superuser env in a transaction rolled back at the end
//   r.userEnv(t, uid)             same for a given user (access checks apply)
//   env.tcreate(model, vals)      create one record as the env's user
//   env.tsearch(model, domain, offset, limit, order)
//   env.call(model, method, args, kwargs) through Registry.Execute's binding

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/internal/testdb"
	"gorm.io/gorm"
)

var errRollback = errors.New("test rollback")

func newTestRegistry(t testing.TB, extra ...*Model) *Registry {
	return newTestRegistryOn(t, "sqlite", extra...)
}

// groupTestUser is the test addon's group, like an addon's user group:
// it implies the internal user and settings imply it.
const groupTestUser = "test.group_user"

// testAddon declares the suite's own models, as Odoo's test modules do.
type testAddon struct{ models []*Model }

func (a testAddon) Manifest() Manifest {
	return Manifest{
		Name:   "test",
		Groups: []Group{{Key: groupTestUser, Name: "Test / User", Implies: []string{GroupUser}, ImpliedBy: []string{GroupSystem}}},
		Models: a.models,
	}
}

func newTestRegistryOn(t testing.TB, kind string, extra ...*Model) *Registry {
	t.Helper()
	return newRegistryWith(t, kind, Options{}, testAddon{extra})
}

// newRegistryWith is a fresh migrated registry of kind built from addons
// (after base) with opts, whose DB, Dialect, Logger and HashCost it fills;
// user admin's password is "admin".
func newRegistryWith(t testing.TB, kind string, opts Options, addons ...Addon) *Registry {
	t.Helper()
	r := openRegistry(t, testdb.DSN(t, kind), opts, addons...)
	ctx := context.Background()
	if err := r.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if _, err := r.Init(ctx, "admin"); err != nil {
		t.Fatalf("init: %v", err)
	}
	return r
}

// openRegistry builds the registry of addons on the database at dsn,
// closed when t ends, without touching the database.
func openRegistry(t testing.TB, dsn string, opts Options, addons ...Addon) *Registry {
	t.Helper()
	db, d, err := OpenDB(dsn)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		if s, err := db.DB(); err == nil {
			s.Close()
		}
	})
	opts.DB, opts.Dialect, opts.Logger, opts.HashCost = db, d, slog.New(slog.DiscardHandler), 4
	r, err := New(opts, addons...)
	if err != nil {
		t.Fatalf("registry: %v", err)
	}
	return r
}

// forEachDB runs fn as a subtest per database kind.
func forEachDB(t *testing.T, fn func(t *testing.T, r *Registry), extra ...func() *Model) {
	for _, kind := range testdb.Kinds(t) {
		t.Run(kind, func(t *testing.T) {
			ms := make([]*Model, len(extra))
			for i, mk := range extra {
				ms[i] = mk()
			}
			fn(t, newTestRegistryOn(t, kind, ms...))
		})
	}
}

func (r *Registry) testEnv(t testing.TB) *Env {
	t.Helper()
	e := r.userEnv(t, Superuser)
	e.su = true
	return e
}

// userEnv opens a transaction as uid that is rolled back when the test ends.
func (r *Registry) userEnv(t testing.TB, uid int64) *Env {
	t.Helper()
	tx := r.db.Begin()
	if tx.Error != nil {
		t.Fatalf("begin: %v", tx.Error)
	}
	t.Cleanup(func() { tx.Rollback() })
	return &Env{Ctx: context.Background(), UID: uid, Context: map[string]any{}, reg: r, tx: tx}
}

func (e *Env) tcreate(model string, vals map[string]any) (int64, error) {
	ids, err := e.create(e.reg.Model(model), []map[string]any{vals})
	if err != nil {
		return 0, err
	}
	return ids[0], nil
}

func (e *Env) mustCreate(t testing.TB, model string, vals map[string]any) int64 {
	t.Helper()
	id, err := e.tcreate(model, vals)
	if err != nil {
		t.Fatalf("create %s %v: %v", model, vals, err)
	}
	return id
}

func (e *Env) tsearch(model string, domain any, offset, limit int, order string) ([]int64, error) {
	return e.search(e.reg.Model(model), domain, int64(offset), int64(limit), order)
}

// call runs a method with RPC argument binding inside the env's transaction.
func (e *Env) call(model, method string, args []any, kwargs map[string]any) (any, error) {
	return e.Call(e.reg.Model(model), method, args, kwargs)
}

// mustExec runs a statement of a test's own (fixed SQL, no user input).
func mustExec(t testing.TB, db *gorm.DB, stmt string, args ...any) {
	t.Helper()
	if err := db.Exec(stmt, args...).Error; err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
}
