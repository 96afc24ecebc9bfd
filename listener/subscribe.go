package listener

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	mqttmodel "github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// subackTimeout bounds a wait for SUBACK or UNSUBACK when the caller's
// context has no deadline.
const subackTimeout = 10 * time.Second

// subackFailure is the SUBACK return code of a refused filter (MQTT 3.1.1
// §3.9.3).
const subackFailure = 0x80

// Subscribe subscribes a topic filter through the broker's running daemon
// and waits for the SUBACK; a 0x80 return code is an error.
// mqttmodel.ErrDaemonNotRunning when the broker has no connected daemon: its
// daemon subscribes the (already enabled) record when it connects.
func (s *Service) Subscribe(ctx context.Context, brokerID int64, sub mqttmodel.SubscriptionConfig) error {
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
	res, err := sess.subscribe(ctx, map[string]byte{sub.Topic: sub.QoS})
	if err == nil {
		err = res[sub.Topic]
	}
	if err != nil {
		d.routes.removeSubscription(sub.ID)
		return err
	}
	d.syncDevices(ctx, sess, d.routes.load().subs)
	return nil
}

// Unsubscribe removes a topic filter through the broker's running daemon
// and waits for the UNSUBACK. The filter stays subscribed at the broker
// while another enabled subscription record of the broker still uses it,
// or device discovery does.
func (s *Service) Unsubscribe(ctx context.Context, brokerID int64, topic string) error {
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
	if err := waitToken(uctx, sess.client.Unsubscribe(topic)); err != nil {
		return fmt.Errorf("unsubscribe %q: %w", topic, err)
	}
	d.syncDevices(ctx, sess, subs) // device topics it covered
	return nil
}

// subscribe sends one SUBSCRIBE for filters and returns each filter's
// outcome (nil or why the broker refused it), or an error when no SUBACK
// came.
func (ss *session) subscribe(ctx context.Context, filters map[string]byte) (map[string]error, error) {
	return subscribeOn(ctx, ss.client, filters)
}

// subscribeOn is session.subscribe on any connected client.
func subscribeOn(ctx context.Context, c mqtt.Client, filters map[string]byte) (map[string]error, error) {
	ctx, cancel := withDefaultTimeout(ctx, subackTimeout)
	defer cancel()
	tok := c.SubscribeMultiple(filters, nil)
	if err := waitToken(ctx, tok); err != nil {
		return nil, fmt.Errorf("subscribe: %w", err)
	}
	codes := tok.(*mqtt.SubscribeToken).Result()
	out := make(map[string]error, len(filters))
	for f := range filters {
		code, ok := codes[f]
		switch {
		case !ok:
			out[f] = fmt.Errorf("no SUBACK return code for %q", f)
		case code == subackFailure:
			out[f] = fmt.Errorf("the broker refused the subscription to %q (SUBACK return code 0x80)", f)
		case code > 2:
			out[f] = fmt.Errorf("unexpected SUBACK return code 0x%02x for %q", code, f)
		}
	}
	return out, nil
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
	sess.devices.sync.Lock()
	defer sess.devices.sync.Unlock()
	devices := d.wantedDeviceFilters(subs)
	if len(subs) == 0 && len(devices) == 0 {
		return
	}
	filters := make(map[string]byte, len(subs)+len(devices))
	for _, sub := range subs {
		if q, ok := filters[sub.Topic]; !ok || sub.QoS > q {
			filters[sub.Topic] = sub.QoS
		}
	}
	deviceOnly := make(map[string]byte, len(devices))
	for _, f := range devices {
		filters[f], deviceOnly[f] = deviceQoS, deviceQoS // none equals a user filter: those cover it
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

// waitToken waits for a paho token or ctx.
func waitToken(ctx context.Context, tok mqtt.Token) error {
	select {
	case <-tok.Done():
		return tok.Error()
	case <-ctx.Done():
		return fmt.Errorf("no acknowledgement from the broker: %w", context.Cause(ctx))
	}
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
