package mqtt

import (
	"slices"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/topic"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// mqttSubscription mirrors mqtt.subscription (seed-addon.md §1.2). Fixed
// defects: qos and retain_handling are range-checked, topic filters are
// validated, and a subscription that never tried to subscribe shows "Not
// subscribed" instead of "Fail".
func (a *Addon) subscription() *models.Model {
	return &models.Model{
		Name: "mqtt.subscription", Description: "MQTT Subscription", RecName: "display_name",
		Fields: []*models.Field{
			// Restrict, as Odoo makes a required many2one: a broker with
			// subscriptions is not deleted behind its user's back.
			{Name: "broker_id", Type: models.Many2one, Relation: "mqtt.broker", String: "MQTT Broker", Required: true, OnDelete: "restrict"},
			{Name: "topic", Type: models.Char, Required: true},
			{Name: "qos", Type: models.Integer, String: "QoS", Default: models.Constant(int64(0))},
			// The broker's protocol, for the form: the options below are
			// sent on MQTT 5 only.
			{Name: "broker_protocol", Type: models.Selection, String: "Broker protocol", Related: "broker_id.protocol", Readonly: true, Selection: protocolChoices},
			{Name: "no_local_flag", Type: models.Boolean, String: "No Local Flag", Default: models.Constant(false)},
			{Name: "retain_as_published_flag", Type: models.Boolean, String: "Retain as Published Flag", Default: models.Constant(false)},
			{Name: "retain_handling", Type: models.Integer, String: "Retain handling", Default: models.Constant(int64(0)),
				Help: "0 = send retained messages on subscribe, 1 = only for a new subscription, 2 = never"},
			{Name: "subscribed", Type: models.Boolean, Readonly: true, Default: models.Constant(false), NoCopy: true},
			{Name: "subscription_time", Type: models.Datetime, Readonly: true, NoCopy: true},
			{Name: "subscription_in_progress", Type: models.Boolean, Readonly: true, Default: models.Constant(false), NoCopy: true},
			{Name: "last_error", Type: models.Char, Readonly: true, NoCopy: true, Help: "Why the last subscribe attempt failed"},
			{Name: "enabled", Type: models.Boolean, String: "Listening", Readonly: true, NoCopy: true, Default: models.Constant(false),
				Help: "Set by Subscribe, cleared by Unsubscribe: the broker's listener subscribes it on every (re)connect."},
			{Name: "display_name", Type: models.Char, Compute: subscriptionDisplayName, Depends: []string{"broker_id.name", "topic"}},
			{Name: "subscription_status", Type: models.Selection, NotStored: true, Compute: subscriptionStatus,
				Selection: models.Choices("subscribed", "Subscribed", "subscribing", "Subscribing", "fail", "Fail", "unsubscribed", "Not subscribed")},
		},
		Access:      map[string]string{GroupUser: "r", GroupManager: "rwcu"},
		Constraints: []models.Constraint{checkSubscription},
		Changed:     a.subscriptionChanged,
		// History keeps its rows when a subscription goes (ondelete set null,
		// done here: the link has no foreign key).
		BeforeUnlink: func(env *models.Env, ids []int64) error {
			_, err := env.UpdateWhere(env.Registry().Model("mqtt.signal.history"), []any{[]any{"subscription_id", "in", ids}}, map[string]any{"subscription_id": false})
			return err
		},
		Methods: map[string]*models.Method{
			"subscribe_mqtt": {Kind: models.RecordLevel, OwnTransactions: true, Fn: a.subscriptionSubscribe},
			"subscribe":      {Kind: models.RecordLevel, OwnTransactions: true, Fn: a.subscriptionSubscribe},
			"unsubscribe":    {Kind: models.RecordLevel, OwnTransactions: true, Fn: a.subscriptionUnsubscribe},
		},
	}
}

// subscriptionChanged restarts the daemon of a broker whose listened
// subscriptions changed topic, QoS, MQTT 5 options or broker, so it
// resubscribes them. Subscribe and Unsubscribe talk to the daemon
// themselves.
func (a *Addon) subscriptionChanged(env *models.Env, ids []int64, names []string, deleted bool) {
	relevant := false
	for _, n := range names {
		relevant = relevant || resubscribeFields[n]
	}
	if (!relevant && !deleted) || a.control() == nil {
		return
	}
	m := env.Registry().Model("mqtt.subscription")
	listened, err := env.Sudo().Search(m, []any{[]any{"id", "in", ids}, []any{"enabled", "=", true}}, 0, 0, "id")
	if err != nil {
		a.log.Warn("Unable to find the brokers of changed subscriptions", "error", err)
		return
	}
	recs, err := env.Load(m, listened, "broker_id")
	if err != nil {
		a.log.Warn("Unable to find the brokers of changed subscriptions", "error", err)
		return
	}
	var brokers []int64
	for _, r := range recs {
		if b := r.Int("broker_id"); b != 0 && !slices.Contains(brokers, b) {
			brokers = append(brokers, b)
		}
	}
	a.notifyBrokers(env, brokers)
}

// resubscribeFields are what a daemon subscribes with
// (subscriptionConfigFields) and the broker it subscribes on.
var resubscribeFields = map[string]bool{"broker_id": true, "topic": true, "qos": true,
	"no_local_flag": true, "retain_as_published_flag": true, "retain_handling": true}

func subscriptionDisplayName(env *models.Env, r *models.Record) (any, error) {
	return brokerName(env, r.Int("broker_id"), "Unknown Broker") + " - " + r.Str("topic"), nil
}

// brokerName is the name of a broker record, or fallback.
func brokerName(env *models.Env, id int64, fallback string) string {
	if id == 0 {
		return fallback
	}
	names, err := env.Sudo().DisplayNames(env.Registry().Model("mqtt.broker"), []int64{id})
	if err != nil || names[id] == "" {
		return fallback
	}
	return names[id]
}

func subscriptionStatus(env *models.Env, r *models.Record) (any, error) {
	switch {
	case r.Bool("subscribed"):
		return "subscribed", nil
	case r.Bool("subscription_in_progress"), r.Bool("enabled") && r.Str("last_error") == "":
		return "subscribing", nil
	case r.Str("last_error") != "":
		return "fail", nil
	}
	return "unsubscribed", nil
}

func checkSubscription(env *models.Env, recs []*models.Record) error {
	for _, r := range recs {
		if err := topic.ValidateFilter(r.Str("topic")); err != nil {
			return models.ValidationErrorf("Topic: %v", err)
		}
		if q := r.Int("qos"); q < 0 || q > 2 {
			return models.ValidationErrorf("QoS: %d is not a QoS level (0, 1 or 2).", q)
		}
		if h := r.Int("retain_handling"); h < 0 || h > 2 {
			return models.ValidationErrorf("Retain handling: %d is not 0, 1 or 2.", h)
		}
	}
	return nil
}
