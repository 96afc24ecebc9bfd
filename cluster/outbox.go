package cluster

// The outbox: calls an instance cannot carry out itself (the broker's
// daemon runs elsewhere) are rows of mqtt_outbox, claimed by the owner
// with FOR UPDATE SKIP LOCKED, woken by NOTIFY, answered in the row and
// by a NOTIFY back to the caller.
//
// CONTRACT (issue 12, filled in by the outbox work; the Coordinator of
// coordinator.go composes an *Outbox and delegates listener.Cluster's
// Forward and Serve to it).

import (
	"context"
	"errors"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/listener"
)

// OutboxOptions configure an Outbox.
type OutboxOptions struct {
	// DSN of the PostgreSQL database (the server's --db); the outbox
	// opens its own connections (one LISTEN connection, a small pool).
	DSN string
	// Instance is this instance's id (mqtt_instance.id), recorded on the
	// rows it claims and the calls it makes.
	Instance func() int64
	// Owns reports whether this instance owns a broker now: it claims
	// only the calls for those.
	Owns func(brokerID int64) bool
	// HasOwner reports whether a live instance owns the broker: Forward
	// fails at once with listener.ErrNoOwner when none does.
	HasOwner func(brokerID int64) bool
	// Retention: answered rows older than this are deleted; default 1h.
	Retention time.Duration
}

// Outbox carries calls between instances.
type Outbox struct {
	opts OutboxOptions
}

// NewOutbox returns an Outbox; nothing runs until Run.
func NewOutbox(opts OutboxOptions) *Outbox { return &Outbox{opts: opts} }

// Serve sets the handler of the calls this instance claims; before Run.
func (o *Outbox) Serve(h listener.ClusterHandlers) {}

// Run creates the table if needed, listens, claims and carries out the
// calls for the brokers this instance owns (also every few seconds
// without a NOTIFY, and at once after Claimed), and deletes old rows,
// until ctx ends.
func (o *Outbox) Run(ctx context.Context) error { return errors.New("cluster: outbox not implemented yet") }

// Claimed tells the outbox this instance just gained brokers: their
// pending calls are claimed now rather than at the next sweep.
func (o *Outbox) Claimed() {}

// Forward inserts the call, notifies, and waits for the owner's answer
// until ctx ends (listener.ErrForwardTimeout; the row is then cancelled
// so that a late owner does not carry it out).
func (o *Outbox) Forward(ctx context.Context, brokerID int64, kind string, body []byte) ([]byte, error) {
	return nil, errors.New("cluster: outbox not implemented yet")
}
