package models

import (
	"context"
	"errors"
	"time"
)

// The addon's buttons. They wait on brokers, so they run outside a
// transaction (OwnTransactions) and write their outcome in short ones.

// sendTimeout bounds a publish waiting for its PUBACK/PUBCOMP.
const sendTimeout = 10 * time.Second

func init() {
	actionMethods["mqtt.broker"] = map[string]*Method{
		"action_check_connection": {Kind: RecordLevel, OwnTransactions: true, Fn: brokerCheckConnection},
		"check_connection":        {Kind: RecordLevel, OwnTransactions: true, Fn: brokerCheckConnection},
	}
	actionMethods["mqtt.subscription"] = map[string]*Method{
		"subscribe_mqtt": {Kind: RecordLevel, OwnTransactions: true, Fn: subscriptionSubscribe},
		"subscribe":      {Kind: RecordLevel, OwnTransactions: true, Fn: subscriptionSubscribe},
		"unsubscribe":    {Kind: RecordLevel, OwnTransactions: true, Fn: subscriptionUnsubscribe},
	}
	actionMethods["mqtt.signal"] = map[string]*Method{
		"action_send_mqtt":      {Kind: RecordLevel, OwnTransactions: true, Fn: signalSend},
		"action_auto_send_mqtt": {Kind: RecordLevel, ReadOnly: true, Fn: signalAutoSend},
		"get_last_mqtt_send":    {Kind: ModelLevel, ReadOnly: true, Params: []Param{{Name: "signal_id"}}, Fn: signalLastSend},
		"get_mqtt_send_stats":   {Kind: ModelLevel, ReadOnly: true, Params: []Param{{Name: "signal_id"}}, Fn: signalSendStats},
	}
	actionMethods["mqtt.service"] = map[string]*Method{
		"start_mqtt_service":   {Kind: ModelLevel, OwnTransactions: true, Fn: serviceStart},
		"stop_mqtt_service":    {Kind: ModelLevel, OwnTransactions: true, Fn: serviceStop},
		"restart_mqtt_service": {Kind: ModelLevel, OwnTransactions: true, Fn: serviceRestart},
		"check_mqtt_status":    {Kind: ModelLevel, OwnTransactions: true, Fn: serviceCheckStatus},
		"get_listener_status":  {Kind: ModelLevel, ReadOnly: true, Fn: serviceListenerStatus},
	}
}

// actionMethods are merged into the declarations by model name, so each
// model file stays about fields and rules.
var actionMethods = map[string]map[string]*Method{}

// requireAccess: a button needs the right to write (or read) the records
// it acts on, as in Odoo.
func requireAccess(env *Env, model string, op byte) (*Model, error) {
	m := env.reg.Model(model)
	return m, env.checkAccess(m, op)
}

// actionRecords is the preamble of a button: the right to write the
// records, their existence, then the records themselves.
func actionRecords(env *Env, model string, ids []int64) (*Model, []*Record, error) {
	m, err := requireAccess(env, model, OpWrite)
	if err != nil {
		return nil, nil, err
	}
	if err := env.checkRecords(m, ids, OpWrite); err != nil {
		return nil, nil, err
	}
	recs, err := env.Sudo().load(m, ids, nil)
	return m, recs, err
}

// writeNow writes system-managed fields in one short transaction of its own.
func (e *Env) writeNow(model string, ids []int64, vals map[string]any) error {
	return e.reg.Transaction(e.Ctx, e.UID, e.Context, func(tx *Env) error {
		return tx.Sudo().update(e.reg.Model(model), ids, vals)
	})
}

func brokerCheckConnection(env *Env, ids []int64, _ Args) (any, error) {
	ctl, err := env.control()
	if err != nil {
		return nil, err
	}
	_, recs, err := actionRecords(env, "mqtt.broker", ids)
	if err != nil {
		return nil, err
	}
	for _, rec := range recs {
		cfg := brokerConfig(rec)
		timeout := cfg.ConnectTimeout
		if timeout <= 0 {
			timeout = 10 * time.Second
		}
		ctx, cancel := context.WithTimeout(env.Ctx, timeout+2*time.Second)
		cerr := ctl.CheckConnection(ctx, cfg)
		cancel()
		vals := map[string]any{"connection_status": "success", "connection_message": "Connected successfully!"}
		if cerr != nil {
			vals = map[string]any{"connection_status": "fail", "connection_message": truncate(cerr.Error(), 500)}
		}
		// The outcome is persisted even when it is a failure (the addon's
		// UserError rolled its "fail" status back).
		if err := env.writeNow("mqtt.broker", []int64{cfg.ID}, vals); err != nil {
			return nil, err
		}
		if cerr != nil {
			return nil, UserErrorf("Failed to connect: %v", cerr)
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

func subscriptionSubscribe(env *Env, ids []int64, _ Args) (any, error) {
	_, recs, err := actionRecords(env, "mqtt.subscription", ids)
	if err != nil {
		return nil, err
	}
	// Marked first: if the service is stopped, or the broker down, the
	// daemon subscribes it as soon as it connects.
	if err := env.writeNow("mqtt.subscription", ids, map[string]any{"enabled": true, "subscription_in_progress": true, "last_error": false}); err != nil {
		return nil, err
	}
	ctl := env.reg.control
	if ctl == nil || !ctl.ServiceRunning() {
		return true, nil
	}
	for _, r := range recs {
		if r.Int("broker_id") == 0 {
			return nil, UserErrorf("Broker not selected!")
		}
		serr := ctl.Subscribe(env.Ctx, r.Int("broker_id"), SubscriptionConfig{ID: r.ID, Topic: r.Str("topic"), QoS: byte(r.Int("qos"))})
		if errors.Is(serr, ErrDaemonNotRunning) {
			continue // subscribed on connect
		}
		if err := env.reg.SetSubscriptionState(env.Ctx, r.ID, serr == nil, errText(serr)); err != nil {
			return nil, err
		}
		if serr != nil {
			return nil, UserErrorf("Error subscribing to topic: %v", serr)
		}
	}
	return true, nil
}

func subscriptionUnsubscribe(env *Env, ids []int64, _ Args) (any, error) {
	_, recs, err := actionRecords(env, "mqtt.subscription", ids)
	if err != nil {
		return nil, err
	}
	if err := env.writeNow("mqtt.subscription", ids, map[string]any{"enabled": false, "subscription_in_progress": false}); err != nil {
		return nil, err
	}
	ctl := env.reg.control
	for _, r := range recs {
		if ctl != nil && ctl.ServiceRunning() && r.Bool("subscribed") {
			uerr := ctl.Unsubscribe(env.Ctx, r.Int("broker_id"), r.Str("topic"))
			if uerr != nil && !errors.Is(uerr, ErrDaemonNotRunning) {
				return nil, UserErrorf("Error unsubscribing from topic: %v", uerr)
			}
		}
		if err := env.writeNow("mqtt.subscription", []int64{r.ID}, map[string]any{"subscribed": false, "last_error": false}); err != nil {
			return nil, err
		}
	}
	return true, nil
}

// signalSend publishes each signal and records the send only once the
// broker acknowledged it (at QoS 1/2): no false history on failure.
func signalSend(env *Env, ids []int64, _ Args) (any, error) {
	ctl, err := env.control()
	if err != nil {
		return nil, err
	}
	m, recs, err := actionRecords(env, "mqtt.signal", ids)
	if err != nil {
		return nil, err
	}
	brokers := map[int64]BrokerConfig{}
	for _, r := range recs {
		if r.Int("broker_id") == 0 {
			return nil, UserErrorf("Not found Broker!")
		}
		if r.Int("subscription_id") == 0 || r.Str("topic") == "" {
			return nil, UserErrorf("Not found Subscription!")
		}
		cfg, ok := brokers[r.Int("broker_id")]
		if !ok {
			cfgs, err := env.reg.BrokerConfigs(env.Ctx, r.Int("broker_id"))
			if err != nil || len(cfgs) == 0 {
				return nil, UserErrorf("Not found Broker!")
			}
			cfg = cfgs[0]
			brokers[cfg.ID] = cfg
		}
		msg := OutgoingMessage{Topic: r.Str("topic"), Payload: []byte(r.Str("payload")), QoS: byte(r.Int("qos")), Retain: r.Bool("retain")}
		ctx, cancel := context.WithTimeout(env.Ctx, sendTimeout)
		perr := ctl.Publish(ctx, cfg, msg)
		cancel()
		if perr != nil {
			return nil, UserErrorf("Send signal Fail: %v", perr)
		}
		now := time.Now().UTC()
		err = env.reg.Transaction(env.Ctx, env.UID, env.Context, func(tx *Env) error {
			su := tx.Sudo()
			// send_at is system state: written directly, without re-running
			// the signal's constraints and recomputes.
			if err := su.setColumnsVals(m, r.ID, map[string]any{"send_at": now}); err != nil {
				return err
			}
			_, err := su.insert(env.reg.Model("mqtt.signal.history"), map[string]any{
				"signal_id": r.ID, "broker_id": r.Int("broker_id"), "subscription_id": r.Int("subscription_id"),
				"topic": msg.Topic, "payload": string(msg.Payload), "qos": int64(msg.QoS), "retain": msg.Retain,
				"direction": "send", "timestamp": now,
			})
			if err == nil {
				tx.notifyAfterCommit(historyNote(HistoryRow{BrokerID: r.Int("broker_id"), SubscriptionID: r.Int("subscription_id"),
					SignalID: r.ID, Topic: msg.Topic, QoS: msg.QoS, Retain: msg.Retain, Direction: "send"},
					string(msg.Payload), now.Truncate(time.Second)))
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
func signalAutoSend(env *Env, ids []int64, _ Args) (any, error) {
	if len(ids) != 1 {
		return nil, ValueErrorf("Expected singleton: mqtt.signal(%s)", idsRepr(ids))
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

func lastSend(env *Env, signalID int64) (*Dict, error) {
	rows, err := env.searchRead(env.reg.Model("mqtt.signal.history"), Args{
		"domain": []any{[]any{"signal_id", "=", signalID}, []any{"direction", "=", "send"}},
		"fields": []any{"timestamp", "payload", "topic", "qos", "retain"}, "limit": int64(1), "order": "timestamp desc, id desc",
	})
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	return rows[0], nil
}

func signalLastSend(env *Env, _ []int64, a Args) (any, error) {
	id, ok := asInt(a.Get("signal_id"))
	if !ok {
		return nil, ValueErrorf("signal_id must be an integer")
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

func signalSendStats(env *Env, _ []int64, a Args) (any, error) {
	id, ok := asInt(a.Get("signal_id"))
	if !ok {
		return nil, ValueErrorf("signal_id must be an integer")
	}
	m := env.reg.Model("mqtt.signal.history")
	dom := []any{[]any{"signal_id", "=", id}, []any{"direction", "=", "send"}}
	n, err := env.count(m, dom, 0)
	if err != nil {
		return nil, err
	}
	first, last := any(false), any(false)
	for _, spec := range []struct {
		order string
		dst   *any
	}{{"timestamp asc, id asc", &first}, {"timestamp desc, id desc", &last}} {
		rows, err := env.searchRead(m, Args{"domain": dom, "fields": []any{"timestamp"}, "limit": int64(1), "order": spec.order})
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
