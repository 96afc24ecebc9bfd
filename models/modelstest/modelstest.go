// Package modelstest builds real, migrated databases for the tests of the
// packages above models.
package modelstest

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/internal/testdb"
	"golang.org/x/crypto/bcrypt"
)

// AdminPassword is the password of user admin in test databases.
const AdminPassword = "admin-test-pw"

// New returns a registry on a fresh SQLite database, migrated and
// initialised with user admin / AdminPassword.
func New(t testing.TB) *models.Registry { return NewFor(t, "sqlite") }

// Kinds lists the databases a suite runs on (see testdb.Kinds).
func Kinds(t testing.TB) []string { return testdb.Kinds(t) }

// NewFor returns a registry on a fresh database of kind "sqlite" or
// "postgres".
func NewFor(t testing.TB, kind string) *models.Registry {
	t.Helper()
	return Open(t, testdb.DSN(t, kind))
}

// DSN returns the DSN of a fresh empty database of kind, for tests that
// start the real binary.
func DSN(t testing.TB, kind string) string { return testdb.DSN(t, kind) }

// Open migrates and initialises the database at dsn.
func Open(t testing.TB, dsn string) *models.Registry {
	t.Helper()
	reg, err := models.NewRegistry(Logger(t))
	if err != nil {
		t.Fatalf("registry: %v", err)
	}
	db, dialect, err := models.OpenDB(dsn)
	if err != nil {
		t.Fatalf("open database: %v", err)
	}
	t.Cleanup(func() {
		if d, err := db.DB(); err == nil {
			d.Close()
		}
	})
	reg.Attach(db, dialect)
	reg.SetHashCost(bcrypt.MinCost)
	ctx := context.Background()
	if err := reg.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if _, err := reg.Init(ctx, AdminPassword); err != nil {
		t.Fatalf("init: %v", err)
	}
	return reg
}

// Logger returns a logger writing warnings to the test log.
func Logger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
