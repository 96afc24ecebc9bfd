package main

// One case's cluster: n instances of the real server on a fresh
// PostgreSQL database, a pool on that database for the bench's own
// counting, and the broker record they all serve.

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchproc"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchrpc"
)

type cluster struct {
	b      *bench
	dbURL  string
	db     *pgxpool.Pool
	procs  []*benchproc.Server // nil once killed and not restarted
	broker int64
}

// startCluster recreates the database and starts n instances: the first
// alone (it creates the schema), then the others.
func (b *bench) startCluster(ctx context.Context, n int) (*cluster, error) {
	u, err := benchproc.RecreateDatabase(ctx, b.o.pg, benchDB)
	if err != nil {
		return nil, err
	}
	c := &cluster{b: b, dbURL: u}
	if c.db, err = pgxpool.New(ctx, u); err != nil {
		return nil, err
	}
	for range n {
		if _, err := c.start(ctx); err != nil {
			c.close()
			return nil, err
		}
	}
	err = benchproc.Poll(ctx, 20*time.Second, 100*time.Millisecond, func() (bool, error) {
		live, err := c.liveInstances(ctx)
		return live == n, err
	})
	if err != nil {
		c.close()
		return nil, fmt.Errorf("%d instances not all live: %w", n, err)
	}
	return c, nil
}

// start adds an instance, in the first free slot, and returns the slot.
func (c *cluster) start(ctx context.Context) (int, error) {
	s, err := benchproc.StartServer(ctx, c.b.bin, c.dbURL, "--secret-key-file", filepath.Join(c.b.keys, "secret.key"))
	if err != nil {
		return 0, err
	}
	for i, p := range c.procs {
		if p == nil {
			c.procs[i] = s
			return i, nil
		}
	}
	c.procs = append(c.procs, s)
	return len(c.procs) - 1, nil
}

func (c *cluster) close() {
	for _, p := range c.procs {
		if p != nil {
			p.Stop()
		}
	}
	c.db.Close()
}

// alive reports the crash of an instance the bench did not kill.
func (c *cluster) alive() error {
	for i, p := range c.procs {
		if p != nil {
			if err := p.Check(nil); err != nil {
				return fmt.Errorf("instance %d: %w", i, err)
			}
		}
	}
	return nil
}

func (c *cluster) queryInt(ctx context.Context, sql string, args ...any) (int64, error) {
	var n int64
	if err := c.db.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("%s: %w", sql, err)
	}
	return n, nil
}

func (c *cluster) liveInstances(ctx context.Context) (int, error) {
	n, err := c.queryInt(ctx, `SELECT count(*) FROM mqtt_instance WHERE heartbeat > now() - interval '6 seconds'`)
	if pe := (*pgconn.PgError)(nil); errors.As(err, &pe) && pe.Code == "42P01" {
		return 0, nil // no Coordinator has created its table yet
	}
	return int(n), err
}

// sqlOwnerPID is the OS pid of the broker's owner as the Coordinator
// trusts it (live instance, its lock connection holding the advisory
// lock 0x4D515454/broker now); 0 when none.
const sqlOwnerPID = `SELECT coalesce(max(i.pid), 0) FROM mqtt_broker_owner o
JOIN mqtt_instance i ON i.id = o.instance_id AND i.heartbeat > now() - interval '6 seconds'
JOIN pg_locks l ON l.locktype = 'advisory' AND l.granted AND l.pid = i.backend_pid
	AND l.classid = 1297175636::oid AND l.objid = o.broker_id::int::oid AND l.objsubid = 2
WHERE o.broker_id = $1`

// owner is the slot of the broker's owner, -1 when none.
func (c *cluster) owner(ctx context.Context) (int, error) {
	pid, err := c.queryInt(ctx, sqlOwnerPID, c.broker)
	if err != nil {
		return -1, err
	}
	for i, p := range c.procs {
		if p != nil && int64(p.PID()) == pid {
			return i, nil
		}
	}
	return -1, nil
}

// stored counts the received history rows on topics under prefix.
func (c *cluster) stored(ctx context.Context, prefix string) (int64, error) {
	return c.queryInt(ctx, `SELECT count(*) FROM mqtt_signal_history WHERE direction = 'receive' AND topic LIKE $1`, prefix+"%")
}

// checkStream: the numbers 0..total-1 published under prefix are each
// stored once.
func (c *cluster) checkStream(ctx context.Context, prefix string, total int64) error {
	var rows, distinct, inRange int64
	err := c.db.QueryRow(ctx, `SELECT count(*), count(DISTINCT payload), count(DISTINCT payload) FILTER (WHERE payload::bigint BETWEEN 0 AND $2 - 1)
		FROM mqtt_signal_history WHERE direction = 'receive' AND topic LIKE $1`, prefix+"%", total).Scan(&rows, &distinct, &inRange)
	if err != nil {
		return err
	}
	if rows != total || distinct != total || inRange != total {
		return fmt.Errorf("%w: %d published under %s, %d rows stored, %d distinct, %d in range: lost or duplicated messages",
			benchproc.ErrFunctional, total, prefix, rows, distinct, inRange)
	}
	return nil
}

// listen creates the broker record with a persistent session and a QoS 1
// subscription to filter on instance slot, starts the service and waits
// until the subscription is subscribed.
func (c *cluster) listen(ctx context.Context, slot int, clientID, filter string, extra map[string]any) error {
	rpc, err := benchrpc.Dial(c.procs[slot].URL())
	if err != nil {
		return err
	}
	defer rpc.Close()
	host, port := "127.0.0.1", c.b.broker.Addr[len("127.0.0.1:"):]
	vals := map[string]any{"name": "Bench Mosquitto", "host": host, "port": port, "client_id": clientID, "clean_session": false}
	for k, v := range extra {
		vals[k] = v
	}
	if c.broker, err = rpc.Create("mqtt.broker", vals); err != nil {
		return err
	}
	sub, err := rpc.Create("mqtt.subscription", map[string]any{"broker_id": c.broker, "topic": filter, "qos": int64(1)})
	if err != nil {
		return err
	}
	if _, err := rpc.Call("mqtt.service", "start_mqtt_service", nil, nil); err != nil {
		return err
	}
	if _, err := rpc.Call("mqtt.subscription", "subscribe_mqtt", []any{[]any{sub}}, nil); err != nil {
		return err
	}
	return benchproc.Poll(ctx, 30*time.Second, 100*time.Millisecond, func() (bool, error) {
		n, err := c.queryInt(ctx, `SELECT count(*) FROM mqtt_subscription WHERE id = $1 AND subscribed`, sub)
		return n == 1, err
	})
}

// received is each instance's messages_received_total, from /metrics.
func (c *cluster) received() []int64 {
	out := make([]int64, len(c.procs))
	for i, p := range c.procs {
		if p != nil {
			out[i] = int64(benchproc.ScrapeMetrics(p.URL())["messages_received_total"])
		}
	}
	return out
}

// serverPIDs are the live instances' pids, for the CPU figures.
func (c *cluster) serverPIDs() []int {
	var out []int
	for _, p := range c.procs {
		if p != nil {
			out = append(out, p.PID())
		}
	}
	return out
}
