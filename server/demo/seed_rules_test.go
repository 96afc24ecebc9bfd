package demo

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
)

// TestSeedRules: the first Seed makes the two demo rules on the demo
// broker, acting on lamp-1's device record (made for it, then found by
// discovery); a later start adds none, and neither does one after the
// operator archived them.
func TestSeedRules(t *testing.T) {
	for _, kind := range modelstest.Kinds(t) {
		t.Run(kind, func(t *testing.T) {
			reg := modelstest.NewFor(t, kind)
			ctx := context.Background()
			if created, err := Seed(ctx, reg.Registry, "127.0.0.1", 1883); err != nil || !created {
				t.Fatalf("Seed on an empty database = %v, %v", created, err)
			}
			s := seeder{ctx: ctx, reg: reg.Registry}
			read := func(model string, domain []any, fields ...any) []map[string]any {
				t.Helper()
				res, err := s.call(model, "search_read", []any{domain, fields}, map[string]any{"context": map[string]any{"active_test": false}})
				if err != nil {
					t.Fatal(err)
				}
				var out []map[string]any
				b, _ := json.Marshal(res)
				_ = json.Unmarshal(b, &out)
				return out
			}
			lamps := read("iot.device", []any{[]any{"identifier", "=", LampID}}, "broker_id", "actions")
			if len(lamps) != 1 || lamps[0]["actions"] != "toggle,switch" {
				t.Fatalf("lamp devices = %v", lamps)
			}
			rules := read("mqtt.rule", []any{}, "name", "broker_id", "trigger", "topic_filter", "json_path", "operator", "value", "hysteresis",
				"action", "device_id", "device_action", "params", "active")
			want := []struct{ name, op, value, state string }{{RuleLampOn, ">", "28", "on"}, {RuleLampOff, "<", "26", "off"}}
			if len(rules) != len(want) {
				t.Fatalf("rules = %v", rules)
			}
			for _, w := range want {
				var r map[string]any
				for _, x := range rules {
					if x["name"] == w.name {
						r = x
					}
				}
				if r == nil {
					t.Fatalf("no rule %q in %v", w.name, rules)
				}
				broker, _ := r["broker_id"].([]any)
				device, _ := r["device_id"].([]any)
				if len(broker) != 2 || broker[1] != BrokerName || len(device) != 2 || device[0] != lamps[0]["id"] ||
					r["trigger"] != "message" || r["topic_filter"] != "device/thermo-1/telemetry/temperature" || r["json_path"] != "value" ||
					r["operator"] != w.op || r["value"] != w.value || r["hysteresis"] != 2.0 || r["active"] != true ||
					r["action"] != "device_action" || r["device_action"] != "switch" || r["params"] != `{"state": "`+w.state+`"}` {
					t.Errorf("rule %q = %v", w.name, r)
				}
			}

			// Later starts: nothing new, the archived rules stay archived.
			if _, err := s.call("mqtt.rule", "write", []any{[]any{int64(rules[0]["id"].(float64)), int64(rules[1]["id"].(float64))},
				map[string]any{"active": false}}, nil); err != nil {
				t.Fatal(err)
			}
			for _, port := range []int{1883, 40123} {
				if created, err := Seed(ctx, reg.Registry, "127.0.0.1", port); err != nil || created {
					t.Fatalf("later Seed = %v, %v", created, err)
				}
			}
			if got := read("mqtt.rule", []any{}, "active"); len(got) != 2 || got[0]["active"] != false || got[1]["active"] != false {
				t.Errorf("rules after later starts = %v", got)
			}
		})
	}
}
