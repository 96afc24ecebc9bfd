package main

// The two tables the purge runs on, filled in one INSERT ... SELECT each.

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

const layout = "20060102"

// setup creates hist_plain and hist_part (one partition a day plus a
// default) and fills both with the same rows, spread evenly over days
// from start. Identifiers are built from dates only, never from input.
func setup(ctx context.Context, conn *pgx.Conn, start time.Time, rows int64, days int) error {
	stmts := []string{
		`CREATE SEQUENCE hist_id_seq AS bigint`,
		`CREATE TABLE hist_plain (id bigint PRIMARY KEY DEFAULT nextval('hist_id_seq'), broker_id bigint,
			topic varchar, payload text NOT NULL, "timestamp" timestamp NOT NULL)`,
		`CREATE INDEX ON hist_plain (topic)`,
		`CREATE INDEX ON hist_plain ("timestamp")`,
		`CREATE TABLE hist_part (id bigint NOT NULL DEFAULT nextval('hist_id_seq'), broker_id bigint,
			topic varchar, payload text NOT NULL, "timestamp" timestamp NOT NULL,
			PRIMARY KEY (id, "timestamp")) PARTITION BY RANGE ("timestamp")`,
		`CREATE INDEX ON hist_part (topic)`,
		`CREATE INDEX ON hist_part ("timestamp")`,
		`CREATE TABLE hist_part_default PARTITION OF hist_part DEFAULT`,
	}
	for d := 0; d < days+1; d++ {
		from, to := start.AddDate(0, 0, d), start.AddDate(0, 0, d+1)
		stmts = append(stmts, fmt.Sprintf(`CREATE TABLE hist_part_%s PARTITION OF hist_part FOR VALUES FROM ('%s') TO ('%s')`,
			from.Format(layout), from.Format(time.DateOnly), to.Format(time.DateOnly)))
	}
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	span := time.Duration(days) * 24 * time.Hour
	fill := `INSERT INTO %s (broker_id, topic, payload, "timestamp")
		SELECT 1 + g %% 4, 'sensors/' || (g %% 100) || '/temp', '{"t":' || (g %% 40) || '}',
			$1::timestamp + (g * $2::double precision / $3) * interval '1 microsecond'
		FROM generate_series(0, $3 - 1) g`
	for _, table := range []string{"hist_plain", "hist_part"} {
		if _, err := conn.Exec(ctx, fmt.Sprintf(fill, table), start, float64(span.Microseconds()), rows); err != nil {
			return fmt.Errorf("fill %s: %w", table, err)
		}
	}
	// Both purges start from the same planner statistics.
	_, err := conn.Exec(ctx, `VACUUM ANALYZE hist_plain, hist_part`)
	return err
}

// dropPartitions detaches and drops every daily partition wholly before
// cutoff, as the partitioned retention would, and returns how many.
func dropPartitions(ctx context.Context, conn *pgx.Conn, start, cutoff time.Time) (int, error) {
	n := 0
	for d := start; !d.AddDate(0, 0, 1).After(cutoff); d = d.AddDate(0, 0, 1) {
		name := "hist_part_" + d.Format(layout)
		if _, err := conn.Exec(ctx, `ALTER TABLE hist_part DETACH PARTITION `+name); err != nil {
			return n, err
		}
		if _, err := conn.Exec(ctx, `DROP TABLE `+name); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
