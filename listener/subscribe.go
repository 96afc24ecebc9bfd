package listener

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	mqttmodel "github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// subackTimeout bounds a wait for SUBACK or UNSUBACK when the caller's
// context has no deadline.
const subackTimeout = 10 * time.Second

// Subscribe subscribes a topic filter through the broker's running daemon
// and waits for the SUBACK; a refusal (3.1.1's 0x80, an MQTT 5 reason
// code of 0x80 or more) is an error.
// mqttmodel.ErrDaemonNotRunning when the broker has no connected daemon: its
// daemon subscribes the (already enabled) record when it connects. In a
// cluster the broker's owner subscribes; with no live owner it is
// ErrDaemonNotRunning too.
//
// A shared broker's record is subscribed by every instance's daemon: once
// the owner answered, the others resubscribe from the records
// (subscriptionsChanged).
func (s *Service) Subscribe(ctx context.Context, brokerID int64, sub mqttmodel.SubscriptionConfig) error {
	var err error
	if s.forwards(brokerID) {
		err = noOwnerNotRunning(s.forward(ctx, brokerID, callSubscribe, callArgs{Subscription: toWireSubscription(sub)}))
	} else {
		err = s.subscribe(ctx, brokerID, sub)
	}
	s.subscriptionsChanged(ctx, brokerID)
	return err
}

func (s *Service) subscribe(ctx context.Context, brokerID int64, sub mqttmodel.SubscriptionConfig) error {
	d := s.daemons.running(brokerID)
	if d == nil {
		return mqttmodel.ErrDaemonNotRunning
	}
	sess := d.current()
	if sess == nil {
		return mqttmodel.ErrDaemonNotRunning
	}
	// Routed before the SUBACK: retained messages follow it at once.
	d.routes.addSubscription(sub)
	d.loadSignals(ctx)
	res, err := sess.subscribe(ctx, map[string]filter{sub.Topic: subscriptionFilter(sub)})
	if err == nil {
		err = res[sub.Topic]
	}
	if err != nil {
		d.routes.removeSubscription(sub.ID)
		return err
	}
	sess.setUserFilter(sub.Topic, true)
	d.syncDevices(ctx, sess, d.routes.load().subs)
	return nil
}

// Unsubscribe removes a topic filter through the broker's running daemon
// and waits for the UNSUBACK. The filter stays subscribed at the broker
// while another enabled subscription record of the broker still uses it,
// or device discovery does. In a cluster the broker's owner unsubscribes,
// as Subscribe subscribes.
func (s *Service) Unsubscribe(ctx context.Context, brokerID int64, topic string) error {
	var err error
	if s.forwards(brokerID) {
		err = noOwnerNotRunning(s.forward(ctx, brokerID, callUnsubscribe, callArgs{Topic: topic}))
	} else {
		err = s.unsubscribe(ctx, brokerID, topic)
	}
	s.subscriptionsChanged(ctx, brokerID)
	return err
}

// noOwnerNotRunning makes a forwarded call's ErrNoOwner also an
// ErrDaemonNotRunning: the broker's daemon runs nowhere, and the models
// know what to do then (subscribe on a connection of their own, or let
// the record's state say it).
func noOwnerNotRunning(err error) error {
	if errors.Is(err, ErrNoOwner) {
		return fmt.Errorf("%w (%w)", mqttmodel.ErrDaemonNotRunning, err)
	}
	return err
}

func (s *Service) unsubscribe(ctx context.Context, brokerID int64, topic string) error {
	d := s.daemons.running(brokerID)
	if d == nil {
		return mqttmodel.ErrDaemonNotRunning
	}
	sess := d.current()
	if sess == nil {
		return mqttmodel.ErrDaemonNotRunning
	}
	// The records are the truth: the caller disabled its record first.
	subs, err := s.store.EnabledSubscriptions(ctx, brokerID)
	if err != nil {
		return err
	}
	d.routes.setSubscriptions(subs)
	for _, sub := range subs {
		if sub.Topic == topic {
			return nil
		}
	}
	for _, f := range d.wantedDeviceFilters(subs) {
		if f == topic {
			sess.devices.put(f, true) // still wanted for device discovery
			return nil
		}
	}
	uctx, cancel := withDefaultTimeout(ctx, subackTimeout)
	defer cancel()
	if err := sess.client.unsubscribe(uctx, topic); err != nil {
		return fmt.Errorf("unsubscribe %q: %w", topic, err)
	}
	sess.setUserFilter(topic, false)
	d.syncDevices(ctx, sess, subs) // device topics it covered
	return nil
}

// subscribe sends one SUBSCRIBE for filters and returns each filter's
// outcome (nil or why the broker refused it), or an error when no SUBACK
// came.
func (ss *session) subscribe(ctx context.Context, filters map[string]filter) (map[string]error, error) {
	return ss.client.subscribe(ctx, filters)
}

// subscribeAll subscribes every enabled subscription of the broker, and
// the device topics none of them covers, on each (re)connect in one
// SUBSCRIBE, and records each subscription's outcome on its record.
func (d *daemon) subscribeAll(ctx context.Context, sess *session) {
	subs, err := d.s.store.EnabledSubscriptions(ctx, d.cfg.ID)
	if err != nil {
		d.log.Warn("Unable to load the subscriptions", slog.Any("error", err))
		return
	}
	d.routes.setSubscriptions(subs)
	// A Subscribe or Unsubscribe meanwhile syncs the device filters after
	// this has recorded them.
	d.loadHATopics(ctx)
	sess.devices.sync.Lock()
	defer sess.devices.sync.Unlock()
	devices := d.wantedDeviceFilters(subs)
	if len(subs) == 0 && len(devices) == 0 {
		return
	}
	// Records with one topic share its filter at the broker, with their
	// options merged (filter.merge); device filters take the defaults.
	filters := make(map[string]filter, len(subs)+len(devices))
	for _, sub := range subs {
		f := subscriptionFilter(sub)
		if g, ok := filters[sub.Topic]; ok {
			f = f.merge(g)
		}
		filters[sub.Topic] = f
	}
	deviceOnly := make(map[string]filter, len(devices))
	for _, f := range devices {
		filters[f], deviceOnly[f] = filter{qos: deviceQoS}, filter{qos: deviceQoS} // none equals a user filter: those cover it
	}
	res, err := sess.subscribe(ctx, filters)
	if err != nil {
		// The connection is failing; its loss is reported separately.
		d.log.Warn("Unable to subscribe", slog.Any("error", err))
		return
	}
	d.recordDeviceSubacks(sess, deviceOnly, res)
	d.warnOverlaps(devices, subs)
	for _, sub := range subs {
		serr := res[sub.Topic]
		if serr == nil {
			sess.setUserFilter(sub.Topic, true)
		}
		if serr != nil {
			d.log.Warn("Subscription refused", slog.Int64("subscription_id", sub.ID), slog.String("topic", sub.Topic), slog.Any("error", serr))
		}
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stateWriteTimeout)
		err := d.s.store.SetSubscriptionState(wctx, sub.ID, serr == nil, errText(serr))
		cancel()
		if err != nil {
			d.log.Warn("Unable to save a subscription state", slog.Int64("subscription_id", sub.ID), slog.Any("error", err))
		}
	}
}

// loadRoutes loads the subscriptions and signals messages are matched to.
func (d *daemon) loadRoutes(ctx context.Context) error {
	subs, err := d.s.store.EnabledSubscriptions(ctx, d.cfg.ID)
	if err != nil {
		return err
	}
	signals, err := d.s.store.SignalTopics(ctx, d.cfg.ID)
	if err != nil {
		return err
	}
	d.routes.setSubscriptions(subs)
	d.routes.setSignals(signals)
	return nil
}

// loadSignals refreshes the signal topics; on failure the old ones stay.
func (d *daemon) loadSignals(ctx context.Context) {
	signals, err := d.s.store.SignalTopics(ctx, d.cfg.ID)
	if err != nil {
		d.log.Warn("Unable to load the signal topics", slog.Any("error", err))
		return
	}
	d.routes.setSignals(signals)
}

func withDefaultTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
