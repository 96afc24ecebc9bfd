package rules_test

import (
	"strings"
	"testing"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// TestBadInput refuses rules that cannot work, with a ValidationError
// naming the field.
func TestBadInput(t *testing.T) {
	cases := []struct {
		name string
		vals map[string]any
		want string // the start of the message
	}{
		{"invalid filter", map[string]any{"topic_filter": "a/#/b"}, "Topic filter: "},
		{"empty filter of a message rule", map[string]any{"topic_filter": false}, "Topic filter: a message rule needs"},
		{"invalid JSON path", map[string]any{"json_path": "a..b"}, "JSON path: "},
		{"JSON path with a bad index", map[string]any{"json_path": "$.a[x]"}, "JSON path: "},
		{"JSON path with an unclosed bracket", map[string]any{"json_path": "a[0"}, "JSON path: "},
		{"invalid regex", map[string]any{"operator": "regex", "value": "a(b"}, "Value: 'a(b' is not a valid regular expression"},
		{"non-numeric threshold", map[string]any{"operator": ">", "value": "hot"}, "Value: 'hot' is not a number"},
		{"NaN threshold", map[string]any{"operator": "<=", "value": "NaN"}, "Value: 'NaN' is not a number"},
		{"negative hysteresis", map[string]any{"operator": ">", "value": "1", "hysteresis": -1.0}, "Hysteresis: "},
		{"publish without topic", map[string]any{"action_topic": false}, "Action topic: a publish action needs"},
		{"publish on a wildcard", map[string]any{"action_topic": "out/+"}, "Action topic: "},
		{"bad QoS", map[string]any{"action_qos": 3}, "Action QoS: "},
		{"send_signal without signal", map[string]any{"action": "send_signal"}, "Signal: "},
		{"device_action without device", map[string]any{"action": "device_action", "device_action": "on"}, "Device: "},
		{"device_command without command", map[string]any{"action": "device_command", "device_id": int64(-1)}, ""},
		{"params not JSON", map[string]any{"action": "device_action", "device_action": "on", "params": "{nope"}, ""},
		{"interval of 0", map[string]any{"trigger": "interval", "interval": 0}, "Interval: "},
		{"interval publish without broker", map[string]any{"trigger": "interval", "broker_id": false}, "Broker: "},
		{"negative delay", map[string]any{"delay": -1}, "Delay: "},
		{"negative cooldown", map[string]any{"cooldown": -5}, "Cooldown: "},
	}
	forEachDB(t, func(t *testing.T, a *app) {
		lamp := a.exec("iot.device", "create", []any{map[string]any{"name": "lamp", "identifier": "lamp-1", "broker_id": a.broker}}, nil).(int64)
		for i := range cases { // the two that need a real device
			switch cases[i].name {
			case "device_command without command":
				cases[i].vals["device_id"], cases[i].want = lamp, "Device action: "
			case "params not JSON":
				cases[i].vals["device_id"], cases[i].want = lamp, "Params: "
			}
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				v := map[string]any{"name": "R", "broker_id": a.broker, "topic_filter": "s/+", "action": "publish", "action_topic": "o/{2}"}
				for k, x := range c.vals {
					v[k] = x
				}
				_, err := a.call(models.AdminUID, "mqtt.rule", "create", []any{v}, nil)
				if models.KindOf(err) != models.KindValidation || !strings.HasPrefix(models.MessageOf(err), c.want) {
					t.Fatalf("got %v (%v), want a ValidationError starting %q", err, models.KindOf(err), c.want)
				}
				t.Log(models.MessageOf(err))
			})
		}
		// An unknown operator is refused by the selection, naming it.
		_, err := a.call(models.AdminUID, "mqtt.rule", "create", []any{map[string]any{"name": "R", "topic_filter": "s/+",
			"action": "notify", "operator": "~="}}, nil)
		if models.KindOf(err) != models.KindValidation || !strings.HasPrefix(models.MessageOf(err), "Operator: '~=' is not one of any, >, >=") {
			t.Errorf("unknown operator: %v", err)
		} else {
			t.Log(models.KindOf(err), models.MessageOf(err))
		}
		// A write is checked as a create is.
		id := a.rule(nil)
		_, err = a.call(models.AdminUID, "mqtt.rule", "write", []any{[]any{id}, map[string]any{"json_path": "[x]"}}, nil)
		if models.KindOf(err) != models.KindValidation || !strings.HasPrefix(models.MessageOf(err), "JSON path: ") {
			t.Errorf("write: %v", err)
		}
	})
}
