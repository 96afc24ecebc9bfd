package rules

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/py"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/topic"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// rule is a compiled mqtt.rule, what the engine evaluates: its settings
// as loaded, and its state, which lives as long as the rule is not
// edited (an edit compiles a new rule with a fresh state).
type rule struct {
	id       int64
	name     string
	broker   int64 // 0: any broker
	trigger  string
	filter   string // "" for device triggers: every device
	interval time.Duration
	path     *jsonPath
	cond     condition
	cooldown time.Duration

	action       string
	topicTmpl    string
	payloadTmpl  string
	qos          byte
	retain       bool
	signalID     int64
	deviceID     int64
	deviceAction string
	params       string
	delay        time.Duration

	cls    *stateClass // its per-topic state, maybe shared (state.go)
	mu     sync.Mutex
	fired  int64 // fire_count, as loaded plus the firings since
	rate   rateWindow
	paused bool // by the rate guard, until edited

	usesDevice bool // a template has {device}, which may take a query
}

// MaxTopicStates bounds the topics one rule (or class of rules)
// remembers (a "#" rule on a busy broker): past it the rule forgets them
// all and starts afresh.
const MaxTopicStates = 10000

// compile makes a rule of a loaded record, or returns the
// ValidationError naming the field that prevents it.
func compile(r *models.Record) (*rule, error) {
	ru := &rule{
		id: r.ID, name: r.Str("name"), broker: r.Int("broker_id"), trigger: r.Str("trigger"),
		filter: strings.TrimSpace(r.Str("topic_filter")), cooldown: seconds(r.Int("cooldown")),
		action: r.Str("action"), topicTmpl: strings.TrimSpace(r.Str("action_topic")), payloadTmpl: r.Str("action_payload"),
		retain: r.Bool("action_retain"), signalID: r.Int("signal_id"), deviceID: r.Int("device_id"),
		deviceAction: strings.TrimSpace(r.Str("device_action")), params: r.Str("params"), delay: seconds(r.Int("delay")),
		fired:  r.Int("fire_count"),
		paused: strings.HasPrefix(r.Str("last_error"), pausedPrefix),
	}
	if ru.trigger == "" {
		ru.trigger = TriggerMessage
	}
	switch ru.trigger {
	case TriggerMessage:
		if ru.filter == "" {
			return nil, models.ValidationErrorf("Topic filter: a message rule needs the topic filter of the messages that trigger it.")
		}
	case TriggerInterval:
		ru.filter = ""
		if r.Int("interval") <= 0 {
			return nil, models.ValidationErrorf("Interval: an interval rule needs a number of seconds above 0, not %d.", r.Int("interval"))
		}
		ru.interval = seconds(r.Int("interval"))
	case TriggerDeviceOnline, TriggerDeviceOffline:
	default:
		return nil, models.ValidationErrorf("Trigger: %s is not a trigger.", py.Repr(ru.trigger))
	}
	if ru.filter != "" {
		if err := topic.ValidateFilter(ru.filter); err != nil {
			return nil, models.ValidationErrorf("Topic filter: %v.", err)
		}
	}
	if err := ru.compileCondition(r); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		label string
		n     int64
	}{{"Delay", r.Int("delay")}, {"Cooldown", r.Int("cooldown")}} {
		if f.n < 0 {
			return nil, models.ValidationErrorf("%s: %d is not a number of seconds (0 or more).", f.label, f.n)
		}
	}
	if err := ru.compileAction(r); err != nil {
		return nil, err
	}
	ru.usesDevice = strings.Contains(ru.topicTmpl+ru.payloadTmpl+ru.params, "{device}")
	return ru, nil
}

func seconds(n int64) time.Duration { return time.Duration(n) * time.Second }

// compileCondition checks the JSON path and the operator's value. Only
// message rules have a condition; the others keep "any".
func (ru *rule) compileCondition(r *models.Record) error {
	ru.cond = condition{op: OpAny}
	if ru.trigger != TriggerMessage {
		return nil
	}
	var err error
	if ru.path, err = parsePath(strings.TrimSpace(r.Str("json_path"))); err != nil {
		return models.ValidationErrorf("JSON path: %v.", err)
	}
	c := condition{op: r.Str("operator"), text: r.Str("value"), hyst: r.Float("hysteresis")}
	if c.op == "" {
		c.op = OpAny
	}
	v := textValue(c.text) // finite numbers only: "NaN" is text
	c.num, c.isNum = v.num, v.isNum
	switch {
	case c.hyst < 0:
		return models.ValidationErrorf("Hysteresis: %v is below 0.", c.hyst)
	case isThreshold(c.op) && !c.isNum:
		return models.ValidationErrorf("Value: %s is not a number, which the operator %s compares with.", py.Repr(c.text), c.op)
	case c.op == OpRegex:
		if c.re, err = regexp.Compile(c.text); err != nil {
			return models.ValidationErrorf("Value: %s is not a valid regular expression: %v.", py.Repr(c.text), err)
		}
	case c.op == OpAny, c.op == OpEQ, c.op == OpNE, c.op == OpChanged, c.op == OpContains, isThreshold(c.op):
	default:
		return models.ValidationErrorf("Operator: %s is not an operator.", py.Repr(c.op))
	}
	ru.cond = c
	return nil
}

// compileAction checks that the action has what it needs.
func (ru *rule) compileAction(r *models.Record) error {
	q := r.Int("action_qos")
	if q < 0 || q > 2 {
		return models.ValidationErrorf("Action QoS: %d is not a QoS level (0, 1 or 2).", q)
	}
	ru.qos = byte(q)
	switch ru.action {
	case ActionPublish:
		if ru.topicTmpl == "" {
			return models.ValidationErrorf("Action topic: a publish action needs the topic to publish on.")
		}
		if err := topic.ValidateName(placeholder.ReplaceAllString(ru.topicTmpl, "x")); err != nil {
			return models.ValidationErrorf("Action topic: %v.", err)
		}
		if ru.trigger == TriggerInterval && ru.broker == 0 {
			return models.ValidationErrorf("Broker: an interval rule that publishes needs the broker to publish on.")
		}
		if err := ru.checkLoop(); err != nil {
			return err
		}
	case ActionSendSignal:
		if ru.signalID == 0 {
			return models.ValidationErrorf("Signal: a send signal action needs the signal to send.")
		}
	case ActionDeviceAction, ActionDeviceCommand:
		if ru.deviceID == 0 {
			return models.ValidationErrorf("Device: a device action or command needs the device.")
		}
		if ru.deviceAction == "" {
			return models.ValidationErrorf("Device action: a device action or command needs the name of the action or command method.")
		}
		if _, err := renderJSON(ru.params, vars{topic: "0", payload: "0", value: "0", device: "0", rule: "0"}); err != nil {
			return models.ValidationErrorf("Params: not a JSON object: %v.", err)
		}
	case ActionNotify:
	default:
		return models.ValidationErrorf("Action: %s is not an action.", py.Repr(ru.action))
	}
	return nil
}

// checkLoop refuses a publish whose topic the rule's own filter could
// match on the same broker (an any-broker rule publishes on the
// trigger's): each of its firings would trigger it again. Placeholders
// count as wildcards (asFilter), so a refusal may be cautious.
func (ru *rule) checkLoop() error {
	if ru.filter == "" || ru.trigger == TriggerInterval {
		return nil
	}
	if target := asFilter(ru.topicTmpl); topic.Overlap(ru.filter, target) {
		return models.ValidationErrorf("Action topic: %s could match the rule's own topic filter %s: "+
			"each firing would trigger the rule again. Publish on another topic, or narrow the filter.",
			py.Repr(ru.topicTmpl), py.Repr(ru.filter))
	}
	return nil
}

// prepareRule refuses an unknown trigger, operator or action with a
// ValidationError naming the field and its choices, before the
// selection's own conversion answers a bare "Wrong value".
func prepareRule(_ *models.Env, vals map[string]any, _ bool) error {
	for _, f := range []struct {
		name, label string
		choices     []models.Choice
	}{{"trigger", "Trigger", triggerChoices}, {"operator", "Operator", operatorChoices}, {"action", "Action", actionChoices}} {
		v, given := vals[f.name]
		s, isStr := v.(string)
		if !given || !isStr {
			continue // False and non-strings: the engine's own checks
		}
		names := make([]string, len(f.choices))
		known := false
		for i, c := range f.choices {
			names[i] = c.Value
			known = known || c.Value == s
		}
		if !known {
			return models.ValidationErrorf("%s: %s is not one of %s.", f.label, py.Repr(s), strings.Join(names, ", "))
		}
	}
	return nil
}

// checkRules is mqtt.rule's constraint: the rule compiles.
func checkRules(_ *models.Env, recs []*models.Record) error {
	for _, r := range recs {
		if _, err := compile(r); err != nil {
			return err
		}
	}
	return nil
}

// describe is what the log says an action did.
func (ru *rule) describe(topic string, payload []byte, params map[string]any) string {
	switch ru.action {
	case ActionPublish:
		return fmt.Sprintf("publish %s (QoS %d%s): %s", topic, ru.qos, map[bool]string{true: ", retained"}[ru.retain], clip(payload))
	case ActionSendSignal:
		return fmt.Sprintf("send signal %d", ru.signalID)
	case ActionDeviceAction, ActionDeviceCommand:
		b, _ := json.Marshal(params) // decoded JSON always marshals
		return fmt.Sprintf("%s %s on device %d: %s", strings.ReplaceAll(ru.action, "_", " "), ru.deviceAction, ru.deviceID, b)
	case ActionNotify:
		return "notify: " + clip(payload)
	}
	return ru.action
}

// MaxLoggedPayload bounds the payloads a log row keeps, in bytes.
const MaxLoggedPayload = 1024

func clip(b []byte) string { return mqtt.Truncate(mqtt.PayloadText(b), MaxLoggedPayload) }
