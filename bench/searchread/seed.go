package main

// The bench database: created empty before the server starts (the server
// creates its own schema), then filled in SQL with pgx in one statement.

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchproc"
)

// prepareDatabase drops and recreates the bench database, unless keep is
// set and it already holds at least rows history rows. It reports whether
// the database is new (and so must be seeded once the server created the
// schema), else how many rows the kept one holds.
func prepareDatabase(ctx context.Context, pgURL string, rows int, keep bool) (fresh bool, kept int64, err error) {
	if keep {
		if n, err := existingRows(ctx, pgURL); err == nil && n >= int64(rows) {
			return false, n, nil
		}
	}
	if _, err := benchproc.RecreateDatabase(ctx, pgURL, benchDB); err != nil {
		return false, 0, err
	}
	return true, 0, nil
}

// existingRows counts the history rows of an existing bench database.
func existingRows(ctx context.Context, pgURL string) (int64, error) {
	u, err := benchproc.DatabaseURL(pgURL, benchDB)
	if err != nil {
		return 0, err
	}
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	var n int64
	err = conn.QueryRow(ctx, `SELECT count(*) FROM mqtt_signal_history`).Scan(&n)
	return n, err
}

// seed inserts one broker and rows history rows spread over 50 plants x
// 1000 sensors, one per second going back from now, a quarter of them
// sent and the rest received, then analyzes the table.
func seed(ctx context.Context, dbURL string, rows int) error {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	broker, err := benchproc.InsertBroker(ctx, conn)
	if err != nil {
		return err
	}
	_, err = conn.Exec(ctx, `INSERT INTO mqtt_signal_history
		(payload, topic, qos, retain, direction, "timestamp", broker_id, display_name,
		 create_uid, create_date, write_uid, write_date)
		SELECT '{"value":' || (i % 997) || '.5,"unit":"C"}', topic, i % 3, false,
			CASE WHEN i % 4 = 0 THEN 'send' ELSE 'receive' END, ts, $1,
			topic || ' - ' || to_char(ts, 'YYYY-MM-DD HH24:MI:SS'), 2, ts, 2, ts
		FROM (SELECT i,
				'plant/' || (i % 50) || '/sensor/' || (i % 1000) || '/temp' AS topic,
				date_trunc('second', now() AT TIME ZONE 'UTC') - i * interval '1 second' AS ts
			FROM generate_series(1, $2::int) AS i) s`, broker, rows)
	if err != nil {
		return fmt.Errorf("seed history: %w", err)
	}
	if _, err := conn.Exec(ctx, `ANALYZE mqtt_signal_history`); err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	return nil
}
