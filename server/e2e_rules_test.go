package main

import (
	"errors"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
)

// End-to-end tests of the automation rules (issue 11) through the binary:
// a real Mosquitto, rules made over XML-RPC as an integrator's script
// makes them, a device played by Python's paho (testdata/e2e/rule_client.py)
// publishing what the rules read, and a second paho client subscribed to
// what they publish. No check waits for a duration: a sync rule
// (ruleE2E.sync) fences the rules being live and the messages before it
// evaluated, and expect waits for the messages the test wants, then
// fences again to see one too many.

// TestE2ERuleThreshold: "> 28" and "< 26" with hysteresis 2 on sensors/t;
// the device publishes 25, 29, 30, 27, 25.5: exactly one "on" (at 29; 30
// and 27 do not re-arm it) then one "off" (at 25.5, armed again by 29);
// then 29, 27, 29: one "on", the hysteresis holding back the second.
func TestE2ERuleThreshold(t *testing.T) {
	e := startRuleE2E(t)
	on := e.rule(map[string]any{"name": "hot", "topic_filter": "sensors/t", "operator": ">", "value": "28", "hysteresis": 2.0,
		"action": "publish", "action_topic": "act/lamp", "action_payload": "on", "action_qos": int64(1)})
	off := e.rule(map[string]any{"name": "cool", "topic_filter": "sensors/t", "operator": "<", "value": "26", "hysteresis": 2.0,
		"action": "publish", "action_topic": "act/lamp", "action_payload": "off", "action_qos": int64(1)})
	e.sync()
	for _, v := range []string{"25", "29", "30", "27", "25.5"} {
		e.publish("sensors/t", v)
	}
	e.expect("act/lamp", "on", "off")
	e.wantFired(on, 1)
	e.wantFired(off, 1)
	// 29 fires again (25.5 re-armed it); 27 is not 2 below 28, so the
	// second 29 does not (it would without the hysteresis).
	for _, v := range []string{"29", "27", "29"} {
		e.publish("sensors/t", v)
	}
	e.expect("act/lamp", "on")
	e.wantFired(on, 2)
	logs := e.logs(off, "trigger_topic", "trigger_payload", "error")
	if len(logs) != 1 || logs[0]["trigger_topic"] != "sensors/t" || logs[0]["trigger_payload"] != "25.5" || logs[0]["error"] != false {
		t.Errorf("the log of the < rule = %v, want one firing on 25.5", logs)
	}
	e.finish()
}

// TestE2ERuleWildcardTemplates: a filter with +, and an action topic and
// payload naming the trigger topic's levels ({1}, {2}, ...), the value
// the JSON path found and the topic.
func TestE2ERuleWildcardTemplates(t *testing.T) {
	e := startRuleE2E(t)
	e.rule(map[string]any{"name": "plant temperatures", "topic_filter": "plant/+/temp", "json_path": "t", "operator": "any",
		"action": "publish", "action_topic": "alarm/{2}/{3}", "action_payload": "{value} from {topic}"})
	e.sync()
	e.publish("plant/boiler/temp", `{"t": 91.5}`)
	e.publish("plant/pump/temp", `{"t": 40}`)
	e.publish("plant/kiln/humidity", `{"t": 95}`) // not the filter's
	e.expect("alarm/boiler/temp", "91.5 from plant/boiler/temp")
	e.expect("alarm/pump/temp", "40 from plant/pump/temp")
	if rest := e.takeAll(); len(rest) > 0 {
		t.Errorf("also published %q", rest)
	}
	e.finish()
}

// TestE2ERuleOperators: changed (the first value only sets it), regex,
// and JSON paths into arrays, $-rooted and dotted; each fires on every
// message meeting it.
func TestE2ERuleOperators(t *testing.T) {
	e := startRuleE2E(t)
	e.rule(map[string]any{"name": "changed", "topic_filter": "sensors/mode", "operator": "changed",
		"action": "publish", "action_topic": "act/mode", "action_payload": "{value}"})
	e.rule(map[string]any{"name": "errors", "topic_filter": "sensors/log", "operator": "regex", "value": `^ERR-\d+$`,
		"action": "publish", "action_topic": "act/log", "action_payload": "{payload}"})
	e.rule(map[string]any{"name": "second sensor ok", "topic_filter": "sensors/array", "json_path": "$.sensors[1].state", "operator": "=", "value": "ok",
		"action": "publish", "action_topic": "act/array", "action_payload": "{value}"})
	e.rule(map[string]any{"name": "dotted", "topic_filter": "sensors/array", "json_path": "sensors[0].name", "operator": "contains", "value": "pump",
		"action": "publish", "action_topic": "act/dotted", "action_payload": "{value}"})
	e.sync()
	for _, m := range []string{"a", "a", "b", "b", "a"} {
		e.publish("sensors/mode", m)
	}
	for _, m := range []string{"OK", "ERR-12", "ERR-x", "ERR-7"} {
		e.publish("sensors/log", m)
	}
	e.publish("sensors/array", `{"sensors": [{"name": "pump-1", "state": "bad"}, {"name": "fan", "state": "ok"}]}`)
	e.publish("sensors/array", `{"sensors": [{"name": "fan", "state": "ok"}, {"name": "pump-2", "state": "bad"}]}`)
	e.publish("sensors/array", `{"sensors": [{"name": "valve"}]}`)
	e.expect("act/mode", "b", "a")
	e.expect("act/log", "ERR-12", "ERR-7")
	e.expect("act/array", "ok")
	e.expect("act/dotted", "pump-1")
	e.finish()
}

// TestE2ERuleInterval: an interval rule publishes by itself, every
// interval, until archived.
func TestE2ERuleInterval(t *testing.T) {
	e := startRuleE2E(t)
	id := e.rule(map[string]any{"name": "tick", "trigger": "interval", "interval": int64(1),
		"action": "publish", "action_topic": "act/tick", "action_payload": "{rule}"})
	e.waitFor("act/tick", "tick")
	e.waitFor("act/tick", "tick")
	if _, err := e.x.call("mqtt.rule", "write", []any{[]any{id}, map[string]any{"active": false}}, map[string]any{}); err != nil {
		t.Fatalf("archive: %v", err)
	}
	e.finish()
}

// TestE2ERuleDeviceOfflineOnline: a device with a last will on its
// availability topic is killed (no DISCONNECT: the broker sends the will)
// and comes back; the device_offline and device_online rules name it.
func TestE2ERuleDeviceOfflineOnline(t *testing.T) {
	e := startRuleE2E(t)
	const will = "device/py-rule/availability"
	dev := e.client("py-rule", will)
	testkit.Eventually(t, 15*time.Second, "py-rule discovered online", func() bool {
		return e.o.count("iot.device", []any{[]any{"identifier", "=", "py-rule"}, []any{"connected", "=", true}}) == 1
	})
	e.rule(map[string]any{"name": "gone", "trigger": "device_offline", "topic_filter": "device/#",
		"action": "publish", "action_topic": "alarm/{device}/offline", "action_payload": "{device} offline"})
	e.rule(map[string]any{"name": "back", "trigger": "device_online", "topic_filter": "device/#",
		"action": "publish", "action_topic": "alarm/{device}/online", "action_payload": "{device} online"})
	e.sync()

	dev.cmd.Process.Kill()
	dev.cmd.Wait()
	e.waitFor("alarm/py-rule/offline", "py-rule offline")
	dev = e.client("py-rule", will)
	e.waitFor("alarm/py-rule/online", "py-rule online")
	e.sync()
	if rest := e.takeAll(); len(rest) > 0 {
		t.Errorf("also published %q", rest)
	}
	dev.send("QUIT")
	dev.wait(30 * time.Second)
	e.finish()
}

// TestE2ERuleDelay: a rule with a delay acts after it ("off after N s"):
// the log's firing is delay seconds after the message was received.
func TestE2ERuleDelay(t *testing.T) {
	e := startRuleE2E(t)
	const delay = 3
	id := e.rule(map[string]any{"name": "off later", "topic_filter": "sensors/motion", "operator": "any",
		"action": "publish", "action_topic": "act/hall", "action_payload": "off", "delay": int64(delay)})
	e.sync()
	e.publish("sensors/motion", "1")
	e.waitFor("act/hall", "off")
	e.wantFired(id, 1)
	logs := e.logs(id, "time")
	rows := e.o.searchRead("mqtt.signal.history", []any{[]any{"topic", "=", "sensors/motion"}, []any{"direction", "=", "receive"}}, "timestamp")
	if len(logs) != 1 || len(rows) != 1 {
		t.Fatalf("log %v, history %v", logs, rows)
	}
	fired, err1 := time.Parse(time.DateTime, logs[0]["time"].(string))
	received, err2 := time.Parse(time.DateTime, rows[0]["timestamp"].(string))
	if err := errors.Join(err1, err2); err != nil {
		t.Fatal(err)
	}
	// Second resolution on both sides: one second of slack.
	if fired.Sub(received) < (delay-1)*time.Second {
		t.Errorf("fired at %s for a message received at %s: less than the %d s delay", fired, received, delay)
	}
	e.finish()
}

// TestE2ERuleCooldown: a rule with a cooldown fires once for a burst on
// one topic, and again for another topic.
func TestE2ERuleCooldown(t *testing.T) {
	e := startRuleE2E(t)
	id := e.rule(map[string]any{"name": "once an hour", "topic_filter": "sensors/door/+", "operator": "any",
		"action": "publish", "action_topic": "act/door", "action_payload": "{topic}={payload}", "cooldown": int64(3600)})
	e.sync()
	for _, p := range []string{"1", "2", "3"} {
		e.publish("sensors/door/front", p)
	}
	e.publish("sensors/door/back", "4")
	e.expect("act/door", "sensors/door/front=1", "sensors/door/back=4") // the first of each topic only
	e.wantFired(id, 2)
	e.finish()
}

// TestE2ERuleLoopRefused: a rule publishing on a topic its own filter
// matches would trigger itself for ever: create refuses it with a
// ValidationError naming the field, and so does a write making one.
func TestE2ERuleLoopRefused(t *testing.T) {
	e := startRuleE2E(t)
	loop := map[string]any{"name": "echo", "broker_id": e.broker, "topic_filter": "loop/#", "operator": "any",
		"action": "publish", "action_topic": "loop/{1}/again", "action_payload": "{payload}"}
	e.refused("create a rule publishing into its filter", "create", []any{loop}, "action_topic", "topic_filter")
	id := e.rule(map[string]any{"name": "fine", "topic_filter": "loop/in", "operator": "any", "action": "publish", "action_topic": "loop/out"})
	e.refused("write a filter matching the rule's own action topic", "write", []any{[]any{id}, map[string]any{"topic_filter": "loop/+"}},
		"action_topic", "topic_filter")
	if n := e.o.count("mqtt.rule", []any{[]any{"name", "in", []any{"echo"}}}); n != 0 {
		t.Errorf("%d looping rules stored", n)
	}
	e.finish()
}

// TestE2ERuleEditedWhileRunning: a new threshold written over RPC holds
// for the next messages, without a restart (20 then 41: below, then
// across 30 but not 50).
func TestE2ERuleEditedWhileRunning(t *testing.T) {
	e := startRuleE2E(t)
	id := e.rule(map[string]any{"name": "warm", "topic_filter": "sensors/g", "operator": ">", "value": "50",
		"action": "publish", "action_topic": "act/g", "action_payload": "{value}"})
	e.sync()
	e.publish("sensors/g", "20") // a threshold's first value tells the side
	e.publish("sensors/g", "41")
	e.sync()
	if got := e.take("act/g"); len(got) != 0 {
		t.Fatalf("act/g got %q for 41 > 50", got)
	}
	if _, err := e.x.call("mqtt.rule", "write", []any{[]any{id}, map[string]any{"value": "30"}}, map[string]any{}); err != nil {
		t.Fatalf("write: %v", err)
	}
	e.sync()
	e.publish("sensors/g", "20")
	e.publish("sensors/g", "41")
	e.expect("act/g", "41")
	e.finish()
}

// TestE2ERuleBadInput: what the engine could not run is refused at create
// with a ValidationError naming the field.
func TestE2ERuleBadInput(t *testing.T) {
	e := startRuleE2E(t)
	base := map[string]any{"name": "bad", "broker_id": e.broker, "topic_filter": "sensors/x", "operator": ">", "value": "1",
		"action": "publish", "action_topic": "act/x"}
	tests := []struct {
		name  string
		vals  map[string]any
		field string
	}{
		{"filter with # inside", map[string]any{"topic_filter": "sensors/#/x"}, "topic_filter"},
		{"filter with a partial +", map[string]any{"topic_filter": "sensors/a+"}, "topic_filter"},
		{"JSON path", map[string]any{"json_path": "$.sensors[0"}, "json_path"},
		{"regex", map[string]any{"operator": "regex", "value": "(unclosed"}, "value"},
		{"unknown operator", map[string]any{"operator": "~="}, "operator"},
	}
	for _, tc := range tests {
		vals := map[string]any{}
		for k, v := range base {
			vals[k] = v
		}
		for k, v := range tc.vals {
			vals[k] = v
		}
		e.refused(tc.name, "create", []any{vals}, tc.field)
	}
	if n := e.o.count("mqtt.rule", []any{[]any{"name", "=", "bad"}}); n != 0 {
		t.Errorf("%d bad rules stored", n)
	}
	e.finish()
}
