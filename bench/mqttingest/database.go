package main

// The databases under the server: a fresh one per case, and a direct
// connection to it that counts the history rows the server committed.

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"

	_ "github.com/glebarez/sqlite"     // registers database/sql driver "sqlite" (glebarez/go-sqlite), as the server uses
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchproc"
)

// database is a fresh, empty database for one server case.
type database struct {
	kind    string // "postgres" or "sqlite"
	arg     string // the server's --db
	driver  string // database/sql driver and DSN of the same database
	dsn     string
	cleanup func()
}

// freshDatabase drops and recreates benchDB on PostgreSQL, or makes a
// temporary SQLite file. The server creates the schema.
func freshDatabase(ctx context.Context, kind, pgURL string) (*database, error) {
	switch kind {
	case "sqlite":
		dir, err := os.MkdirTemp("", "oim-bench-sqlite-")
		if err != nil {
			return nil, err
		}
		path := filepath.Join(dir, "bench.db")
		return &database{kind: kind, arg: "sqlite:" + path, driver: "sqlite",
			dsn:     "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=query_only(1)",
			cleanup: func() { os.RemoveAll(dir) }}, nil
	default:
		u, err := benchproc.RecreateDatabase(ctx, pgURL, benchDB)
		if err != nil {
			return nil, err
		}
		// The last case's database stays, for a look at it afterwards.
		return &database{kind: kind, arg: u, driver: "pgx", dsn: u, cleanup: func() {}}, nil
	}
}

// rowCounter counts the committed mqtt.signal.history rows of one
// direction. step is cheap: it reads only the rows above the highest id
// seen, through the primary key, which is exact while one writer commits
// in id order; full recounts the table and is the authority.
//
// The id goes into the SQL text, sent with PostgreSQL's simple protocol:
// a prepared statement would get a generic plan after five runs, and for
// "id > $1" with a direction test PostgreSQL picks the direction index,
// which reads every row of the table on each poll, 200 times a second.
type rowCounter struct {
	db        *sql.DB
	direction string
	maxID, n  int64
}

func openCounter(d *database, direction string) (*rowCounter, error) {
	dsn := d.dsn
	if d.driver == "pgx" {
		u, err := url.Parse(dsn)
		if err != nil {
			return nil, err
		}
		q := u.Query()
		q.Set("default_query_exec_mode", "simple_protocol")
		u.RawQuery = q.Encode()
		dsn = u.String()
	}
	db, err := sql.Open(d.driver, dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return &rowCounter{db: db, direction: direction}, nil
}

func (c *rowCounter) close() { c.db.Close() }

// query counts the rows of c.direction among those with an id above
// after, and returns the highest id among all of those.
func (c *rowCounter) query(ctx context.Context, after int64) (n, maxID int64, err error) {
	q := `SELECT coalesce(sum(CASE WHEN direction = '` + c.direction + `' THEN 1 ELSE 0 END), 0), coalesce(max(id), 0) FROM mqtt_signal_history`
	if after > 0 {
		q += ` WHERE id > ` + strconv.FormatInt(after, 10)
	}
	if err := c.db.QueryRowContext(ctx, q).Scan(&n, &maxID); err != nil {
		return 0, 0, fmt.Errorf("count history rows: %w", err)
	}
	return n, maxID, nil
}

// step adds the rows committed above the highest id seen so far.
func (c *rowCounter) step(ctx context.Context) (int64, error) {
	n, maxID, err := c.query(ctx, c.maxID)
	if err != nil {
		return 0, err
	}
	if maxID > c.maxID {
		c.n += n
		c.maxID = maxID
	}
	return c.n, nil
}

// full recounts every row.
func (c *rowCounter) full(ctx context.Context) (int64, error) {
	n, maxID, err := c.query(ctx, 0)
	if err != nil {
		return 0, err
	}
	c.n, c.maxID = n, maxID
	return c.n, nil
}
