package models

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// fillDisk makes every later insert into test.event fail the way a full
// disk does, with the database's own error: on SQLite the file may not
// grow (PRAGMA max_page_count at its current size gives a real
// SQLITE_FULL), on PostgreSQL a trigger raises SQLSTATE 53100
// (disk_full), the code the server reports when it cannot extend a file.
// The returned function lifts the limit.
func fillDisk(t *testing.T, r *engineReg) (undo func()) {
	t.Helper()
	db := r.DB()
	if r.Dialect() == SQLite {
		sqlDB, err := db.DB()
		if err != nil {
			t.Fatal(err)
		}
		// The pragma holds for one connection: keep just one.
		sqlDB.SetMaxOpenConns(1)
		var pages int64
		if err := db.Raw(`PRAGMA page_count`).Scan(&pages).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Exec(fmt.Sprintf(`PRAGMA max_page_count = %d`, pages)).Error; err != nil {
			t.Fatal(err)
		}
		return func() {
			if err := db.Exec(`PRAGMA max_page_count = 1073741823`).Error; err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, stmt := range []string{
		`CREATE FUNCTION "test_disk_full"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
			RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full';
		END $$`,
		`CREATE TRIGGER "test_event_disk_full" BEFORE INSERT ON "test_event" FOR EACH ROW EXECUTE FUNCTION "test_disk_full"()`,
	} {
		if err := db.Exec(stmt).Error; err != nil {
			t.Fatal(err)
		}
	}
	return func() {
		if err := db.Exec(`DROP TRIGGER "test_event_disk_full" ON "test_event"`).Error; err != nil {
			t.Fatal(err)
		}
	}
}

// TestEngineOutOfSpace: a write on a full database is a UserError saying
// so, through RPC's Execute (create) and the bulk insert of the ingest
// path alike, not an internal error; once there is room again writes go
// through.
func TestEngineOutOfSpace(t *testing.T) {
	forEachEngineDB(t, func(t *testing.T, r *engineReg) {
		ctx := context.Background()
		payload := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("full disk ", 20000)))
		create := func() error {
			_, err := r.Execute(ctx, Call{UID: AdminUID, Model: "test.event", Method: "create",
				Args: []any{map[string]any{"name": "big", "payload": payload}}})
			return err
		}
		b, err := r.Bulk("test.event", "name", "payload")
		if err != nil {
			t.Fatal(err)
		}
		bulk := func() error {
			return b.Insert(ctx, [][]any{{"big", []byte(strings.Repeat("x", 200000))}})
		}
		undo := fillDisk(t, r)
		wantErr(t, "create on a full disk", create(), KindUser, "out of space")
		wantErr(t, "bulk insert on a full disk", bulk(), KindUser, "out of space")
		undo()
		if err := create(); err != nil {
			t.Errorf("create once there is room: %v", err)
		}
		if err := bulk(); err != nil {
			t.Errorf("bulk insert once there is room: %v", err)
		}
	})
}

// TestOutOfSpaceClassification: PostgreSQL's disk_full (53100) becomes a
// UserError however deeply it is wrapped, keeping the cause for the log;
// other database errors do not.
func TestOutOfSpaceClassification(t *testing.T) {
	full := &pgconn.PgError{Severity: "ERROR", Code: "53100", Message: `could not extend file "base/1/2": No space left on device`}
	for _, c := range []struct {
		name string
		err  error
		kind Kind
	}{
		{"disk_full", full, KindUser},
		{"disk_full wrapped", fmt.Errorf("commit: %w", full), KindUser},
		{"out_of_memory", &pgconn.PgError{Code: "53200", Message: "out of memory"}, KindInternal},
		{"serialization", &pgconn.PgError{Code: "40001", Message: "could not serialize"}, KindInternal},
		{"plain", errors.New("boom"), KindInternal},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := Internal("write", c.err)
			if KindOf(err) != c.kind {
				t.Fatalf("Internal(%v) is a %v error, want %v", c.err, KindOf(err), c.kind)
			}
			if !errors.Is(err, c.err) {
				t.Errorf("Internal(%v) lost its cause", c.err)
			}
			if c.kind == KindUser && !strings.Contains(MessageOf(err), "out of space") {
				t.Errorf("message %q does not say the database is out of space", MessageOf(err))
			}
			if werr := (&Registry{}).wrapError(c.err); KindOf(werr) != c.kind {
				t.Errorf("wrapError(%v) is a %v error, want %v", c.err, KindOf(werr), c.kind)
			}
		})
	}
}
