package rules_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/rules"
)

// TestTemplates renders the placeholders, topic levels among them.
func TestTemplates(t *testing.T) {
	forEachDB(t, func(t *testing.T, a *app) {
		a.rule(map[string]any{"name": "mirror", "topic_filter": "home/+/+/state", "action_topic": "ctl/{2}/{3}/set",
			"action_payload": `{"rule": "{rule}", "topic": "{topic}", "value": {value}, "raw": "{payload}", "none": "{9}"}`,
			"json_path":      "v", "action_qos": 1, "action_retain": true})
		a.values("home/kitchen/lamp/state", `{"v": 3}`)
		got := a.published(1)[0]
		if got.Topic != "ctl/kitchen/lamp/set" || got.QoS != 1 || !got.Retain {
			t.Fatalf("published %+v", got)
		}
		want := `{"rule": "mirror", "topic": "home/kitchen/lamp/state", "value": 3, "raw": "{"v": 3}", "none": ""}`
		if string(got.Payload) != want {
			t.Errorf("payload\n%s, want\n%s", got.Payload, want)
		}
		// {device} is the device whose topic it is, by the broker's
		// device topics.
		a.rule(map[string]any{"name": "dev", "topic_filter": "device/+/telemetry/temp", "action_topic": "seen/{device}",
			"action_payload": "{device}={value}"})
		a.values("device/thermo-1/telemetry/temp", "21.5")
		if got := a.published(1)[0]; got.Topic != "seen/thermo-1" || string(got.Payload) != "thermo-1=21.5" {
			t.Errorf("{device}: published %s %q", got.Topic, got.Payload)
		}
		// The send history has it, as for any publish of ours.
		testkit.Eventually(t, 5*time.Second, "the send history row", func() bool {
			n := a.exec("mqtt.signal.history", "search_count", []any{[]any{[]any{"topic", "=", "ctl/kitchen/lamp/set"}, []any{"direction", "=", "send"}}}, nil)
			return n.(int64) == 1
		})
	})
}

// TestCooldown holds back firings on a topic for the cooldown, per
// topic.
func TestCooldown(t *testing.T) {
	forEachDB(t, func(t *testing.T, a *app) {
		id := a.rule(map[string]any{"operator": "any", "cooldown": 60})
		at := time.Now()
		at1 := at.Add(time.Second)
		later := at.Add(61 * time.Second)
		a.send(rules.Message{Topic: "sensor/a/temp", Payload: []byte("1"), Time: at},
			rules.Message{Topic: "sensor/a/temp", Payload: []byte("2"), Time: at1}, // held back
			rules.Message{Topic: "sensor/b/temp", Payload: []byte("3"), Time: at1}, // another topic
			rules.Message{Topic: "sensor/a/temp", Payload: []byte("4"), Time: later})
		fired := a.fired(id)
		var vals []string
		for _, f := range fired {
			vals = append(vals, f["value"].(string))
		}
		if strings.Join(vals, ",") != "1,3,4" {
			t.Fatalf("fired on %v, want 1,3,4", vals)
		}
		if c := fired[2]["fire_count"]; c != int64(3) {
			t.Errorf("fire_count in the note %v, want 3", c)
		}
		a.waitLogs(id, 3)
		testkit.Eventually(t, 5*time.Second, "fire_count 3", func() bool { return a.readRule(id, "fire_count")["fire_count"] == int64(3) })
	})
}

// TestDelay does the action after the rule's delay, a follow-up.
func TestDelay(t *testing.T) {
	forEachDB(t, func(t *testing.T, a *app) {
		id := a.rule(map[string]any{"operator": "=", "value": "on", "delay": 1, "action_payload": "off"})
		start := time.Now()
		a.values("sensor/a/temp", "on")
		if got := a.ctl.TakePublished(); len(got) != 0 {
			t.Fatalf("published at once: %+v", got)
		}
		got := a.published(1)
		if string(got[0].Payload) != "off" {
			t.Fatalf("published %q", got[0].Payload)
		}
		if d := time.Since(start); d < time.Second {
			t.Errorf("published %v after the firing, before the 1 s delay", d)
		}
		a.waitLogs(id, 1)

		// A rule deleted before its delay is over does nothing. The two
		// rules publish on one topic, so their actions run in one lane,
		// in order: once the second is done, the first was skipped.
		gone := a.rule(map[string]any{"name": "gone", "topic_filter": "in/gone", "action_topic": "out/same", "action_payload": "gone", "delay": 2})
		kept := a.rule(map[string]any{"name": "kept", "topic_filter": "in/kept", "action_topic": "out/same", "action_payload": "kept", "delay": 2})
		a.values("in/gone", "1")
		a.values("in/kept", "1")
		a.exec("mqtt.rule", "unlink", []any{[]any{gone}}, nil)
		if got := a.published(1); len(got) != 1 || string(got[0].Payload) != "kept" {
			t.Fatalf("published %+v, want only the kept rule's", got)
		}
		a.waitLogs(kept, 1)

		// Fired again before its time, a follow-up starts over: one
		// pending per rule and topic.
		again := a.rule(map[string]any{"name": "again", "topic_filter": "in/again", "action_topic": "out/again", "action_payload": "{value}", "delay": 1})
		a.values("in/again", "1", "2", "3")
		if got := a.published(1); len(got) != 1 || string(got[0].Payload) != "3" {
			t.Fatalf("published %+v, want only the last firing's follow-up", got)
		}
		if rows := a.waitLogs(again, 1); len(rows) != 1 || len(a.fired(again)) != 3 {
			t.Errorf("%d log rows for %d firings, want 1 for 3", len(rows), len(a.fired(again)))
		}
	})
}

// TestInterval fires an interval rule every interval.
func TestInterval(t *testing.T) {
	forEachDB(t, func(t *testing.T, a *app) {
		id := a.rule(map[string]any{"name": "tick", "trigger": "interval", "interval": 1, "topic_filter": false,
			"action_topic": "clock/{rule}", "action_payload": "{value}"})
		got := a.published(2)
		if got[0].Topic != "clock/tick" || got[0].Payload == nil {
			t.Fatalf("published %+v", got[0])
		}
		a.waitLogs(id, 2)
		// Archived, it stops.
		a.exec("mqtt.rule", "write", []any{[]any{id}, map[string]any{"active": false}}, nil)
		n := len(a.fired(id))
		time.Sleep(1500 * time.Millisecond) // longer than an interval: nothing may come
		if m := len(a.fired(id)); m != n {
			t.Errorf("an archived interval rule fired %d more times", m-n)
		}
	})
}

// TestOtherActions sends a signal, a device action, a device command and
// a bus note.
func TestOtherActions(t *testing.T) {
	forEachDB(t, func(t *testing.T, a *app) {
		sub := a.exec("mqtt.subscription", "create", []any{map[string]any{"broker_id": a.broker, "topic": "sig/out"}}, nil).(int64)
		sig := a.exec("mqtt.signal", "create", []any{map[string]any{"broker_id": a.broker, "subscription_id": sub, "payload": "S"}}, nil).(int64)
		lamp := a.exec("iot.device", "create", []any{map[string]any{"name": "lamp", "identifier": "lamp-1", "broker_id": a.broker}}, nil).(int64)
		a.rule(map[string]any{"topic_filter": "go/signal", "action": "send_signal", "signal_id": sig})
		a.rule(map[string]any{"topic_filter": "go/action", "action": "device_action", "device_id": lamp, "device_action": "on",
			"params": `{"level": {value}}`})
		notify := a.rule(map[string]any{"topic_filter": "go/notify", "action": "notify", "action_payload": "saw {value} on {topic}"})
		a.values("go/signal", "1")
		if got := a.published(1)[0]; got.Topic != "sig/out" || string(got.Payload) != "S" {
			t.Fatalf("signal sent %+v", got)
		}
		a.values("go/action", "7")
		got := a.published(1)[0]
		if got.Topic != "device/lamp-1/action/on" || !strings.Contains(string(got.Payload), `"level":7`) {
			t.Fatalf("device action published %s %s", got.Topic, got.Payload)
		}
		a.values("go/notify", "5")
		a.waitLogs(notify, 1)
		var notes []map[string]any
		for _, n := range a.notes.Take(rules.NoteNotify) {
			notes = append(notes, n)
		}
		if len(notes) != 1 || notes[0]["message"] != "saw 5 on go/notify" || notes[0]["rule_id"] != notify {
			t.Fatalf("notify notes %v", notes)
		}
	})
}

// TestFailingAction logs a failing action on the rule and in the log
// after its retries (QoS 1), and another rule goes on working.
func TestFailingAction(t *testing.T) {
	forEachDB(t, func(t *testing.T, a *app) {
		bad := a.rule(map[string]any{"name": "bad", "topic_filter": "in/bad", "action_topic": "out/bad", "action_qos": 1})
		good := a.rule(map[string]any{"name": "good", "topic_filter": "in/good", "action": "notify", "action_payload": "ok"})
		a.ctl.PublishErr = errors.New("broker says no")
		a.values("in/bad", "1")
		a.values("in/good", "1")
		rows := a.waitLogs(good, 1)
		if rows[0]["result"] != rules.ResultDone {
			t.Errorf("good rule's log %v", rows[0])
		}
		rows = a.waitLogs(bad, 1)
		if rows[0]["result"] != rules.ResultFailed || !strings.Contains(rows[0]["error"].(string), "broker says no") ||
			!strings.Contains(rows[0]["error"].(string), "after 3 attempts") {
			t.Fatalf("bad rule's log %v", rows[0])
		}
		testkit.Eventually(t, 5*time.Second, "last_error", func() bool {
			e, _ := a.readRule(bad, "last_error")["last_error"].(string)
			return strings.Contains(e, "broker says no")
		})
		// QoS 0: one attempt, no retry.
		a.exec("mqtt.rule", "write", []any{[]any{bad}, map[string]any{"action_qos": 0}}, nil)
		a.values("in/bad", "2")
		rows = a.waitLogs(bad, 2)
		if e := rows[1]["error"].(string); strings.Contains(e, "attempts") {
			t.Errorf("QoS 0 retried: %s", e)
		}
		// Once the broker takes it again, the rule works, and its error
		// is cleared.
		a.ctl.PublishErr = nil
		a.values("in/bad", "3")
		if got := a.published(1)[0]; got.Topic != "out/bad" {
			t.Fatalf("published %+v", got)
		}
		testkit.Eventually(t, 5*time.Second, "last_error cleared", func() bool { return a.readRule(bad, "last_error")["last_error"] == false })
	})
}

// slowControl is a listener stand-in whose publishes on one topic hang
// until released.
type slowControl struct {
	*modelstest.Control
	topic   string
	release chan struct{}
}

func (s *slowControl) Publish(ctx context.Context, b mqtt.BrokerConfig, m mqtt.OutgoingMessage) error {
	if m.Topic == s.topic {
		select {
		case <-s.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return s.Control.Publish(ctx, b, m)
}

// TestSlowTargetHoldsNoOtherRule: an action stuck on a slow broker (its
// lane's queue growing) does not hold up the actions of other targets.
func TestSlowTargetHoldsNoOtherRule(t *testing.T) {
	for _, kind := range modelstest.Kinds(t) {
		t.Run(kind, func(t *testing.T) {
			modelstest.CheckLeaks(t)
			slow := &slowControl{Control: &modelstest.Control{Running: true, Connected: true}, topic: "out/slow", release: make(chan struct{})}
			a := &app{t: t, notes: &modelstest.Notes{}, ctl: slow.Control}
			a.App = modelstest.NewFor(t, kind, modelstest.Options{Notifier: a.notes, Rules: testOptions,
				Control: func() mqtt.BrokerControl { return slow }})
			a.broker = a.exec("mqtt.broker", "create", []any{map[string]any{"name": "B", "host": "127.0.0.1"}}, nil).(int64)
			a.run()
			stuck := a.rule(map[string]any{"name": "stuck", "topic_filter": "in/slow", "action_topic": "out/slow"})
			at := time.Now()
			for i := range 30 { // 10 a second, under the rate guard
				a.send(rules.Message{Topic: "in/slow", Payload: []byte(strconv.Itoa(i)), Time: at.Add(time.Duration(i) * 100 * time.Millisecond)})
			}
			others := map[string]bool{}
			for i := range 8 { // more targets than lanes
				topic := "out/fast" + strconv.Itoa(i)
				a.rule(map[string]any{"name": topic, "topic_filter": "in/fast", "action_topic": topic})
				others[topic] = true
			}
			a.values("in/fast", "1")
			for _, m := range a.published(len(others)) {
				if !others[m.Topic] {
					t.Errorf("published %s", m.Topic)
				}
			}
			close(slow.release)
			a.waitLogs(stuck, 30)
		})
	}
}

// TestAnyBroker: a rule without a broker fires on every broker's
// messages and publishes through the broker the message came from.
func TestAnyBroker(t *testing.T) {
	forEachDB(t, func(t *testing.T, a *app) {
		b2 := a.exec("mqtt.broker", "create", []any{map[string]any{"name": "B2", "host": "127.0.0.2"}}, nil).(int64)
		a.rule(map[string]any{"broker_id": false, "topic_filter": "any/+", "action_topic": "echo/{2}"})
		if err := a.Rules.Evaluate(context.Background(), b2, []rules.Message{msg("any/x", "1")}); err != nil {
			t.Fatal(err)
		}
		if got := a.published(1)[0]; got.Topic != "echo/x" {
			t.Fatalf("published %+v", got)
		}
		testkit.Eventually(t, 5*time.Second, "the send history row of B2", func() bool {
			n := a.exec("mqtt.signal.history", "search_count", []any{[]any{[]any{"topic", "=", "echo/x"}, []any{"broker_id", "=", b2}}}, nil)
			return n.(int64) == 1
		})
	})
}
