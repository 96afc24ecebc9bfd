package listener

import (
	"context"
	"errors"
	"time"

	mqttmodel "github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// Cluster is the listener's view of the other server instances sharing
// its PostgreSQL database (package cluster implements it; issue 12). With
// Options.Cluster nil the instance is alone and runs every active broker,
// as before.
//
// Each broker's daemon runs on exactly one instance, its owner; a broker
// with a shared group runs a daemon on every instance (each with a client
// id of its own, see Self), but only its owner carries the calls that
// need one connection (publish, subscribe, unsubscribe, check).
type Cluster interface {
	// Self is this instance; its ID is 0 until it registered and while
	// its coordination connection is down (then the daemons of shared
	// brokers stop too, see runsHere).
	Self() mqttmodel.InstanceStatus
	// Owns reports whether this instance owns the broker now.
	Owns(brokerID int64) bool
	// Owner is the live instance owning the broker and since when;
	// ok false when none does (yet).
	Owner(brokerID int64) (owner mqttmodel.InstanceStatus, since time.Time, ok bool)
	// Instances are the live instances, this one included.
	Instances() []mqttmodel.InstanceStatus
	// Changed receives (capacity 1, never blocking the sender) whenever
	// the set of brokers this instance owns changes, and once Self has
	// its id (the shared brokers' daemons start then). The service then
	// starts the daemons of the brokers it gained and stops, at once,
	// those of the brokers it lost.
	Changed() <-chan struct{}
	// Announce tells every other instance that a broker record changed
	// (brokerID), or with brokerID 0 that the service was started or
	// stopped: they call their ClusterHandlers.Changed.
	Announce(ctx context.Context, brokerID int64) error
	// Forward carries a call out on the owner of brokerID (kind names it,
	// body is its JSON arguments) and returns the owner's answer (JSON)
	// or its error, once it answered or ctx ended (ErrForwardTimeout).
	// ErrNoOwner when no live instance owns the broker.
	Forward(ctx context.Context, brokerID int64, kind string, body []byte) ([]byte, error)
	// Serve sets what this instance does with the calls and
	// announcements of the others; called once, before the cluster runs.
	Serve(h ClusterHandlers)
}

// ClusterHandlers are the service's side of Cluster.Serve.
type ClusterHandlers struct {
	// Call carries out a call forwarded by another instance for a broker
	// this instance owns; its error goes back to the caller as text.
	Call func(ctx context.Context, brokerID int64, kind string, body []byte) ([]byte, error)
	// Changed is another instance's Announce.
	Changed func(ctx context.Context, brokerID int64)
	// Drain empties and ends what a dead instance (one that stopped
	// without leaving: SIGKILL, power loss) left at a broker this
	// instance owns: its persistent session of a shared group, where the
	// broker keeps its share of the messages (listener/drain.go). nil
	// once nothing is left (or there never was: not a shared broker);
	// an error, and the Cluster calls it again later. The Cluster calls
	// it on the broker's owner only, once per dead instance and broker
	// (it records the success), and cancels ctx when the ownership
	// moves: two drains of one session would take it from each other.
	// The Cluster knows who died and keeps the record; the service knows
	// the broker's settings and the connection: so models and the
	// listener stay free of the database's tables.
	Drain func(ctx context.Context, brokerID, instance int64) error
}

// Errors of Cluster.Forward.
var (
	ErrNoOwner        = errors.New("no live instance owns the broker")
	ErrForwardTimeout = errors.New("the owning instance did not answer in time")
)
