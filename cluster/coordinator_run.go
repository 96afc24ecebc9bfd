package cluster

// The Coordinator's goroutines: the lock connection's sessions (register,
// heartbeat, claim rounds; everything dropped at once when it fails), the
// LISTEN connection of the announcements, and the composed Outbox.

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	mqttmodel "github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// keepAlive is the TCP keepalive of the Coordinator's connections, so a
// silently dead peer is noticed by the kernel too, not only by the next
// heartbeat.
const keepAlive = 5 * time.Second

// Run registers the instance and owns brokers until ctx ends; it returns
// nil then, or the error that keeps it from starting (a bad DSN).
func (c *Coordinator) Run(ctx context.Context) error {
	cfg, err := c.connConfig()
	if err != nil {
		return err
	}
	pcfg, err := pgxpool.ParseConfig(c.opts.DSN)
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	pcfg.MaxConns = 2
	pcfg.ConnConfig.DialFunc = cfg.DialFunc
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	c.mu.Lock()
	c.pool = pool
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.pool = nil
		c.mu.Unlock()
		pool.Close()
	}()

	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c.startDrains(ctx)
	var wg sync.WaitGroup
	var outErr error
	wg.Go(func() {
		if err := c.out.Run(ctx); err != nil {
			outErr = err
			cancel() // an Outbox that cannot run is the Coordinator's failure too
		}
	})
	wg.Go(func() { c.listen(ctx, cfg) })
	for ctx.Err() == nil {
		err := c.session(ctx, cfg)
		c.dropAll()
		if ctx.Err() != nil {
			break
		}
		c.log.Warn("lock connection lost: every broker given up", "err", err)
		sleep(ctx, c.opts.HeartbeatEvery)
	}
	c.stopDrains() // before the pool closes: a drain records its success there
	wg.Wait()
	if parent.Err() != nil {
		return nil // the Outbox stopped because Run was told to, whatever it says
	}
	return outErr
}

func (c *Coordinator) connConfig() (*pgx.ConnConfig, error) {
	cfg, err := pgx.ParseConfig(c.opts.DSN)
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	d := &net.Dialer{KeepAlive: keepAlive, Timeout: 10 * time.Second}
	cfg.DialFunc = d.DialContext
	return cfg, nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// closeConn closes one of the Coordinator's connections, within
// writeTimeout even when the context it served has ended.
func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	conn.Close(ctx)
}

// leave deletes this instance's rows and releases its locks, on a clean
// stop; a failure is logged, the others then wait for DeadAfter (and
// drain this instance's sessions, drain.go, finding them ended). A stop
// that cancelled a statement of the round closed conn (pgx does on a
// cancelled query): a fresh connection leaves then, the locks having
// gone with the old one.
func (c *Coordinator) leave(conn *pgx.Conn, cfg *pgx.ConnConfig) {
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	if conn.IsClosed() {
		fresh, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			c.log.Warn("Unable to leave the cluster cleanly: the others take over once this instance is seen dead", "err", err)
			return
		}
		defer closeConn(fresh)
		conn = fresh
	}
	id := c.id.Load()
	if _, err := conn.Exec(ctx, sqlLeave, id, announceChannel, fmt.Sprintf("%d:%d", id, leaveBroker)); err != nil {
		c.log.Warn("Unable to leave the cluster cleanly: the others take over once this instance is seen dead", "err", err)
		return
	}
	c.log.Info("instance left the cluster", "instance", id)
}

func signal1(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// dropAll forgets every lock at once (the connection holding them is
// gone, or Run ends) and tells the listener.
func (c *Coordinator) dropAll() {
	c.cancelDrains()
	old := c.snap.Load()
	// Self without its id until the next heartbeat: the daemons of the
	// shared brokers stop too (listener's runsHere). Left running, they
	// would keep the session the others, seeing no heartbeat, drain as a
	// dead instance's, and the two would take it from each other.
	self := old.self
	self.ID = 0
	c.snap.Store(&snapshot{self: self, owned: map[int64]time.Time{}, owners: old.owners, instances: old.instances})
	if len(old.owned) > 0 || old.self.ID != 0 {
		signal1(c.changed)
	}
}

// session is one lock connection's life: schema, registration, then a
// claim round every heartbeat or kick until the connection fails.
func (c *Coordinator) session(ctx context.Context, cfg *pgx.ConnConfig) error {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() {
		if ctx.Err() != nil && c.id.Load() != 0 {
			c.leave(conn, cfg) // a clean stop: the others need not wait for DeadAfter
		}
		closeConn(conn) // closing the session releases its locks
	}()
	if err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, sqlSchemaLock); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, sqlSchema)
		return err
	}); err != nil {
		return fmt.Errorf("schema: %w", err)
	}
	if c.id.Load() == 0 {
		var id int64
		var started time.Time
		if err := conn.QueryRow(ctx, sqlRegister, c.opts.Host, c.opts.PID).Scan(&id, &started); err != nil {
			return fmt.Errorf("register: %w", err)
		}
		c.id.Store(id)
		c.log.Info("instance registered", "instance", id, "host", c.opts.Host, "pid", c.opts.PID)
		// The brokers with a shared group run here from now on, whatever
		// this instance owns (listener's runsHere).
		signal1(c.changed)
	}
	t := time.NewTicker(c.opts.HeartbeatEvery)
	defer t.Stop()
	for {
		if err := c.round(ctx, conn); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		case <-c.kick:
		}
	}
}

// round is one heartbeat and claim round on the lock connection: any
// error is the connection's, and ends the session.
func (c *Coordinator) round(ctx context.Context, conn *pgx.Conn) error {
	ctx, cancel := context.WithTimeout(ctx, c.opts.DeadAfter/2)
	defer cancel()
	id := c.id.Load()
	self := c.selfStatus(time.Time{})
	if err := conn.QueryRow(ctx, sqlHeartbeat, id, c.opts.Host, c.opts.PID).Scan(&self.Started); err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	self.Heartbeat = time.Now()
	c.purge(ctx, conn)
	active, err := activeBrokers(ctx, conn)
	if err != nil {
		return err
	}
	dead := c.opts.DeadAfter.Seconds()
	instances, err := liveInstances(ctx, conn, dead, id)
	if err != nil {
		return err
	}
	owners, err := brokerOwners(ctx, conn, dead)
	if err != nil {
		return err
	}
	old := c.snap.Load()
	owned := maps.Clone(old.owned)

	// Brokers no longer active are let go.
	for b := range owned {
		if !slices.Contains(active, b) {
			if err := c.release(ctx, conn, b, id); err != nil {
				return err
			}
			delete(owned, b)
		}
	}
	live := max(len(instances), 1)
	share := int(math.Ceil(float64(len(active)) / float64(live)))
	count := map[int64]int{}
	for b, o := range owners {
		if slices.Contains(active, b) && o.instance != id {
			count[o.instance]++
		}
	}
	gained := false
	for _, b := range active {
		if len(owned) >= share {
			break
		}
		if _, mine := owned[b]; mine {
			continue
		}
		if _, taken := owners[b]; taken {
			continue
		}
		ok, err := tryLock(ctx, conn, b)
		if err != nil {
			return err
		}
		if !ok {
			continue // another instance took it since the owners were read
		}
		var since time.Time
		if err := conn.QueryRow(ctx, sqlClaimed, b, id).Scan(&since); err != nil {
			return fmt.Errorf("record broker %d: %w", b, err)
		}
		owned[b] = since
		gained = true
		c.log.Info("broker claimed", "broker", b, "instance", id)
	}
	// Above the share while another live instance is under it: give the
	// highest ids back so that instance claims them next round. At the
	// share nothing moves, so the ownership does not flap.
	under := false
	for _, in := range instances {
		if in.ID != id && count[in.ID] < share {
			under = true
		}
	}
	if under && len(owned) > share {
		ids := slices.Sorted(maps.Keys(owned))
		for _, b := range ids[share:] {
			if err := c.release(ctx, conn, b, id); err != nil {
				return err
			}
			delete(owned, b)
			c.log.Info("broker released to spread the load", "broker", b, "instance", id)
		}
	}
	pending, err := pendingDrains(ctx, conn, dead, slices.Sorted(maps.Keys(owned)))
	if err != nil {
		return err
	}
	c.snap.Store(&snapshot{self: self, owned: owned, owners: owners, instances: instances})
	c.followDrains(pending, owned, instances) // after the snapshot: the service's Drain asks Owns
	if old.self.ID != self.ID || !maps.EqualFunc(owned, old.owned, func(a, b time.Time) bool { return a.Equal(b) }) {
		signal1(c.changed)
	}
	if gained {
		c.out.Claimed()
	}
	return nil
}

// purge deletes the rows of the instances dead for PurgeAfter, at most
// every instancePurgeEvery (or PurgeAfter, if shorter), by one instance
// at a time (the others skip it: their deletes would only wait on its
// row locks). A failure is logged and retried next round: it is no
// reason to give up the brokers, and a broken connection fails the
// round's next statement anyway.
func (c *Coordinator) purge(ctx context.Context, conn *pgx.Conn) {
	if time.Since(c.lastPurge) < min(instancePurgeEvery, c.opts.PurgeAfter) {
		return
	}
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		var mine bool
		if err := tx.QueryRow(ctx, sqlPurgeLock).Scan(&mine); err != nil || !mine {
			return err
		}
		_, err := tx.Exec(ctx, sqlPurgeInstances, c.opts.PurgeAfter.Seconds())
		return err
	})
	if err != nil {
		c.log.Warn("Unable to purge the dead instances' rows", "err", err)
		return
	}
	c.lastPurge = time.Now()
}

func (c *Coordinator) release(ctx context.Context, conn *pgx.Conn, broker, id int64) error {
	if _, err := conn.Exec(ctx, sqlReleased, broker, id); err != nil {
		return fmt.Errorf("release broker %d: %w", broker, err)
	}
	return unlock(ctx, conn, broker)
}

func activeBrokers(ctx context.Context, conn *pgx.Conn) ([]int64, error) {
	rows, err := conn.Query(ctx, sqlActiveBrokers)
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "42P01" {
			return nil, nil // the models have not created mqtt_broker yet
		}
		return nil, fmt.Errorf("brokers: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("brokers: %w", err)
	}
	return ids, nil
}

func liveInstances(ctx context.Context, conn *pgx.Conn, dead float64, self int64) ([]mqttmodel.InstanceStatus, error) {
	rows, err := conn.Query(ctx, sqlLiveInstances, dead)
	if err != nil {
		return nil, fmt.Errorf("instances: %w", err)
	}
	var out []mqttmodel.InstanceStatus
	var in mqttmodel.InstanceStatus
	_, err = pgx.ForEachRow(rows, []any{&in.ID, &in.Host, &in.PID, &in.Started, &in.Heartbeat}, func() error {
		in.Self = in.ID == self
		out = append(out, in)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("instances: %w", err)
	}
	return out, nil
}

func brokerOwners(ctx context.Context, conn *pgx.Conn, dead float64) (map[int64]owner, error) {
	rows, err := conn.Query(ctx, sqlOwners, dead, int64(lockClass))
	if err != nil {
		return nil, fmt.Errorf("owners: %w", err)
	}
	out := map[int64]owner{}
	var b int64
	var o owner
	_, err = pgx.ForEachRow(rows, []any{&b, &o.instance, &o.since}, func() error {
		out[b] = o
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("owners: %w", err)
	}
	return out, nil
}

// listen receives the announcements on a connection of its own until ctx
// ends, reconnecting after errors: each one runs a claim round at once
// and, when another instance made it, the service's Changed.
func (c *Coordinator) listen(ctx context.Context, cfg *pgx.ConnConfig) {
	for ctx.Err() == nil {
		err := c.listenOnce(ctx, cfg)
		if ctx.Err() != nil {
			return
		}
		c.log.Warn("announcements connection lost", "err", err)
		sleep(ctx, c.opts.HeartbeatEvery)
	}
}

func (c *Coordinator) listenOnce(ctx context.Context, cfg *pgx.ConnConfig) error {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeConn(conn)
	if _, err := conn.Exec(ctx, "LISTEN "+announceChannel); err != nil {
		return err
	}
	// Announcements may have been missed before LISTEN (at start, while
	// reconnecting): a claim round now, and the service re-reads its
	// state as after a start or stop announced.
	signal1(c.kick)
	if h := c.handlers.Load(); h != nil && h.Changed != nil {
		h.Changed(ctx, 0)
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		from, broker, ok := parseAnnounce(n.Payload)
		if !ok {
			c.log.Warn("bad announcement", "payload", n.Payload)
			continue
		}
		signal1(c.kick)
		if from == c.id.Load() || broker == leaveBroker {
			continue // an instance that left concerns the claim round only
		}
		if h := c.handlers.Load(); h != nil && h.Changed != nil {
			h.Changed(ctx, broker)
		}
	}
}

// parseAnnounce reads "<instance>:<broker>".
func parseAnnounce(p string) (from, broker int64, ok bool) {
	a, b, found := strings.Cut(p, ":")
	if !found {
		return 0, 0, false
	}
	from, err1 := strconv.ParseInt(a, 10, 64)
	broker, err2 := strconv.ParseInt(b, 10, 64)
	return from, broker, err1 == nil && err2 == nil
}
