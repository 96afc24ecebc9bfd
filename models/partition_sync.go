package models

import (
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// createPartitioned creates (or converts) the table of a model with a
// Partitioning on PostgreSQL, in the migration transaction: a missing
// table is created partitioned with its id and partition key; a plain
// table (a database from before partitioning) is converted in place by
// convertToPartitioned; a partitioned one is left alone. The columns and
// indexes are synced on the parent afterwards, as for any table: PostgreSQL
// propagates them to every partition.
func createPartitioned(tx *gorm.DB, m *Model) error {
	if err := lockPartitions(tx, m.Table); err != nil {
		return err
	}
	kind, err := relkind(tx, m.Table)
	if err != nil {
		return err
	}
	key := quote(m.Partition.Field)
	switch kind {
	case "p":
		return nil
	case "r":
		return convertToPartitioned(tx, m)
	case "":
		// BIGSERIAL: the one sequence every partition numbers rows from.
		stmt := `CREATE TABLE ` + quote(m.Table) + ` ("id" BIGSERIAL NOT NULL, ` + key +
			` TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'utc'), PRIMARY KEY ("id", ` + key + `)) PARTITION BY RANGE (` + key + `)`
		if err := tx.Exec(stmt).Error; err != nil {
			return fmt.Errorf("models: create partitioned table %s: %w", m.Table, err)
		}
		return nil
	}
	return fmt.Errorf("models: %s is a relation of kind %q, not a table", m.Table, kind)
}

// convertToPartitioned turns m's plain table into a partitioned one
// without copying its rows: the old table becomes the parent's first
// partition, <table>_legacy, bounded by the grains of its oldest and
// newest rows. Attaching needs PostgreSQL to prove every row is inside
// the bounds and a unique index on (id, key): one sequential scan (the
// CHECK constraint validated before the ATTACH, which then skips its own
// scan) and one index build, against a copy that would rewrite every row
// and every index. Retention drops the legacy partition as a whole once
// every broker's cut-off has passed its upper bound (row DELETEs apply to
// it meanwhile). Ids, the sequence and its next value are kept.
func convertToPartitioned(tx *gorm.DB, m *Model) error {
	table, legacy := m.Table, m.Table+"_legacy"
	key := quote(m.Partition.Field)
	g := m.Partition.Grain
	run := func(what, stmt string, args ...any) error {
		if err := tx.Exec(stmt, args...).Error; err != nil {
			return fmt.Errorf("models: partition %s: %s: %w", table, what, err)
		}
		return nil
	}
	// The partition key is NOT NULL: a row without a time gets its
	// creation time, or now.
	fill := `now() AT TIME ZONE 'utc'`
	if m.Field("create_date") != nil {
		fill = `COALESCE("create_date", ` + fill + `)`
	}
	if err := run("fill the times", `UPDATE `+quote(table)+` SET `+key+` = `+fill+` WHERE `+key+` IS NULL`); err != nil {
		return err
	}
	var span struct{ Lo, Hi *time.Time }
	if err := tx.Raw(`SELECT min(` + key + `) AS lo, max(` + key + `) AS hi FROM ` + quote(table)).Scan(&span).Error; err != nil {
		return fmt.Errorf("models: partition %s: time span: %w", table, err)
	}
	var seq string
	if err := tx.Raw(`SELECT pg_get_serial_sequence(?, 'id')`, quote(table)).Scan(&seq).Error; err != nil {
		return fmt.Errorf("models: partition %s: id sequence: %w", table, err)
	}
	// The old table and its indexes step aside, so the parent's indexes
	// get the model's names (and find these to adopt on ATTACH).
	var indexes []string
	if err := tx.Raw(`SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = ?::regclass`, quote(table)).
		Scan(&indexes).Error; err != nil {
		return fmt.Errorf("models: partition %s: indexes: %w", table, err)
	}
	if err := run("rename", `ALTER TABLE `+quote(table)+` RENAME TO `+quote(legacy)); err != nil {
		return err
	}
	for _, ix := range indexes {
		if !strings.HasPrefix(ix, table) {
			continue
		}
		if err := run("rename index", `ALTER INDEX `+quote(ix)+` RENAME TO `+quote(truncIdent(legacy+strings.TrimPrefix(ix, table)))); err != nil {
			return err
		}
	}
	var fkeys []struct{ Name, Def string }
	if err := tx.Raw(`SELECT conname AS name, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = ?::regclass AND contype = 'f'`, quote(legacy)).
		Scan(&fkeys).Error; err != nil {
		return fmt.Errorf("models: partition %s: foreign keys: %w", table, err)
	}
	stmts := [][2]string{
		{"create the parent", `CREATE TABLE ` + quote(table) + ` (LIKE ` + quote(legacy) + ` INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY RANGE (` + key + `)`},
		{"key not null", `ALTER TABLE ` + quote(table) + ` ALTER COLUMN ` + key + ` SET NOT NULL`},
		{"key default", `ALTER TABLE ` + quote(table) + ` ALTER COLUMN ` + key + ` SET DEFAULT (now() AT TIME ZONE 'utc')`},
		{"primary key", `ALTER TABLE ` + quote(table) + ` ADD PRIMARY KEY ("id", ` + key + `)`},
	}
	for _, fk := range fkeys {
		// The parent's own foreign keys reach every new partition; the
		// legacy one's identical key is adopted on ATTACH.
		stmts = append(stmts, [2]string{"foreign key", `ALTER TABLE ` + quote(table) + ` ADD CONSTRAINT ` + quote(fk.Name) + ` ` + fk.Def})
	}
	if seq != "" {
		// The legacy partition may be dropped one day: the sequence must
		// not go with it. (seq is regclass text, quoted already.)
		stmts = append(stmts, [2]string{"sequence owner", `ALTER SEQUENCE ` + seq + ` OWNED BY ` + quote(table) + `."id"`})
	}
	for _, s := range stmts {
		if err := run(s[0], s[1]); err != nil {
			return err
		}
	}
	if span.Lo == nil { // no rows: nothing worth a partition
		return run("drop the empty old table", `DROP TABLE `+quote(legacy))
	}
	from, to := g.start(*span.Lo), g.next(g.start(*span.Hi))
	// Rows stamped after the current grain (a create with a date to
	// come) must not stretch the legacy range over the grains ahead: its
	// upper bound would cover them, and every new row would go on landing
	// in the legacy table. They move to the default partition.
	if cut := g.next(g.start(time.Now())); to.After(cut) {
		to = cut
		if err := moveToDefault(tx, m, legacy, to); err != nil {
			return err
		}
		if !span.Lo.Before(to) {
			return run("drop the emptied old table", `DROP TABLE `+quote(legacy))
		}
	}
	check := truncIdent(legacy + "_bounds")
	stmts = [][2]string{
		{"bounds", `ALTER TABLE ` + quote(legacy) + ` ADD CONSTRAINT ` + quote(check) + ` CHECK (` + key + ` >= ` + sqlTime(from) + ` AND ` + key + ` < ` + sqlTime(to) + `) NOT VALID`},
		{"validate bounds", `ALTER TABLE ` + quote(legacy) + ` VALIDATE CONSTRAINT ` + quote(check)},
		// Proven by the CHECK: no scan.
		{"legacy key not null", `ALTER TABLE ` + quote(legacy) + ` ALTER COLUMN ` + key + ` SET NOT NULL`},
		{"legacy unique key", `CREATE UNIQUE INDEX ` + quote(truncIdent(legacy+"_id_key")) + ` ON ` + quote(legacy) + ` ("id", ` + key + `)`},
	}
	var pkey []string
	if err := tx.Raw(`SELECT conname FROM pg_constraint WHERE conrelid = ?::regclass AND contype = 'p'`, quote(legacy)).Scan(&pkey).Error; err != nil {
		return fmt.Errorf("models: partition %s: old primary key: %w", table, err)
	}
	for _, name := range pkey {
		// (id, key)'s index serves lookups by id as well.
		stmts = append(stmts, [2]string{"drop the old primary key", `ALTER TABLE ` + quote(legacy) + ` DROP CONSTRAINT ` + quote(name)})
	}
	stmts = append(stmts,
		[2]string{"attach", `ALTER TABLE ` + quote(table) + ` ATTACH PARTITION ` + quote(legacy) + ` FOR VALUES FROM (` + sqlTime(from) + `) TO (` + sqlTime(to) + `)`},
		[2]string{"drop the bounds check", `ALTER TABLE ` + quote(legacy) + ` DROP CONSTRAINT ` + quote(check)})
	for _, s := range stmts {
		if err := run(s[0], s[1]); err != nil {
			return err
		}
	}
	return nil
}

// moveToDefault moves the rows of the old table legacy from the time
// from on into m's default partition, which it creates.
func moveToDefault(tx *gorm.DB, m *Model, legacy string, from time.Time) error {
	var cols []string
	if err := tx.Raw(`SELECT quote_ident(attname) FROM pg_attribute WHERE attrelid = ?::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
		quote(m.Table)).Scan(&cols).Error; err != nil {
		return fmt.Errorf("models: columns of %s: %w", m.Table, err)
	}
	list := strings.Join(cols, ", ")
	for _, s := range []string{
		`CREATE TABLE ` + quote(m.Table+"_default") + ` PARTITION OF ` + quote(m.Table) + ` DEFAULT`,
		`WITH moved AS (DELETE FROM ` + quote(legacy) + ` WHERE ` + quote(m.Partition.Field) + ` >= ` + sqlTime(from) + ` RETURNING ` + list + `) ` +
			`INSERT INTO ` + quote(m.Table) + ` (` + list + `) SELECT ` + list + ` FROM moved`,
	} {
		if err := tx.Exec(s).Error; err != nil {
			return fmt.Errorf("models: partition %s: rows to come: %w", m.Table, err)
		}
	}
	return nil
}

// truncIdent cuts an identifier to PostgreSQL's 63 bytes.
func truncIdent(s string) string {
	if len(s) > 63 {
		return s[:63]
	}
	return s
}
