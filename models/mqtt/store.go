package mqtt

import (
	"context"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// The part of the addon the listener service calls: what to connect to
// and subscribe, the daemons' and subscriptions' state, and the message
// history (history.go). Each call runs as the system, in a transaction of
// its own when it writes.

// read runs fn as the system outside a transaction.
func (a *Addon) read(ctx context.Context, fn func(su *models.Env) error) error {
	return a.reg.Read(ctx, models.Superuser, nil, func(env *models.Env) error { return fn(env.Sudo()) })
}

// write runs fn as the system in one transaction.
func (a *Addon) write(ctx context.Context, fn func(su *models.Env) error) error {
	return a.reg.Transaction(ctx, models.Superuser, nil, func(env *models.Env) error { return fn(env.Sudo()) })
}

// BrokerConfigs loads the connection settings of the given brokers, or of
// every active broker when ids is empty.
func (a *Addon) BrokerConfigs(ctx context.Context, ids ...int64) ([]BrokerConfig, error) {
	var out []BrokerConfig
	err := a.read(ctx, func(su *models.Env) error {
		m := a.reg.Model("mqtt.broker")
		if len(ids) == 0 {
			var err error
			if ids, err = su.Search(m, []any{}, 0, 0, "id"); err != nil {
				return err
			}
		}
		recs, err := su.Load(m, ids)
		for _, rec := range recs {
			out = append(out, brokerConfig(rec))
		}
		return err
	})
	return out, err
}

// EnabledSubscriptions lists the topic filters a broker's daemon subscribes
// on every (re)connect.
func (a *Addon) EnabledSubscriptions(ctx context.Context, brokerID int64) ([]SubscriptionConfig, error) {
	var out []SubscriptionConfig
	err := a.read(ctx, func(su *models.Env) error {
		m := a.reg.Model("mqtt.subscription")
		ids, err := su.Search(m, []any{[]any{"broker_id", "=", brokerID}, []any{"enabled", "=", true}}, 0, 0, "id")
		if err != nil {
			return err
		}
		recs, err := su.Load(m, ids, subscriptionConfigFields...)
		for _, r := range recs {
			out = append(out, subscriptionConfig(r))
		}
		return err
	})
	if out == nil && err == nil {
		out = []SubscriptionConfig{}
	}
	return out, err
}

// subscriptionConfigFields are the fields subscriptionConfig reads.
var subscriptionConfigFields = []string{"topic", "qos", "no_local_flag", "retain_as_published_flag", "retain_handling"}

// subscriptionConfig is what a daemon subscribes of a loaded subscription.
func subscriptionConfig(r *models.Record) SubscriptionConfig {
	return SubscriptionConfig{ID: r.ID, Topic: r.Str("topic"), QoS: byte(r.Int("qos")),
		NoLocal: r.Bool("no_local_flag"), RetainAsPublished: r.Bool("retain_as_published_flag"), RetainHandling: byte(r.Int("retain_handling"))}
}

// SignalTopics maps each signal topic of a broker to its signal (the
// lowest id when several share a topic), to link received messages.
func (a *Addon) SignalTopics(ctx context.Context, brokerID int64) (map[string]int64, error) {
	out := map[string]int64{}
	err := a.read(ctx, func(su *models.Env) error {
		m := a.reg.Model("mqtt.signal")
		ids, err := su.Search(m, []any{[]any{"broker_id", "=", brokerID}, []any{"topic", "!=", false}}, 0, 0, "id desc")
		if err != nil {
			return err
		}
		recs, err := su.Load(m, ids, "topic")
		for _, r := range recs {
			out[r.Str("topic")] = r.ID
		}
		return err
	})
	return out, err
}

// SetListenerState persists a daemon's state on its broker record and
// tells ChannelListener once committed. Callers report changes only, not
// every retry.
func (a *Addon) SetListenerState(ctx context.Context, brokerID int64, state, lastError string, connectedAt time.Time) error {
	return a.write(ctx, func(su *models.Env) error {
		vals := map[string]any{"listener_state": state}
		if lastError != "" || state == StateConnected {
			vals["last_error"] = Truncate(lastError, 500)
		}
		if !connectedAt.IsZero() {
			vals["last_connected"] = connectedAt
		}
		if _, err := su.SetColumns(a.reg.Model("mqtt.broker"), []int64{brokerID}, vals); err != nil {
			return err
		}
		note := map[string]any{"broker_id": brokerID, "state": state, "last_error": Truncate(lastError, 500)}
		if !connectedAt.IsZero() {
			note["last_connected"] = connectedAt.UTC().Format(models.DatetimeFormat)
		}
		su.NotifyAfterCommit(models.Notification{Channel: ChannelListener, Type: NoteListenerState, Payload: note})
		return nil
	})
}

// SetSubscriptionState persists the outcome of a subscribe: subscribed
// with its time, or the error of a refused or failed one.
func (a *Addon) SetSubscriptionState(ctx context.Context, subID int64, subscribed bool, errText string) error {
	return a.write(ctx, func(su *models.Env) error {
		vals := map[string]any{"subscribed": subscribed, "subscription_in_progress": false, "last_error": Truncate(errText, 500)}
		if subscribed {
			vals["subscription_time"] = time.Now().UTC()
		}
		_, err := su.SetColumns(a.reg.Model("mqtt.subscription"), []int64{subID}, vals)
		return err
	})
}

// ServiceShouldRun reports whether the service was running when the server
// last stopped, so it starts again at boot.
func (a *Addon) ServiceShouldRun(ctx context.Context) (bool, error) {
	running := false
	err := a.read(ctx, func(su *models.Env) error {
		m := a.reg.Model("mqtt.service")
		ids, err := su.Search(m, []any{}, 0, 1, "id")
		if err != nil || len(ids) == 0 {
			return err
		}
		recs, err := su.Load(m, ids, "status")
		running = len(recs) == 1 && recs[0].Str("status") == "start"
		return err
	})
	return running, err
}

// RecordExists reports whether record id of one of the addon's models
// exists, archived ones included: the listener asks before it drops a
// received message's link to a record deleted meanwhile.
func (a *Addon) RecordExists(ctx context.Context, model string, id int64) (bool, error) {
	m := a.reg.Model(model)
	if m == nil {
		return false, models.UserErrorf("Object %s doesn't exist", model)
	}
	found := false
	err := a.read(ctx, func(su *models.Env) error {
		recs, err := su.Load(m, []int64{id}, "id")
		found = len(recs) == 1
		return err
	})
	return found, err
}

// BrokerStates are the active brokers' states as their records keep them
// (listener_state, last_error, last_connected): what the daemons of a
// cluster's other instances last wrote, for the status of the brokers
// this instance does not run.
func (a *Addon) BrokerStates(ctx context.Context) ([]DaemonStatus, error) {
	var out []DaemonStatus
	err := a.read(ctx, func(su *models.Env) error {
		m := a.reg.Model("mqtt.broker")
		ids, err := su.Search(m, []any{}, 0, 0, "id")
		if err != nil {
			return err
		}
		recs, err := su.Load(m, ids, "name", "listener_state", "last_error", "last_connected")
		for _, r := range recs {
			out = append(out, DaemonStatus{BrokerID: r.ID, BrokerName: r.Str("name"), State: r.Str("listener_state"),
				LastError: r.Str("last_error"), ConnectedAt: r.Time("last_connected")})
		}
		return err
	})
	return out, err
}
