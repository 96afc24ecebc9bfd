package rules_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/rules"
)

// app is a test registry with the rules addon, a recorded bus and a
// listener stand-in that records what is published.
type app struct {
	*modelstest.App
	t      testing.TB
	notes  *modelstest.Notes
	ctl    *modelstest.Control
	broker int64
}

// testOptions keep retries short.
var testOptions = rules.Options{RetryBackoff: 20 * time.Millisecond, Retries: 2}

// forEachDB runs fn as a subtest per database kind (SQLite, and
// PostgreSQL when configured; under CI=true it is required), with a
// broker and the rules' worker running.
func forEachDB(t *testing.T, fn func(t *testing.T, a *app)) {
	for _, kind := range modelstest.Kinds(t) {
		t.Run(kind, func(t *testing.T) {
			modelstest.CheckLeaks(t) // Run's goroutines end with it
			a := newApp(t, kind, testOptions)
			a.run()
			fn(t, a)
		})
	}
}

func newApp(t *testing.T, kind string, opts rules.Options) *app {
	return newAppTB(t, kind, opts)
}

// newBenchApp is newApp on SQLite for a benchmark.
func newBenchApp(b *testing.B) *app { return newAppTB(b, "sqlite", testOptions) }

func newAppTB(t testing.TB, kind string, opts rules.Options) *app {
	a := &app{t: t, notes: &modelstest.Notes{}, ctl: &modelstest.Control{Running: true, Connected: true}}
	a.App = modelstest.NewFor(t, kind, modelstest.Options{Notifier: a.notes, Rules: opts,
		Control: func() mqtt.BrokerControl { return a.ctl }})
	a.notes.Reg = a.Registry
	a.broker = a.exec("mqtt.broker", "create", []any{map[string]any{"device_discovery": true, "name": "B", "host": "127.0.0.1"}}, nil).(int64)
	return a
}

// run starts the rules' worker until the test ends.
func (a *app) run() {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { a.Rules.Run(ctx) })
	a.t.Cleanup(func() { cancel(); wg.Wait() })
}

func (a *app) call(uid int64, model, method string, args []any, kwargs map[string]any) (any, error) {
	return a.Execute(context.Background(), models.Call{UID: uid, Model: model, Method: method, Args: args, Kwargs: kwargs})
}

func (a *app) exec(model, method string, args []any, kwargs map[string]any) any {
	a.t.Helper()
	res, err := a.call(models.AdminUID, model, method, args, kwargs)
	if err != nil {
		a.t.Fatalf("%s.%s: %v", model, method, err)
	}
	return res
}

// rule creates a rule on the app's broker: a message rule publishing
// on out/{1}, with vals over those defaults.
func (a *app) rule(vals map[string]any) int64 {
	a.t.Helper()
	v := map[string]any{"name": "R", "broker_id": a.broker, "topic_filter": "sensor/+/temp", "action": "publish",
		"action_topic": "out/{1}", "action_payload": "{value}"}
	for k, x := range vals {
		v[k] = x
	}
	return a.exec("mqtt.rule", "create", []any{v}, nil).(int64)
}

// send evaluates messages of the app's broker.
func (a *app) send(msgs ...rules.Message) {
	a.t.Helper()
	if err := a.Rules.Evaluate(context.Background(), a.broker, msgs); err != nil {
		a.t.Fatalf("Evaluate: %v", err)
	}
}

// msg is a message on topic with payload.
func msg(topic, payload string) rules.Message {
	return rules.Message{Topic: topic, Payload: []byte(payload), Time: time.Now()}
}

// values sends each payload on topic, one message per call of Evaluate.
func (a *app) values(topic string, payloads ...string) {
	a.t.Helper()
	for _, p := range payloads {
		a.send(msg(topic, p))
	}
}

// readRule reads fields of a rule.
func (a *app) readRule(id int64, fields ...string) map[string]any {
	a.t.Helper()
	fs := make([]any, len(fields))
	for i, f := range fields {
		fs[i] = f
	}
	rows := a.exec("mqtt.rule", "read", []any{[]any{id}, fs}, nil).([]*models.Dict)
	out := map[string]any{}
	rows[0].Range(func(k string, v any) bool { out[k] = v; return true })
	return out
}

// logs reads a rule's log rows, oldest first.
func (a *app) logs(id int64) []map[string]any {
	a.t.Helper()
	rows := a.exec("mqtt.rule.log", "search_read", []any{[]any{[]any{"rule_id", "=", id}}},
		map[string]any{"fields": []any{"trigger_topic", "trigger_payload", "action", "result", "error"}, "order": "id"}).([]*models.Dict)
	var out []map[string]any
	for _, r := range rows {
		m := map[string]any{}
		r.Range(func(k string, v any) bool { m[k] = v; return true })
		out = append(out, m)
	}
	return out
}

// waitLogs waits until a rule has n log rows (its actions are done and
// recorded) and returns them.
func (a *app) waitLogs(id int64, n int) []map[string]any {
	a.t.Helper()
	var rows []map[string]any
	testkit.Eventually(a.t, 10*time.Second, "the rule's log rows", func() bool {
		rows = a.logs(id)
		return len(rows) >= n
	})
	return rows
}

// fired are the firings of a rule told on the bus.
func (a *app) fired(id int64) []map[string]any {
	var out []map[string]any
	for _, n := range a.notes.Take(rules.NoteFired) {
		if n["rule_id"] == id {
			out = append(out, n)
		}
	}
	return out
}

// published waits for n messages published and returns them (and
// forgets them).
func (a *app) published(n int) []mqtt.OutgoingMessage {
	a.t.Helper()
	var out []mqtt.OutgoingMessage
	testkit.Eventually(a.t, 10*time.Second, "published messages", func() bool {
		out = append(out, a.ctl.TakePublished()...)
		return len(out) >= n
	})
	return out
}

// modelsUser creates a user of group MQTT / User and returns its id.
func modelsUser(t *testing.T, a *app) int64 {
	t.Helper()
	uid := modelstest.CreateUser(t, a.Registry, "mqtt-user", "pw-user-1")
	groups := a.exec("res.groups", "search", []any{[]any{[]any{"xml_id", "=", mqtt.GroupUser}}}, nil).([]int64)
	a.exec("res.users", "write", []any{[]any{uid}, map[string]any{"groups_id": []any{[]any{int64(4), groups[0]}}}}, nil)
	return uid
}
