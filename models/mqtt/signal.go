package mqtt

import (
	"fmt"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/topic"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/py"
)

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

// mqttSignal mirrors mqtt.signal (seed-addon.md §1.3), an outgoing message
// template. Fixed defects: the subscription must belong to the signal's
// broker, qos is range-checked, and display_name is computed per record.
func (a *Addon) signal() *models.Model {
	return &models.Model{
		Name: "mqtt.signal", Description: "MQTT Signal", RecName: "display_name",
		Fields: []*models.Field{
			// Restrict, as Odoo makes a required many2one (the addon's
			// behaviour): deleting the broker or subscription of a signal
			// is refused until the signal goes.
			{Name: "broker_id", Type: models.Many2one, Relation: "mqtt.broker", String: "MQTT Broker", Required: true, OnDelete: "restrict"},
			{Name: "subscription_id", Type: models.Many2one, Relation: "mqtt.subscription", String: "MQTT Subscription", Required: true, OnDelete: "restrict"},
			{Name: "history_ids", Type: models.One2many, Relation: "mqtt.signal.history", InverseName: "signal_id", String: "Signal History"},
			{Name: "topic", Type: models.Char, Related: "subscription_id.topic", Readonly: true},
			{Name: "payload", Type: models.Text, Required: true},
			{Name: "payload_encoding", Type: models.Selection, String: "Payload encoding", Default: models.Constant(EncodingRaw), Selection: signalEncodings,
				Help: "How the payload text becomes the bytes sent: raw (its UTF-8 bytes), base64 or hex (for a binary payload)."},
			{Name: "retain", Type: models.Boolean, Default: models.Constant(false)},
			{Name: "qos", Type: models.Integer, String: "QoS", Default: models.Constant(int64(0))},
			{Name: "send_at", Type: models.Datetime, String: "Send At", Readonly: true, NoCopy: true},
			// MQTT 5 properties sent with it (ignored by 3.1/3.1.1 brokers:
			// the form shows them read-only there, by broker_protocol).
			{Name: "broker_protocol", Type: models.Selection, String: "Broker protocol", Related: "broker_id.protocol", Readonly: true, Selection: protocolChoices},
			{Name: "content_type", Type: models.Char, String: "Content type", Help: "MQTT 5: the payload's MIME type, e.g. application/json."},
			{Name: "user_properties", Type: models.Text, String: "User properties",
				Help: `MQTT 5: a JSON list of [name, value] pairs, e.g. [["unit", "C"], ["source", "erp"]]; order and repeated names are kept.`},
			{Name: "message_expiry", Type: models.Integer, String: "Message expiry (s)", Default: models.Constant(int64(0)),
				Help: "MQTT 5: the broker drops the message if it could not deliver it within this many seconds; 0: never."},
			{Name: "display_name", Type: models.Char, Compute: signalDisplayName, Depends: []string{"broker_id.name", "topic"}},
		},
		Access:      map[string]string{GroupUser: "rwc", GroupManager: "rwcu"},
		Constraints: []models.Constraint{checkSignal},
		Methods: map[string]*models.Method{
			"action_send_mqtt":      {Kind: models.RecordLevel, OwnTransactions: true, Fn: a.signalSend},
			"action_auto_send_mqtt": {Kind: models.RecordLevel, ReadOnly: true, Fn: signalAutoSend},
			"get_last_mqtt_send":    {Kind: models.ModelLevel, ReadOnly: true, Params: []models.Param{{Name: "signal_id"}}, Fn: signalLastSend},
			"get_mqtt_send_stats":   {Kind: models.ModelLevel, ReadOnly: true, Params: []models.Param{{Name: "signal_id"}}, Fn: signalSendStats},
		},
	}
}

func signalDisplayName(env *models.Env, r *models.Record) (any, error) {
	return brokerName(env, r.Int("broker_id"), "Unknown Signal Broker") + " - " + r.Str("topic"), nil
}

func checkSignal(env *models.Env, recs []*models.Record) error {
	for _, r := range recs {
		if q := r.Int("qos"); q < 0 || q > 2 {
			return models.ValidationErrorf("QoS: %d is not a QoS level (0, 1 or 2).", q)
		}
		if _, err := DecodePayload(r.Str("payload"), r.Str("payload_encoding")); err != nil {
			return models.ValidationErrorf("Payload (%s): %v.", r.Str("payload_encoding"), err)
		}
		if err := checkProperties(r); err != nil {
			return err
		}
		if sub := r.Int("subscription_id"); sub != 0 {
			subs, err := env.Load(env.Registry().Model("mqtt.subscription"), []int64{sub})
			if err != nil {
				return err
			}
			if len(subs) == 1 && subs[0].Int("broker_id") != r.Int("broker_id") {
				return models.ValidationErrorf("Subscription: %s belongs to another broker.", py.Repr(subs[0].Str("display_name")))
			}
		}
		if t := r.Str("topic"); t != "" {
			if err := topic.ValidateName(t); err != nil {
				return models.ValidationErrorf("Topic: %v", err)
			}
		}
	}
	return nil
}
