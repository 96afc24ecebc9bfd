package main

// Browser tests: the admin pages in a real headless Chromium against the
// real binary (SQLite) and a test Mosquitto, doing what a person would:
// log in, create a broker and check its connection, subscribe, start the
// service, watch messages arrive live, send a signal, drive a device, and
// see markup in topics, payloads and names rendered as text. Screenshots
// of the main pages are saved as artifacts (see artifactsDir).

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testmqtt"
)

const browserPW = "browser-pw"

// adminEnv is a server with its own database, a test Mosquitto, an RPC
// client for setup and checks, and a browser.
type adminEnv struct {
	srv *serverProc
	mq  *testmqtt.Broker
	o   *odoo
	b   *browser
}

// startAdmin starts Mosquitto, the server and a browser window of the
// given size. The browser goes first at cleanup, then the server.
func startAdmin(t *testing.T, width, height int) *adminEnv {
	t.Helper()
	chromiumPath(t) // skip (or fail under CI) before starting anything
	mq := startMosquitto(t)
	srv := startServer(t, "--db", "sqlite:"+filepath.Join(t.TempDir(), "browser.db"), "--db-name", "e2e", "--admin-password", browserPW)
	o := login(t, srv, "e2e", browserPW)
	return &adminEnv{srv: srv, mq: mq, o: o, b: newBrowser(t, width, height)}
}

// logIn opens /web, which sends a visitor without a session to the login
// page, and logs in as admin there.
func (e *adminEnv) logIn(t *testing.T, shot string) {
	t.Helper()
	e.b.run(t, "open the login page",
		chromedp.Navigate(e.srv.url()+"/web"),
		chromedp.WaitVisible(`#login-login`, chromedp.ByQuery),
		until(`location.pathname === "/web/login"`))
	if shot != "" {
		e.b.screenshot(t, shot)
	}
	e.b.run(t, "log in",
		fill(`#login-login`, "admin"),
		fill(`#login-password`, browserPW),
		chromedp.Click(`[data-testid=login-submit]`, chromedp.ByQuery),
		chromedp.WaitVisible(`[data-testid=user-name]`, chromedp.ByQuery),
		until(`location.pathname === "/web" && location.hash.startsWith("#/mqtt.broker")`),
		listLoaded("mqtt.broker"))
}

// TestBrowserAdmin walks the scenario through the pages: log in,
// create a broker on the test Mosquitto and Connect, subscribe, start the
// service, see a device's message arrive live on Received History, send a
// signal from its form (once, then Auto send), and drive a device found by
// its seed-004 topics.
func TestBrowserAdmin(t *testing.T) {
	e := startAdmin(t, 1280, 900)
	b := e.b
	device := testmqtt.Connect(t, e.mq.URL(), "browser-device", nil)

	// 1. Log in; a wrong password first says so.
	b.run(t, "open the login page", chromedp.Navigate(e.srv.url()+"/web/login"), chromedp.WaitVisible(`#login-login`, chromedp.ByQuery))
	b.run(t, "log in with a wrong password",
		fill(`#login-login`, "admin"), fill(`#login-password`, "wrong"), click(`[data-testid=login-submit]`),
		until(`document.querySelector("[data-testid=login-error]").textContent === "Wrong login/password"`))
	e.logIn(t, "browser-01-login")

	// 2. A broker on the test Mosquitto through the form; Connect.
	b.run(t, "create a broker",
		click(`[data-testid=list-create]`),
		chromedp.WaitVisible(`input[name=name]`, chromedp.ByQuery),
		fill(`input[name=name]`, "Test Mosquitto"),
		fill(`input[name=host]`, testmqtt.Host),
		fill(`input[name=port]`, strconv.Itoa(e.mq.Port())),
		// Device discovery is opt-in: the lamp of step 7 needs it.
		click(`input[name=device_discovery]`),
		click(`[data-testid=form-save]`))
	broker := savedID(t, b, "mqtt.broker")
	b.run(t, "check the connection",
		click(`button[data-method=check_connection]`),
		// One status (mqtt.broker.status): no listener yet, the check passed.
		until(`document.querySelector("#f-status").textContent.trim() === "Stopped (last check passed)"`),
		until(`document.querySelector("#f-connection_message").textContent.trim() !== ""`))
	b.screenshot(t, "browser-03-broker-form")
	b.run(t, "back to the brokers list",
		click(`[data-testid=breadcrumb-list]`), listLoaded("mqtt.broker"),
		until(`[...document.querySelectorAll("[data-testid=list-row] td[data-field=name]")].some((td) => td.textContent === "Test Mosquitto")`))
	b.screenshot(t, "browser-02-brokers-list")

	// 3. Subscriptions from the broker's form: one the device publishes
	// on, one for the signal; Subscribe each.
	var subs []int64
	for _, topic := range []string{"sensors/#", "actuators/lamp/set"} {
		b.run(t, "add subscription "+topic,
			chromedp.Navigate(fmt.Sprintf("%s/web#/mqtt.broker/%d", e.srv.url(), broker)), formLoaded(broker),
			click(`[data-testid=add-subscription]`),
			until(`location.hash.startsWith("#/mqtt.subscription/new")`),
			until(fmt.Sprintf(`document.querySelector("select[name=broker_id]").value === "%d"`, broker)),
			fill(`input[name=topic]`, topic),
			click(`[data-testid=form-save]`))
		id := savedID(t, b, "mqtt.subscription")
		b.run(t, "subscribe "+topic,
			click(`button[data-method=subscribe_mqtt]`),
			chromedp.WaitVisible(`button[data-method=unsubscribe]`, chromedp.ByQuery))
		subs = append(subs, id)
	}

	// 4. Start the service; the registry shows the broker's daemon connected.
	b.run(t, "start the service",
		menu("service"),
		click(`button[data-method=start_mqtt_service]`),
		until(`document.querySelector("[data-testid=statusbar]").dataset.value === "start"`),
		chromedp.WaitVisible(fmt.Sprintf(`tr[data-testid=listener-row][data-broker-id="%d"][data-state=connected]`, broker), chromedp.ByQuery),
		until(fmt.Sprintf(`document.querySelector('tr[data-testid=listener-row][data-broker-id="%d"] a').getAttribute("href") === "#/mqtt.broker/%d"`, broker, broker)))
	testkit.Eventually(t, 15*time.Second, "both subscriptions to be subscribed", func() bool {
		return e.o.count("mqtt.subscription", []any{[]any{"subscribed", "=", true}}) == len(subs)
	})
	b.screenshot(t, "browser-05-service")
	b.run(t, "see the subscriptions subscribed", menu("mqtt.subscription"), listLoaded("mqtt.subscription"),
		until(`document.querySelectorAll("[data-testid=list-row] .badge[data-value=subscribed]").length === 2`))
	b.screenshot(t, "browser-04-subscriptions")

	// 5. Received History: a device's message appears live, and the page
	// did not reload (the marker set before publishing survives).
	b.run(t, "open Received History",
		menu("received-history"), listLoaded("received-history"),
		until(`document.querySelector("[data-testid=bus-status]").dataset.status === "open"`),
		chromedp.Evaluate(`window.__marker = 1`, nil))
	testmqtt.Publish(t, device, "sensors/room-1/temperature", 1, false, `{"value": 21.5, "unit": "°C"}`)
	row := `[...document.querySelectorAll("tr[data-testid=live-row]")].find((tr) => tr.querySelector("td[data-field=topic]").textContent === "sensors/room-1/temperature")`
	b.run(t, "see the message arrive live", until(row))
	var marker int
	var payload, brokerName string
	b.run(t, "read the live row",
		chromedp.Evaluate(`window.__marker`, &marker),
		chromedp.Evaluate(row+`.querySelector("td[data-field=payload]").textContent`, &payload),
		chromedp.Evaluate(row+`.querySelector("td[data-field=broker_id]").textContent`, &brokerName))
	if marker != 1 {
		t.Errorf("window.__marker = %d after the live row: the page reloaded", marker)
	}
	if payload != `{"value": 21.5, "unit": "°C"}` || brokerName != "Test Mosquitto" {
		t.Errorf("live row payload %q, broker %q", payload, brokerName)
	}
	testmqtt.Publish(t, device, "sensors/room-2/humidity", 1, false, `48`)
	b.run(t, "see a second message arrive live",
		until(`document.querySelectorAll("tr[data-testid=live-row]").length >= 2`),
		until(`document.querySelector("tbody tr td[data-field=topic]").textContent === "sensors/room-2/humidity"`))
	b.screenshot(t, "browser-06-received-history-live")
	noPageErrors(t, b)

	// The broker's form tails its messages too (its Messages panel).
	b.run(t, "open the broker's messages",
		chromedp.Navigate(fmt.Sprintf("%s/web#/mqtt.broker/%d", e.srv.url(), broker)), formLoaded(broker),
		until(`document.querySelectorAll("tr[data-testid=broker-messages-row]").length >= 2`),
		until(`document.querySelector("[data-testid=broker-messages]").closest("section").querySelector(".small-list-more").getAttribute("href") === "#/received-history?q=Test%20Mosquitto"`))
	testmqtt.Publish(t, device, "sensors/room-3/co2", 1, false, `415`)
	b.run(t, "see the message arrive live on the broker's form",
		until(`[...document.querySelectorAll("[data-testid=broker-messages] tr[data-testid=live-row]")].some((tr) =>
			tr.querySelector("td[data-field=topic]").textContent === "sensors/room-3/co2" && tr.querySelector("td[data-field=payload]").textContent === "415")`))
	noPageErrors(t, b)

	// 6. A signal through its form; Send reaches a subscriber on the
	// broker, Auto send counts up until stopped.
	lamp := testmqtt.Subscribe(t, device, "actuators/#", 1)
	b.run(t, "create a signal",
		menu("mqtt.signal"), listLoaded("mqtt.signal"),
		click(`[data-testid=list-create]`),
		pick(`select[name=broker_id]`, strconv.FormatInt(broker, 10)),
		pick(`select[name=subscription_id]`, strconv.FormatInt(subs[1], 10)),
		fill(`textarea[name=payload]`, `{"state": "on"}`),
		click(`[data-testid=form-save]`))
	signal := savedID(t, b, "mqtt.signal")
	// The form shows when it was sent (its history panel does not: sends
	// make no mqtt_realtime note yet, see the report of this test).
	b.run(t, "send the signal", click(`button[data-method=action_send_mqtt]`),
		until(`document.querySelector("#f-send_at").textContent.trim() !== ""`))
	if m := testmqtt.Receive(t, lamp, 15*time.Second, "the sent signal"); m.Topic() != "actuators/lamp/set" || string(m.Payload()) != `{"state": "on"}` {
		t.Errorf("signal arrived as %s %q", m.Topic(), m.Payload())
	}
	b.run(t, "auto send",
		click(`button[data-method=action_auto_send_mqtt]`),
		chromedp.WaitVisible(`[data-testid=autosend-dialog]`, chromedp.ByQuery),
		until(`Number(document.querySelector("[data-testid=autosend-count]").textContent) >= 2`))
	b.screenshot(t, "browser-07-signal-autosend")
	var stopped string
	b.run(t, "stop auto send",
		click(`[data-testid=autosend-stop]`),
		until(`!document.querySelector("[data-testid=autosend-dialog]")`),
		until(`[...document.querySelectorAll("[data-testid=toast]")].some((n) => /Stopped after sending \d+/.test(n.textContent))`),
		chromedp.Evaluate(`[...document.querySelectorAll("[data-testid=toast]")].map((n) => n.textContent).join(" ")`, &stopped))
	autoSent, _ := strconv.Atoi(regexp.MustCompile(`Stopped after sending (\d+)`).FindStringSubmatch(stopped)[1])
	if autoSent < 2 {
		t.Errorf("auto send stopped after %d messages, the counter showed at least 2: %q", autoSent, stopped)
	}
	for i := range autoSent {
		if m := testmqtt.Receive(t, lamp, 15*time.Second, fmt.Sprintf("auto sent signal %d", i+1)); string(m.Payload()) != `{"state": "on"}` {
			t.Errorf("auto sent signal %d: %q", i+1, m.Payload())
		}
	}
	testkit.Eventually(t, 10*time.Second, "the send history of the signal", func() bool {
		return e.o.count("mqtt.signal.history", []any{[]any{"signal_id", "=", signal}, []any{"direction", "=", "send"}}) >= 1+autoSent
	})
	b.run(t, "see the sends in the signal's history panel",
		chromedp.Reload(), formLoaded(signal),
		until(fmt.Sprintf(`document.querySelectorAll("tr[data-testid=signal-history-row] .badge[data-value=send]").length >= %d`, 1+autoSent)))
	noPageErrors(t, b)

	// 7. A seed-004 smart object announces itself; it shows on Devices,
	// and its action button publishes on its action topic.
	actions := testmqtt.Subscribe(t, device, "device/lamp-1/action/#", 1)
	testmqtt.Publish(t, device, "device/lamp-1/info", 1, true,
		`{"deviceId": "lamp-1", "producer": "ACME", "softwareVersion": "1.0.2", "resources": ["switch", "temperature"], "actions": ["toggle", "switch"]}`)
	testmqtt.Publish(t, device, "device/lamp-1/telemetry/temperature", 1, false,
		`{"timestamp": 1700000000000, "type": "TEMPERATURE_SENSOR", "value": 22.5, "unit": "°C"}`)
	testmqtt.Publish(t, device, "device/lamp-1/availability", 1, true, "online")
	var deviceID int64
	testkit.Eventually(t, 15*time.Second, "device lamp-1 online with its temperature", func() bool {
		rows := e.o.searchRead("iot.device", []any{[]any{"identifier", "=", "lamp-1"}}, "connected", "last_values")
		if len(rows) == 1 {
			deviceID = int64(rows[0]["id"].(float64))
		}
		return len(rows) == 1 && rows[0]["connected"] == true && strings.Contains(fmt.Sprint(rows[0]["last_values"]), "22.5")
	})
	devRow := `[...document.querySelectorAll("[data-testid=list-row]")].find((tr) => tr.querySelector("td[data-field=identifier]").textContent === "lamp-1")`
	b.run(t, "see the device on Devices", menu("iot.device"), listLoaded("iot.device"), until(devRow),
		until(devRow+`.querySelector("td[data-field=connected]").textContent === "Online"`))
	b.screenshot(t, "browser-08-devices-list")
	b.run(t, "open the device", click(fmt.Sprintf(`tr[data-testid=list-row][data-id="%d"] td[data-field=name]`, deviceID)), formLoaded(deviceID),
		chromedp.WaitVisible(`[data-testid=device-action][data-action=toggle]`, chromedp.ByQuery),
		until(`document.querySelector("[data-testid=device-last-values]").textContent.includes("22.5")`))
	b.run(t, "trigger the device's action",
		click(`[data-testid=device-action][data-action=toggle]`),
		until(`document.querySelector("[data-testid=device-action-result]").dataset.result === "true"`))
	if m := testmqtt.Receive(t, actions, 15*time.Second, "the device action"); m.Topic() != "device/lamp-1/action/toggle" {
		t.Errorf("device action arrived on %s %q", m.Topic(), m.Payload())
	}
	configs := testmqtt.Subscribe(t, device, "device/lamp-1/config", 1)
	b.run(t, "push a config to the device",
		fill(`[data-testid=push-config-json]`, `{"interval": 10}`),
		click(`[data-testid=push-config]`),
		until(`[...document.querySelectorAll("[data-testid=toast][data-type=success]")].some((n) => n.textContent.includes("Config pushed"))`))
	if m := testmqtt.Receive(t, configs, 15*time.Second, "the pushed config"); string(m.Payload()) != `{"interval":10}` {
		t.Errorf("config arrived as %q", m.Payload())
	}
	// 8. A command from the device's Commands panel: the device answers
	// on the response topic of the request id, and the answer shows.
	requests := testmqtt.Subscribe(t, device, "device/lamp-1/request/+", 1)
	b.run(t, "call a command",
		fill(`[data-testid=command-name]`, "get_state"),
		fill(`[data-testid=command-params]`, `{"verbose": true}`),
		click(`[data-testid=command-call]`),
		until(`document.querySelector("[data-testid=device-command][data-status=sent]") !== null`))
	req := testmqtt.Receive(t, requests, 15*time.Second, "the command request")
	if string(req.Payload()) != `{"method":"get_state","params":{"verbose":true}}` {
		t.Errorf("command request %s %q", req.Topic(), req.Payload())
	}
	testmqtt.Publish(t, device, strings.Replace(req.Topic(), "/request/", "/response/", 1), 1, false, `{"state": "on"}`)
	b.run(t, "see the answer",
		until(`document.querySelector("[data-testid=command-result]").dataset.status === "succeeded"`),
		until(`document.querySelector("[data-testid=command-response]").textContent.includes('"state": "on"')`),
		until(`document.querySelector("[data-testid=device-command][data-status=succeeded] .badge").textContent === "Succeeded"`))
	b.run(t, "params that are not JSON are refused",
		fill(`[data-testid=command-params]`, `{verbose}`),
		click(`[data-testid=command-call]`),
		until(`document.querySelector("[data-testid=command-params-error]") !== null`))
	b.screenshot(t, "browser-09-device-form")
	noPageErrors(t, b)
}

// TestBrowserXSS: markup in a topic, a payload and a broker name shows as
// text in lists and forms, live and stored; no script runs, no element
// comes from it, and the page logs no error. A last step inserts the same
// markup as HTML on purpose, to show the checks can fail: the CSP blocks
// its handler and the violation reaches pageErrors.
func TestBrowserXSS(t *testing.T) {
	e := startAdmin(t, 1280, 900)
	b := e.b
	const img = `<img src=x onerror="window.__xss=1">`
	const script = `<script>window.__xss=1</script>`
	name := img + " Broker " + script
	topic := "xss/" + script + "/" + img
	payload := script + img

	broker := e.o.create("mqtt.broker", map[string]any{"device_discovery": true, "name": name, "host": testmqtt.Host, "port": strconv.Itoa(e.mq.Port())})
	sub := e.o.create("mqtt.subscription", map[string]any{"broker_id": broker, "topic": "xss/#"})
	e.o.call("mqtt.subscription", "subscribe_mqtt", []any{[]any{sub}}, nil)
	e.o.call("mqtt.service", "start_mqtt_service", nil, nil)
	testkit.Eventually(t, 15*time.Second, "the subscription to be subscribed", func() bool {
		return e.o.count("mqtt.subscription", []any{[]any{"subscribed", "=", true}}) == 1
	})
	device := testmqtt.Connect(t, e.mq.URL(), "browser-xss-device", nil)
	e.logIn(t, "")

	harmless := `window.__xss === undefined && !document.querySelector('img[src="x"]') && [...document.scripts].every((s) => s.src)`
	nameRow := fmt.Sprintf(`[...document.querySelectorAll("[data-testid=list-row]")].find((tr) => tr.querySelector("td[data-field=name]").textContent === %s)`, jsString(name))
	b.run(t, "see the broker's name as text in the list", until(nameRow), until(harmless))
	b.run(t, "see the broker's name as text in its form",
		click(fmt.Sprintf(`tr[data-testid=list-row][data-id="%d"] td[data-field=name]`, broker)), formLoaded(broker),
		until(fmt.Sprintf(`document.querySelector(".form-title").textContent === %s`, jsString(name))),
		until(fmt.Sprintf(`document.querySelector("input[name=name]").value === %s`, jsString(name))),
		until(harmless))

	b.run(t, "open Received History", menu("received-history"), listLoaded("received-history"),
		until(`document.querySelector("[data-testid=bus-status]").dataset.status === "open"`))
	testmqtt.Publish(t, device, topic, 1, false, payload)
	cells := func(rows string) string {
		return fmt.Sprintf(`[...document.querySelectorAll(%s)].some((tr) =>
			tr.querySelector("td[data-field=topic]").textContent === %s && tr.querySelector("td[data-field=payload]").textContent === %s)`,
			jsString(rows), jsString(topic), jsString(payload))
	}
	b.run(t, "see the message live, as text", until(cells("tr[data-testid=live-row]")), until(harmless))
	b.screenshot(t, "browser-xss-received-history")

	b.run(t, "see the stored message after a reload, as text",
		chromedp.Reload(), listLoaded("received-history"), until(cells("tr[data-testid=list-row]")), until(harmless))
	b.run(t, "open the message",
		click(`tr[data-testid=list-row]`), formLoaded(0),
		until(fmt.Sprintf(`document.querySelector("#f-topic").textContent === %s`, jsString(topic))),
		until(fmt.Sprintf(`document.querySelector("[data-testid=payload-text]")?.textContent === %s`, jsString(payload))),
		until(harmless))
	b.screenshot(t, "browser-xss-message-form")
	b.run(t, "see the message in the broker's form",
		chromedp.Navigate(fmt.Sprintf("%s/web#/mqtt.broker/%d", e.srv.url(), broker)), formLoaded(broker),
		until(cells("tr[data-testid=broker-messages-row]")), until(harmless))
	noPageErrors(t, b)

	// The control: the same markup inserted as HTML makes an element,
	// whose inline handler the CSP refuses, and the refusal is a page error.
	b.run(t, "insert the markup as HTML", chromedp.Evaluate(`document.body.insertAdjacentHTML("beforeend", `+jsString(img)+`)`, nil),
		until(`document.querySelector('img[src="x"]')`))
	var seen []string
	testkit.Eventually(t, 10*time.Second, "the CSP violation among the page errors", func() bool {
		seen = append(seen, b.pageErrors()...)
		return strings.Contains(strings.Join(seen, "\n"), "Content Security Policy")
	})
	var xss bool
	b.run(t, "read window.__xss", chromedp.Evaluate(`window.__xss !== undefined`, &xss))
	if xss {
		t.Errorf("the inline handler ran despite the CSP")
	}
	t.Logf("control page errors: %q", seen)
}

// TestBrowserPhone: on a phone-sized screen (375x812) the menu hides
// behind its toggle, which opens and closes it; the Brokers list and a
// broker's form fit the width (wide tables scroll inside their card).
func TestBrowserPhone(t *testing.T) {
	e := startAdmin(t, 375, 812)
	b := e.b
	broker := e.o.create("mqtt.broker", map[string]any{"device_discovery": true, "name": "Phone broker", "host": testmqtt.Host, "port": strconv.Itoa(e.mq.Port())})
	e.logIn(t, "browser-phone-login")

	fits := `document.documentElement.scrollWidth <= window.innerWidth`
	link := `a.menu-link[data-action="mqtt.broker"]`
	b.run(t, "see the brokers list",
		until(`document.querySelectorAll("[data-testid=list-row]").length === 1`),
		until(`document.querySelector(`+jsString(link)+`).offsetParent === null`), // the menu is folded
		until(fits))
	b.screenshot(t, "browser-phone-brokers-list")
	b.run(t, "open the menu",
		click(`[data-testid=menu-toggle]`),
		until(`document.body.classList.contains("menu-open")`),
		until(`document.querySelector("[data-testid=menu-toggle]").getAttribute("aria-expanded") === "true"`),
		chromedp.WaitVisible(`a.menu-link[data-action="iot.device"]`, chromedp.ByQuery),
		chromedp.WaitVisible(link, chromedp.ByQuery))
	b.screenshot(t, "browser-phone-menu")
	b.run(t, "go to Devices from the menu",
		click(`a.menu-link[data-action="iot.device"]`),
		until(`location.hash.startsWith("#/iot.device")`), listLoaded("iot.device"),
		until(`!document.body.classList.contains("menu-open")`))
	b.run(t, "back to Brokers from the menu",
		click(`[data-testid=menu-toggle]`), chromedp.WaitVisible(link, chromedp.ByQuery), click(link),
		until(`location.hash.startsWith("#/mqtt.broker")`), listLoaded("mqtt.broker"),
		until(`!document.body.classList.contains("menu-open")`))
	b.run(t, "open the broker's form",
		click(`tr[data-testid=list-row] td[data-field=name]`), formLoaded(broker), // a tap on what shows of the row
		until(`document.querySelector("input[name=name]").value === "Phone broker"`),
		until(fits))
	b.screenshot(t, "browser-phone-broker-form")
	noPageErrors(t, b)
}
