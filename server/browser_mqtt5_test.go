package main

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// The hint the forms show under an MQTT 5 only field on a 3.1/3.1.1
// broker (web/static/views/mqtt_fields.js).
const v5Hint = "MQTT 5 only: ignored by MQTT 3.1 and 3.1.1 brokers."

// rowState is how the form shows one field: read-only or not, and the
// hint under it ("" for none).
type rowState struct {
	Readonly bool   `json:"readonly"`
	Hint     string `json:"hint"`
}

// rowStates reads the state of the rows of fields on the form shown.
func rowStates(t *testing.T, b *browser, fields ...string) map[string]rowState {
	t.Helper()
	out := map[string]rowState{}
	for _, f := range fields {
		var st rowState
		b.run(t, "read the row of "+f, chromedp.Evaluate(fmt.Sprintf(`(() => {
			const row = document.querySelector(".form-row[data-field=" + %[1]s + "]");
			const hint = document.querySelector("[data-testid=field-hint-" + %[1]s + "]");
			return { readonly: Boolean(row && row.classList.contains("is-readonly") && !row.querySelector("input, select, textarea")),
				hint: hint ? hint.textContent : "" };
		})()`, jsString(f)), &st))
		out[f] = st
	}
	return out
}

// wantRows fails unless every field's row is in state want.
func wantRows(t *testing.T, step string, got map[string]rowState, want rowState) {
	t.Helper()
	for f, st := range got {
		if st != want {
			t.Errorf("%s: %s is %+v, want %+v", step, f, st, want)
		}
	}
}

// rowsAre waits until every field's row is read-only (with the hint) or
// editable (without), as the form re-renders them after a change.
func rowsAre(readonly bool, fields ...string) chromedp.Action {
	var conds []string
	for _, f := range fields {
		cond := fmt.Sprintf(`document.querySelector(".form-row[data-field=%s] input, .form-row[data-field=%s] select")`, f, f)
		if readonly {
			cond = fmt.Sprintf(`document.querySelector("[data-testid=field-hint-%s]")`, f)
		} else {
			cond += fmt.Sprintf(` && !document.querySelector("[data-testid=field-hint-%s]")`, f)
		}
		conds = append(conds, "("+cond+")")
	}
	return until(strings.Join(conds, " && "))
}

// formOf waits for the form of record id of model (ids of different
// models are alike: the form of the page before may still be shown).
func formOf(model string, id int64) chromedp.Action {
	return chromedp.Tasks{
		formLoaded(id),
		until(fmt.Sprintf(`document.querySelector("[data-testid=form-view]").dataset.model === %s`, jsString(model))),
	}
}

// TestBrowserMQTT5Forms: on an MQTT 3.1.1 broker the subscription form
// shows the MQTT 5 options read-only, with a hint; once the broker's form
// sets MQTT 5 (which turns its own session expiry and receive maximum
// editable as the protocol is chosen) they are editable and saved. QoS
// and retain handling are selects that write integers; a new
// subscription's options follow the broker chosen; a signal's MQTT 5
// properties are read-only on 3.1.1; the history form shows a message's
// MQTT 5 properties only when it has some.
func TestBrowserMQTT5Forms(t *testing.T) {
	e := startAdmin(t, 1280, 1000)
	b, o := e.b, e.o
	broker := o.create("mqtt.broker", map[string]any{"name": "Plant 3.1.1"})
	sub := o.create("mqtt.subscription", map[string]any{"broker_id": broker, "topic": "cmd/lamp"})
	e.logIn(t, "")
	options := []string{"no_local_flag", "retain_as_published_flag", "retain_handling"}
	brokerV5 := []string{"session_expiry_interval", "receive_maximum"}
	// Every write the page sends, as the server receives it.
	// (Installed once: the page stays the same document across routes.)
	const recordWrites = `(() => { window.__writes = []; if (window.__fetch) return; const f = window.__fetch = window.fetch;
		window.fetch = (url, opts) => { const body = opts && opts.body; if (body && body.includes('"method":"write"')) window.__writes.push(body); return f(url, opts); }; })()`
	writes := func() string {
		var w []string
		b.run(t, "read the writes", chromedp.Evaluate(`window.__writes`, &w))
		return strings.Join(w, "\n")
	}

	// 1. 3.1.1: the options are read-only with the hint, the QoS a select.
	subURL := fmt.Sprintf("%s/web#/mqtt.subscription/%d", e.srv.url(), sub)
	b.run(t, "open the subscription", chromedp.Navigate(subURL), formOf("mqtt.subscription", sub), rowsAre(true, options...))
	wantRows(t, "3.1.1 subscription", rowStates(t, b, options...), rowState{Readonly: true, Hint: v5Hint})
	var protocol string
	var qosLabels []string
	b.run(t, "read the protocol and QoS choices",
		chromedp.Text(`.form-row[data-field=broker_protocol] .readonly-value`, &protocol, chromedp.ByQuery),
		chromedp.Evaluate(`[...document.querySelectorAll("select#f-qos option")].map((o) => o.value + "=" + o.textContent)`, &qosLabels))
	if protocol != "MQTT 3.1.1" {
		t.Errorf("broker protocol shown %q", protocol)
	}
	if strings.Join(qosLabels, ",") != "0=0 · At most once,1=1 · At least once,2=2 · Exactly once" {
		t.Errorf("QoS choices %q", qosLabels)
	}
	b.screenshot(t, "browser-mqtt5-subscription-311")
	b.run(t, "choose QoS 2 and save", chromedp.Evaluate(recordWrites, nil), pick(`select#f-qos`, "2"), click(`[data-testid=form-save]`),
		until(`!document.querySelector("[data-testid=form-view]").classList.contains("dirty") && window.__writes.length === 1`))
	if w := writes(); !strings.Contains(w, `"qos":2`) || strings.Contains(w, "no_local_flag") {
		t.Errorf("the form wrote %s, want qos as the integer 2 and no MQTT 5 option", w)
	}
	if r := o.searchRead("mqtt.subscription", []any{[]any{"id", "=", sub}}, "qos")[0]; r["qos"] != float64(2) {
		t.Errorf("qos read back %#v, want 2", r["qos"])
	}

	// 2. The broker form: its MQTT 5 options turn editable as MQTT 5 is
	// chosen, and back; saved as MQTT 5 with a receive maximum.
	b.run(t, "open the broker", chromedp.Navigate(fmt.Sprintf("%s/web#/mqtt.broker/%d", e.srv.url(), broker)), formOf("mqtt.broker", broker), rowsAre(true, brokerV5...))
	wantRows(t, "3.1.1 broker", rowStates(t, b, brokerV5...), rowState{Readonly: true, Hint: v5Hint})
	b.run(t, "choose MQTT 5", pick(`select#f-protocol`, "MQTTv5"), rowsAre(false, brokerV5...))
	wantRows(t, "broker with MQTT 5 chosen", rowStates(t, b, brokerV5...), rowState{})
	b.run(t, "choose MQTT 3.1 again", pick(`select#f-protocol`, "MQTTv31"), rowsAre(true, brokerV5...))
	var willQoS int
	b.run(t, "choose MQTT 5, a receive maximum and save", pick(`select#f-protocol`, "MQTTv5"), rowsAre(false, brokerV5...),
		fill(`#f-receive_maximum`, "100"), chromedp.Evaluate(`document.querySelectorAll("select#f-will_qos option").length`, &willQoS),
		click(`[data-testid=form-save]`), until(`!document.querySelector("[data-testid=form-view]").classList.contains("dirty")`), formOf("mqtt.broker", broker))
	if willQoS != 3 {
		t.Errorf("last will QoS select has %d choices", willQoS)
	}
	r := o.searchRead("mqtt.broker", []any{[]any{"id", "=", broker}}, "protocol", "receive_maximum", "session_expiry_interval")[0]
	if r["protocol"] != "MQTTv5" || r["receive_maximum"] != float64(100) || r["session_expiry_interval"] != float64(86400) {
		t.Errorf("broker saved as %v", r)
	}

	// 3. MQTT 5: the subscription's options are editable and saved.
	b.run(t, "open the subscription on MQTT 5", chromedp.Navigate(subURL), formOf("mqtt.subscription", sub), rowsAre(false, options...))
	wantRows(t, "MQTT 5 subscription", rowStates(t, b, options...), rowState{})
	b.screenshot(t, "browser-mqtt5-subscription-v5")
	b.run(t, "set the options and save", chromedp.Evaluate(recordWrites, nil),
		click(`#f-no_local_flag`), pick(`select#f-retain_handling`, "2"), click(`[data-testid=form-save]`),
		until(`!document.querySelector("[data-testid=form-view]").classList.contains("dirty") && window.__writes.length === 1`))
	if w := writes(); !strings.Contains(w, `"retain_handling":2`) || !strings.Contains(w, `"no_local_flag":true`) {
		t.Errorf("the form wrote %s", w)
	}
	r = o.searchRead("mqtt.subscription", []any{[]any{"id", "=", sub}}, "no_local_flag", "retain_handling", "retain_as_published_flag", "broker_protocol")[0]
	if r["no_local_flag"] != true || r["retain_handling"] != float64(2) || r["retain_as_published_flag"] != false || r["broker_protocol"] != "MQTTv5" {
		t.Errorf("subscription saved as %v", r)
	}

	// 4. A new subscription's options follow the broker chosen.
	old := o.create("mqtt.broker", map[string]any{"name": "Old plant", "protocol": "MQTTv311"})
	b.run(t, "new subscription on the 3.1.1 broker", chromedp.Navigate(e.srv.url()+"/web#/mqtt.subscription/new"),
		until(`document.querySelector("[data-testid=form-view]") && !document.querySelector("[data-testid=form-view]").classList.contains("loading")`),
		pick(`select#f-broker_id`, fmt.Sprint(old)), rowsAre(true, options...),
		pick(`select#f-broker_id`, fmt.Sprint(broker)), rowsAre(false, options...),
		pick(`select#f-broker_id`, fmt.Sprint(old)), rowsAre(true, options...))
	wantRows(t, "new subscription on 3.1.1", rowStates(t, b, options...), rowState{Readonly: true, Hint: v5Hint})

	// 5. A signal on 3.1.1: its MQTT 5 properties are read-only too.
	oldSub := o.create("mqtt.subscription", map[string]any{"broker_id": old, "topic": "cmd/old"})
	sig := o.create("mqtt.signal", map[string]any{"broker_id": old, "subscription_id": oldSub, "payload": "on"})
	props := []string{"content_type", "user_properties", "message_expiry"}
	b.run(t, "open the 3.1.1 signal, leaving the new subscription", chromedp.Navigate(fmt.Sprintf("%s/web#/mqtt.signal/%d", e.srv.url(), sig)),
		chromedp.WaitVisible(`[data-testid=confirm-ok]`, chromedp.ByQuery), click(`[data-testid=confirm-ok]`),
		formOf("mqtt.signal", sig), rowsAre(true, props...))
	wantRows(t, "3.1.1 signal", rowStates(t, b, props...), rowState{Readonly: true, Hint: v5Hint})

	// 6. History: a message's MQTT 5 properties, shown when it has any.
	corr := []byte("req-7")
	with := o.create("mqtt.signal.history", map[string]any{"broker_id": broker, "topic": "device/1/response/req-7", "payload": "{}", "direction": "receive",
		"content_type": "application/json", "response_topic": "device/1/request/req-7", "correlation_data": base64.StdEncoding.EncodeToString(corr),
		"user_properties": `[["unit","C"],["source","erp"],["unit","F"]]`, "message_expiry": 30})
	without := o.create("mqtt.signal.history", map[string]any{"broker_id": broker, "topic": "sensors/a", "payload": "21.5", "direction": "receive"})
	var shown struct {
		Visible bool       `json:"visible"`
		Pairs   [][]string `json:"pairs"`
		Hex     string     `json:"hex"`
		Alt     string     `json:"alt"`
		Content string     `json:"content"`
		Expiry  string     `json:"expiry"`
	}
	const readProps = `(() => { const g = document.querySelector(".form-group[data-group='MQTT 5 properties']");
		const txt = (f) => { const el = document.querySelector(".form-row[data-field=" + f + "] .readonly-value"); return el ? el.textContent : ""; };
		const bytes = document.querySelector(".form-row[data-field=correlation_data] .bytes-value");
		return { visible: Boolean(g && !g.classList.contains("hidden")),
			pairs: [...document.querySelectorAll(".form-row[data-field=user_properties] tbody tr")].map((tr) => [...tr.cells].map((c) => c.textContent)),
			hex: bytes ? bytes.dataset.hex : "", alt: bytes ? bytes.querySelector(".bytes-alt").textContent : "",
			content: txt("content_type"), expiry: txt("message_expiry") }; })()`
	b.run(t, "open the message with properties", chromedp.Navigate(fmt.Sprintf("%s/web#/received-history/%d", e.srv.url(), with)), formOf("mqtt.signal.history", with),
		// The rows render after the form's dataset is set: wait for them.
		until(`document.querySelectorAll(".form-row[data-field=user_properties] tbody tr").length === 3`),
		chromedp.Evaluate(readProps, &shown))
	if !shown.Visible || fmt.Sprint(shown.Pairs) != "[[unit C] [source erp] [unit F]]" || shown.Hex != "7265712d37" || !strings.Contains(shown.Alt, "req-7") ||
		shown.Content != "application/json" || shown.Expiry != "30" {
		t.Errorf("properties shown %+v", shown)
	}
	b.screenshot(t, "browser-mqtt5-history-properties")
	b.run(t, "open the message without", chromedp.Navigate(fmt.Sprintf("%s/web#/received-history/%d", e.srv.url(), without)), formOf("mqtt.signal.history", without),
		until(`document.querySelector(".form-row[data-field=topic]") !== null`),
		chromedp.Evaluate(readProps, &shown))
	if shown.Visible {
		t.Errorf("a message without MQTT 5 properties shows their group")
	}
	noPageErrors(t, b)
}
