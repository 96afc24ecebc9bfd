package listener

import (
	mqttmodel "github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
	"strings"
	"testing"
)

func TestMatchTopic(t *testing.T) {
	cases := []struct {
		filter, topic string
		want          bool
	}{
		{"a/b", "a/b", true},
		{"a/b", "a/c", false},
		{"a/b", "a/b/c", false},
		{"a/b/c", "a/b", false},
		{"a/+", "a/b", true},
		{"a/+", "a/b/c", false},
		{"a/+", "a/", true}, // an empty level is a level
		{"a/+/c", "a/b/c", true},
		{"a/+/c", "a/b/d", false},
		{"+/+", "/x", true},
		{"+", "a", true},
		{"+", "a/b", false},
		{"a/#", "a", true}, // "#" includes the parent level
		{"a/#", "a/b/c", true},
		{"a/#", "ab", false},
		{"#", "a/b/c", true},
		{"#", "/", true},
		{"sport/tennis/#", "sport/tennis/player1/ranking", true},
		{"sport/tennis/+", "sport/tennis", false},
		{"+/tennis/#", "sport/tennis", true},
		// $-topics are not matched by a leading wildcard [MQTT-4.7.2-1].
		{"#", "$SYS/broker/uptime", false},
		{"+/monitor/Clients", "$SYS/monitor/Clients", false},
		{"$SYS/#", "$SYS/broker/uptime", true},
		{"$SYS/monitor/+", "$SYS/monitor/Clients", true},
		// Shared subscriptions match as their filter does.
		{"$share/g1/sensors/#", "sensors/t1/temp", true},
		{"$share/g1/sensors/+", "sensors/t1/temp", false},
		{"$share/g1/#", "$SYS/x", false},
		{"$share/g1", "g1", false},
		{"$queue/jobs/+", "jobs/1", true},
		// Case matters and nothing is trimmed.
		{"A/b", "a/b", false},
		{"a /b", "a/b", false},
		{"", "a", false},
	}
	for _, c := range cases {
		if got := matchTopic(c.filter, c.topic); got != c.want {
			t.Errorf("matchTopic(%q, %q) = %v, want %v", c.filter, c.topic, got, c.want)
		}
	}
}

func TestRoutesLookup(t *testing.T) {
	r := newRoutes([]mqttmodel.SubscriptionConfig{
		{ID: 1, Topic: "plant/#"},
		{ID: 2, Topic: "plant/+/temp"},
		{ID: 3, Topic: "plant/line1/temp"},
		{ID: 4, Topic: "$share/grp/line2/+"},
	}, map[string]int64{"plant/line1/temp": 7})
	cases := []struct {
		topic       string
		sub, signal int64
	}{
		{"plant/line1/temp", 3, 7}, // the exact filter wins over wildcards
		{"plant/line9/temp", 1, 0}, // else the oldest matching subscription
		{"plant", 1, 0},
		{"line2/x", 4, 0}, // a shared subscription is matched by its filter
		{"other", 0, 0},
	}
	for _, c := range cases {
		sub, sig := r.lookup(c.topic)
		if sub != c.sub || sig != c.signal {
			t.Errorf("lookup(%q) = %d, %d; want %d, %d", c.topic, sub, sig, c.sub, c.signal)
		}
	}
	if sub, _ := (*routes)(nil).lookup("x"); sub != 0 {
		t.Errorf("nil routes matched")
	}
}

func FuzzMatchTopic(f *testing.F) {
	f.Add("a/+/#", "a/b/c")
	f.Add("$share/g/#", "$x")
	f.Fuzz(func(t *testing.T, filter, topic string) {
		got := matchTopic(filter, topic)
		if filter == topic && mqttmodel.ValidTopicName(topic) == nil && !strings.HasPrefix(topic, "$queue/") && !got {
			t.Errorf("a topic name must match itself: %q", topic)
		}
	})
}
