package main

// The server mode: the purge through the server's own schema
// (models.Registry.Migrate with the mqtt addon) and its retention
// (mqtt.Addon.PurgeHistory), on a plain history (the server before
// partitioning) and on the partitioned one, with the same rows.

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchproc"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/keyring"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

const historyModel = "mqtt.signal.history"

// serverDB is one database of the server mode with its registry.
type serverDB struct {
	reg    *models.Registry
	addon  *mqtt.Addon
	close  func()
	broker int64
}

// openServerDB recreates database name and migrates it with the mqtt
// addon; plain makes the history a plain table, as the server made it
// before partitioning (the declaration's Partition removed: the same
// code path as that server).
func openServerDB(ctx context.Context, pgURL, name string, plain bool) (*serverDB, error) {
	u, err := benchproc.RecreateDatabase(ctx, pgURL, name)
	if err != nil {
		return nil, err
	}
	gdb, dialect, err := models.OpenDB(u)
	if err != nil {
		return nil, err
	}
	sqlDB, err := gdb.DB()
	if err != nil {
		return nil, err
	}
	key, err := keyring.NewKey()
	if err != nil {
		return nil, err
	}
	kr, err := keyring.New("historypurge", key)
	if err != nil {
		return nil, err
	}
	addon := mqtt.New(mqtt.Options{HistoryPartition: models.GrainDay})
	reg, err := models.New(models.Options{DB: gdb, Dialect: dialect, Logger: slog.New(slog.DiscardHandler), Cipher: kr}, addon)
	if err != nil {
		sqlDB.Close()
		return nil, err
	}
	s := &serverDB{reg: reg, addon: addon, close: func() { sqlDB.Close() }}
	if plain {
		reg.Model(historyModel).Partition = nil
	}
	if err := reg.Migrate(ctx); err != nil {
		s.close()
		return nil, err
	}
	if _, err := reg.Init(ctx, "historypurge"); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// fillHistory creates a broker keeping one day of history and stores
// rows for it straight in SQL (the bulk insert would take an hour): all
// but one days' share spread over the days-1 days before yesterday, the
// last share within the first hour of today. The broker's cut-off (now
// minus one day) falls in yesterday, which holds no row: both purges
// delete exactly the older rows, whatever the time of day.
func (s *serverDB) fillHistory(ctx context.Context, rows int64, days int, today time.Time) (old int64, err error) {
	res, err := s.reg.Execute(ctx, models.Call{UID: models.AdminUID, Model: "mqtt.broker", Method: "create",
		Args: []any{map[string]any{"name": "bench", "history_max_age_days": int64(1)}}})
	if err != nil {
		return 0, err
	}
	s.broker = res.(int64)
	old = rows * int64(days-1) / int64(days)
	start := today.AddDate(0, 0, -days)
	oldSpan := time.Duration(days-1) * 24 * time.Hour
	db := s.reg.DB().WithContext(ctx)
	if err := db.Exec(`INSERT INTO mqtt_signal_history (broker_id, topic, payload, direction, qos, retain, display_name, "timestamp")
		SELECT ?, 'sensors/' || (g % 100) || '/temp', '{"t":' || (g % 40) || '}', 'receive', 0, false, 'sensors',
			CASE WHEN g < ? THEN ?::timestamp + (g * ?::double precision / ?) * interval '1 microsecond'
			     ELSE ?::timestamp + ((g - ?) * 3600e6::double precision / ?) * interval '1 microsecond' END
		FROM generate_series(0, ? - 1) g`,
		s.broker, old, start, float64(oldSpan.Microseconds()), old, today, old, max(rows-old, 1), rows).Error; err != nil {
		return 0, fmt.Errorf("fill the history: %w", err)
	}
	return old, db.Exec(`VACUUM ANALYZE mqtt_signal_history`).Error
}

// purge runs the server's retention once and checks what is left.
func (s *serverDB) purge(ctx context.Context, rows, old int64) (time.Duration, error) {
	t0 := time.Now()
	if _, err := s.addon.PurgeHistory(ctx); err != nil {
		return 0, err
	}
	took := time.Since(t0)
	var left int64
	if err := s.reg.DB().WithContext(ctx).Raw(`SELECT count(*) FROM mqtt_signal_history`).Scan(&left).Error; err != nil {
		return 0, err
	}
	if left != rows-old {
		return 0, fmt.Errorf("%d rows left after the purge, want %d", left, rows-old)
	}
	return took, nil
}

// runServer measures the purge of rows through the server's schema and
// retention: plain table (DELETE) then partitioned (DROP), same rows, and
// with convert, the in-place conversion of a plain table of rows.
func runServer(ctx context.Context, pgURL string, rows int64, days int, convert bool) error {
	today := time.Now().UTC().Truncate(24 * time.Hour)
	plain, err := openServerDB(ctx, pgURL, benchDB+"_plain", true)
	if err != nil {
		return err
	}
	defer plain.close()
	part, err := openServerDB(ctx, pgURL, benchDB+"_part", false)
	if err != nil {
		return err
	}
	defer part.close()
	// The partitions of the past days, as a server running through them
	// would have made.
	for d := today.AddDate(0, 0, -days); d.Before(today); d = d.AddDate(0, 0, 1) {
		if _, err := part.reg.EnsurePartitions(ctx, historyModel, d); err != nil {
			return err
		}
	}
	t0 := time.Now()
	old, err := plain.fillHistory(ctx, rows, days, today)
	if err != nil {
		return err
	}
	if _, err := part.fillHistory(ctx, rows, days, today); err != nil {
		return err
	}
	slog.Info("histories filled", slog.Int64("rows", rows), slog.Duration("took", time.Since(t0)))
	before, err := plain.purge(ctx, rows, old)
	if err != nil {
		return fmt.Errorf("plain: %w", err)
	}
	after, err := part.purge(ctx, rows, old)
	if err != nil {
		return fmt.Errorf("partitioned: %w", err)
	}
	fmt.Printf("server schema and retention (Addon.PurgeHistory): rows=%d purged=%d days=%d\n", rows, old, days)
	fmt.Printf("before (plain table, DELETE):  %.3f s\n", before.Seconds())
	fmt.Printf("after  (partitioned, DROP):    %.3f s\n", after.Seconds())
	fmt.Printf("ratio before/after: %.1fx\n", before.Seconds()/after.Seconds())
	if !convert {
		return nil
	}
	// The same plain history converted in place, as the first start of
	// this version does.
	conv, err := openServerDB(ctx, pgURL, benchDB+"_convert", true)
	if err != nil {
		return err
	}
	defer conv.close()
	if _, err := conv.fillHistory(ctx, rows, days, today); err != nil {
		return err
	}
	conv.reg.Model(historyModel).Partition = part.reg.Model(historyModel).Partition
	t1 := time.Now()
	if err := conv.reg.Migrate(ctx); err != nil {
		return fmt.Errorf("convert: %w", err)
	}
	took := time.Since(t1)
	var kind string
	var n int64
	db := conv.reg.DB().WithContext(ctx)
	if err := db.Raw(`SELECT relkind::text FROM pg_class WHERE relname = 'mqtt_signal_history'`).Scan(&kind).Error; err != nil {
		return err
	}
	if err := db.Raw(`SELECT count(*) FROM mqtt_signal_history`).Scan(&n).Error; err != nil {
		return err
	}
	if kind != "p" || n != rows {
		return fmt.Errorf("after the conversion: relkind %q, %d rows, want p and %d", kind, n, rows)
	}
	fmt.Printf("in-place conversion of the plain table (Migrate): %.3f s\n", took.Seconds())
	return nil
}
