package main

// Helpers for the cluster tests (issue 12): several real server processes
// on one PostgreSQL database and one Mosquitto. The tests read the
// ownership and the history straight from PostgreSQL, as an operator
// would, so they depend on no status call.

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testmqtt"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
)

// clusterDB is the database name the instances serve.
const clusterDB = "e2e"

// clusterEnv is n instances of the server on one fresh PostgreSQL
// database, one Mosquitto, and a pool on that database for the test's
// own queries.
type clusterEnv struct {
	t     *testing.T
	mq    *testmqtt.Broker
	args  []string
	procs []*serverProc
	db    *pgxpool.Pool
}

// startCluster starts n instances. The first one migrates the database
// alone; the others then start together on a migrated schema.
func startCluster(t *testing.T, n int) *clusterEnv {
	t.Helper()
	dsn := modelstest.DSN(t, "postgres") // fails under CI=true without PostgreSQL
	c := &clusterEnv{t: t, mq: startMosquitto(t), args: []string{"--db", dsn, "--db-name", clusterDB, "--admin-password", "pw"}}
	db, err := pgxpool.New(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	c.db = db
	for range n {
		c.start()
	}
	testkit.Eventually(t, 15*time.Second, fmt.Sprintf("%d live instances", n), func() bool {
		return c.queryInt(`SELECT count(*) FROM mqtt_instance WHERE heartbeat > now() - interval '6 seconds'`) == n
	})
	return c
}

// start adds an instance and returns its index.
func (c *clusterEnv) start() int {
	c.t.Helper()
	c.procs = append(c.procs, startServer(c.t, c.args...))
	return len(c.procs) - 1
}

// login is an RPC client of instance i.
func (c *clusterEnv) login(i int) *odoo {
	c.t.Helper()
	return login(c.t, c.procs[i], clusterDB, "pw")
}

// queryInt runs a query returning one integer.
func (c *clusterEnv) queryInt(sql string, args ...any) int {
	c.t.Helper()
	var n int
	if err := c.db.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		c.t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// sqlOwnerPID is the OS pid of a broker's owner, trusted as the
// Coordinator trusts it: a live instance whose lock connection holds the
// broker's advisory lock (class 0x4D515454) now.
const sqlOwnerPID = `SELECT coalesce(max(i.pid), 0) FROM mqtt_broker_owner o
JOIN mqtt_instance i ON i.id = o.instance_id AND i.heartbeat > now() - interval '6 seconds'
JOIN pg_locks l ON l.locktype = 'advisory' AND l.granted AND l.pid = i.backend_pid
	AND l.classid = 1297175636::oid AND l.objid = o.broker_id::int::oid AND l.objsubid = 2
WHERE o.broker_id = $1`

// owner is the index of the instance owning broker, -1 when none does
// (or a process not ours, which would be a bug).
func (c *clusterEnv) owner(broker int64) int {
	c.t.Helper()
	pid := c.queryInt(sqlOwnerPID, broker)
	for i, p := range c.procs {
		if p.cmd.Process.Pid == pid {
			return i
		}
	}
	return -1
}

// waitOwner waits until an instance other than not (-1: any) owns broker
// and returns it.
func (c *clusterEnv) waitOwner(broker int64, not int) int {
	c.t.Helper()
	got := -1
	if !testkit.Poll(20*time.Second, func() bool {
		got = c.owner(broker)
		return got >= 0 && got != not
	}) {
		c.t.Fatalf("no owner of broker %d other than %d after 20s; owners %s; instances %s; locks %s", broker, not,
			c.dump(`SELECT * FROM mqtt_broker_owner`), c.dump(`SELECT id, pid, backend_pid, heartbeat FROM mqtt_instance`),
			c.dump(`SELECT pid, classid, objid, objsubid, granted FROM pg_locks WHERE locktype = 'advisory'`))
	}
	return got
}

// dump renders a query's rows, for failure messages.
func (c *clusterEnv) dump(sql string) string {
	rows, err := c.db.Query(context.Background(), sql)
	if err != nil {
		return err.Error()
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		vals, _ := rows.Values()
		out = append(out, fmt.Sprint(vals...))
	}
	return strings.Join(out, "; ")
}

// received is the number of received history rows on topics under
// prefix.
func (c *clusterEnv) received(prefix string) int {
	c.t.Helper()
	return c.queryInt(`SELECT count(*) FROM mqtt_signal_history WHERE direction = 'receive' AND topic LIKE $1`, prefix+"%")
}

// checkStream checks that the numbers 0..total-1 were each stored once
// on topics under prefix: it fails on a missing number, an extra payload
// or a duplicate.
func (c *clusterEnv) checkStream(prefix string, total int) {
	c.t.Helper()
	rows, err := c.db.Query(context.Background(), `SELECT payload, count(*) FROM mqtt_signal_history
		WHERE direction = 'receive' AND topic LIKE $1 GROUP BY payload`, prefix+"%")
	if err != nil {
		c.t.Fatal(err)
	}
	defer rows.Close()
	seen := make([]bool, total)
	dups, distinct := 0, 0
	for rows.Next() {
		var payload string
		var n int
		if err := rows.Scan(&payload, &n); err != nil {
			c.t.Fatal(err)
		}
		i, err := strconv.Atoi(payload)
		if err != nil || i < 0 || i >= total {
			c.t.Fatalf("unexpected payload %q", payload)
		}
		seen[i] = true
		distinct++
		dups += n - 1
	}
	if err := rows.Err(); err != nil {
		c.t.Fatal(err)
	}
	var missing []int
	for i, ok := range seen {
		if !ok {
			missing = append(missing, i)
		}
	}
	if len(missing) > 0 || dups > 0 {
		c.t.Fatalf("%d published, %d distinct stored, %d missing (first %v), %d duplicates", total, distinct, len(missing), missing[:min(len(missing), 10)], dups)
	}
}

// addBroker creates a broker on Mosquitto with a persistent session (a
// fixed client id, clean_session off) and a QoS 1 subscription to
// prefix/#, subscribes it and starts the service, through o.
func (c *clusterEnv) addBroker(o *odoo, name, prefix string, extra map[string]any) int64 {
	c.t.Helper()
	vals := map[string]any{"name": name, "host": testmqtt.Host, "port": strconv.Itoa(c.mq.Port()),
		"clean_session": false, "client_id": "oim-" + name, "device_discovery": true}
	for k, v := range extra {
		vals[k] = v
	}
	broker := o.create("mqtt.broker", vals)
	sub := o.create("mqtt.subscription", map[string]any{"broker_id": broker, "topic": prefix + "/#", "qos": 1})
	o.call("mqtt.service", "start_mqtt_service", nil, nil)
	o.call("mqtt.subscription", "subscribe_mqtt", []any{[]any{sub}}, nil)
	testkit.Eventually(c.t, 20*time.Second, "subscription "+prefix+"/# subscribed", func() bool {
		return o.count("mqtt.subscription", []any{[]any{"id", "=", sub}, []any{"subscribed", "=", true}}) == 1
	})
	return broker
}

// stream publishes the numbers 0..total-1 at QoS 1 on topic, each
// acknowledged by the broker; at most window are unacknowledged at once.
// sent counts the acknowledged ones; the error, or nil, arrives on the
// returned channel when the stream ends.
type stream struct {
	sent atomic.Int64
	done chan error
}

func publishStream(t *testing.T, url, id, topic string, total, window int) *stream {
	t.Helper()
	pub := testmqtt.Connect(t, url, id, nil)
	s := &stream{done: make(chan error, 1)}
	go func() {
		toks := make([]paho.Token, 0, window)
		flush := func(keep int) error {
			for len(toks) > keep {
				if err := testmqtt.Wait(toks[0]); err != nil {
					return err
				}
				toks = toks[1:]
				s.sent.Add(1)
			}
			return nil
		}
		for i := 0; i < total; i++ {
			toks = append(toks, pub.Publish(topic, 1, false, fmt.Sprintf("%06d", i)))
			if err := flush(window - 1); err != nil {
				s.done <- fmt.Errorf("publish: %w", err)
				return
			}
		}
		s.done <- flush(0)
	}()
	return s
}

// wait is the stream's end, failing the test on a publish error.
func (s *stream) wait(t *testing.T) {
	t.Helper()
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("the publisher is stuck after %d messages", s.sent.Load())
	}
}

// logTime is the time of the first record after after with message msg
// (and, when key is set, attribute key equal to val) in p's log; zero
// when none.
func (p *serverProc) logTime(after time.Time, msg, key string, val any) time.Time {
	for _, rec := range p.logRecords(msg) {
		if key != "" && fmt.Sprint(rec[key]) != fmt.Sprint(val) {
			continue
		}
		s, _ := rec["time"].(string)
		if at, err := time.Parse(time.RFC3339Nano, s); err == nil && at.After(after) {
			return at
		}
	}
	return time.Time{}
}
