package rules

import (
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/topic"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// topicListened tells whether the broker's daemon receives everything a
// message rule's filter names: rules see only the messages the daemon
// receives, those of the broker's listened subscriptions and, with device
// discovery, of its device topics. The form warns when it does not, so a
// rule on a topic nobody subscribed does not look broken.
func (a *Addon) topicListened(env *models.Env, r *models.Record) (any, error) {
	filter := r.Str("topic_filter")
	if r.Str("trigger") != TriggerMessage || filter == "" {
		return true, nil
	}
	su := env.Sudo()
	domain := []any{[]any{"enabled", "=", true}}
	brokers := []int64{}
	if b := r.Int("broker_id"); b != 0 {
		domain = append(domain, []any{"broker_id", "=", b})
		brokers = append(brokers, b)
	} else {
		var err error
		if brokers, err = su.Search(su.Registry().Model("mqtt.broker"), []any{}, 0, 0, "id"); err != nil {
			return nil, err
		}
	}
	subs := su.Registry().Model("mqtt.subscription")
	ids, err := su.Search(subs, domain, 0, 0, "id")
	if err != nil {
		return nil, err
	}
	recs, err := su.Load(subs, ids, "topic")
	if err != nil {
		return nil, err
	}
	for _, s := range recs {
		if topic.Covers(s.Str("topic"), filter) {
			return true, nil
		}
	}
	for _, b := range brokers {
		dt, ok, err := a.iot.BrokerTopics(env.Ctx, b)
		if err != nil {
			return nil, err
		}
		if !ok || !dt.Discovery {
			continue
		}
		for _, f := range dt.Filters() {
			if topic.Covers(f, filter) {
				return true, nil
			}
		}
	}
	return false, nil
}
