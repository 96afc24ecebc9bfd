package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/listener"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
)

// drainCall is one call of a Drain handler: by which Coordinator, for
// which broker and dead instance, and how it ended.
type drainCall struct {
	by, broker, instance int64
	err                  error
}

// drainRecorder is the Drain handler of TestCoordinatorDrainsDeadOnce:
// fn decides each call's outcome.
type drainRecorder struct {
	mu    sync.Mutex
	calls []drainCall
	fn    func(ctx context.Context, k drainKey, n int) error // n: earlier calls for k
}

func (r *drainRecorder) handler(by func() int64) func(context.Context, int64, int64) error {
	return func(ctx context.Context, broker, instance int64) error {
		k := drainKey{instance: instance, broker: broker}
		r.mu.Lock()
		n := 0
		for _, c := range r.calls {
			if c.broker == broker && c.instance == instance {
				n++
			}
		}
		fn := r.fn
		r.mu.Unlock()
		err := fn(ctx, k, n)
		r.mu.Lock()
		r.calls = append(r.calls, drainCall{by: by(), broker: broker, instance: instance, err: err})
		r.mu.Unlock()
		return err
	}
}

func (r *drainRecorder) set(fn func(ctx context.Context, k drainKey, n int) error) {
	r.mu.Lock()
	r.fn = fn
	r.mu.Unlock()
}

func (r *drainRecorder) all() []drainCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]drainCall(nil), r.calls...)
}

// TestCoordinatorDrainsDeadOnce: two instances own a broker each; an
// instance found dead (a row with an old heartbeat) is drained at each
// broker by that broker's owner only, a failed drain is tried again, a
// drain that succeeded is not repeated; a drain under way is cancelled
// when the instance beats again, and an instance that dies again (a new
// last heartbeat) is drained again.
func TestCoordinatorDrainsDeadOnce(t *testing.T) {
	modelstest.CheckLeaks(t)
	dsn := pgDSN(t)
	ids := unreachableBrokers(openInstance(t, dsn), 2)
	rec := &drainRecorder{fn: func(context.Context, drainKey, int) error { return nil }}
	var cs []*Coordinator
	for i := range 2 {
		c := New(Options{DSN: dsn, Logger: modelstest.Logger(t), Host: "test", PID: 131 + i,
			HeartbeatEvery: 100 * time.Millisecond, DeadAfter: 2 * time.Second, DrainRetry: 300 * time.Millisecond})
		c.Serve(listener.ClusterHandlers{Drain: rec.handler(func() int64 { return c.Self().ID })})
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Go(func() {
			if err := c.Run(ctx); err != nil {
				t.Errorf("coordinator %d: %v", i, err)
			}
		})
		t.Cleanup(func() { cancel(); wg.Wait() })
		cs = append(cs, c)
	}
	testkit.Eventually(t, 20*time.Second, "one broker each", func() bool { return spread(cs, ids, map[int]int{0: 1, 1: 1}) })
	owner := map[int64]int64{}
	for _, b := range ids {
		for _, c := range cs {
			if c.Owns(b) {
				owner[b] = c.Self().ID
			}
		}
	}

	// Each first drain fails, the second succeeds.
	rec.set(func(_ context.Context, _ drainKey, n int) error {
		if n == 0 {
			return errors.New("broker unreachable")
		}
		return nil
	})
	conn := db(t, dsn)
	var dead int64
	if err := conn.QueryRow(t.Context(), `INSERT INTO mqtt_instance (host, pid, heartbeat) VALUES ('crashed', 1, now() - interval '10 seconds')
		RETURNING id`).Scan(&dead); err != nil {
		t.Fatal(err)
	}
	recorded := func() int {
		var n int
		if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM mqtt_instance_drain d JOIN mqtt_instance i ON i.id = d.instance_id
			AND i.heartbeat = d.heartbeat WHERE d.instance_id = $1`, dead).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	testkit.Eventually(t, 10*time.Second, "the dead instance drained at both brokers", func() bool { return recorded() == 2 })
	time.Sleep(time.Second) // ten rounds: a drain repeated would be there
	check := func(want map[int64][]string) {
		t.Helper()
		got := map[int64][]string{}
		for _, c := range rec.all() {
			if c.instance != dead {
				t.Errorf("drain of instance %d, want only %d", c.instance, dead)
			}
			if c.by != owner[c.broker] {
				t.Errorf("broker %d drained by instance %d, its owner is %d", c.broker, c.by, owner[c.broker])
			}
			got[c.broker] = append(got[c.broker], fmt.Sprint(c.err))
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("drain outcomes per broker %v, want %v", got, want)
		}
	}
	failed := "broker unreachable"
	check(map[int64][]string{ids[0]: {failed, "<nil>"}, ids[1]: {failed, "<nil>"}})

	// It dies again (a later last heartbeat): drained again; the drains
	// are under way when it beats again, and are cancelled.
	started := make(chan drainKey, 2)
	rec.set(func(ctx context.Context, k drainKey, _ int) error {
		started <- k
		<-ctx.Done()
		return ctx.Err()
	})
	if _, err := conn.Exec(t.Context(), `UPDATE mqtt_instance SET heartbeat = now() - interval '5 seconds' WHERE id = $1`, dead); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		select {
		case <-started:
		case <-time.After(10 * time.Second):
			t.Fatal("no drain of the instance dead again")
		}
	}
	if _, err := conn.Exec(t.Context(), `UPDATE mqtt_instance SET heartbeat = now() WHERE id = $1`, dead); err != nil {
		t.Fatal(err)
	}
	canceled := context.Canceled.Error()
	testkit.Eventually(t, 10*time.Second, "the drains cancelled", func() bool { return len(rec.all()) == 6 })
	check(map[int64][]string{ids[0]: {failed, "<nil>", canceled}, ids[1]: {failed, "<nil>", canceled}})

	// Dead once more: drained, recorded with its new last heartbeat.
	rec.set(func(context.Context, drainKey, int) error { return nil })
	if _, err := conn.Exec(t.Context(), `UPDATE mqtt_instance SET heartbeat = now() - interval '5 seconds' WHERE id = $1`, dead); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 10*time.Second, "drained again", func() bool { return recorded() == 2 })
	time.Sleep(500 * time.Millisecond)
	check(map[int64][]string{ids[0]: {failed, "<nil>", canceled, "<nil>"}, ids[1]: {failed, "<nil>", canceled, "<nil>"}})
}
