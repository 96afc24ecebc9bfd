package rules

import (
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// The triggers of a rule.
const (
	TriggerMessage       = "message"
	TriggerDeviceOffline = "device_offline"
	TriggerDeviceOnline  = "device_online"
	TriggerInterval      = "interval"
)

// The actions of a rule.
const (
	ActionPublish       = "publish"
	ActionSendSignal    = "send_signal"
	ActionDeviceAction  = "device_action"
	ActionDeviceCommand = "device_command"
	ActionNotify        = "notify"
)

var (
	triggerChoices = models.Choices(
		TriggerMessage, "Message received", TriggerDeviceOffline, "Device goes offline",
		TriggerDeviceOnline, "Device comes online", TriggerInterval, "Every interval")
	operatorChoices = models.Choices(
		OpAny, "any message", OpGT, ">", OpGE, ">=", OpLT, "<", OpLE, "<=", OpEQ, "=", OpNE, "!=",
		OpChanged, "changed", OpContains, "contains", OpRegex, "matches regex")
	actionChoices = models.Choices(
		ActionPublish, "Publish a message", ActionSendSignal, "Send a signal", ActionDeviceAction, "Device action",
		ActionDeviceCommand, "Device command", ActionNotify, "Notify (bus)")
)

const templateHelp = "Placeholders: {topic}, {payload}, {value} (the condition's value), {device} (the device identifier), " +
	"{rule} (the rule's name), and {1}, {2}... the levels of the trigger topic."

// ruleModel is mqtt.rule: when (trigger, topic filter, condition) and
// what (action). Managers edit rules, users read them. The bookkeeping
// fields are the engine's.
func (a *Addon) ruleModel() *models.Model {
	return &models.Model{
		Name: "mqtt.rule", Description: "MQTT Automation Rule", Order: "name, id",
		Fields: []*models.Field{
			{Name: "name", Type: models.Char, Required: true},
			{Name: "active", Type: models.Boolean, Default: models.Constant(true)},
			{Name: "broker_id", Type: models.Many2one, Relation: "mqtt.broker", String: "Broker", OnDelete: "cascade",
				Help: "The broker whose messages trigger the rule, and where it publishes. Empty: any broker (it publishes on the trigger's)."},
			{Name: "trigger", Type: models.Selection, Required: true, Default: models.Constant(TriggerMessage), Selection: triggerChoices},
			{Name: "topic_filter", Type: models.Char, String: "Topic filter",
				Help: "MQTT filter (+ and # wildcards) of the messages that trigger the rule. For device triggers: " +
					"a filter of the devices' availability topics, or empty for every device."},
			{Name: "interval", Type: models.Integer, String: "Interval (s)", Default: models.Constant(int64(60)),
				Help: "For the interval trigger: seconds between firings."},
			{Name: "json_path", Type: models.Char, String: "JSON path",
				Help: `The payload's value to test: "a.b[0].c" or "$.sensors[0].value". Empty: the whole payload, as a number or text.`},
			{Name: "operator", Type: models.Selection, Required: true, Default: models.Constant(OpAny), Selection: operatorChoices},
			{Name: "value", Type: models.Char, Help: "What the operator compares with: a number for >, >=, <, <=, a regular expression for regex."},
			{Name: "hysteresis", Type: models.Float, Default: models.Constant(0.0),
				Help: "Thresholds fire on a crossing. A > or >= rule fires again only after the value fell back below value - hysteresis; < and <= the mirror."},
			{Name: "action", Type: models.Selection, Required: true, Default: models.Constant(ActionPublish), Selection: actionChoices},
			{Name: "action_topic", Type: models.Char, String: "Action topic", Help: "For publish. " + templateHelp},
			{Name: "action_payload", Type: models.Text, String: "Action payload", Help: "For publish and notify. " + templateHelp},
			{Name: "action_qos", Type: models.Integer, String: "Action QoS", Default: models.Constant(int64(0)),
				Help: "The publish's QoS; at 1 or 2 a failing action is retried a few times."},
			{Name: "action_retain", Type: models.Boolean, String: "Retain", Default: models.Constant(false)},
			{Name: "signal_id", Type: models.Many2one, Relation: "mqtt.signal", String: "Signal", OnDelete: "set null"},
			{Name: "device_id", Type: models.Many2one, Relation: "iot.device", String: "Device", OnDelete: "set null"},
			{Name: "device_action", Type: models.Char, String: "Device action",
				Help: "The action (device action) or command method (device command) to send the device."},
			{Name: "params", Type: models.Text, Help: "JSON object template of the action's or command's parameters. " + templateHelp},
			{Name: "delay", Type: models.Integer, String: "Delay (s)", Default: models.Constant(int64(0)),
				Help: "Seconds after the firing the action is done (a follow-up such as off after 5 minutes); firing again on the same topic meanwhile starts it over. Pending delays do not survive a restart."},
			{Name: "cooldown", Type: models.Integer, String: "Cooldown (s)", Default: models.Constant(int64(0)),
				Help: "Minimum seconds between two firings on the same topic."},
			{Name: "topic_listened", Type: models.Boolean, String: "Topic listened", NotStored: true, Compute: a.topicListened,
				Help: "Whether the broker's listened subscriptions (or its device topics) cover the topic filter: the rule sees only the messages they receive."},
			{Name: "last_fired", Type: models.Datetime, String: "Last fired", Readonly: true, NoCopy: true},
			{Name: "fire_count", Type: models.Integer, String: "Fired", Readonly: true, NoCopy: true, Default: models.Constant(int64(0))},
			{Name: "last_error", Type: models.Text, String: "Last error", Readonly: true, NoCopy: true,
				Help: "Why the last action failed (cleared when one succeeds), or why the rule is paused (until it is edited)."},
		},
		Access:      map[string]string{mqtt.GroupUser: "r", mqtt.GroupManager: "rwcu"},
		Constraints: []models.Constraint{checkRules},
		Prepare:     prepareRule,
		Channels:    []string{ChannelRules},
		Changed:     a.ruleChanged,
		Methods: map[string]*models.Method{
			"action_test": {Kind: models.RecordLevel, ReadOnly: true,
				Params: []models.Param{{Name: "topic", Optional: true, Default: ""}, {Name: "payload", Optional: true, Default: ""}},
				Fn:     a.actionTest},
		},
	}
}

// ruleChanged reloads the rules once their change committed. A user's
// edit (any field but the bookkeeping) resumes a rule paused by the
// firing rate guard: its pause is in last_error, which the edit clears.
func (a *Addon) ruleChanged(env *models.Env, ids []int64, names []string, deleted bool) {
	ids = append([]int64(nil), ids...)
	if !deleted && names != nil && edits(names) {
		if _, err := env.Sudo().UpdateWhere(env.Registry().Model("mqtt.rule"),
			[]any{[]any{"id", "in", toAny(ids)}, []any{"last_error", "=like", pausedPrefix + "%"}},
			map[string]any{"last_error": false}); err != nil {
			a.log.Warn("Unable to clear the pause of edited rules", "error", err)
		}
	}
	env.AfterCommit(func() { a.engine.reload(a, ids, deleted) })
}

// edits tells whether written fields are a user's edit rather than the
// engine's bookkeeping.
func edits(names []string) bool {
	for _, n := range names {
		switch n {
		case "last_fired", "fire_count", "last_error":
		default:
			return true
		}
	}
	return false
}

func toAny(ids []int64) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

// ruleFields are the fields a compiled rule is made of.
var ruleFields = []string{"name", "active", "broker_id", "trigger", "topic_filter", "interval", "json_path", "operator", "value",
	"hysteresis", "action", "action_topic", "action_payload", "action_qos", "action_retain", "signal_id", "device_id",
	"device_action", "params", "delay", "cooldown", "fire_count", "last_error"}

// logModel is mqtt.rule.log: one row per action a rule did or failed to
// do, kept LogRetention and at most LogMaxRows (Run purges).
func logModel() *models.Model {
	return &models.Model{
		Name: "mqtt.rule.log", Description: "MQTT Automation Rule Log", Order: "time desc, id desc", RecName: "action",
		Fields: []*models.Field{
			{Name: "rule_id", Type: models.Many2one, Relation: "mqtt.rule", String: "Rule", Required: true, OnDelete: "cascade", Index: true},
			{Name: "time", Type: models.Datetime, Index: true, Readonly: true},
			{Name: "trigger_topic", Type: models.Char, String: "Trigger topic", Readonly: true},
			{Name: "trigger_payload", Type: models.Text, String: "Trigger payload", Readonly: true,
				Help: "The trigger's payload as text, cut at 1 KiB."},
			{Name: "action", Type: models.Text, Readonly: true, Help: "What the rule did: the action with its rendered topic and payload, or parameters."},
			{Name: "result", Type: models.Selection, Readonly: true, Selection: models.Choices(ResultDone, "Done", ResultFailed, "Failed")},
			{Name: "error", Type: models.Text, Readonly: true},
		},
		Access: map[string]string{mqtt.GroupUser: "r", mqtt.GroupManager: "rwcu"},
	}
}

// The results of a logged action.
const (
	ResultDone   = "done"
	ResultFailed = "failed"
)

// logFields are the fields the engine fills in a log row, in order.
var logFields = []string{"rule_id", "time", "trigger_topic", "trigger_payload", "action", "result", "error"}
