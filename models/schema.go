package models

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// SchemaVersion is the database schema this server writes. The schema
// itself is derived from the declarations (tables and columns are added
// as declared, like Odoo's auto-init); the version guards against an older
// server opening a database a newer one has changed, and orders the data
// migrations below.
const SchemaVersion = 1

// dataMigrations[i] runs when a database moves from version i+1 to i+2;
// each one runs in the migration transaction.
var dataMigrations = []func(tx *gorm.DB, d Dialect) error{}

// Migrate creates or upgrades the schema. It refuses a database whose
// schema is newer than this server.
func (r *Registry) Migrate(ctx context.Context) error {
	return r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec(`CREATE TABLE IF NOT EXISTS "schema_version" ("version" INTEGER NOT NULL)`).Error; err != nil {
			return fmt.Errorf("models: create schema_version: %w", err)
		}
		if r.dialect == Postgres {
			// Two instances starting together must not migrate at once.
			if err := tx.Exec(`LOCK TABLE "schema_version" IN EXCLUSIVE MODE`).Error; err != nil {
				return fmt.Errorf("models: lock schema: %w", err)
			}
		}
		var versions []int
		if err := tx.Raw(`SELECT "version" FROM "schema_version"`).Scan(&versions).Error; err != nil {
			return fmt.Errorf("models: read schema version: %w", err)
		}
		current := 0
		if len(versions) > 0 {
			current = versions[0]
		}
		if current > SchemaVersion {
			return fmt.Errorf("models: the database schema is version %d, newer than this server's %d: upgrade the server", current, SchemaVersion)
		}
		if err := r.syncTables(tx); err != nil {
			return err
		}
		for v := max(current, 1); v < SchemaVersion; v++ {
			if err := dataMigrations[v-1](tx, r.dialect); err != nil {
				return fmt.Errorf("models: migration to version %d: %w", v+1, err)
			}
		}
		if len(versions) == 0 {
			return tx.Exec(`INSERT INTO "schema_version" ("version") VALUES (?)`, SchemaVersion).Error
		}
		return tx.Exec(`UPDATE "schema_version" SET "version" = ?`, SchemaVersion).Error
	})
}

// columnType is the SQL type of f's column in dialect d.
func (d Dialect) columnType(f *Field) string {
	pg := d == Postgres
	switch f.Type {
	case Char, Selection:
		if pg {
			return "VARCHAR"
		}
		return "TEXT"
	case Text:
		return "TEXT"
	case Integer:
		return "INTEGER"
	case Float:
		if pg {
			return "DOUBLE PRECISION"
		}
		return "REAL"
	case Boolean:
		return "BOOLEAN"
	case Datetime:
		if pg {
			return "TIMESTAMP"
		}
		return "TEXT"
	case Date:
		if pg {
			return "DATE"
		}
		return "TEXT"
	case Binary:
		if pg {
			return "BYTEA"
		}
		return "BLOB"
	case Many2one:
		// Ids are 64-bit (bigint) on PostgreSQL: SQLite's INTEGER already is.
		typ := "INTEGER"
		if pg {
			typ = "BIGINT"
		}
		if f.NoForeignKey {
			return typ
		}
		ref := typ + " REFERENCES " + quote(tableName(f.Relation)) + ` ("id")`
		switch f.OnDelete {
		case "cascade":
			return ref + " ON DELETE CASCADE"
		case "restrict":
			return ref + " ON DELETE RESTRICT"
		}
		return ref + " ON DELETE SET NULL"
	}
	return "TEXT"
}

// syncTables creates every declared table, adds missing columns, relation
// tables and indexes. Tables are created bare first so foreign keys can
// point at any of them (PostgreSQL wants the target to exist).
func (r *Registry) syncTables(tx *gorm.DB) error {
	idCol := `"id" INTEGER PRIMARY KEY AUTOINCREMENT`
	if r.dialect == Postgres {
		// BIGSERIAL: a bigint column numbered by a sequence AS bigint. A
		// history table that takes thousands of rows a second passes
		// SERIAL's 2^31 in months, and then refuses every insert.
		idCol = `"id" BIGSERIAL PRIMARY KEY`
	}
	if r.dialect == Postgres {
		if err := widenIDs(tx, r.Models()); err != nil {
			return err
		}
	}
	ms := r.Models()
	for _, m := range ms {
		if m.Partition != nil && r.dialect == Postgres {
			if err := createPartitioned(tx, m); err != nil {
				return err
			}
			continue
		}
		if err := tx.Exec(`CREATE TABLE IF NOT EXISTS ` + quote(m.Table) + ` (` + idCol + `)`).Error; err != nil {
			return fmt.Errorf("models: create table %s: %w", m.Table, err)
		}
	}
	for _, m := range ms {
		have, err := r.columns(tx, m.Table)
		if err != nil {
			return err
		}
		for _, f := range m.StoredFields() {
			if f.Name == "id" || have[f.Name] {
				continue
			}
			if err := tx.Exec(`ALTER TABLE ` + quote(m.Table) + ` ADD COLUMN ` + quote(f.Name) + ` ` + r.dialect.columnType(f)).Error; err != nil {
				return fmt.Errorf("models: add column %s.%s: %w", m.Table, f.Name, err)
			}
		}
		for _, f := range m.StoredFields() {
			var stmt string
			switch {
			case f.Unique:
				stmt = `CREATE UNIQUE INDEX IF NOT EXISTS ` + quote(m.Table+"_"+f.Name+"_uniq") + ` ON ` + quote(m.Table) + ` (` + quote(f.Name) + `)`
			case f.Index || f.Type == Many2one && !isMagic(f.Name):
				// Many2ones are indexed (searches and one2many reads follow
				// them), but not who created or last wrote a row.
				stmt = `CREATE INDEX IF NOT EXISTS ` + quote(m.Table+"_"+f.Name+"_index") + ` ON ` + quote(m.Table) + ` (` + quote(f.Name) + `)`
			default:
				continue
			}
			if err := tx.Exec(stmt).Error; err != nil {
				return fmt.Errorf("models: index %s.%s: %w", m.Table, f.Name, err)
			}
		}
		if err := syncIndexes(tx, m); err != nil {
			return err
		}
		if m.Partition != nil && r.dialect == Postgres {
			// After the columns and indexes: a partition made here is
			// made like its parent.
			if _, err := ensurePartitions(tx, m, time.Now()); err != nil {
				return err
			}
		}
		for _, f := range m.Fields {
			if f.Type != Many2many {
				continue
			}
			own, other := m2mColumns(f)
			co := r.Model(f.Relation)
			idType := "INTEGER"
			if r.dialect == Postgres {
				idType = "BIGINT"
			}
			stmt := `CREATE TABLE IF NOT EXISTS ` + quote(f.RelTable) + ` (` +
				quote(own) + ` ` + idType + ` NOT NULL REFERENCES ` + quote(m.Table) + ` ("id") ON DELETE CASCADE, ` +
				quote(other) + ` ` + idType + ` NOT NULL REFERENCES ` + quote(co.Table) + ` ("id") ON DELETE CASCADE, ` +
				`PRIMARY KEY (` + quote(own) + `, ` + quote(other) + `))`
			if err := tx.Exec(stmt).Error; err != nil {
				return fmt.Errorf("models: relation table %s: %w", f.RelTable, err)
			}
		}
	}
	for _, stmt := range internalTables {
		if err := tx.Exec(stmt).Error; err != nil {
			return fmt.Errorf("models: internal table: %w", err)
		}
	}
	for _, tables := range r.tables {
		for _, stmt := range tables(r.dialect) {
			if err := tx.Exec(stmt).Error; err != nil {
				return fmt.Errorf("models: addon table: %w", err)
			}
		}
	}
	return nil
}

// syncIndexes creates a model's composite indexes (Model.Indexes).
func syncIndexes(tx *gorm.DB, m *Model) error {
	for _, ix := range m.Indexes {
		cols := make([]string, len(ix.Fields))
		for i, name := range ix.Fields {
			cols[i] = quote(name)
		}
		kind, suffix := "INDEX", "_index"
		if ix.Unique {
			kind, suffix = "UNIQUE INDEX", "_uniq"
		}
		name := ix.Name
		if name == "" {
			name = m.Table + "_" + strings.Join(ix.Fields, "_") + suffix
		}
		stmt := `CREATE ` + kind + ` IF NOT EXISTS ` + quote(name) + ` ON ` + quote(m.Table) + ` (` + strings.Join(cols, ", ") + `)`
		if err := tx.Exec(stmt).Error; err != nil {
			return fmt.Errorf("models: index %s: %w", name, err)
		}
	}
	return nil
}

// internalTables are the engine's tables that are not models: nothing
// reaches them over RPC.
var internalTables = []string{
	`CREATE TABLE IF NOT EXISTS "web_session" ("sid" VARCHAR(40) PRIMARY KEY, "uid" BIGINT NOT NULL, "token" VARCHAR(64) NOT NULL, "expires" VARCHAR(19) NOT NULL)`,
	`CREATE INDEX IF NOT EXISTS "web_session_expires_index" ON "web_session" ("expires")`,
}

// columns lists the columns a table has.
func (r *Registry) columns(tx *gorm.DB, table string) (map[string]bool, error) {
	var names []string
	var err error
	if r.dialect == Postgres {
		err = tx.Raw(`SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ?`, table).Scan(&names).Error
	} else {
		err = tx.Raw(`SELECT name FROM pragma_table_info(?)`, table).Scan(&names).Error
	}
	if err != nil {
		return nil, fmt.Errorf("models: columns of %s: %w", table, err)
	}
	set := make(map[string]bool, len(names))
	for _, n := range names {
		set[strings.ToLower(n)] = true
	}
	return set, nil
}

// loadSecret reads (or creates) database.secret, the HMAC key of session
// tokens, from ir.config_parameter.
func (r *Registry) loadSecret(ctx context.Context) error {
	var vals []string
	db := r.db.WithContext(ctx)
	if err := db.Raw(`SELECT "value" FROM "ir_config_parameter" WHERE "key" = 'database.secret'`).Scan(&vals).Error; err != nil {
		return fmt.Errorf("models: read database.secret: %w", err)
	}
	if len(vals) == 0 || vals[0] == "" {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return err
		}
		secret := hex.EncodeToString(b)
		if err := db.Exec(`INSERT INTO "ir_config_parameter" ("key", "value") VALUES ('database.secret', ?)`, secret).Error; err != nil {
			return fmt.Errorf("models: store database.secret: %w", err)
		}
		vals = []string{secret}
	}
	r.secret = []byte(vals[0])
	return nil
}
