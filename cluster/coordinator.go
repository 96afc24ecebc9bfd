package cluster

// The Coordinator: this instance's membership (mqtt_instance), the
// brokers it owns (session-level advisory locks on one dedicated
// connection, coordinator_run.go) and the others' announcements
// (LISTEN mqtt_cluster). It implements listener.Cluster and composes the
// Outbox for the forwarded calls.

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/listener"
	mqttmodel "github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// Defaults of Options.
const (
	defaultHeartbeat = time.Second
	// defaultDeadAfter: an instance silent this long is dead and its
	// brokers' locks, if its backend still holds them, are not trusted;
	// with a 1 s heartbeat a failover stays under 10 s.
	defaultDeadAfter = 6 * time.Second
	// defaultPurgeAfter: the row of an instance dead this long is deleted
	// (kept until then for whoever looks into a failover).
	defaultPurgeAfter = time.Hour
	// instancePurgeEvery spaces the purges of dead instances.
	instancePurgeEvery = time.Minute
)

// lockClass is the first key of every broker's advisory lock ("MQTT"),
// so the locks do not collide with another application's on the database.
const lockClass int32 = 0x4D515454

// announceChannel is the NOTIFY channel of Announce.
const announceChannel = "mqtt_cluster"

// leaveBroker is the broker of an instance's last announcement, as it
// stops cleanly: not a broker, nor the service (0).
const leaveBroker = -1

// Options configure a Coordinator.
type Options struct {
	DSN    string // the PostgreSQL database (the server's --db)
	Logger *slog.Logger
	Host   string // recorded in mqtt_instance; default os.Hostname
	PID    int    // default os.Getpid
	// HeartbeatEvery spaces the heartbeats and claim rounds; default 1 s.
	HeartbeatEvery time.Duration
	// DeadAfter: an instance without a heartbeat this long is dead;
	// default 6 s.
	DeadAfter time.Duration
	// PurgeAfter: the rows of an instance dead this long are deleted;
	// default 1 h.
	PurgeAfter time.Duration
	// DrainRetry spaces the attempts of a failed drain of a dead
	// instance's sessions (drain.go); default 10 s.
	DrainRetry time.Duration
	// Outbox tunes the composed Outbox (DSN, Instance, Owns, HasOwner
	// and Logger are set by the Coordinator).
	Outbox OutboxOptions
}

// owner is who owns a broker, per mqtt_broker_owner confirmed by pg_locks.
type owner struct {
	instance int64
	since    time.Time
}

// snapshot is what the listener reads, replaced whole each claim round
// so that its calls need no database round trip.
type snapshot struct {
	self      mqttmodel.InstanceStatus
	owned     map[int64]time.Time // brokers this instance holds the lock of
	owners    map[int64]owner
	instances []mqttmodel.InstanceStatus // live ones
}

// Coordinator implements listener.Cluster on PostgreSQL.
type Coordinator struct {
	opts Options
	log  *slog.Logger
	out  *Outbox

	id      atomic.Int64 // mqtt_instance.id once registered
	snap    atomic.Pointer[snapshot]
	changed chan struct{} // capacity 1: Changed
	kick    chan struct{} // capacity 1: claim now

	handlers atomic.Pointer[listener.ClusterHandlers]

	mu   sync.Mutex
	pool *pgxpool.Pool // Announce's; set while Run runs

	lastPurge time.Time // the claim rounds' own

	drains drainer // the dead instances' sessions being drained (drain.go)
}

var _ listener.Cluster = (*Coordinator)(nil)

// New returns a Coordinator; nothing runs until Run.
func New(opts Options) *Coordinator {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Host == "" {
		opts.Host, _ = os.Hostname()
	}
	if opts.PID == 0 {
		opts.PID = os.Getpid()
	}
	if opts.HeartbeatEvery <= 0 {
		opts.HeartbeatEvery = defaultHeartbeat
	}
	if opts.DeadAfter <= 0 {
		opts.DeadAfter = defaultDeadAfter
	}
	if opts.PurgeAfter <= 0 {
		opts.PurgeAfter = defaultPurgeAfter
	}
	if opts.DrainRetry <= 0 {
		opts.DrainRetry = defaultDrainRetry
	}
	c := &Coordinator{opts: opts, log: opts.Logger.With(slog.String("component", "cluster")),
		changed: make(chan struct{}, 1), kick: make(chan struct{}, 1)}
	c.snap.Store(&snapshot{self: c.selfStatus(time.Time{}), owned: map[int64]time.Time{}, owners: map[int64]owner{}})
	oo := opts.Outbox
	oo.DSN, oo.Logger = opts.DSN, opts.Logger
	oo.Instance = c.id.Load
	oo.Owns = c.Owns
	oo.HasOwner = func(id int64) bool { _, _, ok := c.Owner(id); return ok }
	c.out = NewOutbox(oo)
	return c
}

func (c *Coordinator) selfStatus(started time.Time) mqttmodel.InstanceStatus {
	return mqttmodel.InstanceStatus{ID: c.id.Load(), Host: c.opts.Host, PID: c.opts.PID, Started: started, Self: true}
}

// Self is this instance (ID 0 until it registered, and while its lock
// connection is down).
func (c *Coordinator) Self() mqttmodel.InstanceStatus { return c.snap.Load().self }

// Owns reports whether this instance holds the broker's lock.
func (c *Coordinator) Owns(brokerID int64) bool {
	_, ok := c.snap.Load().owned[brokerID]
	return ok
}

// Owner is the live instance holding the broker's lock, as of the last
// claim round (this instance's own locks as they are).
func (c *Coordinator) Owner(brokerID int64) (mqttmodel.InstanceStatus, time.Time, bool) {
	s := c.snap.Load()
	if since, ok := s.owned[brokerID]; ok {
		return s.self, since, true
	}
	o, ok := s.owners[brokerID]
	if !ok {
		return mqttmodel.InstanceStatus{}, time.Time{}, false
	}
	for _, in := range s.instances {
		if in.ID == o.instance {
			return in, o.since, true
		}
	}
	return mqttmodel.InstanceStatus{}, time.Time{}, false
}

// Instances are the live instances, this one included, each with the
// number of brokers it owns.
func (c *Coordinator) Instances() []mqttmodel.InstanceStatus {
	s := c.snap.Load()
	out := append([]mqttmodel.InstanceStatus(nil), s.instances...)
	for i := range out {
		if out[i].Self {
			out[i].Brokers = len(s.owned)
			continue
		}
		for _, o := range s.owners {
			if o.instance == out[i].ID {
				out[i].Brokers++
			}
		}
	}
	return out
}

// Changed receives when the brokers this instance owns change.
func (c *Coordinator) Changed() <-chan struct{} { return c.changed }

// Announce notifies every instance (this one's claim loop included) that
// broker brokerID changed, or with 0 that the service was started or
// stopped.
func (c *Coordinator) Announce(ctx context.Context, brokerID int64) error {
	c.mu.Lock()
	pool := c.pool
	c.mu.Unlock()
	if pool == nil {
		return errStopped
	}
	payload := fmt.Sprintf("%d:%d", c.id.Load(), brokerID)
	if _, err := pool.Exec(ctx, `SELECT pg_notify($1, $2)`, announceChannel, payload); err != nil {
		return fmt.Errorf("cluster: announce broker %d: %w", brokerID, err)
	}
	return nil
}

// Forward carries a call out on the broker's owner through the Outbox.
func (c *Coordinator) Forward(ctx context.Context, brokerID int64, kind string, body []byte) ([]byte, error) {
	return c.out.Forward(ctx, brokerID, kind, body)
}

// Serve sets the service's handlers: the Outbox's calls and the
// announcements' Changed.
func (c *Coordinator) Serve(h listener.ClusterHandlers) {
	c.handlers.Store(&h)
	c.out.Serve(h)
}
