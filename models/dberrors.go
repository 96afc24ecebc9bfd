package models

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
)

// The database's own error codes that mean something a user can act on.
const (
	pgDiskFull = "53100" // PostgreSQL SQLSTATE disk_full
	sqliteFull = 13      // SQLITE_FULL: the disk, or the file's size limit, is full
)

// outOfSpaceMessage is what a client sees when a write found the database
// out of space: nothing of the call was saved, and the fix is the
// operator's, not a retry of different input.
const outOfSpaceMessage = "The database is out of space: nothing was saved. Free disk space on the database server, then try again."

// storageFull reports whether err is the database refusing a write for
// lack of space: PostgreSQL's disk_full, or SQLite's SQLITE_FULL (a full
// disk or max_page_count reached), wrapped or not.
func storageFull(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == pgDiskFull
	}
	// The SQLite driver's *Error has Code(); matched by method so that the
	// engine does not depend on the driver's package. Extended result
	// codes keep the primary code in their low byte.
	var coded interface{ Code() int }
	if errors.As(err, &coded) {
		return coded.Code()&0xff == sqliteFull
	}
	return false
}

// classifyDBError turns a database error the user can act on into the
// model error saying so, keeping the cause for the log; nil for any
// other error.
func classifyDBError(err error) error {
	if storageFull(err) {
		return &Error{Kind: KindUser, Message: outOfSpaceMessage, Err: err}
	}
	return nil
}
