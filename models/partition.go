package models

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Grain is the span of one partition of a table partitioned by time.
type Grain string

// The grains: a day for high-volume tables (a partition is what retention
// drops at once, so it bounds how much is kept past the cut-off), a month
// for small deployments (a dozen partitions a year instead of 365).
const (
	GrainDay   Grain = "day"
	GrainMonth Grain = "month"
)

// ParseGrain accepts "day" and "month"; "" is GrainDay.
func ParseGrain(s string) (Grain, error) {
	switch Grain(s) {
	case "", GrainDay:
		return GrainDay, nil
	case GrainMonth:
		return GrainMonth, nil
	}
	return "", fmt.Errorf("partition grain %q: want day or month", s)
}

// start is the beginning of t's grain, in UTC.
func (g Grain) start(t time.Time) time.Time {
	t = t.UTC()
	if g == GrainMonth {
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// next is the start of the grain after the one starting at t.
func (g Grain) next(t time.Time) time.Time {
	if g == GrainMonth {
		return t.AddDate(0, 1, 0)
	}
	return t.AddDate(0, 0, 1)
}

// Partitioning declares a model's table partitioned by RANGE on a stored
// Datetime field, on PostgreSQL (SQLite ignores it). The primary key
// becomes (id, Field), as PostgreSQL wants the partition key in every
// unique index; ids stay unique because every partition takes them from
// the one sequence. So the model must have no Unique field, and no model
// may point a foreign key at it.
type Partitioning struct {
	Field string // a stored Datetime field; its column becomes NOT NULL
	Grain Grain  // "" is GrainDay
	// Ahead is how many grains after the current one get their partition
	// in advance (default 3): a partition exists before its first row.
	Ahead int
}

func (p *Partitioning) ahead() int {
	if p.Ahead <= 0 {
		return 3
	}
	return p.Ahead
}

// partitionLockClass is the first key of the advisory lock that
// serializes the partition work of every instance on one table ("MQTP";
// the cluster's broker locks use "MQTT").
const partitionLockClass = 0x4D515450

// lockPartitions takes the transaction-level advisory lock of table's
// partitions: creating, moving rows out of the default and dropping are
// done by one instance at a time, each re-reading the catalog after it.
func lockPartitions(tx *gorm.DB, table string) error {
	if err := tx.Exec(`SELECT pg_advisory_xact_lock(?, hashtext(?))`, partitionLockClass, table).Error; err != nil {
		return fmt.Errorf("models: lock the partitions of %s: %w", table, err)
	}
	return nil
}

// partition is one partition of a partitioned table, from the catalog.
type partition struct {
	Name     string
	Default  bool
	From, To time.Time // range bounds, From inclusive; zero for the default or an unbounded range
}

// boundRe reads a range partition's bounds from pg_get_expr(relpartbound).
var boundRe = regexp.MustCompile(`^FOR VALUES FROM \('([^']+)'\) TO \('([^']+)'\)$`)

const boundLayout = "2006-01-02 15:04:05.999999999"

// partitions lists the partitions of table, ordered by lower bound.
func partitions(tx *gorm.DB, table string) ([]partition, error) {
	var rows []struct{ Name, Bound string }
	if err := tx.Raw(`SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
		FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = (SELECT oid FROM pg_class WHERE relname = ? AND relnamespace = current_schema()::regnamespace)`, table).
		Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("models: partitions of %s: %w", table, err)
	}
	out := make([]partition, 0, len(rows))
	for _, r := range rows {
		p := partition{Name: r.Name, Default: r.Bound == "DEFAULT"}
		if m := boundRe.FindStringSubmatch(r.Bound); m != nil {
			from, err1 := time.ParseInLocation(boundLayout, m[1], time.UTC)
			to, err2 := time.ParseInLocation(boundLayout, m[2], time.UTC)
			if err1 == nil && err2 == nil {
				p.From, p.To = from, to
			}
		}
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].From.Before(out[j].From) })
	return out, nil
}

// relkind is table's pg_class.relkind: 'r' plain, 'p' partitioned, "" none.
func relkind(tx *gorm.DB, table string) (string, error) {
	var kinds []string
	if err := tx.Raw(`SELECT relkind::text FROM pg_class WHERE relname = ? AND relnamespace = current_schema()::regnamespace`, table).
		Scan(&kinds).Error; err != nil {
		return "", fmt.Errorf("models: kind of %s: %w", table, err)
	}
	if len(kinds) == 0 {
		return "", nil
	}
	return kinds[0], nil
}

// sqlTime renders t as a timestamp literal. Only times, never input, are
// rendered this way (partition bounds must be literals in DDL).
func sqlTime(t time.Time) string {
	return "'" + t.UTC().Format("2006-01-02 15:04:05.999999") + "'"
}

// partitionName names the partition starting at from: <table>_p20261204,
// or _p202612 for a month.
func partitionName(table string, g Grain, from time.Time) string {
	switch {
	case from.Hour() != 0 || from.Minute() != 0 || from.Second() != 0 || from.Nanosecond() != 0:
		return table + "_p" + from.Format("20060102T150405")
	case g == GrainMonth && from.Day() == 1:
		return table + "_p" + from.Format("200601")
	}
	return table + "_p" + from.Format("20060102")
}

// gaps returns the parts of [from, to) that no range partition covers.
func gaps(parts []partition, from, to time.Time) [][2]time.Time {
	var out [][2]time.Time
	cur := from
	for _, p := range parts {
		if p.Default || p.From.IsZero() || !p.To.After(cur) {
			continue
		}
		if !p.From.Before(to) {
			break
		}
		if p.From.After(cur) {
			out = append(out, [2]time.Time{cur, p.From})
		}
		if p.To.After(cur) {
			cur = p.To
		}
		if !cur.Before(to) {
			return out
		}
	}
	if cur.Before(to) {
		out = append(out, [2]time.Time{cur, to})
	}
	return out
}

// ensurePartitions creates m's default partition and the range partitions
// from the grain of now to Ahead grains after it, in tx, under the
// partition lock. A range already covered (by a partition of another
// grain, or the converted legacy table) is left as it is: only the gaps
// get partitions. It returns how many it created.
func ensurePartitions(tx *gorm.DB, m *Model, now time.Time) (int, error) {
	p := m.Partition
	if err := lockPartitions(tx, m.Table); err != nil {
		return 0, err
	}
	parts, err := partitions(tx, m.Table)
	if err != nil {
		return 0, err
	}
	created := 0
	def := ""
	for _, pt := range parts {
		if pt.Default {
			def = pt.Name
		}
	}
	if def == "" {
		def = m.Table + "_default"
		if err := tx.Exec(`CREATE TABLE ` + quote(def) + ` PARTITION OF ` + quote(m.Table) + ` DEFAULT`).Error; err != nil {
			return 0, fmt.Errorf("models: default partition of %s: %w", m.Table, err)
		}
		created++
	}
	g := p.Grain
	from := g.start(now)
	to := from
	for i := 0; i <= p.ahead(); i++ {
		to = g.next(to)
	}
	for _, gap := range gaps(parts, from, to) {
		// One partition per grain inside the gap (the gap's ends may
		// fall inside a grain, next to a partition of another grain).
		for a := gap[0]; a.Before(gap[1]); {
			b := g.next(g.start(a))
			if b.After(gap[1]) {
				b = gap[1]
			}
			if err := createPartition(tx, m, def, a, b); err != nil {
				return created, err
			}
			created++
			a = b
		}
	}
	return created, nil
}

// createPartition adds the partition [from, to) to m's table. It is made
// as a table of its own and attached, rather than created PARTITION OF:
// ATTACH takes a lock on the parent that lets inserts go on, where
// CREATE ... PARTITION OF takes an exclusive one. Rows of that range
// already in the default partition (a clock off, rows stored before the
// partition existed) would make PostgreSQL refuse it: they are moved into
// the new table first, in the same transaction.
func createPartition(tx *gorm.DB, m *Model, def string, from, to time.Time) error {
	name := partitionName(m.Table, m.Partition.Grain, from)
	key := quote(m.Partition.Field)
	bounds := `FOR VALUES FROM (` + sqlTime(from) + `) TO (` + sqlTime(to) + `)`
	inRange := key + ` >= ` + sqlTime(from) + ` AND ` + key + ` < ` + sqlTime(to)
	var cols []string
	if err := tx.Raw(`SELECT quote_ident(attname) FROM pg_attribute WHERE attrelid = ?::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
		quote(m.Table)).Scan(&cols).Error; err != nil {
		return fmt.Errorf("models: columns of %s: %w", m.Table, err)
	}
	list := strings.Join(cols, ", ")
	stmts := []string{
		// The parent's foreign keys, primary key and indexes reach it on
		// ATTACH.
		`CREATE TABLE ` + quote(name) + ` (LIKE ` + quote(m.Table) + ` INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`,
		`WITH moved AS (DELETE FROM ONLY ` + quote(def) + ` WHERE ` + inRange + ` RETURNING ` + list + `) INSERT INTO ` + quote(name) + ` (` + list + `) SELECT ` + list + ` FROM moved`,
		// Attaching checks the new table's rows against the bounds (they
		// were chosen by them) and the default's (none left in range).
		`ALTER TABLE ` + quote(m.Table) + ` ATTACH PARTITION ` + quote(name) + ` ` + bounds,
	}
	for _, s := range stmts {
		if err := tx.Exec(s).Error; err != nil {
			return fmt.Errorf("models: partition %s: %w", name, err)
		}
	}
	return nil
}
