package models

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"
)

// Bulk is a prepared multi-row insert into one model's table, for rows
// that arrive by the thousand (received messages): no ORM pass per row,
// COPY on PostgreSQL, multi-row INSERTs on SQLite. The columns are named
// once, checked against the declaration when the Bulk is made, and each
// value is converted by its field's type; create_date and write_date are
// filled in. Nothing is recomputed and no constraint runs: the caller
// gives the values of stored computed fields it wants.
type Bulk struct {
	reg    *Registry
	m      *Model
	fields []*Field
	cols   []string // the fields' columns, then create_date and write_date
}

// Bulk prepares inserts of the named fields of model.
func (r *Registry) Bulk(model string, fields ...string) (*Bulk, error) {
	m := r.Model(model)
	if m == nil {
		return nil, fmt.Errorf("models: bulk insert into unknown model %s", model)
	}
	b := &Bulk{reg: r, m: m}
	for _, name := range fields {
		f := m.Field(name)
		if f == nil || !f.Stored() || isMagic(name) {
			return nil, fmt.Errorf("models: bulk insert into %s: %q is not a stored field", model, name)
		}
		if f.Encrypted {
			return nil, fmt.Errorf("models: bulk insert into %s: %q is encrypted, which bulk inserts do not do", model, name)
		}
		b.fields = append(b.fields, f)
		b.cols = append(b.cols, name)
	}
	b.cols = append(b.cols, "create_date", "write_date")
	return b, nil
}

// sqliteRowsPerInsert: the pure-Go SQLite driver binds parameters at a cost
// that grows with their number per statement; 40 rows (520 parameters) per
// INSERT measured about 4x cheaper per row than 400.
const sqliteRowsPerInsert = 40

// Insert stores rows in one transaction. Each row holds one value per
// field given to Bulk, in that order, in its canonical Go form: int64 for
// integers and many2one ids (0 is no record), float64, bool, string,
// []byte for binary, time.Time for datetimes (nil for none). Insert
// converts the rows in place and appends the two dates to each (give
// rows a capacity of two more to spare an allocation): the caller does
// not use them afterwards.
func (b *Bulk) Insert(ctx context.Context, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	return b.InsertWith(ctx, func(Tx) ([][]any, error) { return rows, nil })
}

// values converts rows in place (see Insert) and appends the two dates.
func (b *Bulk) values(rows [][]any) ([][]any, error) {
	d := b.reg.dialect
	now := d.dbDatetime(time.Now())
	values := make([][]any, len(rows))
	for i, row := range rows {
		if len(row) != len(b.fields) {
			return nil, fmt.Errorf("models: bulk insert into %s: %d values for %d fields", b.m.Name, len(row), len(b.fields))
		}
		// Converted in place: on the ingest path a copy per row would be
		// an allocation per message.
		for j, f := range b.fields {
			v, err := bulkValue(d, f, row[j])
			if err != nil {
				return nil, err
			}
			row[j] = v
		}
		values[i] = append(row, now, now)
	}
	return values, nil
}

// bulkValue is the column parameter of a canonical value: no record is
// NULL, a datetime takes the dialect's form, an integer beyond its
// column is refused as create refuses it (see integerToDB).
func bulkValue(d Dialect, f *Field, v any) (any, error) {
	switch f.Type {
	case Integer:
		if n, ok := v.(int64); ok {
			if lo, hi := f.integerRange(); n < lo || n > hi {
				return nil, f.outOfRange(v, lo, hi)
			}
		}
	case Many2one:
		if id, ok := v.(int64); ok && id == 0 {
			return nil, nil
		}
	case Datetime:
		if t, ok := v.(time.Time); ok {
			if t.IsZero() {
				return nil, nil
			}
			return d.dbDatetime(t), nil
		}
	}
	return v, nil
}

// insertChunks writes values with multi-row INSERTs of perStmt rows, in
// the transaction tx.
func insertChunks(tx *gorm.DB, table string, cols []string, values [][]any, perStmt int) error {
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = quote(c)
	}
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
	for start := 0; start < len(values); start += perStmt {
		chunk := values[start:min(start+perStmt, len(values))]
		var sb strings.Builder
		sb.WriteString(`INSERT INTO ` + quote(table) + ` (` + strings.Join(quoted, ", ") + `) VALUES `)
		args := make([]any, 0, len(chunk)*len(cols))
		for i, row := range chunk {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString(one)
			args = append(args, row...)
		}
		if err := tx.Exec(sb.String(), args...).Error; err != nil {
			return err
		}
	}
	return nil
}

// withPgxTx runs fn in a transaction on a pgx connection taken from the
// pool, for COPY (the cheapest bulk path: no SQL to parse, no parameters
// to bind), and commits when fn succeeds.
func (r *Registry) withPgxTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	sqlDB, err := r.db.DB()
	if err != nil {
		return err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("unexpected driver connection %T", dc)
		}
		tx, err := sc.Conn().Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		if err := fn(tx); err != nil {
			return err
		}
		return tx.Commit(ctx)
	})
}
