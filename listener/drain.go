package listener

// Draining a dead instance's session of a shared group (issue 12: no
// loss at failover with QoS 1 persistent sessions). An instance that
// dies without shutting down (SIGKILL, power loss) cannot end its session
// (leaveGroup): the broker keeps it, with the messages in flight to it
// and, Mosquitto 2 does, a share of the group's new messages queued for a
// client id that never comes back. The Cluster finds the instance dead
// and has the broker's owner (one instance, so no two drains kick each
// other off the session) call ClusterHandlers.Drain. drainSession
// resumes the session under the dead instance's client id, stores what
// the broker delivers through the daemon's own ingest path (acknowledged
// after commit, redeliveries deduplicated by that client id), and once
// it is quiet ends it as leaveGroup does.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	mqttmodel "github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

const (
	// drainQuiet: a drained session that delivered nothing this long,
	// with everything it delivered acknowledged, is empty.
	drainQuiet = 2 * time.Second
	// drainMax bounds one drain; one that takes longer keeps the session
	// (nothing is lost) and is tried again.
	drainMax = 2 * time.Minute
	// drainPoll spaces the checks for quiet.
	drainPoll = 100 * time.Millisecond
)

// errDrainNoDaemon: the broker's daemon does not run here (the service
// is stopped, or ownership is moving); the drain waits for it.
var errDrainNoDaemon = errors.New("the broker's daemon does not run on this instance")

// drainDead is ClusterHandlers.Drain: it drains instance's session of
// the broker when it may have one (a shared group with persistent
// sessions) and returns nil once there is none left. Any error means the
// session may remain: the Cluster tries again later.
func (s *Service) drainDead(ctx context.Context, brokerID, instance int64) error {
	cfgs, err := s.store.BrokerConfigs(ctx, brokerID)
	if err != nil {
		return err
	}
	if len(cfgs) != 1 {
		return nil // the broker is gone, and the sessions at it are not ours
	}
	if cfgs[0].SharedGroup == "" || cfgs[0].CleanSession {
		// The dead instance's connection used the broker's own client id
		// (now the new owner's daemon's, which resumes the session) or
		// its session ended with the connection.
		return nil
	}
	if !s.owns(brokerID) {
		return errNotOwner
	}
	d := s.daemons.running(brokerID)
	if d == nil {
		return errDrainNoDaemon
	}
	return d.drainSession(ctx, instanceClientID(d.cfg.BrokerConfig, instance))
}

// drainSession resumes clientID's session on a connection of its own
// beside the daemon's, routes and stores what it receives as the daemon
// does, and ends the session once it is quiet.
//
// Right after the CONNACK it unsubscribes the records' filters: the
// broker then stops adding the group's new messages to this session (so
// they go to the live members) but still delivers what it queued or sent
// before (MQTT 3.1.1 §3.10.4, MQTT 5 §3.10.4), and quiet comes even
// under a steady stream.
func (d *daemon) drainSession(ctx context.Context, clientID string) error {
	ctx, cancel := context.WithTimeout(ctx, drainMax)
	defer cancel()
	log := d.log.With(slog.String("client_id", clientID))
	if err := d.loadRoutes(ctx); err != nil {
		return err
	}
	cfg := d.cfg.BrokerConfig
	cfg.Will = nil // not the daemon: its loss tells nobody anything

	var last atomic.Int64 // unix ns of the last message
	var got, acked atomic.Int64
	last.Store(time.Now().UnixNano())
	sess := newSession(d)
	sess.clientID = clientID
	h := sess.hooks(d.maxPayload)
	handle := h.onMessage
	h.onMessage = func(m message) {
		last.Store(time.Now().UnixNano())
		if ack := m.ack; ack != nil {
			got.Add(1)
			m.ack = func() { ack(); acked.Add(1) }
		}
		handle(m)
	}
	c, err := connectClient(ctx, cfg, clientID, true, h)
	if err != nil {
		return err
	}
	sess.start(c)
	closeSess := func() { c.disconnect(); sess.close() }
	if err := d.unsubscribeRecords(ctx, withSharedGroup(c, d.cfg.SharedGroup)); err != nil {
		closeSess()
		return err
	}
	t := time.NewTicker(drainPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			closeSess()
			return fmt.Errorf("draining the session of %s: %w", clientID, context.Cause(ctx))
		case err := <-sess.lost:
			sess.close()
			return fmt.Errorf("draining the session of %s: connection lost: %w", clientID, err)
		case <-t.C:
		}
		if time.Since(time.Unix(0, last.Load())) >= drainQuiet && acked.Load() == got.Load() {
			break
		}
	}
	closeSess()
	if err := d.s.endSession(context.WithoutCancel(ctx), cfg, clientID); err != nil {
		return err
	}
	log.Info("Drained and ended a dead instance's session of the shared group", slog.Int64("messages", got.Load()))
	return nil
}

// unsubscribeRecords unsubscribes every filter the records of the broker
// subscribe (the subscriptions' and the device discovery's), as any
// member of the group did.
func (d *daemon) unsubscribeRecords(ctx context.Context, c client) error {
	subs, err := d.s.store.EnabledSubscriptions(ctx, d.cfg.ID)
	if err != nil {
		return err
	}
	filters := d.wantedDeviceFilters(subs)
	for _, sub := range subs {
		filters = append(filters, sub.Topic)
	}
	for _, f := range filters {
		uctx, cancel := withDefaultTimeout(ctx, subackTimeout)
		err := c.unsubscribe(uctx, f)
		cancel()
		if err != nil {
			return fmt.Errorf("unsubscribe %q: %w", f, err)
		}
	}
	return nil
}

// endSession ends clientID's persistent session at cfg's broker: a
// connection with the same client id and a clean session (MQTT 5: Clean
// Start and no Session Expiry, so it ends with that connection) replaces
// it, and is closed.
func (s *Service) endSession(ctx context.Context, cfg mqttmodel.BrokerConfig, clientID string) error {
	timeout := cfg.ConnectTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, err := connectClient(ctx, cfg, clientID, false, clientHooks{helper: s.goHelper})
	if err != nil {
		return fmt.Errorf("ending the session of %s: %w", clientID, err)
	}
	c.disconnect()
	return nil
}
