// Command historypurge measures what partitioning mqtt_signal_history by
// day buys the retention purge on PostgreSQL: the same rows, generated in
// SQL with generate_series, purged once from a plain table with a DELETE by
// timestamp and once from a table partitioned by RANGE on timestamp by
// dropping the partitions older than the cutoff, in the same run. It
// prints rows purged, seconds for each and their ratio; it fails only on
// functional errors (wrong counts), never because of a figure. See
// bench/README.md.
//
// -mode server (the default) runs the server's own code: the schema
// models.Registry.Migrate makes (plain, as before partitioning, and
// partitioned) and the retention mqtt.Addon.PurgeHistory, then times the
// in-place conversion of a plain table of the same rows. -mode sql runs
// the bench's own two tables (the history's costly columns and indexes
// only), which isolates the storage-level difference.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchproc"
)

const benchDB = "oim_bench_historypurge" // recreated by every run

func main() {
	var (
		pg      = flag.String("pg", benchproc.DefaultPG(), "PostgreSQL maintenance database URL")
		rows    = flag.Int64("rows", 10_000_000, "rows generated in each table")
		days    = flag.Int("days", 12, "days the rows are spread over; the purge keeps the newest one")
		timeout = flag.Duration("timeout", 60*time.Minute, "whole run")
		mode    = flag.String("mode", "server", "server: the server's schema and retention; sql: the bench's own tables; tree: get_topic_tree over the topic summary")
		convert = flag.Bool("convert", true, "server mode: also time the in-place conversion of a plain table of -rows rows")
		topics  = flag.Int64("topics", 10_000, "tree mode: distinct topics of the rows (site<10>/line<10>/dev<topics/100>)")
	)
	flag.Parse()
	if *rows < 1 || *days < 2 {
		fmt.Fprintln(os.Stderr, "historypurge: -rows must be >= 1 and -days >= 2")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	var err error
	switch *mode {
	case "server":
		err = runServer(ctx, *pg, *rows, *days, *convert)
	case "sql":
		err = run(ctx, *pg, *rows, *days)
	case "tree":
		err = runTree(ctx, *pg, *rows, *topics)
	default:
		fmt.Fprintln(os.Stderr, "historypurge: -mode is server, sql or tree")
		os.Exit(2)
	}
	if err != nil {
		slog.Error("historypurge failed", slog.Any("error", err))
		os.Exit(1)
	}
}

func run(ctx context.Context, pgURL string, rows int64, days int) error {
	u, err := benchproc.RecreateDatabase(ctx, pgURL, benchDB)
	if err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	// Day-aligned in UTC so the cutoff falls on a partition boundary, as
	// the daily partitions the server would create.
	start := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -days+1)
	cutoff := start.AddDate(0, 0, days-1)

	t0 := time.Now()
	if err := setup(ctx, conn, start, rows, days); err != nil {
		return err
	}
	slog.Info("tables filled", slog.Int64("rows", rows), slog.Duration("took", time.Since(t0)))
	var want int64
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM hist_plain WHERE "timestamp" < $1`, cutoff).Scan(&want); err != nil {
		return err
	}

	t1 := time.Now()
	tag, err := conn.Exec(ctx, `DELETE FROM hist_plain WHERE "timestamp" < $1`, cutoff)
	if err != nil {
		return err
	}
	before := time.Since(t1)
	if tag.RowsAffected() != want {
		return fmt.Errorf("plain DELETE removed %d rows, want %d", tag.RowsAffected(), want)
	}

	t2 := time.Now()
	dropped, err := dropPartitions(ctx, conn, start, cutoff)
	if err != nil {
		return err
	}
	after := time.Since(t2)
	var left, leftPlain int64
	if err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM hist_part), (SELECT count(*) FROM hist_plain)`).Scan(&left, &leftPlain); err != nil {
		return err
	}
	if left != leftPlain || left != rows-want {
		return fmt.Errorf("rows left: partitioned %d, plain %d, want %d", left, leftPlain, rows-want)
	}
	fmt.Printf("rows=%d purged=%d days=%d partitions_dropped=%d\n", rows, want, days, dropped)
	fmt.Printf("before (DELETE by timestamp): %.3f s\n", before.Seconds())
	fmt.Printf("after  (DROP partitions):     %.3f s\n", after.Seconds())
	fmt.Printf("ratio before/after: %.1fx\n", before.Seconds()/after.Seconds())
	return nil
}
