package main

// The three ways of running the same query: database/sql (the reference),
// XML-RPC with kolo/xmlrpc, JSON-RPC with net/http and encoding/json. Every
// call checks that exactly pageSize rows came back.

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	"github.com/kolo/xmlrpc"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchproc"
)

type queriers struct {
	db      *sql.DB
	sqlText string

	uid     int64
	xml     []*xmlrpc.Client // one per worker
	http    *http.Client     // shared, keep-alive, for JSON-RPC
	jsonURL string
	jsonReq []byte // the JSON-RPC body, identical for every call
}

// newQueriers opens the SQL pool, authenticates over XML-RPC and prepares
// one XML-RPC client per worker.
func newQueriers(ctx context.Context, base, dbURL string, clients int) (*queriers, error) {
	q := &queriers{jsonURL: base + "/jsonrpc"}
	transport := &http.Transport{
		MaxIdleConns:        2 * clients,
		MaxIdleConnsPerHost: 2 * clients,
		IdleConnTimeout:     time.Minute,
	}
	q.http = &http.Client{Transport: transport, Timeout: 30 * time.Second}

	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(clients)
	db.SetMaxIdleConns(clients)
	q.db = db
	cols := append([]string{"id"}, queryFields...)
	for i, c := range cols {
		cols[i] = `"` + c + `"`
	}
	q.sqlText = `SELECT ` + strings.Join(cols, ", ") +
		` FROM mqtt_signal_history WHERE direction = $1 AND topic LIKE $2 ORDER BY "timestamp" DESC LIMIT ` + fmt.Sprint(pageSize)

	n, err := benchproc.Login(base, transport)
	if err != nil {
		return nil, err
	}
	q.uid = n
	for range clients {
		c, err := xmlrpc.NewClient(base+"/xmlrpc/2/object", transport)
		if err != nil {
			return nil, err
		}
		q.xml = append(q.xml, c)
	}
	q.jsonReq, err = json.Marshal(map[string]any{
		"jsonrpc": "2.0", "method": "call", "id": 1,
		"params": map[string]any{"service": "object", "method": "execute_kw", "args": q.executeKwArgs()},
	})
	return q, err
}

func (q *queriers) close() {
	for _, c := range q.xml {
		c.Close()
	}
	q.db.Close()
	q.http.CloseIdleConnections()
}

// executeKwArgs are the params of execute_kw, shared by both RPC paths.
func (q *queriers) executeKwArgs() []any {
	fields := make([]any, len(queryFields))
	for i, f := range queryFields {
		fields[i] = f
	}
	domain := []any{[]any{"direction", "=", queryDirection}, []any{"topic", "like", queryTopic}}
	return []any{benchproc.DBName, q.uid, benchproc.AdminPassword, "mqtt.signal.history", "search_read",
		[]any{domain},
		map[string]any{"fields": fields, "limit": pageSize, "order": queryOrder}}
}

// sqlRows runs the reference query and returns the ids it read.
func (q *queriers) sqlRows(ctx context.Context) ([]int64, error) {
	rows, err := q.db.QueryContext(ctx, q.sqlText, queryDirection, "%"+queryTopic+"%")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ids := make([]int64, 0, pageSize)
	for rows.Next() {
		var (
			id             int64
			ts             time.Time
			topic, payload string
			direction      string
			qos            int64
			retain         bool
		)
		if err := rows.Scan(&id, &ts, &topic, &payload, &direction, &qos, &retain); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

func (q *queriers) sqlCall(ctx context.Context, _ int) error {
	ids, err := q.sqlRows(ctx)
	if err != nil {
		return err
	}
	return checkCount("direct SQL", len(ids))
}

// xmlrpcRows runs search_read with worker's XML-RPC client.
func (q *queriers) xmlrpcRows(worker int) ([]any, error) {
	var res []any
	if err := q.xml[worker].Call("execute_kw", q.executeKwArgs(), &res); err != nil {
		return nil, err
	}
	return res, nil
}

func (q *queriers) xmlrpcCall(_ context.Context, worker int) error {
	res, err := q.xmlrpcRows(worker)
	if err != nil {
		return err
	}
	return checkCount("XML-RPC", len(res))
}

// jsonrpcRows posts the JSON-RPC call and decodes the result rows.
func (q *queriers) jsonrpcRows(ctx context.Context) ([]map[string]any, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, q.jsonURL, bytes.NewReader(q.jsonReq))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := q.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
		return nil, fmt.Errorf("%w: JSON-RPC HTTP %s: %s", benchproc.ErrFunctional, resp.Status, b)
	}
	var out struct {
		Result []map[string]any `json:"result"`
		Error  json.RawMessage  `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("%w: JSON-RPC response: %v", benchproc.ErrFunctional, err)
	}
	if out.Error != nil {
		return nil, fmt.Errorf("%w: JSON-RPC error: %s", benchproc.ErrFunctional, out.Error)
	}
	return out.Result, nil
}

func (q *queriers) jsonrpcCall(ctx context.Context, _ int) error {
	res, err := q.jsonrpcRows(ctx)
	if err != nil {
		return err
	}
	return checkCount("JSON-RPC", len(res))
}

func checkCount(path string, n int) error {
	if n != pageSize {
		return fmt.Errorf("%w: %s returned %d rows, want %d", benchproc.ErrFunctional, path, n, pageSize)
	}
	return nil
}

// crossCheck runs the query once per path and requires the same ids in
// the same order, so the reference really is the same query.
func (q *queriers) crossCheck(ctx context.Context) error {
	want, err := q.sqlRows(ctx)
	if err != nil {
		return fmt.Errorf("direct SQL: %w", err)
	}
	if err := checkCount("direct SQL", len(want)); err != nil {
		return err
	}
	xr, err := q.xmlrpcRows(0)
	if err != nil {
		return fmt.Errorf("XML-RPC: %w", err)
	}
	jr, err := q.jsonrpcRows(ctx)
	if err != nil {
		return fmt.Errorf("JSON-RPC: %w", err)
	}
	for _, c := range []struct {
		path string
		rows []map[string]any
	}{{"XML-RPC", asMaps(xr)}, {"JSON-RPC", jr}} {
		got := make([]int64, 0, len(c.rows))
		for _, r := range c.rows {
			got = append(got, toInt(r["id"]))
			for _, f := range queryFields {
				if _, ok := r[f]; !ok {
					return fmt.Errorf("%w: %s row lacks field %q: %v", benchproc.ErrFunctional, c.path, f, r)
				}
			}
		}
		if !slices.Equal(got, want) {
			return fmt.Errorf("%w: %s ids differ from direct SQL:\n got %v\nwant %v", benchproc.ErrFunctional, c.path, got, want)
		}
	}
	return nil
}

func asMaps(rows []any) []map[string]any {
	out := make([]map[string]any, 0, len(rows))
	for _, r := range rows {
		m, _ := r.(map[string]any)
		out = append(out, m)
	}
	return out
}

func toInt(v any) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case float64:
		return int64(n)
	}
	return -1
}
