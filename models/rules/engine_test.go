package rules_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/rules"
)

// TestThermostat is the demo's controller: thermo-1 above 28 switches
// lamp-1 on, back below 26 switches it off; 25, 29, 30, 27, 25.5 make
// exactly one "on" then one "off", in that order.
func TestThermostat(t *testing.T) {
	forEachDB(t, func(t *testing.T, a *app) {
		on := a.rule(map[string]any{"name": "on", "topic_filter": "device/thermo-1/telemetry/temperature", "operator": ">", "value": "28",
			"hysteresis": 2.0, "action_topic": "device/lamp-1/action/switch", "action_payload": `{"state": "on"}`, "action_qos": 1})
		off := a.rule(map[string]any{"name": "off", "topic_filter": "device/thermo-1/telemetry/temperature", "operator": "<", "value": "26",
			"hysteresis": 2.0, "action_topic": "device/lamp-1/action/switch", "action_payload": `{"state": "off"}`, "action_qos": 1})
		a.values("device/thermo-1/telemetry/temperature", "25", "29", "30", "27", "25.5")
		got := a.published(2)
		if len(got) != 2 || string(got[0].Payload) != `{"state": "on"}` || string(got[1].Payload) != `{"state": "off"}` {
			t.Fatalf("published %d: %+v", len(got), got)
		}
		a.waitLogs(on, 1)
		a.waitLogs(off, 1)
		if n, m := len(a.fired(on)), len(a.fired(off)); n != 1 || m != 1 {
			t.Errorf("on fired %d, off %d times", n, m)
		}
	})
}

// TestBackPressure: with the action queue full, Evaluate waits (and
// returns when its context ends) instead of dropping; once the worker
// runs the queue drains and every action is done.
func TestBackPressure(t *testing.T) {
	for _, kind := range modelstest.Kinds(t) {
		t.Run(kind, func(t *testing.T) {
			opts := testOptions
			opts.QueueBytes = 1 // one job at a time
			a := newApp(t, kind, opts)
			id := a.rule(map[string]any{"topic_filter": "q/+", "action": "notify"})
			a.send(msg("q/1", "1")) // the first goes in however big
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			err := a.Rules.Evaluate(ctx, a.broker, []rules.Message{msg("q/2", "2")})
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Evaluate with a full queue: %v, want the context's error", err)
			}
			a.run()
			a.send(msg("q/3", "3"), msg("q/4", "4"))
			rows := a.waitLogs(id, 3)
			if len(rows) != 3 || len(a.fired(id)) != 3 {
				t.Errorf("%d log rows, %d firings told, want 3: the one given up when its context ended is not counted",
					len(rows), len(a.fired(id)))
			}
		})
	}
}

// TestLogRetention purges old rows and rows beyond the maximum.
func TestLogRetention(t *testing.T) {
	for _, kind := range modelstest.Kinds(t) {
		t.Run(kind, func(t *testing.T) {
			opts := testOptions
			opts.LogMaxRows = 3
			a := newApp(t, kind, opts)
			a.run()
			id := a.rule(map[string]any{"topic_filter": "q/+", "action": "notify"})
			for i := range 5 {
				a.send(msg("q/x", string(rune('a'+i))))
			}
			a.waitLogs(id, 5)
			m := a.Model("mqtt.rule.log")
			old := time.Now().Add(-31 * 24 * time.Hour)
			err := a.Transaction(context.Background(), models.Superuser, nil, func(env *models.Env) error {
				ids, err := env.Sudo().Search(m, []any{}, 0, 1, "id")
				if err != nil {
					return err
				}
				_, err = env.Sudo().SetColumns(m, ids, map[string]any{"time": old})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			n, err := a.Rules.PurgeLog(context.Background())
			if err != nil || n != 2 {
				t.Fatalf("purged %d, %v; want 2 (the old one, then one beyond 3 rows)", n, err)
			}
			rows := a.logs(id)
			if len(rows) != 3 || rows[2]["trigger_payload"] != "e" {
				t.Errorf("kept %v", rows)
			}
		})
	}
}

// TestIdenticalRules: rules with the same condition step once per
// message (they share their state while neither has seen anything), yet
// each fires as it would alone: one created after the others saw values
// starts from its own first value.
func TestIdenticalRules(t *testing.T) {
	forEachDB(t, func(t *testing.T, a *app) {
		cond := map[string]any{"operator": ">", "value": "28", "action": "notify"}
		first := a.rule(cond)
		a.values("sensor/a/temp", "20")
		late := a.rule(cond) // its first value is the next one
		a.values("sensor/a/temp", "29")
		if n, m := len(a.fired(first)), len(a.fired(late)); n != 1 || m != 0 {
			t.Fatalf("first fired %d, late %d times; want 1 and 0", n, m)
		}
		a.values("sensor/a/temp", "20", "30")
		if n, m := len(a.fired(first)), len(a.fired(late)); n != 2 || m != 1 {
			t.Fatalf("first fired %d, late %d times; want 2 and 1", n, m)
		}
		// Made together, they fire together; archiving one leaves the
		// other as it was.
		twins := []int64{a.rule(map[string]any{"operator": "<", "value": "0", "action": "notify"}),
			a.rule(map[string]any{"operator": "<", "value": "0", "action": "notify"})}
		a.values("sensor/b/temp", "5", "-1")
		a.exec("mqtt.rule", "write", []any{[]any{twins[0]}, map[string]any{"active": false}}, nil)
		a.values("sensor/b/temp", "5", "-2")
		if n, m := len(a.fired(twins[0])), len(a.fired(twins[1])); n != 1 || m != 2 {
			t.Fatalf("twins fired %d and %d times; want 1 and 2", n, m)
		}
	})
}
