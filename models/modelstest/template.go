package modelstest

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// sqliteTemplate is a migrated, initialised SQLite database, made once per
// test binary: copying it is several times faster than migrating anew
// (seconds under the race detector), and each test still gets a database
// file of its own.
var sqliteTemplate struct {
	once sync.Once
	data []byte
	err  error
}

// templateCopy writes a copy of the template database into a temporary
// folder of t and returns its path.
func templateCopy(t testing.TB) string {
	t.Helper()
	// The error is kept rather than failing inside Do: a Once that ended in
	// t.Fatal counts as done, and later tests would copy an empty template.
	sqliteTemplate.once.Do(func() { sqliteTemplate.data, sqliteTemplate.err = makeTemplate() })
	if sqliteTemplate.err != nil {
		t.Fatalf("template database: %v", sqliteTemplate.err)
	}
	path := filepath.Join(t.TempDir(), "test.db")
	if err := os.WriteFile(path, sqliteTemplate.data, 0o600); err != nil {
		t.Fatalf("copy template database: %v", err)
	}
	return path
}

// makeTemplate migrates and initialises a database as Open does, and
// returns its file. It belongs to no test: its folder and connections are
// gone when it returns, so no test's clean-up or leak check sees them.
func makeTemplate() ([]byte, error) {
	dir, err := os.MkdirTemp("", "modelstest-template")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "template.db")
	_, db, err := open(Options{Logger: slog.New(slog.DiscardHandler)}, "sqlite:"+path)
	if db != nil {
		defer db.Close()
	}
	if err != nil {
		return nil, err
	}
	// Everything into the main file, which is all that is copied.
	if _, err := db.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	return os.ReadFile(path)
}
