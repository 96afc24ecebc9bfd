package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// partitioned returns the model's declaration if its table is
// partitioned in this database (PostgreSQL only), or nil.
func (r *Registry) partitioned(model string) (*Model, error) {
	m := r.Model(model)
	if m == nil {
		return nil, fmt.Errorf("models: unknown model %s", model)
	}
	if m.Partition == nil || r.dialect != Postgres {
		return nil, nil
	}
	return m, nil
}

// EnsurePartitions creates the partitions of model's table from the grain
// of now to its Ahead grains after, and the default partition, where
// missing. Instances sharing the database may run it at the same time:
// the work is serialized by an advisory lock and each finds what the
// other made. It returns how many partitions it created; on SQLite, or a
// model without Partition, it does nothing.
func (r *Registry) EnsurePartitions(ctx context.Context, model string, now time.Time) (int, error) {
	m, err := r.partitioned(model)
	if m == nil || err != nil {
		return 0, err
	}
	var n int
	err = r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := maintenanceLockTimeout(tx); err != nil {
			return err
		}
		n, err = ensurePartitions(tx, m, now)
		return err
	})
	return n, err
}

// DroppedPartition is one partition DropPartitions removed.
type DroppedPartition struct {
	Name     string
	From, To time.Time
	Rows     int64 // PostgreSQL's estimate (pg_class.reltuples): counting would read them all
}

// DropPartitions drops each range partition of model's table whose rows
// are all older than cutoff (its upper bound is at or before it) and
// that holds no row matching keep, a SQL condition on the table's columns
// ("" keeps none; it is the caller's SQL, never a client's). The default
// partition is never dropped. Each partition goes in its own transaction,
// under the partition lock (DETACH takes the parent's exclusive lock for
// a moment: inserts wait, nothing fails). On SQLite, or a model without
// Partition, it does nothing.
func (r *Registry) DropPartitions(ctx context.Context, model string, cutoff time.Time, keep string) ([]DroppedPartition, error) {
	m, err := r.partitioned(model)
	if m == nil || err != nil {
		return nil, err
	}
	db := r.db.WithContext(ctx)
	parts, err := partitions(db, m.Table)
	if err != nil {
		return nil, err
	}
	var out []DroppedPartition
	for _, p := range parts {
		if p.Default || p.To.IsZero() || p.To.After(cutoff) {
			continue
		}
		var d *DroppedPartition
		err := db.Transaction(func(tx *gorm.DB) error {
			if err := maintenanceLockTimeout(tx); err != nil {
				return err
			}
			d, err = dropPartition(tx, m, p, keep)
			return err
		})
		if err != nil {
			return out, err
		}
		if d != nil {
			out = append(out, *d)
		}
	}
	return out, nil
}

// dropPartition detaches and drops p unless another instance did first
// or a row of it matches keep; nil when it dropped nothing.
func dropPartition(tx *gorm.DB, m *Model, p partition, keep string) (*DroppedPartition, error) {
	if err := lockPartitions(tx, m.Table); err != nil {
		return nil, err
	}
	var still []int64
	if err := tx.Raw(`SELECT 1 FROM pg_inherits WHERE inhrelid = to_regclass(?) AND inhparent = ?::regclass`, quote(p.Name), quote(m.Table)).
		Scan(&still).Error; err != nil {
		return nil, fmt.Errorf("models: partition %s: %w", p.Name, err)
	}
	if len(still) == 0 {
		return nil, nil
	}
	if keep != "" {
		var kept bool
		if err := tx.Raw(`SELECT EXISTS (SELECT 1 FROM ONLY ` + quote(p.Name) + ` WHERE ` + keep + `)`).Scan(&kept).Error; err != nil {
			return nil, fmt.Errorf("models: rows kept in %s: %w", p.Name, err)
		}
		if kept {
			return nil, nil
		}
	}
	d := &DroppedPartition{Name: p.Name, From: p.From, To: p.To}
	var est []float64
	if err := tx.Raw(`SELECT reltuples FROM pg_class WHERE oid = ?::regclass`, quote(p.Name)).Scan(&est).Error; err != nil {
		return nil, fmt.Errorf("models: size of %s: %w", p.Name, err)
	}
	if len(est) > 0 && est[0] > 0 {
		d.Rows = int64(est[0])
	}
	if err := tx.Exec(`ALTER TABLE ` + quote(m.Table) + ` DETACH PARTITION ` + quote(p.Name)).Error; err != nil {
		return nil, fmt.Errorf("models: detach %s: %w", p.Name, err)
	}
	if err := tx.Exec(`DROP TABLE ` + quote(p.Name)).Error; err != nil {
		return nil, fmt.Errorf("models: drop %s: %w", p.Name, err)
	}
	return d, nil
}

// maintenanceLockTimeout bounds how long the partition work of a running
// server waits for a table lock. A lock request queued behind a long
// query on the history would hold up every insert queued behind it: it
// gives up instead (the caller logs it) and is tried again next period.
func maintenanceLockTimeout(tx *gorm.DB) error {
	if err := tx.Exec(`SET LOCAL lock_timeout = '5s'`).Error; err != nil {
		return fmt.Errorf("models: lock timeout: %w", err)
	}
	return nil
}
