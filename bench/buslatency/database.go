package main

// The server's database: PostgreSQL, its production database, recreated
// for each run. In PostgreSQL mode the bus goes through the table bus_bus
// and LISTEN/NOTIFY, as it does in production.

import (
	"context"
	"fmt"
	"net/url"

	"github.com/jackc/pgx/v5"
)

// freshDatabase drops and creates benchDB next to the maintenance
// database pgURL names, and returns its URL. The server creates the schema.
func freshDatabase(ctx context.Context, pgURL string) (string, error) {
	u, err := url.Parse(pgURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", fmt.Errorf("-pg must be a postgres:// URL, got %q", pgURL)
	}
	conn, err := pgx.Connect(ctx, pgURL)
	if err != nil {
		return "", fmt.Errorf("connect to %s: %w", pgURL, err)
	}
	defer conn.Close(ctx)
	ident := pgx.Identifier{benchDB}.Sanitize()
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
		return "", fmt.Errorf("drop %s: %w", benchDB, err)
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		return "", fmt.Errorf("create %s: %w", benchDB, err)
	}
	u.Path = "/" + benchDB
	return u.String(), nil
}
