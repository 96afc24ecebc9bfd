package main

// Helpers of the rules end-to-end tests (e2e_rules_test.go): the server,
// broker and Python clients of one test, rules over XML-RPC, and the
// fences and waits on what the subscriber gets.

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testmqtt"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
)

// ruleE2E is a running server with a broker on a test Mosquitto, its
// listener connected and listening to the test's trigger topics, a Python
// device (dev) publishing on them and a Python subscriber (sub) of what
// the rules publish.
type ruleE2E struct {
	t      *testing.T
	py     string
	mq     *testmqtt.Broker
	srv    *serverProc
	o      *odoo
	x      *xmlrpcClient
	broker int64
	dev    *pyDevice
	sub    *pyDevice
	seen   map[string][]string // topic -> payloads the subscriber got, not taken yet
	syncs  int
	labels map[string]string // mqtt.rule field -> its label (fields_get), read by refused
}

// ruleTopics are the filters the broker listens to for the tests'
// triggers (device topics are its own, by discovery).
var ruleTopics = []string{"sensors/#", "plant/#", "loop/#", "sync/#"}

func startRuleE2E(t *testing.T) *ruleE2E {
	t.Helper()
	py := pythonPaho(t)
	mq := startMosquitto(t)
	srv := startServer(t, "--db", modelstest.DSN(t, modelstest.Kinds(t)[0]), "--db-name", "e2e", "--admin-password", "pw")
	o := login(t, srv, "e2e", "pw")
	e := &ruleE2E{t: t, py: py, mq: mq, srv: srv, o: o, x: newXMLRPC(t, srv, o), seen: map[string][]string{}}
	e.broker = o.create("mqtt.broker", map[string]any{"device_discovery": true, "name": "Mosquitto", "host": testmqtt.Host, "port": strconv.Itoa(mq.Port())})
	for _, topic := range ruleTopics {
		sub := o.create("mqtt.subscription", map[string]any{"broker_id": e.broker, "topic": topic, "qos": 1})
		o.call("mqtt.subscription", "subscribe_mqtt", []any{[]any{sub}}, nil)
	}
	if res := o.call("mqtt.service", "start_mqtt_service", nil, nil); res != true {
		t.Fatalf("start_mqtt_service = %v", res)
	}
	testkit.Eventually(t, 15*time.Second, "the broker connected", func() bool {
		return o.count("mqtt.broker", []any{[]any{"listener_state", "=", "connected"}}) == 1
	})
	e.sub = e.client("py-rule-sub", "")
	for _, filter := range []string{"act/#", "alarm/#", "synced/#"} {
		e.sub.send("SUB " + filter)
		if l := e.sub.next(); l != "SUBSCRIBED "+filter {
			t.Fatalf("subscriber: %q, want SUBSCRIBED %s\n%s", l, filter, e.sub.stderr.String())
		}
	}
	e.dev = e.client("py-rule-dev", "")
	return e
}

// client starts rule_client.py as clientID (with a last will on will
// unless empty) and waits for its READY.
func (e *ruleE2E) client(clientID, will string) *pyDevice {
	e.t.Helper()
	args := []string{filepath.Join("..", "testdata", "e2e", "rule_client.py"), testmqtt.Host, strconv.Itoa(e.mq.Port()), clientID}
	if will != "" {
		args = append(args, will)
	}
	d := startPyDevice(e.t, e.py, args...)
	if l := d.next(); l != "READY" {
		e.t.Fatalf("%s: %q, want READY\n%s", clientID, l, d.stderr.String())
	}
	return d
}

// rule creates an mqtt.rule on the test's broker over XML-RPC: a message
// rule unless vals say otherwise.
func (e *ruleE2E) rule(vals map[string]any) int64 {
	e.t.Helper()
	v := map[string]any{"broker_id": e.broker, "trigger": "message"}
	for k, x := range vals {
		v[k] = x
	}
	res, err := e.x.call("mqtt.rule", "create", []any{v}, map[string]any{})
	if err != nil {
		e.t.Fatalf("create rule %v: %v", vals["name"], err)
	}
	id, ok := res.(int64)
	if !ok {
		e.t.Fatalf("create rule returned %#v", res)
	}
	return id
}

// publish has the device publish at QoS 1 and waits for its PUBACK.
func (e *ruleE2E) publish(topic, payload string) {
	e.t.Helper()
	e.dev.send("PUB " + topic + " " + payload)
	if l := e.dev.next(); l != "PUBLISHED "+topic {
		e.t.Fatalf("device: %q, want PUBLISHED %s\n%s", l, topic, e.dev.stderr.String())
	}
}

// sync makes sure the rules created and edited before it are live and
// the device's earlier messages were evaluated. It creates a rule of its
// own, which answers sync/<n> on synced/<n>, and has the device publish
// sync/<n> until the answer comes: the rules are reloaded in commit
// order, and evaluated on a broker's messages in arrival order, the
// device's earlier ones first. A ping before the new rule is live goes
// unanswered, hence the repeats. The actions of earlier firings may
// still be under way (the engine runs actions on other targets
// concurrently): expect waits for those.
func (e *ruleE2E) sync() {
	e.t.Helper()
	e.syncs++
	n := strconv.Itoa(e.syncs)
	e.rule(map[string]any{"name": "sync " + n, "topic_filter": "sync/" + n, "operator": "any",
		"action": "publish", "action_topic": "synced/" + n, "action_payload": n})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		e.publish("sync/"+n, n)
		answered := false
		e.read(func(topic, payload string) bool {
			answered = answered || topic == "synced/"+n && payload == n
			return answered
		}, 2*time.Second)
		if answered {
			return
		}
	}
	e.t.Fatalf("sync %s: no answer on synced/%s\n%s", n, n, e.sub.stderr.String())
}

// expect waits until the subscriber got len(want) messages on topic, then
// syncs, so that a message too many would show, and wants exactly want,
// in order (the actions on one topic are done in order).
func (e *ruleE2E) expect(topic string, want ...string) {
	e.t.Helper()
	e.read(func(string, string) bool { return len(e.seen[topic]) >= len(want) }, 30*time.Second)
	e.sync()
	if got := e.take(topic); strings.Join(got, "\n") != strings.Join(want, "\n") {
		e.t.Errorf("%s got %q, want %q", topic, got, want)
	}
}

// waitFor reads what the subscriber gets until payload arrives on topic,
// which it takes; the rest stays in seen.
func (e *ruleE2E) waitFor(topic, payload string) {
	e.t.Helper()
	found := false
	e.read(func(top, pay string) bool {
		if top == topic && pay == payload && !found {
			found = true
			e.seen[top] = e.seen[top][:len(e.seen[top])-1]
		}
		return found
	}, 30*time.Second)
	if !found {
		e.t.Fatalf("nothing on %s with %q; got %v", topic, payload, e.seen)
	}
}

// read adds what the subscriber gets to seen (answers to syncs aside)
// until done, called after each message, holds (true) or limit passes
// without a message (false).
func (e *ruleE2E) read(done func(topic, payload string) bool, limit time.Duration) bool {
	e.t.Helper()
	if done("", "") {
		return true
	}
	for {
		select {
		case l, ok := <-e.sub.lines:
			if !ok {
				e.t.Fatalf("the subscriber exited\n%s", e.sub.stderr.String())
			}
			kind, rest, _ := strings.Cut(l, " ")
			if kind != "MSG" {
				continue // retained replays and acknowledgements
			}
			top, pay, _ := strings.Cut(rest, " ")
			if !strings.HasPrefix(top, "synced/") {
				e.seen[top] = append(e.seen[top], pay)
			}
			if done(top, pay) {
				return true
			}
		case <-time.After(limit):
			return false
		}
	}
}

// take returns and forgets the payloads seen on topic, in order.
func (e *ruleE2E) take(topic string) []string {
	got := e.seen[topic]
	delete(e.seen, topic)
	return got
}

// takeAll returns and forgets everything seen, as "topic payload".
func (e *ruleE2E) takeAll() []string {
	var out []string
	for topic, payloads := range e.seen {
		for _, p := range payloads {
			out = append(out, topic+" "+p)
		}
	}
	e.seen = map[string][]string{}
	return out
}

// wantFired checks the rule's fire_count.
func (e *ruleE2E) wantFired(id int64, n int) {
	e.t.Helper()
	var got any
	testkit.Poll(10*time.Second, func() bool {
		rows := e.o.searchRead("mqtt.rule", []any{[]any{"id", "=", id}}, "fire_count")
		if len(rows) == 1 {
			got = rows[0]["fire_count"]
		}
		return got == float64(n)
	})
	if got != float64(n) {
		e.t.Errorf("rule %d fire_count = %v, want %d", id, got, n)
	}
}

// logs are the rule's log rows, once it has some (the engine writes them
// after the action, in batches).
func (e *ruleE2E) logs(id int64, fields ...string) []map[string]any {
	e.t.Helper()
	var rows []map[string]any
	testkit.Poll(10*time.Second, func() bool {
		rows = e.o.searchRead("mqtt.rule.log", []any{[]any{"rule_id", "=", id}}, fields...)
		return len(rows) > 0
	})
	return rows
}

// faultRe splits the text of an XML-RPC fault.
var faultRe = regexp.MustCompile(`(?s)^Fault\((-?\d+)\): (.*)$`)

// refused calls mqtt.rule.method with args over XML-RPC and JSON-RPC and
// wants both refused with a ValidationError naming one of fields, by its
// name or label: fault 2 over XML-RPC (Odoo's code for user errors), an
// error named odoo.exceptions.ValidationError over JSON-RPC.
func (e *ruleE2E) refused(what, method string, args []any, fields ...string) {
	e.t.Helper()
	if e.labels == nil {
		e.labels = map[string]string{}
		fields, _ := e.o.call("mqtt.rule", "fields_get", nil, map[string]any{"attributes": []any{"string"}}).(map[string]any)
		for name, f := range fields {
			if m, ok := f.(map[string]any); ok {
				e.labels[name], _ = m["string"].(string)
			}
		}
	}
	// As the form reads it (web/static/form_view.js): "Label: ...", or
	// the label or name quoted; or as the ORM names it, model.field.
	names := func(text string) bool {
		for _, field := range fields {
			quoted := []string{`'` + field + `'`, `(` + field + `)`, "mqtt.rule." + field}
			if label := e.labels[field]; label != "" {
				if strings.HasPrefix(text, label+":") {
					return true
				}
				quoted = append(quoted, `"`+label+`"`, `'`+label+`'`)
			}
			for _, q := range quoted {
				if strings.Contains(text, q) {
					return true
				}
			}
		}
		return false
	}
	_, err := e.x.call("mqtt.rule", method, args, map[string]any{})
	// net/rpc carries the fault as its text: "Fault(<code>): <string>".
	var f []string
	if err != nil {
		f = faultRe.FindStringSubmatch(err.Error())
	}
	switch {
	case f == nil:
		e.t.Errorf("%s over XML-RPC: %v, want a ValidationError fault", what, err)
	case f[1] != "2":
		e.t.Errorf("%s over XML-RPC: fault %s %q, want 2 (ValidationError)", what, f[1], f[2])
	case !names(f[2]):
		e.t.Errorf("%s over XML-RPC: fault %q names none of %s (labels %s)", what, f[2], strings.Join(fields, ", "), e.labelsOf(fields))
	}
	_, err = e.o.try("mqtt.rule", method, args, nil)
	var wire struct {
		Data struct{ Name, Message string }
	}
	if err != nil {
		_ = json.Unmarshal([]byte(err.Error()), &wire)
	}
	if wire.Data.Name != "odoo.exceptions.ValidationError" || !names(wire.Data.Message) {
		e.t.Errorf("%s over JSON-RPC: %v, want a ValidationError naming %s", what, err, strings.Join(fields, " or "))
	}
}

func (e *ruleE2E) labelsOf(fields []string) string {
	var out []string
	for _, f := range fields {
		out = append(out, fmt.Sprintf("%q", e.labels[f]))
	}
	return strings.Join(out, ", ")
}

// finish stops the clients and the server.
func (e *ruleE2E) finish() {
	e.t.Helper()
	for _, c := range []*pyDevice{e.dev, e.sub} {
		c.send("QUIT")
		if err := c.wait(30 * time.Second); err != nil {
			e.t.Errorf("client exit: %v\n%s", err, c.stderr.String())
		}
	}
	if code := e.srv.stop(e.t); code != 0 {
		e.t.Errorf("exit code after SIGTERM = %d", code)
	}
}
