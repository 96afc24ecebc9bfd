package rules_test

import "testing"

// TestTopicListened: a message rule's filter counts as listened when a
// listened subscription of its broker, or its device topics, cover it;
// the form warns otherwise.
func TestTopicListened(t *testing.T) {
	forEachDB(t, func(t *testing.T, a *app) {
		listened := func(id int64) any { return a.readRule(id, "topic_listened")["topic_listened"] }
		sensor := a.rule(map[string]any{"topic_filter": "sensor/+/temp"})
		device := a.rule(map[string]any{"topic_filter": "device/+/telemetry/temperature", "action_topic": "out/x"})
		offline := a.rule(map[string]any{"trigger": "device_offline", "topic_filter": "", "action": "notify"})
		anyBroker := a.rule(map[string]any{"broker_id": false, "topic_filter": "sensor/1/temp", "action_topic": "out/y"})
		for _, c := range []struct {
			name string
			id   int64
			want bool
		}{{"no subscription", sensor, false}, {"device topics", device, true}, {"device trigger", offline, true}, {"any broker", anyBroker, false}} {
			if got := listened(c.id); got != c.want {
				t.Errorf("%s: topic_listened = %v, want %v", c.name, got, c.want)
			}
		}
		sub := a.exec("mqtt.subscription", "create", []any{map[string]any{"broker_id": a.broker, "topic": "sensor/#"}}, nil).(int64)
		if got := listened(sensor); got != false {
			t.Errorf("a subscription not listened yet counts: %v", got)
		}
		a.exec("mqtt.subscription", "subscribe_mqtt", []any{[]any{sub}}, nil)
		for _, id := range []int64{sensor, anyBroker} {
			if got := listened(id); got != true {
				t.Errorf("rule %d: topic_listened = %v once sensor/# is listened", id, got)
			}
		}
	})
}
