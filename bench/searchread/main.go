// Command searchread measures search_read of 80 mqtt.signal.history rows
// from a large table, over XML-RPC and JSON-RPC against the real server
// binary, next to the same query run directly through database/sql in the
// same run. Figures are printed as ratios against that direct-SQL
// reference; the command fails only on functional errors (wrong result,
// server crash), never because of a timing figure. See bench/README.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchproc"
)

const (
	benchDB  = "oim_bench" // PostgreSQL database the run creates and seeds
	pageSize = 80
	warmup   = 2 * time.Second
)

// The query every path runs: the same domain, fields, order and limit.
var (
	queryFields    = []string{"timestamp", "topic", "payload", "direction", "qos", "retain"}
	queryDirection = "receive"
	queryTopic     = "sensor/7" // Odoo's "like" matches %sensor/7%
	queryOrder     = "timestamp desc"
)

type options struct {
	pg       string
	rows     int
	clients  int
	duration time.Duration
	keep     bool
	rounds   int
	bin      string
}

func main() {
	def := benchproc.DefaultPG()
	var o options
	flag.StringVar(&o.pg, "pg", def, "PostgreSQL URL of a maintenance database (default $ODOO_IOT_MQTT_TEST_PG)")
	flag.IntVar(&o.rows, "rows", 1_000_000, "mqtt.signal.history rows to seed")
	flag.IntVar(&o.clients, "clients", 8, "concurrent closed-loop clients per path")
	flag.DurationVar(&o.duration, "duration", 20*time.Second, "measured time per path, after a 2 s warm-up")
	flag.BoolVar(&o.keep, "keep", false, "reuse database "+benchDB+" when it already holds at least -rows rows")
	flag.IntVar(&o.rounds, "rounds", 4, "split -duration into this many turns per path, interleaving the paths")
	flag.StringVar(&o.bin, "bin", "", "server binary to run instead of building ./server from this checkout")
	flag.Parse()
	if o.rows < pageSize*20 || o.clients < 1 || o.duration <= 0 || o.rounds < 1 {
		benchproc.UsageError("searchread", fmt.Errorf("need -rows >= %d, -clients >= 1, -duration > 0, -rounds >= 1", pageSize*20))
	}
	benchproc.Main("searchread", func(ctx context.Context) error { return run(ctx, o) })
}

func run(ctx context.Context, o options) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	benchURL, err := benchproc.DatabaseURL(o.pg, benchDB)
	if err != nil {
		return err
	}
	bin, cleanup, err := benchproc.ServerBinary(ctx, o.bin)
	if err != nil {
		return err
	}
	defer cleanup()
	o.bin = bin
	fresh, kept, err := prepareDatabase(ctx, o.pg, o.rows, o.keep)
	if err != nil {
		return err
	}
	if !fresh {
		o.rows = int(kept)
	}

	srv, err := benchproc.StartServer(ctx, o.bin, benchURL)
	if err != nil {
		return err
	}
	defer srv.Stop()
	log.Info("Server started", slog.String("addr", srv.Addr), slog.Int("pid", srv.PID()))

	if fresh {
		t0 := time.Now()
		if err := seed(ctx, benchURL, o.rows); err != nil {
			return err
		}
		fmt.Printf("seeded %d rows in %s\n", o.rows, time.Since(t0).Round(10*time.Millisecond))
	} else {
		fmt.Printf("reusing %s (-keep), %d rows: seeding skipped\n", benchDB, o.rows)
	}

	q, err := newQueriers(ctx, srv.URL(), benchURL, o.clients)
	if err != nil {
		return err
	}
	defer q.close()
	if err := q.crossCheck(ctx); err != nil {
		return err
	}

	results, err := measure(ctx, o, srv, q)
	if err != nil {
		return err
	}
	hwm, err := benchproc.ProcStatusKB(srv.PID(), "VmHWM")
	if err != nil {
		return fmt.Errorf("read server VmHWM: %w", err)
	}
	report(os.Stdout, o, results, hwm)
	return nil
}

// measure warms every path up, then runs them in turns, and returns one
// result per path, direct SQL first.
func measure(ctx context.Context, o options, srv *benchproc.Server, q *queriers) ([]result, error) {
	stats := &statSource{serverPID: srv.PID()}
	paths := []struct {
		name string
		call func(ctx context.Context, worker int) error
		rss  bool
	}{
		{"direct SQL", q.sqlCall, false},
		{"XML-RPC", q.xmlrpcCall, true},
		{"JSON-RPC", q.jsonrpcCall, true},
	}
	results := make([]result, len(paths))
	for i, p := range paths {
		results[i].name = p.name
		fmt.Fprintf(os.Stderr, "warming up %s: %d clients, %s\n", p.name, o.clients, warmup)
		var rss *benchproc.RSSSampler
		if p.rss {
			rss = benchproc.StartRSSSampler(srv.PID(), 100*time.Millisecond)
		}
		_, err := runLoad(ctx, o.clients, warmup, p.call, nil)
		if rss != nil {
			results[i].peakRSS = rss.Stop()
		}
		if err := srv.Check(err); err != nil {
			return nil, fmt.Errorf("%s warm-up: %w", p.name, err)
		}
	}
	// The paths take turns, in a rotating order, so that load from other
	// processes on the machine falls on all of them alike.
	slice := o.duration / time.Duration(o.rounds)
	for round := range o.rounds {
		for k := range paths {
			i := (round + k) % len(paths)
			p := paths[i]
			fmt.Fprintf(os.Stderr, "round %d/%d: %s, %d clients, %s\n", round+1, o.rounds, p.name, o.clients, slice)
			var rss *benchproc.RSSSampler
			if p.rss {
				rss = benchproc.StartRSSSampler(srv.PID(), 100*time.Millisecond)
			}
			r, err := runLoad(ctx, o.clients, slice, p.call, stats)
			if rss != nil {
				r.peakRSS = rss.Stop()
			}
			if err := srv.Check(err); err != nil {
				return nil, fmt.Errorf("%s: %w", p.name, err)
			}
			results[i].add(r)
		}
	}
	return results, nil
}
