package benchproc

// The PostgreSQL database a benchmark runs the server on: recreated next
// to a maintenance database the caller names with -pg.

import (
	"context"
	"fmt"
	"net/url"
	"os"

	"github.com/jackc/pgx/v5"
)

// DefaultPG is the -pg default: $ODOO_IOT_MQTT_TEST_PG, as for the tests,
// else the local server with trust authentication.
func DefaultPG() string {
	if s := os.Getenv("ODOO_IOT_MQTT_TEST_PG"); s != "" {
		return s
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// DatabaseURL is pgURL with its database replaced by name.
func DatabaseURL(pgURL, name string) (string, error) {
	u, err := url.Parse(pgURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", fmt.Errorf("-pg must be a postgres:// URL, got %q", pgURL)
	}
	u.Path = "/" + name
	return u.String(), nil
}

// RecreateDatabase drops database name (closing its connections) and
// creates it empty, through the maintenance database pgURL names; it
// returns the new database's URL. The server creates the schema.
func RecreateDatabase(ctx context.Context, pgURL, name string) (string, error) {
	u, err := DatabaseURL(pgURL, name)
	if err != nil {
		return "", err
	}
	conn, err := pgx.Connect(ctx, pgURL)
	if err != nil {
		return "", fmt.Errorf("connect to %s: %w", pgURL, err)
	}
	defer conn.Close(ctx)
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
		return "", fmt.Errorf("drop %s: %w", name, err)
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		return "", fmt.Errorf("create %s: %w", name, err)
	}
	return u, nil
}

// InsertBroker inserts a broker record as the server's schema holds one
// (owned by admin, id 2) for benches that seed the history in SQL, and
// returns its id.
func InsertBroker(ctx context.Context, conn *pgx.Conn) (int64, error) {
	var broker int64
	err := conn.QueryRow(ctx, `INSERT INTO mqtt_broker
		(name, host, port, client_id, url_scheme, clean_session, keepalive, connect_timeout,
		 connection_status, create_uid, create_date, write_uid, write_date)
		VALUES ('Bench broker', '127.0.0.1', '1883', 'oim-bench', 'mqtt', true, 60, 30,
		 'disconnected', 2, now() AT TIME ZONE 'UTC', 2, now() AT TIME ZONE 'UTC')
		RETURNING id`).Scan(&broker)
	if err != nil {
		return 0, fmt.Errorf("seed broker: %w", err)
	}
	return broker, nil
}
