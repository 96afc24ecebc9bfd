package mqtt_test

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// v5App is a registry whose MQTT buttons drive ctl, with a broker of
// the given protocol and a subscription on it.
func v5App(t *testing.T, kind string, ctl *modelstest.Control, protocol string) (r *modelstest.App, broker, sub int64) {
	t.Helper()
	r = modelstest.NewFor(t, kind, modelstest.Options{Control: func() mqtt.BrokerControl { return ctl }})
	broker = exec(t, r, models.AdminUID, "mqtt.broker", "create", map[string]any{"name": "B " + protocol, "host": "127.0.0.1", "protocol": protocol}).(int64)
	sub = exec(t, r, models.AdminUID, "mqtt.subscription", "create", map[string]any{"broker_id": broker, "topic": "cmd/lamp"}).(int64)
	return r, broker, sub
}

// readOne reads fields of one record over RPC.
func readOne(t *testing.T, r *modelstest.App, model string, id int64, fields ...string) *models.Dict {
	t.Helper()
	names := make([]any, len(fields))
	for i, f := range fields {
		names[i] = f
	}
	res := exec(t, r, models.AdminUID, model, "read", []any{id}, names).([]*models.Dict)
	if len(res) != 1 {
		t.Fatalf("read %s %d: %v", model, id, res)
	}
	return res[0]
}

// TestSignalSendProperties: a signal's content type, user properties (in
// their order, a repeated name kept) and message expiry go out with it on
// an MQTT 5 broker and are recorded on its send history row; a 3.1.1 or
// 3.1 broker gets none of them and its row records none.
func TestSignalSendProperties(t *testing.T) {
	const userProps = `[["unit", "C"], ["source", "erp"], ["unit", "F"]]`
	wantUser := []mqtt.UserProperty{{Key: "unit", Value: "C"}, {Key: "source", Value: "erp"}, {Key: "unit", Value: "F"}}
	cases := []struct {
		protocol string
		sent     mqtt.Properties
		row      map[string]any // the history row's property fields
	}{
		{"MQTTv5", mqtt.Properties{ContentType: "application/json", UserProperties: wantUser, MessageExpiry: 90},
			map[string]any{"content_type": "application/json", "user_properties": `[["unit","C"],["source","erp"],["unit","F"]]`, "message_expiry": int64(90)}},
		{"MQTTv311", mqtt.Properties{}, map[string]any{"content_type": false, "user_properties": false, "message_expiry": int64(0)}},
		{"MQTTv31", mqtt.Properties{}, map[string]any{"content_type": false, "user_properties": false, "message_expiry": int64(0)}},
	}
	for _, kind := range modelstest.Kinds(t) {
		for _, tc := range cases {
			t.Run(kind+"/"+tc.protocol, func(t *testing.T) {
				ctl := &modelstest.Control{}
				r, broker, sub := v5App(t, kind, ctl, tc.protocol)
				signal := exec(t, r, models.AdminUID, "mqtt.signal", "create", map[string]any{"broker_id": broker, "subscription_id": sub,
					"payload": `{"on":true}`, "qos": int64(1), "content_type": "application/json", "user_properties": userProps, "message_expiry": int64(90)}).(int64)
				exec(t, r, models.AdminUID, "mqtt.signal", "action_send_mqtt", []any{signal})
				pub := ctl.TakePublished()
				if len(pub) != 1 {
					t.Fatalf("published %d messages, want 1", len(pub))
				}
				if !reflect.DeepEqual(pub[0].Properties, tc.sent) {
					t.Errorf("sent properties %+v, want %+v", pub[0].Properties, tc.sent)
				}
				if pub[0].Topic != "cmd/lamp" || pub[0].QoS != 1 || string(pub[0].Payload) != `{"on":true}` {
					t.Errorf("sent %+v", pub[0])
				}
				rows := exec(t, r, models.AdminUID, "mqtt.signal.history", "search_read", []any{[]any{"signal_id", "=", signal}},
					[]any{"direction", "content_type", "user_properties", "message_expiry", "response_topic", "correlation_data"}).([]*models.Dict)
				if len(rows) != 1 {
					t.Fatalf("history rows %v", rows)
				}
				want := map[string]any{"direction": "send", "response_topic": false, "correlation_data": false}
				for k, v := range tc.row {
					want[k] = v
				}
				for k, v := range want {
					if g, _ := rows[0].Get(k); g != v {
						t.Errorf("history %s = %#v, want %#v", k, g, v)
					}
				}
			})
		}
	}
}

// TestPropertiesValidation: a bad MQTT 5 value is refused with an error
// that starts with the field's label, which the form puts next to it.
func TestPropertiesValidation(t *testing.T) {
	cases := []struct {
		name, model, label string
		vals               map[string]any
	}{
		{"user properties not JSON", "mqtt.signal", "User properties:", map[string]any{"user_properties": `[["a", "1"]`}},
		{"user properties an object", "mqtt.signal", "User properties:", map[string]any{"user_properties": `{"a": "1"}`}},
		{"user property not a pair", "mqtt.signal", "User properties: item 2", map[string]any{"user_properties": `[["a", "1"], ["b"]]`}},
		{"user property of three", "mqtt.signal", "User properties: item 1", map[string]any{"user_properties": `[["a", "1", "2"]]`}},
		{"user property a number", "mqtt.signal", "User properties: item 1", map[string]any{"user_properties": `[["a", 1]]`}},
		{"user property null", "mqtt.signal", "User properties: item 1", map[string]any{"user_properties": `[["a", null]]`}},
		{"user property no name", "mqtt.signal", "User properties: item 1", map[string]any{"user_properties": `[["", "1"]]`}},
		{"user properties too long", "mqtt.signal", "User properties:", map[string]any{"user_properties": `[["a", "` + strings.Repeat("x", mqtt.MaxUserPropertiesText) + `"]]`}},
		{"negative expiry", "mqtt.signal", "Message expiry (s):", map[string]any{"message_expiry": int64(-1)}},
		{"expiry beyond int4", "mqtt.signal", "Invalid value 4294967296 for the field 'Message expiry (s)'", map[string]any{"message_expiry": int64(1) << 32}},
		{"long content type", "mqtt.signal", "Content type:", map[string]any{"content_type": strings.Repeat("a", 1025)}},
		{"receive maximum over", "mqtt.broker", "Receive maximum:", map[string]any{"receive_maximum": int64(65536)}},
		{"receive maximum negative", "mqtt.broker", "Receive maximum:", map[string]any{"receive_maximum": int64(-1)}},
		{"negative session expiry", "mqtt.broker", "Session expiry (s):", map[string]any{"session_expiry_interval": int64(-5)}},
		{"retain handling", "mqtt.subscription", "Retain handling:", map[string]any{"retain_handling": int64(3)}},
	}
	forEachDB(t, func(t *testing.T, r *modelstest.App) {
		env := testEnv(t, r)
		broker := mustCreate(t, env, "mqtt.broker", map[string]any{"name": "B", "protocol": "MQTTv5"})
		sub := mustCreate(t, env, "mqtt.subscription", map[string]any{"broker_id": broker, "topic": "a/b"})
		base := map[string]map[string]any{
			"mqtt.signal":       {"broker_id": broker, "subscription_id": sub, "payload": "x"},
			"mqtt.broker":       {"name": "C", "protocol": "MQTTv5"},
			"mqtt.subscription": {"broker_id": broker, "topic": "c/d"},
		}
		for _, tc := range cases {
			vals := map[string]any{}
			for k, v := range base[tc.model] {
				vals[k] = v
			}
			for k, v := range tc.vals {
				vals[k] = v
			}
			env.DB().SavePoint("sp_v5")
			_, err := tcreate(env, tc.model, vals)
			env.DB().RollbackTo("sp_v5")
			if models.KindOf(err) != models.KindValidation || !strings.HasPrefix(err.Error(), tc.label) {
				t.Errorf("%s: %v, want a validation error starting %q", tc.name, err, tc.label)
			}
		}
		// The good values of each are accepted.
		mustCreate(t, env, "mqtt.signal", map[string]any{"broker_id": broker, "subscription_id": sub, "payload": "x",
			"user_properties": ` [["a", ""], ["a", "ü"]] `, "message_expiry": int64(1<<31 - 1), "content_type": "text/plain"})
		mustCreate(t, env, "mqtt.broker", map[string]any{"name": "D", "receive_maximum": int64(65535), "session_expiry_interval": int64(1<<31 - 1)})
	})
}

// TestSubscriptionOptions: a subscription's MQTT 5 options reach the
// daemon through subscribe and through the subscriptions it subscribes
// on every connect; changing them on a listened subscription restarts
// its broker's daemon so that it subscribes again with them.
func TestSubscriptionOptions(t *testing.T) {
	cases := []struct {
		name string
		vals map[string]any
		want mqtt.SubscriptionConfig
	}{
		{"defaults", map[string]any{}, mqtt.SubscriptionConfig{Topic: "t/#"}},
		{"no local", map[string]any{"no_local_flag": true, "qos": int64(1)}, mqtt.SubscriptionConfig{Topic: "t/#", QoS: 1, NoLocal: true}},
		{"all", map[string]any{"no_local_flag": true, "retain_as_published_flag": true, "retain_handling": int64(2), "qos": int64(2)},
			mqtt.SubscriptionConfig{Topic: "t/#", QoS: 2, NoLocal: true, RetainAsPublished: true, RetainHandling: 2}},
		{"retain handling 1", map[string]any{"retain_handling": int64(1)}, mqtt.SubscriptionConfig{Topic: "t/#", RetainHandling: 1}},
	}
	for _, kind := range modelstest.Kinds(t) {
		t.Run(kind, func(t *testing.T) {
			ctl := &modelstest.Control{Running: true}
			r, broker, _ := v5App(t, kind, ctl, "MQTTv5")
			for _, tc := range cases {
				vals := map[string]any{"broker_id": broker, "topic": "t/#"}
				for k, v := range tc.vals {
					vals[k] = v
				}
				sub := exec(t, r, models.AdminUID, "mqtt.subscription", "create", vals).(int64)
				ctl.Subscribed = nil
				exec(t, r, models.AdminUID, "mqtt.subscription", "subscribe", []any{sub})
				want := tc.want
				want.ID = sub
				if len(ctl.Subscribed) != 1 || ctl.Subscribed[0] != want {
					t.Errorf("%s: subscribe gave %+v, want %+v", tc.name, ctl.Subscribed, want)
				}
				enabled, err := r.MQTT.EnabledSubscriptions(context.Background(), broker)
				if err != nil {
					t.Fatal(err)
				}
				if i := slices.IndexFunc(enabled, func(s mqtt.SubscriptionConfig) bool { return s.ID == sub }); i < 0 || enabled[i] != want {
					t.Errorf("%s: EnabledSubscriptions %+v, want %+v in it", tc.name, enabled, want)
				}
			}
			// A listened subscription's option change restarts the daemon;
			// an unlistened one's does not.
			listened := exec(t, r, models.AdminUID, "mqtt.subscription", "search", []any{[]any{"enabled", "=", true}}).([]int64)[0]
			idle := exec(t, r, models.AdminUID, "mqtt.subscription", "create", map[string]any{"broker_id": broker, "topic": "idle"}).(int64)
			for _, change := range []map[string]any{{"no_local_flag": true}, {"retain_as_published_flag": true}, {"retain_handling": int64(2)}} {
				ctl.Changed = nil
				exec(t, r, models.AdminUID, "mqtt.subscription", "write", []any{idle}, change)
				if len(ctl.Changed) != 0 {
					t.Errorf("%v on an unlistened subscription restarted %v", change, ctl.Changed)
				}
				exec(t, r, models.AdminUID, "mqtt.subscription", "write", []any{listened}, change)
				if !reflect.DeepEqual(ctl.Changed, []int64{broker}) {
					t.Errorf("%v on a listened subscription restarted %v, want [%d]", change, ctl.Changed, broker)
				}
				exec(t, r, models.AdminUID, "mqtt.subscription", "write", []any{listened, idle},
					map[string]any{"no_local_flag": false, "retain_as_published_flag": false, "retain_handling": int64(0)})
			}
		})
	}
}

// TestBrokerProtocolMirror: subscriptions and signals show their
// broker's protocol (the forms make the MQTT 5 fields read-only by it),
// following a change of the broker's protocol and of their broker.
func TestBrokerProtocolMirror(t *testing.T) {
	forEachDB(t, func(t *testing.T, r *modelstest.App) {
		b3 := exec(t, r, models.AdminUID, "mqtt.broker", "create", map[string]any{"name": "B3"}).(int64)
		b5 := exec(t, r, models.AdminUID, "mqtt.broker", "create", map[string]any{"name": "B5", "protocol": "MQTTv5"}).(int64)
		sub := exec(t, r, models.AdminUID, "mqtt.subscription", "create", map[string]any{"broker_id": b3, "topic": "a"}).(int64)
		sig := exec(t, r, models.AdminUID, "mqtt.signal", "create", map[string]any{"broker_id": b3, "subscription_id": sub, "payload": "x"}).(int64)
		check := func(step, want string) {
			t.Helper()
			for _, m := range []struct {
				model string
				id    int64
			}{{"mqtt.subscription", sub}, {"mqtt.signal", sig}} {
				if g, _ := readOne(t, r, m.model, m.id, "broker_protocol").Get("broker_protocol"); g != want {
					t.Errorf("%s: %s broker_protocol = %#v, want %q", step, m.model, g, want)
				}
			}
		}
		check("created", "MQTTv311")
		exec(t, r, models.AdminUID, "mqtt.broker", "write", []any{b3}, map[string]any{"protocol": "MQTTv5"})
		check("broker set to MQTT 5", "MQTTv5")
		exec(t, r, models.AdminUID, "mqtt.broker", "write", []any{b3}, map[string]any{"protocol": "MQTTv31"})
		check("broker set to MQTT 3.1", "MQTTv31")
		sub5 := exec(t, r, models.AdminUID, "mqtt.subscription", "create", map[string]any{"broker_id": b5, "topic": "b"}).(int64)
		if g, _ := readOne(t, r, "mqtt.subscription", sub5, "broker_protocol").Get("broker_protocol"); g != "MQTTv5" {
			t.Errorf("subscription of an MQTT 5 broker: broker_protocol %#v", g)
		}
		// Written by the broker only: a write of it is refused or ignored.
		_, err := r.Execute(context.Background(), models.Call{UID: models.AdminUID, Model: "mqtt.subscription", Method: "write",
			Args: []any{[]any{sub}, map[string]any{"broker_protocol": "MQTTv5"}}})
		if g, _ := readOne(t, r, "mqtt.subscription", sub, "broker_protocol").Get("broker_protocol"); g != "MQTTv31" {
			t.Errorf("write of broker_protocol (err %v) left %#v", err, g)
		}
	})
}
