package listener

import (
	"testing"

	mqttmodel "github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

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
