package mqtt

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// MaintainHistory creates the history's partitions ahead of time (the
// current grain and the next ones) on PostgreSQL; the listener's
// retention loop runs it at start and every period. It does nothing on
// SQLite. Instances sharing the database may run it together.
func (a *Addon) MaintainHistory(ctx context.Context) error {
	n, err := a.reg.EnsurePartitions(ctx, "mqtt.signal.history", time.Now())
	if n > 0 {
		a.log.Info("MQTT history partitions created", slog.Int("partitions", n))
	}
	return err
}

// PurgeHistory applies each broker's retention (maximum age in days and/or
// number of rows) and returns how many rows it deleted; for the partitions
// it dropped whole (PostgreSQL), PostgreSQL's estimate of their rows.
func (a *Addon) PurgeHistory(ctx context.Context) (int64, error) {
	var total int64
	started := time.Now()
	// Outside a transaction: each delete commits alone, so a long purge
	// never holds the write lock the ingest writer waits for.
	err := a.read(ctx, func(su *models.Env) error {
		history, brokers := a.reg.Model("mqtt.signal.history"), a.reg.Model("mqtt.broker")
		all := su.WithContext(map[string]any{"active_test": false})
		brokerIDs, err := all.Search(brokers, []any{}, 0, 0, "id")
		if err != nil {
			return err
		}
		recs, err := su.Load(brokers, brokerIDs, "history_max_age_days", "history_max_rows")
		if err != nil {
			return err
		}
		// First the partitions every rule empties: what is left for the
		// row DELETEs below is then only the newer grains.
		n, err := a.dropExpiredPartitions(ctx, recs)
		total += n
		if err != nil {
			return err
		}
		// Rows still queued when their broker or subscription was deleted
		// are inserted after the unlink's own cleanup (the links have no
		// foreign key): sweep them here. Such rows were received just
		// before the unlink, so only the recent ones are looked at: a
		// "not in" over the whole history would read every row of it at
		// every purge.
		recent := []any{"timestamp", ">=", a.sweepSince(started)}
		n, err = su.DeleteWhere(history, []any{recent, []any{"broker_id", "!=", false}, []any{"broker_id", "not in", brokerIDs}})
		if err != nil {
			return err
		}
		total += n
		if err := sweepSummaries(su, brokerIDs); err != nil {
			return err
		}
		subIDs, err := all.Search(a.reg.Model("mqtt.subscription"), []any{}, 0, 0, "id")
		if err != nil {
			return err
		}
		if _, err := su.UpdateWhere(history, []any{recent, []any{"subscription_id", "!=", false}, []any{"subscription_id", "not in", subIDs}},
			map[string]any{"subscription_id": false}); err != nil {
			return err
		}
		for _, b := range recs {
			maxAge, maxRows := b.Int("history_max_age_days"), b.Int("history_max_rows")
			if maxAge <= 0 && maxRows <= 0 {
				continue
			}
			n, err := purgeBroker(su, history, b.ID, maxAge, maxRows)
			total += n
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		a.swept.Store(started.UnixMilli())
	}
	return total, err
}

// Look-backs of the sweep of rows whose broker or subscription was
// deleted: from a while before the previous sweep (a row's timestamp is
// when it was received, and it may have waited in the ingest queue), and
// at the first purge of a process a day (what a crash may have left).
const (
	sweepOverlap       = 15 * time.Minute
	sweepFirstLookback = 24 * time.Hour
)

// sweepSince is the oldest timestamp the sweep looks at.
func (a *Addon) sweepSince(now time.Time) time.Time {
	if prev := a.swept.Load(); prev != 0 {
		return time.UnixMilli(prev).Add(-sweepOverlap)
	}
	return now.Add(-sweepFirstLookback)
}

// dropExpiredPartitions drops the history partitions whose every row
// retention deletes anyway. A row is kept only while it is younger than
// its broker's maximum age and among its newest maximum rows, so a
// partition entirely older than the earliest cut-off of the brokers with
// an age limit goes, unless it holds a row nothing deletes: one of a
// broker without an age limit (its rows go by number, or never), or one
// without a broker. Rows of deleted brokers are deleted anyway. Nothing
// is dropped when no broker has an age limit, or on SQLite.
func (a *Addon) dropExpiredPartitions(ctx context.Context, brokers []*models.Record) (int64, error) {
	var cutoff time.Time
	var keep []string
	now := time.Now()
	for _, b := range brokers {
		if days := b.Int("history_max_age_days"); days > 0 {
			if c := now.Add(-time.Duration(days) * 24 * time.Hour); cutoff.IsZero() || c.Before(cutoff) {
				cutoff = c
			}
			continue
		}
		keep = append(keep, strconv.FormatInt(b.ID, 10))
	}
	if cutoff.IsZero() {
		return 0, nil
	}
	cond := `"broker_id" IS NULL`
	if len(keep) > 0 {
		cond += ` OR "broker_id" IN (` + strings.Join(keep, ", ") + `)`
	}
	dropped, err := a.reg.DropPartitions(ctx, "mqtt.signal.history", cutoff, cond)
	var rows int64
	for _, d := range dropped {
		rows += d.Rows
		a.log.Info("MQTT history partition dropped", slog.String("partition", d.Name),
			slog.String("from", d.From.Format(models.DatetimeFormat)), slog.String("to", d.To.Format(models.DatetimeFormat)), slog.Int64("rows_estimate", d.Rows))
	}
	return rows, err
}

// purgeBroker deletes a broker's rows older than maxAge days and those
// beyond its maxRows newest (0: no such limit).
func purgeBroker(su *models.Env, history *models.Model, brokerID, maxAge, maxRows int64) (int64, error) {
	var total int64
	if maxAge > 0 {
		cutoff := time.Now().Add(-time.Duration(maxAge) * 24 * time.Hour)
		n, err := su.DeleteWhere(history, []any{[]any{"broker_id", "=", brokerID}, []any{"timestamp", "<", cutoff}})
		if err != nil {
			return total, err
		}
		total += n
	}
	if maxRows > 0 {
		// Keep the newest maxRows rows: delete below the id of the
		// maxRows-th newest.
		edge, err := su.Search(history, []any{[]any{"broker_id", "=", brokerID}}, maxRows-1, 1, "id desc")
		if err != nil || len(edge) == 0 {
			return total, err
		}
		n, err := su.DeleteWhere(history, []any{[]any{"broker_id", "=", brokerID}, []any{"id", "<", edge[0]}})
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}
