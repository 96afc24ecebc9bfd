// Package testdb hands tests a fresh database: SQLite in a temporary folder,
// or a new PostgreSQL database on the server named by ODOO_IOT_MQTT_TEST_PG
// (dropped when the test ends). Under CI=true a missing or unreachable
// PostgreSQL fails the test; elsewhere it skips with one clear line.
package testdb

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// PGEnv names the PostgreSQL DSN of the test server, e.g.
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable.
const PGEnv = "ODOO_IOT_MQTT_TEST_PG"

// SkipMessage is what a developer without PostgreSQL sees.
const SkipMessage = "PostgreSQL tests skipped: set " + PGEnv + "=postgres://... to run them (CI sets it and never skips)"

// Kinds lists the databases a suite runs on: "sqlite" always, "postgres"
// when configured; under CI=true PostgreSQL is required.
func Kinds(t testing.TB) []string {
	if os.Getenv(PGEnv) == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %s is not set: the PostgreSQL suite must run in CI", PGEnv)
		}
		return []string{"sqlite"}
	}
	return []string{"sqlite", "postgres"}
}

// DSN returns the DSN of a fresh, empty database of kind.
func DSN(t testing.TB, kind string) string {
	t.Helper()
	if kind == "sqlite" {
		return "sqlite:" + filepath.Join(t.TempDir(), "test.db")
	}
	return Postgres(t)
}

var seq atomic.Int64

// Postgres creates an empty PostgreSQL database and returns its DSN.
func Postgres(t testing.TB) string {
	t.Helper()
	base := os.Getenv(PGEnv)
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %s is not set: the PostgreSQL suite must run in CI", PGEnv)
		}
		t.Skip(SkipMessage)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("bad %s: %v", PGEnv, err)
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("PostgreSQL at %s: %v", u.Redacted(), err)
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		t.Fatalf("PostgreSQL at %s unreachable: %v", u.Redacted(), err)
	}
	name := fmt.Sprintf("oim_test_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1_000_000_000, seq.Add(1))
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		a, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer a.Close()
		_, _ = a.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`)
	})
	u.Path = "/" + name
	return u.String()
}
