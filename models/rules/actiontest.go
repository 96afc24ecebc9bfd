package rules

import (
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/py"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/topic"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// actionTest is mqtt.rule.action_test(ids, topic, payload): what the rule
// would do with a message, without doing it or changing its state. It
// answers a dict: matched (the topic filter matches), value (the
// condition's value, False when the path finds nothing), condition (the
// value meets the condition), would_fire (the rule's current state
// allowed: threshold arming, changed's last value, cooldown, pause),
// action, and its rendered topic and payload (publish, notify) or params
// (device action, command); or error, when the rule does not compile or
// its templates do not render.
func (a *Addon) actionTest(env *models.Env, ids []int64, args models.Args) (any, error) {
	if len(ids) != 1 {
		return nil, models.ExpectedSingleton("mqtt.rule", ids)
	}
	m := env.Registry().Model("mqtt.rule")
	if err := env.CheckAccess(m, models.OpRead); err != nil {
		return nil, err
	}
	if err := env.CheckRecords(m, ids, models.OpRead); err != nil {
		return nil, err
	}
	topicArg, payloadArg, err := testArgs(args)
	if err != nil {
		return nil, err
	}
	recs, err := env.Sudo().Load(m, ids, ruleFields...)
	if err != nil {
		return nil, err
	}
	ru, err := compile(recs[0])
	if err != nil {
		return map[string]any{"matched": false, "value": false, "condition": false, "would_fire": false,
			"action": recs[0].Str("action"), "error": models.MessageOf(err)}, nil
	}
	live := a.engine.current(ru.id)
	out := map[string]any{"action": ru.action, "matched": false, "value": false, "condition": false, "would_fire": false}
	matched := ru.filter == "" || topic.Match(ru.filter, topicArg)
	if ru.trigger == TriggerInterval {
		matched = true
	}
	out["matched"] = matched
	v, ok := extract(ru.path, []byte(payloadArg))
	if ru.trigger != TriggerMessage {
		v, ok = value{text: payloadArg}, true
	}
	if ok {
		out["value"] = v.text
		if v.isNum && ru.trigger == TriggerMessage {
			out["value"] = v.num
		}
		out["condition"] = ru.cond.holds(v)
	}
	switch {
	case !matched:
		out["reason"] = "The topic does not match the rule's topic filter."
	case !ok:
		out["reason"] = "The payload is not JSON, or the JSON path finds nothing in it."
	default:
		fire, reason := wouldFire(ru, live, topicArg, v)
		out["would_fire"] = fire
		if reason != "" {
			out["reason"] = reason
		}
	}
	t := trigger{broker: ru.broker, topic: topicArg, payload: []byte(payloadArg), value: v, at: time.Now()}
	t.device = a.deviceOf(env.Ctx, ru, t)
	r, err := ru.renderAction(t)
	if err != nil {
		out["error"] = err.Error()
		return out, nil
	}
	switch ru.action {
	case ActionPublish:
		out["topic"], out["payload"], out["qos"], out["retain"] = r.topic, string(r.payload), int64(ru.qos), ru.retain
	case ActionNotify:
		out["payload"] = string(r.payload)
	case ActionDeviceAction, ActionDeviceCommand:
		out["device_id"], out["device_action"], out["params"] = ru.deviceID, ru.deviceAction, r.params
	case ActionSendSignal:
		out["signal_id"] = ru.signalID
	}
	if ru.delay > 0 {
		out["delay"] = int64(ru.delay / time.Second)
	}
	return out, nil
}

// wouldFire steps a copy of the live rule's state (a fresh one when the
// rule is not running: archived, or not loaded yet) with the value, and
// says why it would not fire.
func wouldFire(ru, live *rule, topic string, v value) (bool, string) {
	st := topicState{}
	if live != nil {
		st = live.cls.stateOf(topic)
		live.mu.Lock()
		paused := live.paused
		live.mu.Unlock()
		if paused {
			return false, "The rule is paused (see Last error): edit it to resume."
		}
	}
	now := time.Now()
	if fire, _ := ru.cond.step(st, v, now, ru.cooldown); fire {
		return true, ""
	}
	holds := ru.cond.holds(v)
	switch {
	case isThreshold(ru.cond.op) && !st.seen:
		return false, "First value on this topic: a threshold fires on a crossing, so the first value only tells which side it is on."
	case ru.cond.op == OpChanged && !st.seen:
		return false, "First value on this topic: changed fires from the next different value."
	case ru.cond.op == OpChanged && st.last == v.text:
		return false, "The value did not change."
	case isThreshold(ru.cond.op) && holds && !st.armed:
		return false, "Already past the threshold: the rule fired and re-arms once the value is back past it by the hysteresis."
	case !holds:
		return false, "The condition is false."
	}
	return false, "Cooldown: the rule fired on this topic less than the cooldown ago."
}

// testArgs reads action_test's topic and payload (strings; False: "").
func testArgs(args models.Args) (string, string, error) {
	var out [2]string
	for i, name := range []string{"topic", "payload"} {
		v := args.Get(name)
		if py.IsFalse(v) {
			continue
		}
		s, ok := v.(string)
		if !ok {
			return "", "", models.ValueErrorf("action_test: %s must be a string, not %s", name, py.Repr(v))
		}
		out[i] = s
	}
	return out[0], out[1], nil
}
