package cluster

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/listener"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
)

// runCoordinator runs a Coordinator on dsn until stop is called or the
// test ends; changed counts its Changed handler's calls.
func runCoordinator(t *testing.T, dsn string, pid int) (c *Coordinator, stop func()) {
	t.Helper()
	return runCoordinatorWith(t, Options{DSN: dsn, Logger: modelstest.Logger(t), Host: "test", PID: pid,
		HeartbeatEvery: 200 * time.Millisecond, DeadAfter: 2 * time.Second, Outbox: OutboxOptions{Sweep: 200 * time.Millisecond}})
}

// runCoordinatorWith is runCoordinator with options of the test's.
func runCoordinatorWith(t *testing.T, opts Options) (c *Coordinator, stop func()) {
	t.Helper()
	c = New(opts)
	pid := opts.PID
	c.Serve(listener.ClusterHandlers{})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := c.Run(ctx); err != nil {
			t.Errorf("coordinator %d: %v", pid, err)
		}
	})
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); wg.Wait() }) }
	t.Cleanup(stop)
	testkit.Eventually(t, 10*time.Second, "registered", func() bool { return c.Self().ID != 0 })
	return c, stop
}

// unreachableBrokers creates n active brokers named b0, b1...: the
// Coordinator's tests need their rows, not a broker behind them.
func unreachableBrokers(app *instance, n int) []int64 {
	var ids []int64
	for i := range n {
		ids = append(ids, app.call("mqtt.broker", "create", map[string]any{"name": fmt.Sprint("b", i), "host": "127.0.0.1",
			"port": "1", "client_id": fmt.Sprint("b", i)}).(int64))
	}
	return ids
}

func ownedBy(cs []*Coordinator, ids []int64) map[int64][]int {
	out := map[int64][]int{}
	for _, b := range ids {
		for i, c := range cs {
			if c.Owns(b) {
				out[b] = append(out[b], i)
			}
		}
	}
	return out
}

// exactlyOnce: every broker owned by one coordinator, and each
// coordinator's count within want.
func spread(cs []*Coordinator, ids []int64, per map[int]int) bool {
	got := map[int]int{}
	for _, owners := range ownedBy(cs, ids) {
		if len(owners) != 1 {
			return false
		}
		got[owners[0]]++
	}
	if len(ownedBy(cs, ids)) != len(ids) {
		return false
	}
	for i, n := range per {
		if got[i] != n {
			return false
		}
	}
	return true
}

// TestCoordinatorSpreadAndTakeover: two brokers over two instances go one
// each; the one whose lock connection is killed (pg_terminate_backend)
// gives up its broker and the other takes it; it then comes back and the
// brokers spread again; an instance that stops leaves its brokers to the
// others, and every instance sees the owners and the live instances.
func TestCoordinatorSpreadAndTakeover(t *testing.T) {
	modelstest.CheckLeaks(t)
	dsn := pgDSN(t)
	ids := unreachableBrokers(openInstance(t, dsn), 2)
	a, _ := runCoordinator(t, dsn, 101)
	b, stopB := runCoordinator(t, dsn, 102)
	cs := []*Coordinator{a, b}
	testkit.Eventually(t, 20*time.Second, "one broker each", func() bool { return spread(cs, ids, map[int]int{0: 1, 1: 1}) })
	for _, c := range cs {
		if n := len(c.Instances()); n != 2 {
			t.Errorf("instance %d sees %d instances", c.Self().ID, n)
		}
	}
	testkit.Eventually(t, 10*time.Second, "the owners seen everywhere", func() bool {
		for _, c := range cs {
			for _, id := range ids {
				o, _, ok := c.Owner(id)
				if !ok || !(a.Owns(id) && o.ID == a.Self().ID || b.Owns(id) && o.ID == b.Self().ID) {
					return false
				}
			}
		}
		return true
	})

	// Kill A's lock connection: A drops its broker at once, B takes it.
	conn := db(t, dsn)
	var killed bool
	if err := conn.QueryRow(context.Background(), `SELECT pg_terminate_backend(backend_pid) FROM mqtt_instance WHERE id = $1`,
		a.Self().ID).Scan(&killed); err != nil || !killed {
		t.Fatalf("terminate: %v %v", killed, err)
	}
	select {
	case <-a.Changed():
	case <-time.After(10 * time.Second):
		t.Fatal("A did not signal Changed after losing its connection")
	}
	testkit.Eventually(t, 20*time.Second, "both brokers, each owned once, A back with one", func() bool {
		return spread(cs, ids, map[int]int{0: 1, 1: 1})
	})

	// B stops: A takes everything.
	stopB()
	testkit.Eventually(t, 20*time.Second, "A owns both", func() bool { return spread(cs[:1], ids, map[int]int{0: 2}) })
	testkit.Eventually(t, 10*time.Second, "B no longer live", func() bool { return len(a.Instances()) == 1 })
}
