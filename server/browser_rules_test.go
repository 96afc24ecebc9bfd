package main

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testmqtt"
)

// rowShown is the JavaScript truth that the form row of field is shown.
func rowShown(field string) string {
	return fmt.Sprintf(`(() => { const r = document.querySelector(".form-row[data-field=" + %s + "]"); return Boolean(r && !r.classList.contains("hidden") && !r.closest(".form-group.hidden")); })()`,
		jsString(field))
}

// shownRows reads which of fields the form shows.
func shownRows(t *testing.T, b *browser, fields ...string) string {
	t.Helper()
	var shown []string
	for _, f := range fields {
		var ok bool
		b.run(t, "read the row of "+f, chromedp.Evaluate(rowShown(f), &ok))
		if ok {
			shown = append(shown, f)
		}
	}
	return strings.Join(shown, ",")
}

// testResult reads the Test panel's rows: key -> text.
func testResult(t *testing.T, b *browser) map[string]string {
	t.Helper()
	var rows map[string]string
	b.run(t, "read the test result", chromedp.Evaluate(`Object.fromEntries([...document.querySelectorAll("[data-testid=rule-test-table] tr")]
		.map((tr) => [tr.dataset.key, tr.querySelector("td").dataset.value]))`, &rows))
	return rows
}

// TestBrowserRuleForm: a rule made on its form (Automation > Rules), which
// shows only what its trigger, operator and action use; its Test button
// (action_test) tells what the rule would do with a message, without
// doing it (a threshold's first value only tells the side); a message
// firing it counts on the form live, from the bus, and lists in its log,
// on the Rule log page and the Rules list.
func TestBrowserRuleForm(t *testing.T) {
	e := startAdmin(t, 1280, 1000)
	b, o := e.b, e.o
	broker := o.create("mqtt.broker", map[string]any{"name": "Plant", "host": testmqtt.Host, "port": strconv.Itoa(e.mq.Port())})
	sub := o.create("mqtt.subscription", map[string]any{"broker_id": broker, "topic": "sensors/#", "qos": 1})
	o.call("mqtt.subscription", "subscribe_mqtt", []any{[]any{sub}}, nil)
	o.call("mqtt.service", "start_mqtt_service", nil, nil)
	e.logIn(t, "")
	condition := []string{"json_path", "operator", "value", "hysteresis"}
	actionFields := []string{"action_topic", "action_payload", "action_qos", "action_retain", "signal_id", "device_id", "device_action", "params"}

	// 1. A new rule from the menu; the form follows trigger, operator, action.
	b.run(t, "open a new rule", menu("mqtt.rule"), listLoaded("mqtt.rule"), click(`[data-testid=list-create]`), until(`location.hash === "#/mqtt.rule/new"`),
		chromedp.WaitVisible(`[name=name]`, chromedp.ByQuery))
	b.run(t, "fill the trigger and condition",
		fill(`[name=name]`, "hot"),
		pick(`select#f-broker_id`, strconv.FormatInt(broker, 10)),
		pick(`select#f-trigger`, "message"),
		fill(`[name=topic_filter]`, "sensors/+"),
		pick(`select#f-operator`, "any"),
		until(`!`+rowShown("hysteresis")+` && !`+rowShown("value")))
	if got := shownRows(t, b, append(condition, "interval")...); got != "json_path,operator" {
		t.Errorf("operator any shows %s, want json_path,operator", got)
	}
	b.run(t, "choose >", pick(`select#f-operator`, ">"), until(rowShown("hysteresis")))
	b.run(t, "choose interval", pick(`select#f-trigger`, "interval"), until(rowShown("interval")))
	if got := shownRows(t, b, condition...); got != "" {
		t.Errorf("an interval rule shows the condition rows %s", got)
	}
	b.run(t, "back to message", pick(`select#f-trigger`, "message"), until(rowShown("operator")))
	b.run(t, "choose device_action", pick(`select#f-action`, "device_action"), until(rowShown("device_id")))
	if got := shownRows(t, b, actionFields...); got != "device_id,device_action,params" {
		t.Errorf("device_action shows %s", got)
	}
	var qos []string
	b.run(t, "choose publish", pick(`select#f-action`, "publish"), until(rowShown("action_topic")),
		chromedp.Evaluate(`[...document.querySelectorAll("select#f-action_qos option")].map((o) => o.value)`, &qos))
	if got := shownRows(t, b, actionFields...); got != "action_topic,action_payload,action_qos,action_retain" {
		t.Errorf("publish shows %s", got)
	}
	if strings.Join(qos, ",") != "0,1,2" {
		t.Errorf("QoS choices %q", qos)
	}
	b.run(t, "fill the action and save",
		fill(`[name=value]`, "28"),
		fill(`[name=hysteresis]`, "2"),
		fill(`[name=action_topic]`, "act/{2}"),
		fill(`[name=action_payload]`, "on {value}"),
		pick(`select#f-action_qos`, "1"),
		click(`[data-testid=form-save]`))
	id := savedID(t, b, "mqtt.rule")
	rows := o.searchRead("mqtt.rule", []any{[]any{"id", "=", id}}, "topic_filter", "operator", "value", "hysteresis", "action", "action_topic", "action_qos")
	if len(rows) != 1 || rows[0]["topic_filter"] != "sensors/+" || rows[0]["operator"] != ">" || rows[0]["value"] != "28" || rows[0]["hysteresis"] != 2.0 ||
		rows[0]["action"] != "publish" || rows[0]["action_topic"] != "act/{2}" || rows[0]["action_qos"] != 1.0 {
		t.Fatalf("saved rule = %v", rows)
	}
	b.screenshot(t, "browser-rule-form")

	// 2. Test: what the rule would do, shown row by row; nothing is sent.
	// A threshold fires on a crossing: the first value it sees only tells
	// the side, so 29 would not fire yet.
	test := func(topic, payload string) map[string]string {
		t.Helper()
		b.run(t, "test "+topic+" "+payload,
			chromedp.WaitVisible(`[data-testid=rule-test-topic]`, chromedp.ByQuery),
			chromedp.Evaluate(`document.querySelector("[data-testid=rule-test-result]").replaceChildren()`, nil),
			fill(`[data-testid=rule-test-topic]`, topic),
			fill(`[data-testid=rule-test-payload]`, payload),
			click(`[data-testid=rule-test-run]`),
			until(`document.querySelector("[data-testid=rule-test-table] tr[data-key=would_fire]")`))
		return testResult(t, b)
	}
	got := test("sensors/t", "29")
	if got["matched"] != "Yes" || got["value"] != "29" || got["condition"] != "Yes" || got["would_fire"] != "No" || !strings.Contains(got["reason"], "First value") ||
		got["topic"] != "act/t" || got["payload"] != "on 29" || got["qos"] != "1" {
		t.Errorf("test of 29 shows %v", got)
	}
	b.screenshot(t, "browser-rule-test")
	if got := test("other/t", "29"); got["matched"] != "No" || got["would_fire"] != "No" {
		t.Errorf("test of another topic shows %v", got)
	}
	if n := o.count("mqtt.rule.log", nil); n != 0 {
		t.Errorf("testing logged %d firings", n)
	}
	b.run(t, "the counter is 0", until(`document.querySelector("[data-testid=rule-fired-value]").dataset.value === "0"`))

	// 3. Messages: 25 (below), then Test says 29 would fire; 29 fires it:
	// the counter follows the bus, the log lists it.
	device := testmqtt.Connect(t, e.mq.URL(), "browser-rule-device", nil)
	testmqtt.Publish(t, device, "sensors/t", 1, false, "25")
	if !testkit.Poll(15*time.Second, func() bool { return test("sensors/t", "29")["would_fire"] == "Yes" }) {
		t.Errorf("after 25 the test of 29 shows %v, want it to fire", test("sensors/t", "29"))
	}
	testmqtt.Publish(t, device, "sensors/t", 1, false, "29")
	b.run(t, "the counter counts the firing",
		until(`document.querySelector("[data-testid=rule-fired-value]").dataset.value === "1"`),
		until(`document.querySelector("[data-testid=rule-fired-last] dd[data-key=topic]").textContent === "sensors/t"`),
		until(`document.querySelectorAll("[data-testid=rule-log-row]").length === 1`),
		until(`document.querySelector(".form-row[data-field=fire_count] .readonly-value").textContent === "1"`))
	b.screenshot(t, "browser-rule-fired")
	b.run(t, "the Rule log page", menu("mqtt.rule.log"), listLoaded("mqtt.rule.log"),
		until(`document.querySelectorAll("[data-testid=list-row]").length === 1`),
		until(`document.querySelector("[data-testid=list-row] [data-field=trigger_topic]").textContent === "sensors/t"`))
	b.run(t, "the Rules list", menu("mqtt.rule"), listLoaded("mqtt.rule"),
		until(`document.querySelector("[data-testid=list-row] [data-field=fire_count]").textContent === "1"`))
	noPageErrors(t, b)
}
