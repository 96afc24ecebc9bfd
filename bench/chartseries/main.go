// Command chartseries measures the chart of a week of telemetry: the
// server's mqtt.signal.history.get_series over 1,000,000 history rows of
// one topic on PostgreSQL, over XML-RPC against the real server binary,
// next to references measured in the same run (a SELECT count(*) of the
// same rows, search_count over RPC, and reading the rows out in SQL).
// Figures are medians printed in ms and as ratios; the command fails only
// on a wrong answer, never on a timing. See bench/README.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchproc"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchrpc"
)

const (
	benchDB   = "oim_bench_chart" // recreated by every run
	week      = 7 * 24 * time.Hour
	numTopic  = "bench/temp" // numeric text payloads: grouped in SQL
	jsonTopic = "bench/json" // {"value": x, "unit": "C"}: streamed through Go
)

type options struct {
	pg       string
	rows     int
	jsonRows int
	repeat   int
	points   int
	bin      string
}

func main() {
	var o options
	flag.StringVar(&o.pg, "pg", benchproc.DefaultPG(), "PostgreSQL URL of a maintenance database (default $ODOO_IOT_MQTT_TEST_PG)")
	flag.IntVar(&o.rows, "rows", 1_000_000, "numeric history rows of the charted topic, over 7 days")
	flag.IntVar(&o.jsonRows, "json-rows", 200_000, "JSON history rows of a second topic, charted by a JSON path (0: none)")
	flag.IntVar(&o.repeat, "repeat", 5, "timed calls per figure (the median is printed)")
	flag.IntVar(&o.points, "max-points", 300, "max_points of the chart")
	flag.StringVar(&o.bin, "bin", "", "server binary to run instead of building ./server from this checkout")
	flag.Parse()
	if o.rows < 1000 || o.jsonRows < 0 || o.repeat < 1 || o.points < 2 {
		benchproc.UsageError("chartseries", fmt.Errorf("need -rows >= 1000, -json-rows >= 0, -repeat >= 1, -max-points >= 2"))
	}
	benchproc.Main("chartseries", func(ctx context.Context) error { return run(ctx, o) })
}

func run(ctx context.Context, o options) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	bin, cleanup, err := benchproc.ServerBinary(ctx, o.bin)
	if err != nil {
		return err
	}
	defer cleanup()
	dbURL, err := benchproc.RecreateDatabase(ctx, o.pg, benchDB)
	if err != nil {
		return err
	}
	srv, err := benchproc.StartServer(ctx, bin, dbURL)
	if err != nil {
		return err
	}
	defer srv.Stop()
	log.Info("Server started", slog.String("addr", srv.Addr))
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	end := time.Now().UTC().Truncate(time.Second).Add(time.Second)
	start := end.Add(-week)
	t0 := time.Now()
	if err := seed(ctx, conn, end, o.rows, o.jsonRows); err != nil {
		return err
	}
	fmt.Printf("seeded %d + %d rows over 7 days in %s\n", o.rows, o.jsonRows, time.Since(t0).Round(10*time.Millisecond))
	c, err := benchrpc.Dial(srv.URL())
	if err != nil {
		return err
	}
	defer c.Close()

	span := map[string]any{"start": start.Format(time.DateTime), "end": end.Format(time.DateTime), "max_points": o.points}
	series := func(topic, path string) func() (int64, error) {
		return func() (int64, error) {
			kw := map[string]any{"domain": []any{[]any{"topic", "=", topic}}}
			for k, v := range span {
				kw[k] = v
			}
			if path != "" {
				kw["json_path"] = path
			}
			res, err := c.Call("mqtt.signal.history", "get_series", nil, kw)
			if err != nil {
				return 0, srv.Check(err)
			}
			pts := res.(map[string]any)["points"].([]any)
			if len(pts) > o.points {
				return 0, fmt.Errorf("get_series answered %d points, more than max_points %d", len(pts), o.points)
			}
			var n int64
			for _, p := range pts {
				n += p.(map[string]any)["count"].(int64)
			}
			return n, nil
		}
	}
	countSQL := func(topic string) func() (int64, error) {
		return func() (int64, error) {
			var n int64
			err := conn.QueryRow(ctx, `SELECT count(*) FROM mqtt_signal_history WHERE topic = $1 AND "timestamp" >= $2 AND "timestamp" < $3`, topic, start, end).Scan(&n)
			return n, err
		}
	}
	searchCount := func() (int64, error) {
		res, err := c.Call("mqtt.signal.history", "search_count", []any{[]any{[]any{"topic", "=", numTopic},
			[]any{"timestamp", ">=", start.Format(time.DateTime)}, []any{"timestamp", "<", end.Format(time.DateTime)}}}, nil)
		if err != nil {
			return 0, srv.Check(err)
		}
		return res.(int64), nil
	}
	readRows := func() (int64, error) { // what a chart drawn in the browser would first have to fetch
		rows, err := conn.Query(ctx, `SELECT "timestamp", payload FROM mqtt_signal_history WHERE topic = $1 AND "timestamp" >= $2 AND "timestamp" < $3`, numTopic, start, end)
		if err != nil {
			return 0, err
		}
		defer rows.Close()
		var n int64
		var ts time.Time
		var p string
		for rows.Next() {
			if err := rows.Scan(&ts, &p); err != nil {
				return 0, err
			}
			n++
		}
		return n, rows.Err()
	}

	figures := []struct {
		name string
		fn   func() (int64, error)
		want int64
	}{
		{"SELECT count(*) (reference)", countSQL(numTopic), int64(o.rows)},
		{"search_count over XML-RPC", searchCount, int64(o.rows)},
		{"SELECT the rows (timestamp, payload)", readRows, int64(o.rows)},
		{"get_series, numeric payloads (SQL)", series(numTopic, ""), int64(o.rows)},
	}
	if o.jsonRows > 0 {
		figures = append(figures,
			struct {
				name string
				fn   func() (int64, error)
				want int64
			}{"SELECT count(*), JSON topic", countSQL(jsonTopic), int64(o.jsonRows)},
			struct {
				name string
				fn   func() (int64, error)
				want int64
			}{"get_series, JSON path \"value\" (Go stream)", series(jsonTopic, "value"), int64(o.jsonRows)})
	}
	fmt.Printf("7-day chart, max_points %d, median of %d calls (load %s)\n", o.points, o.repeat, benchproc.LoadAverage())
	var ref time.Duration
	for _, f := range figures {
		d, err := median(o.repeat, f.fn, f.want)
		if err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
		if ref == 0 {
			ref = d
		}
		fmt.Printf("  %-45s %9.1f ms  x%.2f\n", f.name, float64(d.Microseconds())/1000, float64(d)/float64(ref))
	}
	return nil
}

// median runs fn once to warm up, then repeat times, checking its answer.
func median(repeat int, fn func() (int64, error), want int64) (time.Duration, error) {
	var ds []time.Duration
	for i := 0; i <= repeat; i++ {
		t := time.Now()
		n, err := fn()
		d := time.Since(t)
		if err != nil {
			return 0, err
		}
		if n != want {
			return 0, fmt.Errorf("counted %d rows, want %d", n, want)
		}
		if i > 0 {
			ds = append(ds, d)
		}
	}
	slices.Sort(ds)
	return ds[len(ds)/2], nil
}

// seed inserts a broker and the rows of both topics, spread evenly over
// the week before end, then analyzes the table.
func seed(ctx context.Context, conn *pgx.Conn, end time.Time, rows, jsonRows int) error {
	broker, err := benchproc.InsertBroker(ctx, conn)
	if err != nil {
		return err
	}
	insert := func(topic, payload string, n int) error {
		if n == 0 {
			return nil
		}
		_, err := conn.Exec(ctx, `INSERT INTO mqtt_signal_history
			(payload, topic, qos, retain, direction, "timestamp", broker_id, display_name,
			 create_uid, create_date, write_uid, write_date)
			SELECT `+payload+`, $3::text, 0, false, 'receive', ts, $1, $3::text || ' - ' || to_char(ts, 'YYYY-MM-DD HH24:MI:SS'), 2, ts, 2, ts
			FROM (SELECT i, $4::timestamp - ((i::bigint * 604799) / $2::int + 1) * interval '1 second' AS ts
				FROM generate_series(0, $2::int - 1) AS i) s`, broker, n, topic, end)
		if err != nil {
			return fmt.Errorf("seed %s: %w", topic, err)
		}
		return nil
	}
	if err := insert(numTopic, `(20 + (i % 100) / 10.0)::text`, rows); err != nil {
		return err
	}
	if err := insert(jsonTopic, `'{"value":' || (i % 997) || '.5,"unit":"C"}'`, jsonRows); err != nil {
		return err
	}
	_, err = conn.Exec(ctx, `ANALYZE mqtt_signal_history`)
	return err
}
