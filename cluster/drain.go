package cluster

// Draining the sessions of dead instances (ClusterHandlers.Drain). An
// instance that died without leaving keeps its mqtt_instance row, with a
// heartbeat older than DeadAfter. For each such instance and each broker
// this instance owns, the claim round has the service drain what the
// dead one left at the broker (its persistent session of a shared
// group, listener/drain.go), once: a success is recorded in
// mqtt_instance_drain with the dead instance's last heartbeat, so an
// instance that comes back to life (a heartbeat again) and dies later is
// drained again. Only the broker's owner drains, and a drain is
// cancelled as soon as this instance loses the broker or the instance
// beats again: two connections with one client id take the session from
// each other, and a live instance's session is its own. One drain at a
// time per broker, so the connections stay bounded; a failed one is
// tried again after DrainRetry, until the dead row is purged
// (PurgeAfter).

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	mqttmodel "github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// defaultDrainRetry spaces the attempts of a failed drain (Options).
const defaultDrainRetry = 10 * time.Second

// drainKey is one dead instance at one broker.
type drainKey struct{ instance, broker int64 }

// pendingDrain is a drain to do: the dead instance's last heartbeat is
// what its record keeps.
type pendingDrain struct {
	drainKey
	heartbeat time.Time
}

// drainer runs the drains on goroutines of their own (a drain takes
// seconds: the claim round must not wait for it).
type drainer struct {
	mu      sync.Mutex
	base    context.Context // Run's; nil while it does not run
	running map[drainKey]context.CancelFunc
	retry   map[drainKey]time.Time // no attempt before
	wg      sync.WaitGroup
}

// pendingDrains are the dead instances not drained at the brokers owned.
func pendingDrains(ctx context.Context, conn *pgx.Conn, dead float64, owned []int64) ([]pendingDrain, error) {
	if len(owned) == 0 {
		return nil, nil
	}
	rows, err := conn.Query(ctx, sqlPendingDrains, dead, owned)
	if err != nil {
		return nil, fmt.Errorf("dead instances: %w", err)
	}
	var out []pendingDrain
	var p pendingDrain
	_, err = pgx.ForEachRow(rows, []any{&p.instance, &p.broker, &p.heartbeat}, func() error {
		out = append(out, p)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("dead instances: %w", err)
	}
	return out, nil
}

// followDrains, after a claim round, cancels the drains no longer wanted
// (broker lost, instance live again) and starts the pending ones.
func (c *Coordinator) followDrains(pending []pendingDrain, owned map[int64]time.Time, live []mqttmodel.InstanceStatus) {
	h := c.handlers.Load()
	dr := &c.drains
	dr.mu.Lock()
	defer dr.mu.Unlock()
	for k, cancel := range dr.running {
		_, mine := owned[k.broker]
		back := slices.ContainsFunc(live, func(in mqttmodel.InstanceStatus) bool { return in.ID == k.instance })
		if !mine || back {
			cancel()
		}
	}
	wanted := map[drainKey]bool{}
	for _, p := range pending {
		wanted[p.drainKey] = true
	}
	for k := range dr.retry {
		if !wanted[k] {
			delete(dr.retry, k)
		}
	}
	if dr.base == nil || h == nil || h.Drain == nil {
		return
	}
	busy := map[int64]bool{}
	for k := range dr.running {
		busy[k.broker] = true
	}
	for _, p := range pending {
		if busy[p.broker] || time.Now().Before(dr.retry[p.drainKey]) {
			continue
		}
		busy[p.broker] = true
		ctx, cancel := context.WithCancel(dr.base)
		if dr.running == nil {
			dr.running = map[drainKey]context.CancelFunc{}
		}
		dr.running[p.drainKey] = cancel
		dr.wg.Go(func() {
			defer cancel()
			c.drain(ctx, h.Drain, p)
		})
	}
}

// drain runs one drain and records its success.
func (c *Coordinator) drain(ctx context.Context, fn func(context.Context, int64, int64) error, p pendingDrain) {
	err := fn(ctx, p.broker, p.instance)
	if err == nil {
		err = c.recordDrained(ctx, p)
	}
	dr := &c.drains
	dr.mu.Lock()
	delete(dr.running, p.drainKey)
	if err != nil {
		if dr.retry == nil {
			dr.retry = map[drainKey]time.Time{}
		}
		dr.retry[p.drainKey] = time.Now().Add(c.opts.DrainRetry)
	}
	dr.mu.Unlock()
	if err != nil {
		if ctx.Err() == nil {
			c.log.Warn("Unable to drain a dead instance's session; trying again", "broker", p.broker, "dead_instance", p.instance, "err", err)
		}
		return
	}
	c.log.Info("dead instance drained", "broker", p.broker, "dead_instance", p.instance)
}

func (c *Coordinator) recordDrained(ctx context.Context, p pendingDrain) error {
	c.mu.Lock()
	pool := c.pool
	c.mu.Unlock()
	if pool == nil {
		return errStopped
	}
	if _, err := pool.Exec(ctx, sqlDrained, p.instance, p.broker, p.heartbeat); err != nil {
		return fmt.Errorf("cluster: record the drain of instance %d at broker %d: %w", p.instance, p.broker, err)
	}
	return nil
}

// startDrains lets the drains run on ctx (Run's).
func (c *Coordinator) startDrains(ctx context.Context) {
	c.drains.mu.Lock()
	c.drains.base = ctx
	c.drains.mu.Unlock()
}

// stopDrains cancels every drain and waits for them; Run's last step.
func (c *Coordinator) stopDrains() {
	dr := &c.drains
	dr.mu.Lock()
	dr.base = nil
	for _, cancel := range dr.running {
		cancel()
	}
	dr.mu.Unlock()
	dr.wg.Wait()
}

// cancelDrains cancels every drain: the brokers are given up.
func (c *Coordinator) cancelDrains() {
	dr := &c.drains
	dr.mu.Lock()
	defer dr.mu.Unlock()
	for _, cancel := range dr.running {
		cancel()
	}
}
