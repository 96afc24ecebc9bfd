package models

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Dialect names the SQL flavour of the open database. The few places where
// SQLite and PostgreSQL differ ask it.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// sqlitePragmas: WAL for concurrent readers with one writer, a busy timeout
// instead of SQLITE_BUSY errors, foreign keys (off by default in SQLite) and
// case-sensitive LIKE so that Odoo's like/ilike pair behaves as on PostgreSQL.
//
// Transactions begin IMMEDIATE: a deferred transaction that reads and then
// writes fails at once with SQLITE_BUSY when another writer got in between
// (the busy timeout cannot help a lock upgrade); taking the write lock at
// BEGIN makes concurrent writers queue instead. Read-only calls run outside
// transactions, so readers never wait.
const sqlitePragmas = "_txlock=immediate&_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_pragma=case_sensitive_like(1)"

// OpenDB opens "sqlite:PATH" or a postgres:// URL with gorm.
func OpenDB(dsn string) (*gorm.DB, Dialect, error) {
	cfg := &gorm.Config{
		SkipDefaultTransaction: true, // we open our own per RPC call
		Logger:                 logger.Discard,
		NowFunc:                func() time.Time { return time.Now().UTC() },
	}
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(dsn, "sqlite:")
		if dir := filepath.Dir(path); dir != "" {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, "", fmt.Errorf("models: create database folder: %w", err)
			}
		}
		db, err := gorm.Open(sqlite.Open("file:"+path+"?"+sqlitePragmas), cfg)
		if err != nil {
			return nil, "", fmt.Errorf("models: open sqlite: %w", err)
		}
		sqlDB, err := db.DB()
		if err != nil {
			return nil, "", err
		}
		// One writer at a time is what SQLite allows; readers share the pool.
		sqlDB.SetMaxOpenConns(8)
		return db, SQLite, nil
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		db, err := gorm.Open(postgres.Open(dsn), cfg)
		if err != nil {
			return nil, "", fmt.Errorf("models: open postgres: %w", err)
		}
		sqlDB, err := db.DB()
		if err != nil {
			return nil, "", err
		}
		sqlDB.SetMaxOpenConns(20)
		sqlDB.SetMaxIdleConns(20)
		return db, Postgres, nil
	}
	return nil, "", fmt.Errorf("models: unsupported database %q (want sqlite:PATH or postgres://...)", dsn)
}

// quote returns a double-quoted SQL identifier. Only declared names reach
// it (validIdent is checked at registration), never user input.
func quote(ident string) string { return `"` + ident + `"` }

// likeOp returns the SQL for "expr [NOT] LIKE/ILIKE ?" in this dialect.
func (d Dialect) likeOp(expr string, insensitive, not bool) string {
	neg := ""
	if not {
		neg = "NOT "
	}
	if !insensitive {
		return expr + " " + neg + "LIKE ?"
	}
	if d == Postgres {
		return expr + " " + neg + "ILIKE ?"
	}
	return "lower(" + expr + ") " + neg + "LIKE lower(?)"
}

// textCast renders expr as text for like-matching non-text columns.
func (d Dialect) textCast(expr string) string {
	if d == Postgres {
		return expr + "::text"
	}
	return "CAST(" + expr + " AS TEXT)"
}
