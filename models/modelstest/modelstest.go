// Package modelstest builds real, migrated databases for the tests of the
// packages above models.
package modelstest

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/internal/testdb"
	"golang.org/x/crypto/bcrypt"
)

// AdminPassword is the password of user admin in test databases.
const AdminPassword = "admin-test-pw"

// New returns a registry on a fresh SQLite database, migrated and
// initialised with user admin / AdminPassword: a copy of a template made
// once per test binary, so each test still has a database of its own.
func New(t testing.TB) *models.Registry {
	t.Helper()
	return Open(t, "sqlite:"+templateCopy(t))
}

// Kinds lists the databases a suite runs on (see testdb.Kinds).
func Kinds(t testing.TB) []string { return testdb.Kinds(t) }

// NewFor returns a registry on a fresh database of kind "sqlite" (as New)
// or "postgres" (migrated anew).
func NewFor(t testing.TB, kind string) *models.Registry {
	t.Helper()
	if kind == "sqlite" {
		return New(t)
	}
	return Open(t, testdb.DSN(t, kind))
}

// DSN returns the DSN of a fresh empty database of kind, for tests that
// start the real binary.
func DSN(t testing.TB, kind string) string { return testdb.DSN(t, kind) }

// Open migrates and initialises the database at dsn. On a copy of the
// template both steps find their work done and are quick; they still run,
// so that every test registry is set up the same way.
func Open(t testing.TB, dsn string) *models.Registry {
	t.Helper()
	reg, db, err := open(Logger(t), dsn)
	if db != nil {
		t.Cleanup(func() { db.Close() })
	}
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// open attaches a registry logging to log to the database at dsn,
// migrates and initialises it. The caller closes db, if not nil, even
// when err is set.
func open(log *slog.Logger, dsn string) (_ *models.Registry, db *sql.DB, err error) {
	reg, err := models.NewRegistry(log)
	if err != nil {
		return nil, nil, fmt.Errorf("registry: %w", err)
	}
	gdb, dialect, err := models.OpenDB(dsn)
	if err != nil {
		return nil, nil, fmt.Errorf("open database: %w", err)
	}
	if db, err = gdb.DB(); err != nil {
		return nil, nil, fmt.Errorf("open database: %w", err)
	}
	reg.Attach(gdb, dialect)
	reg.SetHashCost(bcrypt.MinCost)
	ctx := context.Background()
	if err := reg.Migrate(ctx); err != nil {
		return nil, db, fmt.Errorf("migrate: %w", err)
	}
	if _, err := reg.Init(ctx, AdminPassword); err != nil {
		return nil, db, fmt.Errorf("init: %w", err)
	}
	return reg, db, nil
}

// Logger returns a logger writing warnings to the test log.
func Logger(t testing.TB) *slog.Logger { return LoggerAt(t, slog.LevelWarn) }

// LoggerAt returns a logger writing records of level and above to the
// test log while the test runs. Records that arrive after it ended (from a
// goroutine still stopping) are dropped: t.Log would panic.
func LoggerAt(t testing.TB, level slog.Level) *slog.Logger {
	w := &testWriter{t: t}
	t.Cleanup(func() { w.mu.Lock(); w.done = true; w.mu.Unlock() })
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

type testWriter struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}
