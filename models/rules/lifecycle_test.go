package rules_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/iotdevice"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/rules"
)

// TestDeviceTriggers fires on devices going offline and online, as
// device ingestion finds them (availability messages, a last will).
func TestDeviceTriggers(t *testing.T) {
	forEachDB(t, func(t *testing.T, a *app) {
		off := a.rule(map[string]any{"name": "off", "trigger": "device_offline", "topic_filter": "device/+/availability",
			"action_topic": "alert/{device}", "action_payload": "{device} is {value} ({topic})"})
		on := a.rule(map[string]any{"name": "on", "trigger": "device_online", "topic_filter": false, "action": "notify",
			"action_payload": "{device} back"})
		other := a.rule(map[string]any{"name": "other", "trigger": "device_offline", "topic_filter": "device/lamp-9/availability",
			"action": "notify"})
		ingest := func(topic, payload string) {
			t.Helper()
			err := a.Devices.IngestDeviceMessages(context.Background(), a.broker,
				[]iotdevice.DeviceMessage{{Topic: topic, Payload: []byte(payload), Time: time.Now()}})
			if err != nil {
				t.Fatal(err)
			}
		}
		ingest("device/thermo-1/availability", "online") // created online
		ingest("device/thermo-1/telemetry/temp", "21")   // still online: no change
		ingest("device/thermo-1/availability", "offline")
		got := a.published(1)[0]
		if got.Topic != "alert/thermo-1" || string(got.Payload) != "thermo-1 is offline (device/thermo-1/availability)" {
			t.Fatalf("published %s %q", got.Topic, got.Payload)
		}
		ingest("device/thermo-1/availability", "online")
		a.waitLogs(on, 2)
		a.waitLogs(off, 1)
		if n := len(a.fired(on)); n != 2 {
			t.Errorf("online fired %d times, want 2 (created online, back online)", n)
		}
		if n := len(a.fired(off)); n != 1 {
			t.Errorf("offline fired %d times, want 1", n)
		}
		if n := len(a.fired(other)); n != 0 {
			t.Errorf("a rule for another device's availability fired %d times", n)
		}
	})
}

// TestLoopProtection refuses a publish its own filter could match, and
// pauses a rule that fires too often at run time until it is edited.
func TestLoopProtection(t *testing.T) {
	forEachDB(t, func(t *testing.T, a *app) {
		for _, c := range []struct{ filter, topic string }{
			{"sensor/+/temp", "sensor/{2}/temp"},
			{"sensor/#", "sensor/out"},
			{"sensor/#", "{topic}/ack"},
			{"+/x", "{device}/x"},
		} {
			_, err := a.call(models.AdminUID, "mqtt.rule", "create", []any{map[string]any{"name": "loop", "broker_id": a.broker,
				"topic_filter": c.filter, "action": "publish", "action_topic": c.topic}}, nil)
			if models.KindOf(err) != models.KindValidation || !strings.HasPrefix(models.MessageOf(err), "Action topic:") ||
				!strings.Contains(models.MessageOf(err), "trigger the rule again") {
				t.Errorf("%s -> %s: %v, want the loop refused", c.filter, c.topic, err)
			}
		}
		// Not a loop: another subtree, or a level the filter never has.
		a.rule(map[string]any{"topic_filter": "sensor/+/temp", "action_topic": "actuator/{2}/set"})
		a.rule(map[string]any{"topic_filter": "sensor/+/temp", "action_topic": "sensor/{2}/temp/ack"})

		// At run time: a rule firing more than 20 times in a second stops.
		id := a.rule(map[string]any{"name": "noisy", "topic_filter": "noisy/#", "action_topic": "elsewhere/x"})
		now := time.Now()
		var msgs []rules.Message
		for i := range 30 {
			msgs = append(msgs, rules.Message{Topic: "noisy/x", Payload: []byte("1"), Time: now.Add(time.Duration(i) * time.Millisecond)})
		}
		a.send(msgs...)
		if n := len(a.fired(id)); n != rules.DefaultMaxFiringsPerSecond {
			t.Fatalf("fired %d times, want %d then paused", n, rules.DefaultMaxFiringsPerSecond)
		}
		testkit.Eventually(t, 5*time.Second, "the pause in last_error", func() bool {
			e, _ := a.readRule(id, "last_error")["last_error"].(string)
			return strings.HasPrefix(e, "Paused:") && strings.Contains(e, "edit the rule")
		})
		a.send(msg("noisy/x", "2"))
		if n := len(a.fired(id)); n != rules.DefaultMaxFiringsPerSecond {
			t.Fatalf("a paused rule fired")
		}
		// An edit resumes it, and clears the pause.
		a.exec("mqtt.rule", "write", []any{[]any{id}, map[string]any{"name": "quieter"}}, nil)
		if e := a.readRule(id, "last_error")["last_error"]; e != false {
			t.Errorf("last_error after the edit: %v", e)
		}
		a.send(msg("noisy/x", "3"))
		if n := len(a.fired(id)); n != rules.DefaultMaxFiringsPerSecond+1 {
			t.Errorf("the edited rule did not fire (%d firings)", n)
		}
	})
}

// TestRuleEditedWhileRunning: an edit takes effect at once, with a fresh
// state; an archived or deleted rule stops; a new one starts.
func TestRuleEditedWhileRunning(t *testing.T) {
	forEachDB(t, func(t *testing.T, a *app) {
		id := a.rule(map[string]any{"operator": ">", "value": "28"})
		if !a.Rules.Watching(a.broker) {
			t.Fatal("not watching the broker of an active rule")
		}
		a.values("sensor/a/temp", "20", "29") // fires
		a.exec("mqtt.rule", "write", []any{[]any{id}, map[string]any{"value": "40"}}, nil)
		a.values("sensor/a/temp", "20", "35", "41") // only 41 crosses the new value
		fired := a.fired(id)
		if len(fired) != 2 || fired[1]["value"] != "41" {
			t.Fatalf("firings %v, want 29 then 41", fired)
		}
		a.exec("mqtt.rule", "write", []any{[]any{id}, map[string]any{"active": false}}, nil)
		if a.Rules.Watching(a.broker) {
			t.Error("watching with no active rule")
		}
		a.values("sensor/a/temp", "20", "50")
		if n := len(a.fired(id)); n != 2 {
			t.Errorf("an archived rule fired")
		}
		// An any-broker rule watches every broker.
		anyID := a.rule(map[string]any{"broker_id": false, "topic_filter": "any/#", "action": "notify"})
		if !a.Rules.Watching(a.broker+1000) || !a.Rules.Watching(a.broker) {
			t.Error("an any-broker rule does not watch every broker")
		}
		a.exec("mqtt.rule", "unlink", []any{[]any{anyID}}, nil)
		if a.Rules.Watching(a.broker) {
			t.Error("watching after the unlink")
		}
	})
}

// TestActionTest answers what a rule would do, without doing it.
func TestActionTest(t *testing.T) {
	forEachDB(t, func(t *testing.T, a *app) {
		id := a.rule(map[string]any{"operator": ">", "value": "28", "hysteresis": 2.0, "json_path": "$.t",
			"action_topic": "lamp/{2}/set", "action_payload": `{"on": true, "t": {value}}`, "action_qos": 1})
		test := func(topic, payload string) map[string]any {
			t.Helper()
			return a.exec("mqtt.rule", "action_test", []any{[]any{id}, topic, payload}, nil).(map[string]any)
		}
		got := test("sensor/k/temp", `{"t": 29.5}`)
		want := map[string]any{"matched": true, "value": 29.5, "condition": true, "would_fire": false, "action": "publish",
			"topic": "lamp/k/set", "payload": `{"on": true, "t": 29.5}`, "qos": int64(1), "retain": false}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s = %#v, want %#v", k, got[k], v)
			}
		}
		if r, _ := got["reason"].(string); !strings.Contains(r, "First value") {
			t.Errorf("reason %q", r)
		}
		// Once the rule saw the low side, the same message would fire.
		a.values("sensor/k/temp", `{"t": 20}`)
		if got := test("sensor/k/temp", `{"t": 29.5}`); got["would_fire"] != true {
			t.Errorf("would_fire %v after a low value (%v)", got["would_fire"], got["reason"])
		}
		// Testing changed nothing: the real message still fires.
		a.values("sensor/k/temp", `{"t": 29.5}`)
		if n := len(a.fired(id)); n != 1 {
			t.Fatalf("fired %d times", n)
		}
		if got := test("sensor/k/temp", `{"t": 30}`); got["would_fire"] != false || got["condition"] != true {
			t.Errorf("after the firing: %v", got)
		}
		if got := test("other/k", `{"t": 30}`); got["matched"] != false || got["would_fire"] != false {
			t.Errorf("another topic: %v", got)
		}
		if got := test("sensor/k/temp", `nope`); got["value"] != false || got["would_fire"] != false {
			t.Errorf("not JSON: %v", got)
		}
		if n := len(a.ctl.TakePublished()); n > 1 {
			t.Errorf("action_test published (%d messages)", n)
		}
		// A command's params are rendered as JSON.
		lamp := a.exec("iot.device", "create", []any{map[string]any{"name": "lamp", "identifier": "lamp-1", "broker_id": a.broker}}, nil).(int64)
		cmd := a.rule(map[string]any{"topic_filter": "cmd/+", "action": "device_command", "device_id": lamp, "device_action": "set",
			"params": `{"level": {value}, "from": "{2}"}`, "delay": 5})
		got = a.exec("mqtt.rule", "action_test", []any{[]any{cmd}, "cmd/x", "42"}, nil).(map[string]any)
		params, _ := got["params"].(map[string]any)
		if got["would_fire"] != true || got["device_action"] != "set" || got["device_id"] != lamp || got["delay"] != int64(5) ||
			params["level"] != 42.0 || params["from"] != "x" {
			t.Errorf("device command test: %v", got)
		}
		// Users may test (they read rules); they may not edit.
		uid := modelsUser(t, a)
		if _, err := a.call(uid, "mqtt.rule", "action_test", []any{[]any{id}, "sensor/k/temp", "1"}, nil); err != nil {
			t.Errorf("a user's action_test: %v", err)
		}
		if _, err := a.call(uid, "mqtt.rule", "write", []any{[]any{id}, map[string]any{"name": "x"}}, nil); models.KindOf(err) != models.KindAccess {
			t.Errorf("a user's write: %v, want an AccessError", err)
		}
	})
}

// TestRetained: a retained message the broker replays moves the rule's
// state but fires nothing.
func TestRetained(t *testing.T) {
	forEachDB(t, func(t *testing.T, a *app) {
		id := a.rule(map[string]any{"operator": ">", "value": "28"})
		anyID := a.rule(map[string]any{"name": "any", "topic_filter": "sensor/+/hum", "action": "notify"})
		retained := func(topic, payload string) rules.Message {
			m := msg(topic, payload)
			m.Retained = true
			return m
		}
		a.send(retained("sensor/a/temp", "20"), retained("sensor/a/hum", "50"))
		a.values("sensor/a/temp", "29") // crosses from the replayed side
		a.send(retained("sensor/a/temp", "20"), retained("sensor/a/temp", "30"))
		a.values("sensor/a/temp", "31") // the replay said it is above already
		if n := len(a.fired(id)); n != 1 {
			t.Errorf("threshold fired %d times, want 1", n)
		}
		if n := len(a.fired(anyID)); n != 0 {
			t.Errorf("a replayed message fired an any rule")
		}
	})
}

// TestLinkedRecordDeleted: deleting a rule's signal (set null) takes the
// rule out of the engine, as its next edit would refuse it.
func TestLinkedRecordDeleted(t *testing.T) {
	forEachDB(t, func(t *testing.T, a *app) {
		sub := a.exec("mqtt.subscription", "create", []any{map[string]any{"broker_id": a.broker, "topic": "sig/out"}}, nil).(int64)
		sig := a.exec("mqtt.signal", "create", []any{map[string]any{"broker_id": a.broker, "subscription_id": sub, "payload": "S"}}, nil).(int64)
		id := a.rule(map[string]any{"topic_filter": "go/signal", "action": "send_signal", "signal_id": sig})
		a.values("go/signal", "1")
		a.waitLogs(id, 1)
		a.exec("mqtt.signal", "unlink", []any{[]any{sig}}, nil)
		a.values("go/signal", "2")
		if n := len(a.fired(id)); n != 1 {
			t.Errorf("a rule whose signal was deleted fired (%d firings)", n)
		}
		if a.Rules.Watching(a.broker) {
			t.Error("still watching for a rule left without its signal")
		}
	})
}
