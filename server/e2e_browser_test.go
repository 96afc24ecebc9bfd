package main

// Browser tests: the admin pages in a real headless Chromium against the
// real binary (SQLite) and a test Mosquitto, doing what a person would:
// log in, create a broker and check its connection, subscribe, start the
// service, watch messages arrive live, send a signal, drive a device, and
// see markup in topics, payloads and names rendered as text. Screenshots
// of the main pages are saved as artifacts (see artifactsDir).

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	paho "github.com/eclipse/paho.mqtt.golang"
)

const browserPW = "browser-pw"

// adminEnv is a server with its own database, a test Mosquitto, an RPC
// client for setup and checks, and a browser.
type adminEnv struct {
	srv *serverProc
	mq  *mosquitto
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
		listLoaded())
}

// --- Actions. chromedp.Poll evaluates with new Function, which the
// pages' Content-Security-Policy forbids, so waits poll from Go.

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// until waits until the JavaScript expression is truthy, polling every
// 100ms until the action's context ends. Errors while the page navigates
// count as "not yet".
func until(expr string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		var lastErr error
		for {
			var ok bool
			err := chromedp.Evaluate("Boolean("+expr+")", &ok).Do(ctx)
			if err == nil && ok {
				return nil
			}
			lastErr = err
			select {
			case <-ctx.Done():
				return fmt.Errorf("waiting for %s: %w (last error: %v)", expr, ctx.Err(), lastErr)
			case <-time.After(100 * time.Millisecond):
			}
		}
	})
}

// fill empties an input and types value into it, key by key.
func fill(sel, value string) chromedp.Action {
	return chromedp.Tasks{
		chromedp.WaitVisible(sel, chromedp.ByQuery),
		chromedp.Evaluate(fmt.Sprintf(`(() => { const el = document.querySelector(%s); el.value = ""; el.focus(); })()`, jsString(sel)), nil),
		chromedp.SendKeys(sel, value, chromedp.ByQuery),
	}
}

// pick chooses value in a select once the option is there (many2one
// options come from name_search) and fires change, as a user's choice does.
func pick(sel, value string) chromedp.Action {
	opt := fmt.Sprintf(`document.querySelector(%s + " option[value='" + %s + "']")`, jsString(sel), jsString(value))
	return chromedp.Tasks{
		until(opt),
		chromedp.SetValue(sel, value, chromedp.ByQuery),
		chromedp.Evaluate(fmt.Sprintf(`document.querySelector(%s).dispatchEvent(new Event("change", {bubbles: true}))`, jsString(sel)), nil),
	}
}

// click clicks the first element matching a CSS selector.
func click(sel string) chromedp.Action { return chromedp.Click(sel, chromedp.ByQuery) }

// menu opens a page from the header menu, opening the dropdown that
// holds it first.
func menu(action string) chromedp.Action {
	link := fmt.Sprintf(`a.menu-link[data-action=%s]`, jsString(action))
	return chromedp.ActionFunc(func(ctx context.Context) error {
		var visible bool
		if err := chromedp.Evaluate(fmt.Sprintf(`document.querySelector(%s).offsetParent !== null`, jsString(link)), &visible).Do(ctx); err != nil {
			return err
		}
		if !visible {
			parent := fmt.Sprintf(`//li[contains(@class,"menu-item")][.//a[@data-action=%s]]/button`, jsString(action))
			if err := chromedp.Click(parent, chromedp.BySearch).Do(ctx); err != nil {
				return err
			}
		}
		return chromedp.Tasks{
			click(link),
			until(fmt.Sprintf(`location.hash.startsWith("#/" + %s)`, jsString(action))),
		}.Do(ctx)
	})
}

// listLoaded waits for a list view whose records are on screen.
func listLoaded() chromedp.Action {
	return until(`(() => { const v = document.querySelector("[data-testid=list-view]");
		return v && !v.classList.contains("loading") && document.querySelector("[data-testid=pager-total]").textContent !== ""; })()`)
}

// formLoaded waits for a form view showing record id (0: any saved record).
func formLoaded(id int64) chromedp.Action {
	want := `v.dataset.id !== ""`
	if id != 0 {
		want = fmt.Sprintf(`v.dataset.id === "%d"`, id)
	}
	return until(`(() => { const v = document.querySelector("[data-testid=form-view]");
		return v && !v.classList.contains("loading") && ` + want + `; })()`)
}

// savedID waits for the route of a saved record of action and returns its id.
func savedID(t *testing.T, b *browser, action string) int64 {
	t.Helper()
	var hash string
	b.run(t, "wait for the saved "+action,
		until(fmt.Sprintf(`/^#\/%s\/\d+$/.test(location.hash)`, regexp.QuoteMeta(action))),
		formLoaded(0),
		chromedp.Evaluate(`location.hash`, &hash))
	id, err := strconv.ParseInt(hash[strings.LastIndex(hash, "/")+1:], 10, 64)
	if err != nil {
		t.Fatalf("route %q: %v", hash, err)
	}
	return id
}

// textOf is the textContent of the first element matching sel.
func textOf(t *testing.T, b *browser, sel string) string {
	t.Helper()
	var s string
	b.run(t, "read "+sel, chromedp.Evaluate(fmt.Sprintf(`(document.querySelector(%s) || {}).textContent || ""`, jsString(sel)), &s))
	return s
}

// noPageErrors fails the test when the page logged errors, exceptions or
// CSP violations.
func noPageErrors(t *testing.T, b *browser) {
	t.Helper()
	if errs := b.pageErrors(); len(errs) > 0 {
		t.Errorf("page errors:\n%s", strings.Join(errs, "\n"))
	}
}

// --- MQTT side

// listen subscribes a paho client to filter and returns what it receives.
func listen(t *testing.T, c paho.Client, filter string) <-chan paho.Message {
	t.Helper()
	ch := make(chan paho.Message, 100)
	tok := c.Subscribe(filter, 1, func(_ paho.Client, m paho.Message) {
		select {
		case ch <- m:
		default:
		}
	})
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe %s: %v", filter, tok.Error())
	}
	return ch
}

// publish publishes and waits for the broker to have it.
func publish(t *testing.T, c paho.Client, topic string, retain bool, payload string) {
	t.Helper()
	if tok := c.Publish(topic, 1, retain, payload); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publish %s: %v", topic, tok.Error())
	}
}

// receive waits for the next message on ch.
func receive(t *testing.T, ch <-chan paho.Message, what string) paho.Message {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(15 * time.Second):
		t.Fatalf("no MQTT message: %s", what)
		return nil
	}
}

// TestBrowserAdmin walks the scenario through the pages: log in,
// create a broker on the test Mosquitto and Connect, subscribe, start the
// service, see a device's message arrive live on Received History, send a
// signal from its form (once, then Auto send), and drive a device found by
// its seed-004 topics.
func TestBrowserAdmin(t *testing.T) {
	e := startAdmin(t, 1280, 900)
	b := e.b
	device := mqttClient(t, e.mq.addr(), "browser-device")

	// 1. Log in; a wrong password first says so.
	e.b.run(t, "open the login page", chromedp.Navigate(e.srv.url()+"/web/login"), chromedp.WaitVisible(`#login-login`, chromedp.ByQuery))
	b.run(t, "log in with a wrong password",
		fill(`#login-login`, "admin"), fill(`#login-password`, "wrong"), click(`[data-testid=login-submit]`),
		until(`document.querySelector("[data-testid=login-error]").textContent === "Wrong login/password"`))
	e.logIn(t, "browser-01-login")

	// 2. A broker on the test Mosquitto through the form; Connect.
	b.run(t, "create a broker",
		click(`[data-testid=list-create]`),
		chromedp.WaitVisible(`input[name=name]`, chromedp.ByQuery),
		fill(`input[name=name]`, "Test Mosquitto"),
		fill(`input[name=host]`, e.mq.host),
		fill(`input[name=port]`, strconv.Itoa(e.mq.port)),
		click(`[data-testid=form-save]`))
	broker := savedID(t, b, "mqtt.broker")
	b.run(t, "check the connection",
		click(`button[data-method=check_connection]`),
		until(`document.querySelector("[data-testid=statusbar]").dataset.value === "success"`),
		until(`document.querySelector("#f-connection_status").textContent.trim() !== ""`))
	b.screenshot(t, "browser-03-broker-form")
	b.run(t, "back to the brokers list",
		click(`[data-testid=breadcrumb-list]`), listLoaded(),
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
	b.run(t, "open the subscriptions list", menu("mqtt.subscription"), listLoaded(),
		until(`document.querySelectorAll("[data-testid=list-row]").length === 2`))
	b.screenshot(t, "browser-04-subscriptions")

	// 4. Start the service; the registry shows the broker's daemon connected.
	b.run(t, "start the service",
		menu("service"),
		click(`button[data-method=start_mqtt_service]`),
		until(`document.querySelector("[data-testid=statusbar]").dataset.value === "start"`),
		chromedp.WaitVisible(fmt.Sprintf(`tr[data-testid=listener-row][data-broker-id="%d"][data-state=connected]`, broker), chromedp.ByQuery))
	eventually(t, 15*time.Second, "both subscriptions to be subscribed", func() bool {
		return e.o.count("mqtt.subscription", []any{[]any{"subscribed", "=", true}}) == len(subs)
	})
	b.screenshot(t, "browser-05-service")

	// 5. Received History: a device's message appears live, and the page
	// did not reload (the marker set before publishing survives).
	b.run(t, "open Received History",
		menu("received-history"), listLoaded(),
		until(`document.querySelector("[data-testid=bus-status]").dataset.status === "open"`),
		chromedp.Evaluate(`window.__marker = 1`, nil))
	publish(t, device, "sensors/room-1/temperature", false, `{"value": 21.5, "unit": "°C"}`)
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
	publish(t, device, "sensors/room-2/humidity", false, `48`)
	b.run(t, "see a second message arrive live",
		until(`document.querySelectorAll("tr[data-testid=live-row]").length >= 2`),
		until(`document.querySelector("tbody tr td[data-field=topic]").textContent === "sensors/room-2/humidity"`))
	b.screenshot(t, "browser-06-received-history-live")
	noPageErrors(t, b)

	// 6. A signal through its form; Send reaches a subscriber on the
	// broker, Auto send counts up until stopped.
	lamp := listen(t, device, "actuators/#")
	b.run(t, "create a signal",
		menu("mqtt.signal"), listLoaded(),
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
	if m := receive(t, lamp, "the sent signal"); m.Topic() != "actuators/lamp/set" || string(m.Payload()) != `{"state": "on"}` {
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
		if m := receive(t, lamp, fmt.Sprintf("auto sent signal %d", i+1)); string(m.Payload()) != `{"state": "on"}` {
			t.Errorf("auto sent signal %d: %q", i+1, m.Payload())
		}
	}
	eventually(t, 10*time.Second, "the send history of the signal", func() bool {
		return e.o.count("mqtt.signal.history", []any{[]any{"signal_id", "=", signal}, []any{"direction", "=", "send"}}) >= 1+autoSent
	})
	noPageErrors(t, b)

	// 7. A seed-004 smart object announces itself; it shows on Devices,
	// and its action button publishes on its action topic.
	actions := listen(t, device, "device/lamp-1/action/#")
	publish(t, device, "device/lamp-1/info", true,
		`{"deviceId": "lamp-1", "producer": "ACME", "softwareVersion": "1.0.2", "resources": ["switch", "temperature"], "actions": ["toggle", "switch"]}`)
	publish(t, device, "device/lamp-1/telemetry/temperature", false,
		`{"timestamp": 1700000000000, "type": "TEMPERATURE_SENSOR", "value": 22.5, "unit": "°C"}`)
	publish(t, device, "device/lamp-1/availability", true, "online")
	eventually(t, 15*time.Second, "device lamp-1 online with its temperature", func() bool {
		rows := e.o.searchRead("iot.device", []any{[]any{"identifier", "=", "lamp-1"}}, "connected", "last_values")
		return len(rows) == 1 && rows[0]["connected"] == true && strings.Contains(fmt.Sprint(rows[0]["last_values"]), "22.5")
	})
	devRow := `[...document.querySelectorAll("[data-testid=list-row]")].find((tr) => tr.querySelector("td[data-field=identifier]").textContent === "lamp-1")`
	b.run(t, "see the device on Devices", menu("iot.device"), listLoaded(), until(devRow),
		until(devRow+`.querySelector("td[data-field=connected]").textContent === "Online"`))
	b.screenshot(t, "browser-08-devices-list")
	b.run(t, "open the device", chromedp.Evaluate(devRow+`.click()`, nil), formLoaded(0),
		chromedp.WaitVisible(`[data-testid=device-action][data-action=toggle]`, chromedp.ByQuery),
		until(`document.querySelector("[data-testid=device-last-values]").textContent.includes("22.5")`))
	b.run(t, "trigger the device's action",
		click(`[data-testid=device-action][data-action=toggle]`),
		until(`document.querySelector("[data-testid=device-action-result]").dataset.result === "true"`))
	if m := receive(t, actions, "the device action"); m.Topic() != "device/lamp-1/action/toggle" {
		t.Errorf("device action arrived on %s %q", m.Topic(), m.Payload())
	}
	b.screenshot(t, "browser-09-device-form")
	noPageErrors(t, b)
}
