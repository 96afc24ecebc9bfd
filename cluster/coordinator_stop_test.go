package cluster

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
)

// slowDeath are a Coordinator's options where a dead instance is noticed
// only after 30 s: what happens sooner is a clean stop's doing.
func slowDeath(t *testing.T, dsn string, pid int) Options {
	return Options{DSN: dsn, Logger: modelstest.Logger(t), Host: "test", PID: pid,
		HeartbeatEvery: 200 * time.Millisecond, DeadAfter: 30 * time.Second, Outbox: OutboxOptions{Sweep: 200 * time.Millisecond}}
}

// TestCoordinatorCleanStop: an instance that stops deletes its rows and
// releases its locks at once, so the other takes its broker within a
// heartbeat or so, not after DeadAfter.
func TestCoordinatorCleanStop(t *testing.T) {
	modelstest.CheckLeaks(t)
	dsn := pgDSN(t)
	ids := unreachableBrokers(openInstance(t, dsn), 2)
	a, _ := runCoordinatorWith(t, slowDeath(t, dsn, 111))
	b, stopB := runCoordinatorWith(t, slowDeath(t, dsn, 112))
	cs := []*Coordinator{a, b}
	testkit.Eventually(t, 20*time.Second, "one broker each", func() bool { return spread(cs, ids, map[int]int{0: 1, 1: 1}) })
	gone := b.Self().ID

	stopped := time.Now()
	stopB()
	testkit.Eventually(t, 5*time.Second, "A owns both", func() bool { return spread(cs[:1], ids, map[int]int{0: 2}) })
	if took := time.Since(stopped); took > 5*time.Second {
		t.Errorf("takeover took %v", took)
	}
	if n := len(a.Instances()); n != 1 {
		t.Errorf("A sees %d instances after B left", n)
	}
	var rows, owned int
	err := db(t, dsn).QueryRow(context.Background(), `SELECT (SELECT count(*) FROM mqtt_instance WHERE id = $1),
		(SELECT count(*) FROM mqtt_broker_owner WHERE instance_id = $1)`, gone).Scan(&rows, &owned)
	if err != nil || rows != 0 || owned != 0 {
		t.Errorf("B left %d instance rows and %d owner rows (%v)", rows, owned, err)
	}
}

// TestCoordinatorPurgesDeadInstances: the rows of an instance dead for
// more than PurgeAfter (1 h) go, with its owner rows; one dead for ten
// minutes stays.
func TestCoordinatorPurgesDeadInstances(t *testing.T) {
	modelstest.CheckLeaks(t)
	dsn := pgDSN(t)
	_, stop := runCoordinator(t, dsn, 121) // creates the tables
	stop()
	conn := db(t, dsn)
	var longDead, recent int64
	for _, r := range []struct {
		id  *int64
		age string
	}{{&longDead, "2 hours"}, {&recent, "10 minutes"}} {
		if err := conn.QueryRow(context.Background(), `INSERT INTO mqtt_instance (host, pid, heartbeat) VALUES ('gone', 1, now() - $1::interval)
			RETURNING id`, r.age).Scan(r.id); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(context.Background(), `INSERT INTO mqtt_broker_owner (broker_id, instance_id) VALUES ($1, $1)`, *r.id); err != nil {
			t.Fatal(err)
		}
	}
	runCoordinator(t, dsn, 122)
	left := func() (instances, owners []int64) {
		rows, _ := conn.Query(context.Background(), `SELECT id FROM mqtt_instance WHERE id IN ($1, $2) ORDER BY id`, longDead, recent)
		for rows.Next() {
			var id int64
			rows.Scan(&id)
			instances = append(instances, id)
		}
		rows, _ = conn.Query(context.Background(), `SELECT instance_id FROM mqtt_broker_owner WHERE instance_id IN ($1, $2) ORDER BY 1`, longDead, recent)
		for rows.Next() {
			var id int64
			rows.Scan(&id)
			owners = append(owners, id)
		}
		return instances, owners
	}
	testkit.Eventually(t, 10*time.Second, "the long dead instance purged", func() bool {
		in, own := left()
		return fmt.Sprint(in, own) == fmt.Sprint([]int64{recent}, []int64{recent})
	})
}

// TestCoordinatorBigBrokerIDs: a broker id beyond 2^31-1 is owned too,
// with the bigint lock form, and its key does not collide with the
// two-int lock of a small broker whose id is the big one's low half
// (and lockClass its high half): two instances own one each, and both
// see both owners.
func TestCoordinatorBigBrokerIDs(t *testing.T) {
	modelstest.CheckLeaks(t)
	dsn := pgDSN(t)
	app := openInstance(t, dsn)
	create := func(name string) int64 {
		return app.call("mqtt.broker", "create", map[string]any{"name": name, "host": "127.0.0.1", "port": "1", "client_id": name}).(int64)
	}
	small := create("small")
	want := int64(lockClass)<<32 | small
	if _, err := db(t, dsn).Exec(context.Background(), `SELECT setval(pg_get_serial_sequence('mqtt_broker', 'id'), $1, false)`, want); err != nil {
		t.Fatal(err)
	}
	big := create("big")
	if big != want {
		t.Fatalf("big broker id %d, want %d", big, want)
	}
	ids := []int64{small, big}
	a, _ := runCoordinator(t, dsn, 131)
	b, _ := runCoordinator(t, dsn, 132)
	cs := []*Coordinator{a, b}
	testkit.Eventually(t, 20*time.Second, "one broker each", func() bool { return spread(cs, ids, map[int]int{0: 1, 1: 1}) })
	testkit.Eventually(t, 10*time.Second, "both owners seen everywhere", func() bool {
		for _, c := range cs {
			for _, id := range ids {
				if o, _, ok := c.Owner(id); !ok || !(a.Owns(id) && o.ID == a.Self().ID || b.Owns(id) && o.ID == b.Self().ID) {
					return false
				}
			}
		}
		return true
	})
	var n int
	if err := db(t, dsn).QueryRow(context.Background(), `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1
		AND classid::bigint = $1 AND objid::bigint = $2`, big>>32, big&0xFFFFFFFF).Scan(&n); err != nil || n != 1 {
		t.Errorf("%d bigint locks of the big broker (%v), want 1", n, err)
	}
}
