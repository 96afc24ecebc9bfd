package rules

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// rendered is an action with its templates filled.
type rendered struct {
	topic   string
	payload []byte
	params  map[string]any
	broker  int64 // where a publish goes
}

// renderAction fills a rule's templates for a trigger.
func (ru *rule) renderAction(t trigger) (rendered, error) {
	v := t.vars(ru)
	out := rendered{broker: ru.broker}
	if out.broker == 0 {
		out.broker = t.broker
	}
	switch ru.action {
	case ActionPublish:
		out.topic = render(ru.topicTmpl, v)
		out.payload = []byte(render(ru.payloadTmpl, v))
	case ActionNotify:
		out.topic = t.topic
		out.payload = []byte(render(ru.payloadTmpl, v))
	case ActionDeviceAction, ActionDeviceCommand:
		p, err := renderJSON(ru.params, v)
		if err != nil {
			return out, fmt.Errorf("params: the rendered template is not a JSON object: %w", err)
		}
		out.params = p
	}
	return out, nil
}

// runJob does a job's action and logs it; a failure at QoS 1 or 2 is
// tried again after a backoff, up to Options.Retries times.
func (a *Addon) runJob(ctx context.Context, j *job) {
	if a.engine.current(j.rule.id) == nil {
		a.work.done(j) // deleted or archived since it fired
		return
	}
	if j.t.device == "" && j.rule.usesDevice {
		j.t.device = a.deviceOf(ctx, j.rule, j.t)
	}
	r, err := j.rule.renderAction(j.t)
	desc := j.rule.describe(r.topic, r.payload, r.params)
	if err == nil {
		err = a.act(ctx, j.rule, r)
	}
	if ctx.Err() != nil {
		a.work.done(j) // stopping: a half-done action is not a failure
		return
	}
	if err != nil && j.rule.qos > 0 && j.tries < a.opts.Retries {
		j.tries++
		j.due = time.Now().Add(a.opts.RetryBackoff << (j.tries - 1))
		a.log.Info("Automation rule action failed, retrying", slog.Int64("rule_id", j.rule.id), slog.Int("attempt", j.tries), slog.Any("error", err))
		a.work.again(j)
		return
	}
	a.work.done(j)
	row := logRow{rule: j.rule.id, at: time.Now(), topic: j.t.topic, payload: clip(j.t.payload), action: desc}
	if err != nil {
		row.err = errorText(err)
		if j.tries > 0 {
			row.err = fmt.Sprintf("%s (after %d attempts)", row.err, j.tries+1)
		}
		a.log.Warn("Automation rule action failed", slog.Int64("rule_id", j.rule.id), slog.String("rule", j.rule.name), slog.String("error", row.err))
	}
	a.work.rec.log(ctx, row)
}

// act does one action.
func (a *Addon) act(ctx context.Context, ru *rule, r rendered) error {
	switch ru.action {
	case ActionPublish:
		return a.publish(ctx, ru, r)
	case ActionSendSignal:
		_, err := a.reg.Execute(ctx, models.Call{UID: models.Superuser, Model: "mqtt.signal", Method: "action_send_mqtt",
			Args: []any{[]any{ru.signalID}}})
		return err
	case ActionDeviceAction:
		data := make(map[string]any, len(r.params)+1)
		for k, v := range r.params {
			data[k] = v
		}
		data["action"] = ru.deviceAction
		_, err := a.reg.Execute(ctx, models.Call{UID: models.Superuser, Model: "iot.device", Method: "action",
			Args: []any{[]any{ru.deviceID}}, Kwargs: map[string]any{"data": data}})
		return err
	case ActionDeviceCommand:
		_, err := a.reg.Execute(ctx, models.Call{UID: models.Superuser, Model: "iot.device", Method: "call_async",
			Args: []any{[]any{ru.deviceID}}, Kwargs: map[string]any{"name": ru.deviceAction, "params": r.params}})
		return err
	case ActionNotify:
		a.reg.Notify(ctx, models.Notification{Channel: ChannelRules, Type: NoteNotify, Payload: map[string]any{
			"rule_id": ru.id, "name": ru.name, "topic": r.topic, "message": string(r.payload),
		}})
		return nil
	}
	return fmt.Errorf("unknown action %q", ru.action)
}

// publish sends through the broker's daemon (waiting for the PUBACK at
// QoS 1 and 2) and keeps the message in the send history, as the
// device buttons do.
func (a *Addon) publish(ctx context.Context, ru *rule, r rendered) error {
	ctl, err := a.mqtt.Control()
	if err != nil {
		return err
	}
	cfgs, err := a.mqtt.BrokerConfigs(ctx, r.broker)
	if err != nil {
		return err
	}
	if len(cfgs) == 0 {
		return models.UserErrorf("The broker %d does not exist.", r.broker)
	}
	msg := mqtt.OutgoingMessage{Topic: r.topic, Payload: r.payload, QoS: ru.qos, Retain: ru.retain}
	pctx, cancel := context.WithTimeout(ctx, mqtt.SendTimeout)
	err = ctl.Publish(pctx, cfgs[0], msg)
	cancel()
	if err != nil {
		return fmt.Errorf("publish on %s: %w", r.topic, err)
	}
	return a.mqtt.RecordSent(ctx, r.broker, time.Now(), msg)
}

// deviceOf is a trigger's {device}: the device whose topic it is by its
// broker's device topics, else the rule's device; "" when neither.
func (a *Addon) deviceOf(ctx context.Context, ru *rule, t trigger) string {
	if t.topic != "" && t.broker != 0 {
		if topics, ok, err := a.iot.BrokerTopics(ctx, t.broker); err == nil && ok {
			if m, ok := topics.Patterns.Resolve(t.topic, t.payload); ok && m.DeviceID != "" {
				return m.DeviceID
			}
		}
	}
	if ru.deviceID == 0 {
		return ""
	}
	var ident string
	_ = a.reg.Read(ctx, models.Superuser, nil, func(env *models.Env) error {
		recs, err := env.Sudo().Load(a.reg.Model("iot.device"), []int64{ru.deviceID}, "identifier")
		if len(recs) == 1 {
			ident = recs[0].Str("identifier")
		}
		return err
	})
	return ident
}

// errorText is what the log and last_error say of a failure: a model
// error's message (a UserError of the mqtt addon, say), else the error.
func errorText(err error) string {
	var me *models.Error
	if errors.As(err, &me) {
		return models.MessageOf(err)
	}
	return err.Error()
}
