package listener

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	mqttmodel "github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
	"github.com/prometheus/client_golang/prometheus"
)

const (
	// signalRefresh is how often a connected daemon reloads its broker's
	// signal topics: signals are created without telling the service.
	signalRefresh = 30 * time.Second
	// disconnectQuiesce is how long a clean disconnect may take, in ms.
	disconnectQuiesce = 1000
	// stateWriteTimeout bounds persisting a state change.
	stateWriteTimeout = 5 * time.Second
)

// daemon keeps one broker connected: it connects, subscribes, serves until
// the connection is lost or its context ends, and retries by the broker's
// backoff policy. Each connection is a fresh client (a session, on either
// protocol's library): their own reconnection is off (paho.mqtt.golang's)
// or unused (paho.golang's autopaho) because it cannot follow our policy,
// and a paho client must not be reused after a disconnect.
type daemon struct {
	s       *Service
	cfg     brokerSetup
	url     string
	e       *entry
	log     *slog.Logger
	cancel  context.CancelCauseFunc
	done    chan struct{} // closed when run has returned
	started time.Time     // when it was started: its owner's since, alone
	routes  routeTable

	received, reconnects, oversized, deviceTooLarge prometheus.Counter

	maxPayload    int      // larger payloads are refused
	refused       refusals // counted for the log
	deviceSkipped refusals // device messages over maxDevicePayload

	mu   sync.Mutex
	sess *session // the live connection; nil while not connected

	// ctx is run's context (set before it starts), for the work done on
	// its behalf elsewhere; haTopics the broker's discovered Home
	// Assistant topics (devices.go).
	ctx      context.Context
	haTopics atomic.Pointer[map[string]bool]
}

func newDaemon(s *Service, cfg brokerSetup, e *entry, cancel context.CancelCauseFunc) *daemon {
	id := brokerLabel(cfg.ID)
	return &daemon{
		s: s, cfg: cfg, url: brokerURL(cfg.BrokerConfig), e: e, cancel: cancel, done: make(chan struct{}), started: time.Now(),
		log:            s.log.With(slog.Int64("broker_id", cfg.ID), slog.String("broker", cfg.Name)),
		received:       s.m.received.WithLabelValues(id),
		reconnects:     s.m.reconnects.WithLabelValues(id),
		oversized:      s.m.oversized.WithLabelValues(id),
		deviceTooLarge: s.m.deviceTooLarge.WithLabelValues(id),
		maxPayload:     maxPayload(cfg.BrokerConfig, s.opts.QueueBytes),
	}
}

// stop cancels the daemon with a reason and waits for it.
func (d *daemon) stop(reason error) {
	d.cancel(reason)
	<-d.done
}

// current returns the live connection, or nil.
func (d *daemon) current() *session {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.sess
}

func (d *daemon) setCurrent(s *session) {
	d.mu.Lock()
	d.sess = s
	d.mu.Unlock()
}

func (d *daemon) run(ctx context.Context) {
	defer close(d.done)
	defer d.s.daemons.setDaemon(d.e, nil, d)
	defer func() { d.finish(context.Cause(ctx)) }()

	bo := newBackoff(d.cfg.BrokerConfig)
	clientID := d.s.daemonClientID(d.cfg.BrokerConfig)
	d.s.daemons.update(d.e, func(st *mqttmodel.DaemonStatus) {
		st.Attempts, st.NextRetry, st.StopReason, st.ClientID = 0, time.Time{}, "", clientID
	})
	d.transition(ctx, mqttmodel.StateConnecting, "")
	for {
		sess, err := d.connect(ctx)
		if err == nil {
			bo.reset()
			err = d.serve(ctx, sess)
		}
		if ctx.Err() != nil {
			return
		}
		if ce := (*configError)(nil); errors.As(err, &ce) {
			d.transition(ctx, mqttmodel.StateError, err.Error())
			<-ctx.Done() // nothing to retry until the record changes
			return
		}
		delay := bo.next()
		d.s.daemons.update(d.e, func(st *mqttmodel.DaemonStatus) {
			st.Attempts++
			st.NextRetry = time.Now().Add(delay)
			st.LastError = err.Error()
		})
		d.transition(ctx, mqttmodel.StateReconnecting, err.Error())
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		d.reconnects.Inc()
	}
}

// connect opens one connection and waits for its CONNACK, within the
// connect timeout.
func (d *daemon) connect(ctx context.Context) (*session, error) {
	// Routes first: a persistent session's queued messages arrive right
	// after the CONNACK, before anything is subscribed.
	if err := d.loadRoutes(ctx); err != nil {
		return nil, err
	}
	sess := newSession(d)
	sess.clientID = d.s.daemonClientID(d.cfg.BrokerConfig)
	c, err := connectClient(ctx, d.cfg.BrokerConfig, sess.clientID, true, sess.hooks(d.maxPayload))
	if err != nil {
		return nil, err
	}
	sess.start(withSharedGroup(c, d.cfg.SharedGroup))
	return sess, nil
}

// serve subscribes and then waits until the connection is lost (an error)
// or ctx ends (nil).
func (d *daemon) serve(ctx context.Context, sess *session) error {
	// Live before subscribing: a Subscribe call from now on goes through
	// this connection, and one made before has already enabled its record,
	// which subscribeAll loads.
	d.setCurrent(sess)
	d.subscribeAll(ctx, sess)
	now := time.Now()
	d.s.daemons.update(d.e, func(st *mqttmodel.DaemonStatus) {
		st.ConnectedAt, st.Attempts, st.NextRetry, st.LastError = now, 0, time.Time{}, ""
	})
	d.transition(ctx, mqttmodel.StateConnected, "")

	refresh := time.NewTicker(signalRefresh)
	defer refresh.Stop()
	refusedLog := time.NewTicker(oversizeLogEvery)
	defer refusedLog.Stop()
	for {
		select {
		case <-ctx.Done():
			d.setCurrent(nil)
			sess.client.disconnect()
			sess.close()
			if errors.Is(context.Cause(ctx), errShutdown) {
				d.leaveGroup(sess.clientID)
			}
			d.s.daemons.update(d.e, func(st *mqttmodel.DaemonStatus) { st.DisconnectedAt = time.Now() })
			return nil
		case err := <-sess.lost:
			d.setCurrent(nil)
			sess.close()
			err = fmt.Errorf("connection to %s lost: %w", d.url, err)
			d.s.daemons.update(d.e, func(st *mqttmodel.DaemonStatus) {
				st.DisconnectedAt, st.StopReason = time.Now(), err.Error()
			})
			return err
		case <-refresh.C:
			d.loadSignals(ctx)
		case <-refusedLog.C:
			d.logRefused()
		}
	}
}

// finish records that the daemon stopped, and why.
func (d *daemon) finish(reason error) {
	if reason == nil {
		reason = errServiceStopped
	}
	d.logRefused()
	d.s.daemons.update(d.e, func(st *mqttmodel.DaemonStatus) { st.StopReason, st.NextRetry = reason.Error(), time.Time{} })
	if errors.Is(reason, errNotOwner) && d.ownedElsewhere() {
		// The broker's new owner writes its record: a "stopped" from here,
		// landing after its "connected", would tell every instance wrong.
		// (With no owner yet, "stopped" is the truth until one takes it.)
		d.s.daemons.update(d.e, func(st *mqttmodel.DaemonStatus) { st.State, st.Since = mqttmodel.StateStopped, time.Now() })
		d.s.m.setState(d.cfg.ID, mqttmodel.StateStopped)
		d.log.Info("MQTT listener stopped", slog.String("reason", reason.Error()))
		return
	}
	d.transition(context.Background(), mqttmodel.StateStopped, "")
}

// ownedElsewhere reports whether another live instance owns the broker.
func (d *daemon) ownedElsewhere() bool {
	if d.s.opts.Cluster == nil {
		return false
	}
	o, _, ok := d.s.opts.Cluster.Owner(d.cfg.ID)
	return ok && !o.Self
}

// transition sets the daemon's state; a change is logged and persisted on
// the broker record once, repeated failures are not.
func (d *daemon) transition(ctx context.Context, state, errText string) {
	changed := false
	var st mqttmodel.DaemonStatus
	d.s.daemons.update(d.e, func(s *mqttmodel.DaemonStatus) {
		if s.State != state {
			changed = true
			s.State, s.Since = state, time.Now()
		}
		if errText != "" {
			s.LastError = errText
		}
		st = *s
	})
	d.s.m.setState(d.cfg.ID, state)
	if !changed {
		return
	}
	switch state {
	case mqttmodel.StateConnecting:
		d.log.Info("MQTT listener connecting", slog.String("url", d.url))
	case mqttmodel.StateConnected:
		d.log.Info("MQTT listener connected", slog.String("url", d.url))
	case mqttmodel.StateReconnecting:
		d.log.Warn("MQTT listener not connected, retrying", slog.String("url", d.url), slog.String("error", errText),
			slog.Duration("retry_in", time.Until(st.NextRetry).Round(time.Millisecond)))
	case mqttmodel.StateError:
		d.log.Error("MQTT listener cannot use the broker settings", slog.String("error", errText))
	case mqttmodel.StateStopped:
		d.log.Info("MQTT listener stopped", slog.String("reason", st.StopReason))
	}
	var connectedAt time.Time
	if state == mqttmodel.StateConnected {
		connectedAt = st.ConnectedAt
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stateWriteTimeout)
	defer cancel()
	if err := d.s.store.SetListenerState(wctx, d.cfg.ID, state, errText, connectedAt); err != nil {
		d.log.Warn("Unable to save the listener state", slog.String("state", state), slog.Any("error", err))
	}
}
