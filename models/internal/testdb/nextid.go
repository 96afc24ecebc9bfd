package testdb

import (
	"database/sql"
	"testing"
)

// SetNextID makes the next row inserted into table (a model's table, with
// an "id" column the database numbers) get id next or, on SQLite, the
// first id above every id the table held: what a database that has
// numbered that many rows does. Tests of ids beyond 2^31 use it instead
// of inserting two billion rows.
func SetNextID(t testing.TB, db *sql.DB, kind, table string, next int64) {
	t.Helper()
	var err error
	if kind == "sqlite" {
		// AUTOINCREMENT continues from sqlite_sequence's entry for the
		// table, which exists once a row was inserted.
		if _, err = db.Exec(`DELETE FROM sqlite_sequence WHERE name = ?`, table); err == nil {
			_, err = db.Exec(`INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)`, table, next-1)
		}
	} else {
		_, err = db.Exec(`SELECT setval(pg_get_serial_sequence(quote_ident($1), 'id'), $2, false)`, table, next)
	}
	if err != nil {
		t.Fatalf("set the next id of %s to %d: %v", table, next, err)
	}
}
