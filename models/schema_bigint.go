package models

import (
	"fmt"
	"sort"
	"strings"

	"gorm.io/gorm"
)

// idColumns are the columns that hold record ids on PostgreSQL, by table:
// every model's id, its stored many2ones and its many2many relation
// tables' two columns, and the user id of a web session. They are bigint;
// integer fields stay int4, as Odoo's.
func idColumns(ms []*Model) map[string]map[string]bool {
	cols := map[string]map[string]bool{}
	add := func(table, col string) {
		if cols[table] == nil {
			cols[table] = map[string]bool{}
		}
		cols[table][col] = true
	}
	for _, m := range ms {
		add(m.Table, "id")
		for _, f := range m.Fields {
			switch {
			case f.Type == Many2one && f.Stored():
				add(m.Table, f.Name)
			case f.Type == Many2many && f.RelTable != "":
				own, other := m2mColumns(f)
				add(f.RelTable, own)
				add(f.RelTable, other)
			}
		}
	}
	add("web_session", "uid")
	return cols
}

// widenIDs turns the int4 id columns and id sequences of a database made
// before ids were bigint (SERIAL ids, INTEGER many2ones) into bigint, so
// that a table goes on taking rows past 2^31. It runs at every start and
// finds nothing to do once done. ALTER COLUMN ... TYPE rewrites the table
// (and its indexes) once, under an exclusive lock: on a history of
// millions of rows the first start of this version takes a while.
func widenIDs(tx *gorm.DB, ms []*Model) error {
	want := idColumns(ms)
	var found []struct{ TableName, ColumnName string }
	if err := tx.Raw(`SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND data_type = 'integer'`).Scan(&found).Error; err != nil {
		return fmt.Errorf("models: find int4 id columns: %w", err)
	}
	byTable := map[string][]string{}
	for _, c := range found {
		if want[c.TableName][c.ColumnName] {
			byTable[c.TableName] = append(byTable[c.TableName], c.ColumnName)
		}
	}
	tables := make([]string, 0, len(byTable))
	for t := range byTable {
		tables = append(tables, t)
	}
	sort.Strings(tables)
	for _, table := range tables {
		cols := byTable[table]
		sort.Strings(cols)
		alters := make([]string, len(cols))
		for i, c := range cols {
			alters[i] = `ALTER COLUMN ` + quote(c) + ` TYPE bigint`
		}
		// One statement per table: one rewrite however many columns change.
		if err := tx.Exec(`ALTER TABLE ` + quote(table) + ` ` + strings.Join(alters, ", ")).Error; err != nil {
			return fmt.Errorf("models: widen the ids of %s to bigint: %w", table, err)
		}
	}
	// A SERIAL's sequence is AS integer: it stops at 2^31 - 1 whatever
	// its column's type. ALTER SEQUENCE ... AS bigint raises its maximum
	// with its type (the maximum was the type's) and keeps its value.
	var seqs []struct{ Seq, Owner string }
	if err := tx.Raw(`SELECT s.seqrelid::regclass::text AS seq, c.relname AS owner
		FROM pg_sequence s
		JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.seqrelid AND d.deptype IN ('a', 'i')
		JOIN pg_class c ON c.oid = d.refobjid
		JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.refobjsubid
		WHERE s.seqtypid = 'integer'::regtype AND a.attname = 'id' AND c.relnamespace = current_schema()::regnamespace`).Scan(&seqs).Error; err != nil {
		return fmt.Errorf("models: find int4 id sequences: %w", err)
	}
	for _, s := range seqs {
		if !want[s.Owner]["id"] {
			continue
		}
		// s.Seq is regclass's text: quoted as an identifier already.
		if err := tx.Exec(`ALTER SEQUENCE ` + s.Seq + ` AS bigint`).Error; err != nil {
			return fmt.Errorf("models: widen the id sequence of %s to bigint: %w", s.Owner, err)
		}
	}
	return nil
}
