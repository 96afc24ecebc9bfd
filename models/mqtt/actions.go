package mqtt

import (
	"context"
	"errors"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/py"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// The addon's buttons. They wait on brokers, so they run outside a
// transaction (OwnTransactions) and write their outcome in short ones.

// SendTimeout bounds a publish waiting for its PUBACK/PUBCOMP.
const SendTimeout = 10 * time.Second

// requireAccess: a button needs the right to write (or read) the records
// it acts on, as in Odoo.
func requireAccess(env *models.Env, model string, op byte) (*models.Model, error) {
	m := env.Registry().Model(model)
	return m, env.CheckAccess(m, op)
}

// ActionRecords is the preamble of a button: the right to write the
// records, their existence, then the records themselves.
func ActionRecords(env *models.Env, model string, ids []int64) (*models.Model, []*models.Record, error) {
	m, err := requireAccess(env, model, models.OpWrite)
	if err != nil {
		return nil, nil, err
	}
	if err := env.CheckRecords(m, ids, models.OpWrite); err != nil {
		return nil, nil, err
	}
	recs, err := env.Load(m, ids)
	return m, recs, err
}

// ControlledRecords is the preamble of a button that drives the
// daemons: the listener service (a UserError without one), then
// ActionRecords.
func (a *Addon) ControlledRecords(env *models.Env, model string, ids []int64) (BrokerControl, *models.Model, []*models.Record, error) {
	ctl, err := a.Control()
	if err != nil {
		return nil, nil, nil, err
	}
	m, recs, err := ActionRecords(env, model, ids)
	return ctl, m, recs, err
}

// writeNow writes system-managed fields in one short transaction of its own.
func writeNow(env *models.Env, model string, ids []int64, vals map[string]any) error {
	return env.Registry().Transaction(env.Ctx, env.UID, env.Context, func(tx *models.Env) error {
		return tx.Sudo().Write(tx.Registry().Model(model), ids, vals)
	})
}

func (a *Addon) brokerCheckConnection(env *models.Env, ids []int64, _ models.Args) (any, error) {
	ctl, _, recs, err := a.ControlledRecords(env, "mqtt.broker", ids)
	if err != nil {
		return nil, err
	}
	for _, rec := range recs {
		cfg := brokerConfig(rec)
		timeout := cfg.ConnectTimeout
		if timeout <= 0 {
			timeout = 10 * time.Second
		}
		cerr := cfg.SecretError // no attempt without the secret
		if cerr == nil {
			ctx, cancel := context.WithTimeout(env.Ctx, timeout+2*time.Second)
			cerr = ctl.CheckConnection(ctx, cfg)
			cancel()
		}
		vals := map[string]any{"connection_status": "success", "connection_message": "Connected successfully!"}
		if cerr != nil {
			vals = map[string]any{"connection_status": "fail", "connection_message": Truncate(cerr.Error(), 500)}
		}
		// The outcome is persisted even when it is a failure (the addon's
		// UserError rolled its "fail" status back).
		if err := writeNow(env, "mqtt.broker", []int64{cfg.ID}, vals); err != nil {
			return nil, err
		}
		if cerr != nil {
			return nil, models.UserErrorf("Failed to connect: %v", cerr)
		}
	}
	return notification("Connection test", "Connected successfully!", "success"), nil
}

// notification is Odoo's display_notification client action.
func notification(title, message, kind string) map[string]any {
	return map[string]any{
		"type": "ir.actions.client", "tag": "display_notification",
		"params": map[string]any{"title": title, "message": message, "type": kind, "sticky": false},
	}
}

// subscriptionSubscribe marks the subscriptions as listened (the broker's
// daemon subscribes them on every connect) and gets the broker's answer
// now: through the connected daemon, or else, as the addon does, on a
// connection of its own. A broker that cannot be reached or refuses is
// the addon's UserError; the record keeps the failure (status Fail, the
// reason in last_error) and stays listened, so the daemon subscribes it
// once the broker is back.
func (a *Addon) subscriptionSubscribe(env *models.Env, ids []int64, _ models.Args) (any, error) {
	_, recs, err := ActionRecords(env, "mqtt.subscription", ids)
	if err != nil {
		return nil, err
	}
	if err := writeNow(env, "mqtt.subscription", ids, map[string]any{"enabled": true, "subscription_in_progress": true, "last_error": false}); err != nil {
		return nil, err
	}
	ctl := a.control()
	if ctl == nil {
		return true, nil // no MQTT in this server: subscribed once there is
	}
	for _, r := range recs {
		if r.Int("broker_id") == 0 {
			return nil, models.UserErrorf("Broker not selected!")
		}
		sub := subscriptionConfig(r)
		serr := ErrDaemonNotRunning
		if ctl.ServiceRunning() {
			serr = ctl.Subscribe(env.Ctx, r.Int("broker_id"), sub)
		}
		if errors.Is(serr, ErrDaemonNotRunning) {
			cfgs, err := a.BrokerConfigs(env.Ctx, r.Int("broker_id"))
			if err != nil {
				return nil, err
			}
			if len(cfgs) == 0 {
				return nil, models.UserErrorf("Broker not selected!")
			}
			if serr = subscribeOnce(env, ctl, cfgs[0], sub); serr == nil {
				continue // subscribing: its daemon subscribes it on connect
			}
		}
		if err := a.SetSubscriptionState(env.Ctx, r.ID, serr == nil, errText(serr)); err != nil {
			return nil, err
		}
		if serr != nil {
			return nil, models.UserErrorf("Error subscribing to topic: %v", serr)
		}
	}
	return true, nil
}

// subscribeOnce asks the broker for sub on a connection of its own,
// within the broker's connect timeout plus the wait for a SUBACK.
func subscribeOnce(env *models.Env, ctl BrokerControl, cfg BrokerConfig, sub SubscriptionConfig) error {
	timeout := cfg.ConnectTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(env.Ctx, timeout+SendTimeout)
	defer cancel()
	return ctl.SubscribeOnce(ctx, cfg, sub)
}

func (a *Addon) subscriptionUnsubscribe(env *models.Env, ids []int64, _ models.Args) (any, error) {
	_, recs, err := ActionRecords(env, "mqtt.subscription", ids)
	if err != nil {
		return nil, err
	}
	if err := writeNow(env, "mqtt.subscription", ids, map[string]any{"enabled": false, "subscription_in_progress": false}); err != nil {
		return nil, err
	}
	ctl := a.control()
	for _, r := range recs {
		if ctl != nil && ctl.ServiceRunning() && r.Bool("subscribed") {
			uerr := ctl.Unsubscribe(env.Ctx, r.Int("broker_id"), r.Str("topic"))
			if uerr != nil && !errors.Is(uerr, ErrDaemonNotRunning) {
				return nil, models.UserErrorf("Error unsubscribing from topic: %v", uerr)
			}
		}
		if err := writeNow(env, "mqtt.subscription", []int64{r.ID}, map[string]any{"subscribed": false, "last_error": false}); err != nil {
			return nil, err
		}
	}
	return true, nil
}

// signalSend publishes each signal and records the send only once the
// broker acknowledged it (at QoS 1/2): no false history on failure.
func (a *Addon) signalSend(env *models.Env, ids []int64, _ models.Args) (any, error) {
	ctl, m, recs, err := a.ControlledRecords(env, "mqtt.signal", ids)
	if err != nil {
		return nil, err
	}
	brokers := map[int64]BrokerConfig{}
	for _, r := range recs {
		if r.Int("broker_id") == 0 {
			return nil, models.UserErrorf("Not found Broker!")
		}
		if r.Int("subscription_id") == 0 || r.Str("topic") == "" {
			return nil, models.UserErrorf("Not found Subscription!")
		}
		cfg, ok := brokers[r.Int("broker_id")]
		if !ok {
			cfgs, err := a.BrokerConfigs(env.Ctx, r.Int("broker_id"))
			if err != nil || len(cfgs) == 0 {
				return nil, models.UserErrorf("Not found Broker!")
			}
			cfg = cfgs[0]
			brokers[cfg.ID] = cfg
		}
		body, err := DecodePayload(r.Str("payload"), r.Str("payload_encoding"))
		if err != nil { // checkSignal refuses it; a row from before the field
			return nil, models.ValidationErrorf("Payload (%s): %v.", r.Str("payload_encoding"), err)
		}
		msg := OutgoingMessage{Topic: r.Str("topic"), Payload: body, QoS: byte(r.Int("qos")), Retain: r.Bool("retain"),
			Properties: signalProperties(r)}
		if cfg.Protocol != ProtocolV5 {
			msg.Properties = Properties{} // 3.1/3.1.1 has none; the history says what was sent
		}
		ctx, cancel := context.WithTimeout(env.Ctx, SendTimeout)
		perr := ctl.Publish(ctx, cfg, msg)
		cancel()
		if perr != nil {
			return nil, models.UserErrorf("Send signal Fail: %v", perr)
		}
		now := time.Now().UTC()
		err = env.Registry().Transaction(env.Ctx, env.UID, env.Context, func(tx *models.Env) error {
			su := tx.Sudo()
			// send_at is system state: written directly, without re-running
			// the signal's constraints and recomputes.
			if _, err := su.SetColumns(m, []int64{r.ID}, map[string]any{"send_at": now}); err != nil {
				return err
			}
			vals := map[string]any{
				"signal_id": r.ID, "broker_id": r.Int("broker_id"), "subscription_id": r.Int("subscription_id"),
				"topic": msg.Topic, "payload": PayloadText(msg.Payload), "qos": int64(msg.QoS), "retain": msg.Retain,
				"direction": "send", "timestamp": now,
			}
			if enc := r.Str("payload_encoding"); enc != "" && enc != EncodingRaw {
				vals["payload_raw"] = msg.Payload // the bytes sent, which the text cannot keep
			}
			if msg.ContentType != "" {
				vals["content_type"] = msg.ContentType
			}
			if up := UserPropertiesJSON(msg.UserProperties); up != nil {
				vals["user_properties"] = up
			}
			if msg.MessageExpiry > 0 {
				vals["message_expiry"] = int64(msg.MessageExpiry)
			}
			_, err := su.Create(tx.Registry().Model("mqtt.signal.history"), vals)
			if err == nil {
				tx.NotifyAfterCommit(historyNote(HistoryRow{BrokerID: r.Int("broker_id"), SubscriptionID: r.Int("subscription_id"),
					SignalID: r.ID, Topic: msg.Topic, QoS: msg.QoS, Retain: msg.Retain, Direction: "send"},
					PayloadText(msg.Payload), now.Truncate(time.Second)))
			}
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return true, nil
}

// signalAutoSend returns the addon's auto_send_mqtt client action.
func signalAutoSend(env *models.Env, ids []int64, _ models.Args) (any, error) {
	if len(ids) != 1 {
		return nil, models.ExpectedSingleton("mqtt.signal", ids)
	}
	last, err := lastSend(env, ids[0])
	if err != nil {
		return nil, err
	}
	ts := any(false)
	if last != nil {
		v, _ := last.Get("timestamp")
		ts = v
	}
	return map[string]any{"type": "ir.actions.client", "tag": "auto_send_mqtt", "target": "new", "record_id": ids[0], "last_sent_timestamp": ts}, nil
}

// sendsOf is the domain of a signal's sends.
func sendsOf(signalID int64) []any {
	return []any{[]any{"signal_id", "=", signalID}, []any{"direction", "=", "send"}}
}

func lastSend(env *models.Env, signalID int64) (*models.Dict, error) {
	rows, err := env.SearchRead(env.Registry().Model("mqtt.signal.history"), sendsOf(signalID),
		[]string{"timestamp", "payload", "topic", "qos", "retain"}, 0, 1, "timestamp desc, id desc")
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	return rows[0], nil
}

// signalArg reads the signal_id argument of the two history queries.
func signalArg(a models.Args) (int64, error) {
	id, ok := py.Int(a.Get("signal_id"))
	if !ok {
		return 0, models.ValueErrorf("signal_id must be an integer")
	}
	return id, nil
}

func signalLastSend(env *models.Env, _ []int64, a models.Args) (any, error) {
	id, err := signalArg(a)
	if err != nil {
		return nil, err
	}
	last, err := lastSend(env, id)
	if err != nil {
		return nil, err
	}
	if last == nil {
		return map[string]any{"success": false, "message": "No previous send history found", "data": false}, nil
	}
	data := map[string]any{}
	last.Range(func(k string, v any) bool {
		if k != "id" {
			data[k] = v
		}
		return true
	})
	return map[string]any{"success": true, "message": "Last send details retrieved", "data": data}, nil
}

func signalSendStats(env *models.Env, _ []int64, a models.Args) (any, error) {
	id, err := signalArg(a)
	if err != nil {
		return nil, err
	}
	m := env.Registry().Model("mqtt.signal.history")
	dom := sendsOf(id)
	n, err := env.Count(m, dom, 0)
	if err != nil {
		return nil, err
	}
	first, last := any(false), any(false)
	for _, spec := range []struct {
		order string
		dst   *any
	}{{"timestamp asc, id asc", &first}, {"timestamp desc, id desc", &last}} {
		rows, err := env.SearchRead(m, dom, []string{"timestamp"}, 0, 1, spec.order)
		if err != nil {
			return nil, err
		}
		if len(rows) == 1 {
			*spec.dst, _ = rows[0].Get("timestamp")
		}
	}
	return map[string]any{"total_sent": n, "first_sent": first, "last_sent": last}, nil
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
