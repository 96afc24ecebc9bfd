package models

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"
)

// Tx is the transaction of a bulk insert, for the statements an addon
// runs on tables of its own (Manifest.Tables) in the same commit as the
// rows (Bulk.InsertWith). Its SQL is the dialect's own: $1, $2, ...
// placeholders on PostgreSQL (pgx), ? on SQLite. Values are always
// parameters, never pasted into the SQL.
type Tx interface {
	Dialect() Dialect
	// Exec runs one statement.
	Exec(sql string, args ...any) error
	// Query runs one statement and calls row for each row it returns,
	// with the function that scans it.
	Query(sql string, args []any, row func(scan func(dest ...any) error) error) error
}

// InsertWith runs prepare in a transaction, then inserts the rows it
// returns (as Insert does) in that same transaction, and commits: what
// prepare wrote and the rows are stored together or not at all. A
// prepare error rolls everything back and is returned as it is.
func (b *Bulk) InsertWith(ctx context.Context, prepare func(tx Tx) ([][]any, error)) error {
	// own is an error of prepare or of the values, returned as it is;
	// any other is the database's.
	var own error
	rowsOf := func(tx Tx) ([][]any, error) {
		rows, err := prepare(tx)
		if err == nil {
			rows, err = b.values(rows)
		}
		own = err
		return rows, err
	}
	var err error
	if b.reg.dialect == Postgres {
		err = b.reg.withPgxTx(ctx, func(tx pgx.Tx) error {
			values, err := rowsOf(pgxTx{ctx, tx})
			if err != nil || len(values) == 0 {
				return err
			}
			_, err = tx.CopyFrom(ctx, pgx.Identifier{b.m.Table}, b.cols, pgx.CopyFromRows(values))
			return err
		})
	} else {
		err = b.reg.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			values, err := rowsOf(gormTx{tx})
			if err != nil || len(values) == 0 {
				return err
			}
			return insertChunks(tx, b.m.Table, b.cols, values, sqliteRowsPerInsert)
		})
	}
	if err != nil && (own == nil || !errors.Is(err, own)) {
		return Internal("store "+b.m.Name, err)
	}
	return err
}

// pgxTx is a Tx on a pgx transaction.
type pgxTx struct {
	ctx context.Context
	tx  pgx.Tx
}

func (t pgxTx) Dialect() Dialect { return Postgres }

func (t pgxTx) Exec(sql string, args ...any) error {
	_, err := t.tx.Exec(t.ctx, sql, args...)
	return err
}

func (t pgxTx) Query(sql string, args []any, row func(scan func(dest ...any) error) error) error {
	rows, err := t.tx.Query(t.ctx, sql, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}

// gormTx is a Tx on a gorm transaction (SQLite).
type gormTx struct{ tx *gorm.DB }

func (t gormTx) Dialect() Dialect { return SQLite }

func (t gormTx) Exec(sql string, args ...any) error { return t.tx.Exec(sql, args...).Error }

func (t gormTx) Query(sql string, args []any, row func(scan func(dest ...any) error) error) error {
	rows, err := t.tx.Raw(sql, args...).Rows()
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(rows.Scan); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("models: %w", err)
	}
	return nil
}
