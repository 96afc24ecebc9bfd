package models

import (
	"fmt"
	"time"
)

func init() { declarations = append(declarations, mqttSignal, mqttSignalHistory) }

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

// mqttSignal mirrors mqtt.signal (seed-addon.md §1.3), an outgoing message
// template. Fixed defects: the subscription must belong to the signal's
// broker, qos is range-checked, and display_name is computed per record.
func mqttSignal() *Model {
	return &Model{
		Name: "mqtt.signal", Description: "MQTT Signal", RecName: "display_name",
		Fields: []*Field{
			{Name: "broker_id", Type: Many2one, Relation: "mqtt.broker", String: "Broker", Required: true, OnDelete: "cascade"},
			{Name: "subscription_id", Type: Many2one, Relation: "mqtt.subscription", String: "Subscription", Required: true, OnDelete: "cascade"},
			{Name: "history_ids", Type: One2many, Relation: "mqtt.signal.history", InverseName: "signal_id", String: "History"},
			{Name: "topic", Type: Char, Related: "subscription_id.topic", Readonly: true},
			{Name: "payload", Type: Text, Required: true},
			{Name: "retain", Type: Boolean, Default: constant(false)},
			{Name: "qos", Type: Integer, String: "QoS", Default: constant(int64(0))},
			{Name: "send_at", Type: Datetime, String: "Send At", Readonly: true, NoCopy: true},
			{Name: "display_name", Type: Char, Compute: signalDisplayName, Depends: []string{"broker_id.name", "topic"}},
		},
		Access:      map[string]string{GroupMQTTUser: "rwc", GroupMQTTManager: "rwcu"},
		Constraints: []Constraint{checkSignal},
	}
}

func signalDisplayName(env *Env, r *Record) (any, error) {
	return brokerName(env, r.Int("broker_id"), "Unknown Signal Broker") + " - " + r.Str("topic"), nil
}

func checkSignal(env *Env, recs []*Record) error {
	for _, r := range recs {
		if q := r.Int("qos"); q < 0 || q > 2 {
			return ValidationErrorf("QoS: %d is not a QoS level (0, 1 or 2).", q)
		}
		if sub := r.Int("subscription_id"); sub != 0 {
			subs, err := env.Sudo().load(env.reg.Model("mqtt.subscription"), []int64{sub}, nil)
			if err != nil {
				return err
			}
			if len(subs) == 1 && subs[0].Int("broker_id") != r.Int("broker_id") {
				return ValidationErrorf("Subscription: %q belongs to another broker.", subs[0].Str("display_name"))
			}
		}
		if t := r.Str("topic"); t != "" {
			if err := ValidTopicName(t); err != nil {
				return ValidationErrorf("Topic: %v", err)
			}
		}
	}
	return nil
}

// mqttSignalHistory mirrors mqtt.signal.history (seed-addon.md §1.4), with
// the broker and subscription links the addon lacked (defect 10). Ordered
// newest first; id breaks ties so paging is stable.
func mqttSignalHistory() *Model {
	return &Model{
		Name: "mqtt.signal.history", Description: "MQTT Signal History", Order: "timestamp desc, id desc", RecName: "display_name",
		Fields: []*Field{
			{Name: "signal_id", Type: Many2one, Relation: "mqtt.signal", String: "Signal", OnDelete: "set null"},
			// Set on every received row: no foreign keys (see NoForeignKey);
			// deleting a broker or subscription cleans its history itself.
			{Name: "broker_id", Type: Many2one, Relation: "mqtt.broker", String: "Broker", OnDelete: "cascade", NoForeignKey: true},
			{Name: "subscription_id", Type: Many2one, Relation: "mqtt.subscription", String: "Subscription", OnDelete: "set null", NoForeignKey: true},
			{Name: "payload", Type: Text, Required: true, Help: "The payload as text; bytes that are not UTF-8 show as U+FFFD."},
			{Name: "payload_raw", Type: Binary, String: "Raw payload", Help: "The payload bytes exactly as received."},
			{Name: "topic", Type: Char, Index: true},
			{Name: "qos", Type: Integer, String: "QoS"},
			{Name: "retain", Type: Boolean},
			{Name: "direction", Type: Selection, Required: true,
				Selection: []Choice{{"send", "Send"}, {"receive", "Received"}}},
			{Name: "timestamp", Type: Datetime, Index: true, Default: now},
			{Name: "display_name", Type: Char, Compute: historyDisplayName, Depends: []string{"topic", "timestamp"}},
		},
		Access: map[string]string{GroupMQTTUser: "r", GroupMQTTManager: "rwcu"},
	}
}

// historyDisplayName is "<topic> - <timestamp UTC>"; the addon showed
// "Unknown Signal Broker" for every received row without a signal.
func historyDisplayName(env *Env, r *Record) (any, error) {
	return historyName(r.Str("topic"), r.Time("timestamp")), nil
}

// historyName renders a history row's name; InsertHistory, which writes
// rows without the ORM, uses it too.
func historyName(topic string, ts time.Time) string {
	if topic == "" {
		topic = "Unknown Signal Broker"
	}
	if ts.IsZero() {
		return topic
	}
	return topic + " - " + ts.Format(DatetimeFormat)
}
