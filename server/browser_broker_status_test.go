package main

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testmqtt"
)

// brokerCell is the JS expression of the Brokers list's cell of field for
// the row named name ("" when absent).
func brokerCell(name, field string) string {
	return fmt.Sprintf(`(([...document.querySelectorAll("[data-testid=list-row]")].find((tr) => tr.querySelector("td[data-field=name]").textContent === %s)
		|| {querySelector: () => null}).querySelector("td[data-field=%s]") || {textContent: ""}).textContent`, jsString(name), field)
}

// TestBrowserBrokerStatus: the Brokers list and the broker form show one
// status, the listener's live state while it runs the broker (not
// "Unknown" beside "Connected"), and Stopped with the last check once it
// stops. The list follows the listener live.
func TestBrowserBrokerStatus(t *testing.T) {
	e := startAdmin(t, 1280, 900)
	b, o := e.b, e.o
	broker := o.create("mqtt.broker", map[string]any{"name": "Plant", "host": testmqtt.Host, "port": strconv.Itoa(e.mq.Port())})
	e.logIn(t, "")
	b.run(t, "a broker never checked nor run is Stopped",
		until(brokerCell("Plant", "status")+` === "Stopped"`),
		until(`!document.querySelector("[data-testid=list-view] th[data-field=connection_status], [data-testid=list-view] th[data-field=listener_state]")`))

	o.call("mqtt.service", "start_mqtt_service", nil, nil)
	b.run(t, "the list shows Connected once the listener connects, live",
		until(brokerCell("Plant", "status")+` === "Connected"`),
		until(`![...document.querySelectorAll("[data-testid=list-row] td")].some((td) => td.textContent === "Unknown")`))
	b.screenshot(t, "browser-broker-status-list")
	b.run(t, "the form shows the same single status",
		chromedp.Navigate(fmt.Sprintf("%s/web#/mqtt.broker/%d", e.srv.url(), broker)), formLoaded(broker),
		until(`document.querySelector("#f-status").textContent.trim() === "Connected"`),
		until(`!document.querySelector("#f-connection_status") && !document.querySelector("#f-listener_state")`))
	b.screenshot(t, "browser-broker-status-form")

	o.call("mqtt.broker", "check_connection", []any{[]any{broker}}, nil)
	o.call("mqtt.service", "stop_mqtt_service", nil, nil)
	b.run(t, "stopped, the status says so with the last check",
		click(`[data-testid=breadcrumb-list]`), listLoaded("mqtt.broker"),
		until(brokerCell("Plant", "status")+` === "Stopped (last check passed)"`))
	noPageErrors(t, b)
}

// TestBrowserDeviceDiscoveryOptIn: a broker made on the form has device
// discovery off, the form says what turning it on subscribes, and once
// it is on the form lists the filters.
func TestBrowserDeviceDiscoveryOptIn(t *testing.T) {
	e := startAdmin(t, 1280, 1400)
	b, o := e.b, e.o
	e.logIn(t, "")
	b.run(t, "a new broker",
		click(`[data-testid=list-create]`),
		chromedp.WaitVisible(`input[name=name]`, chromedp.ByQuery),
		until(`document.querySelector("input[name=device_discovery]").checked === false`),
		until(`document.querySelector("[data-testid=field-help-device_discovery]").textContent.includes("device/+/info, device/+/telemetry/+")`),
		fill(`input[name=name]`, "New plant"),
		click(`[data-testid=form-save]`))
	broker := savedID(t, b, "mqtt.broker")
	if r := o.searchRead("mqtt.broker", []any{[]any{"id", "=", broker}}, "device_discovery")[0]; r["device_discovery"] != false {
		t.Fatalf("device_discovery of a broker made on the form = %v, want false", r["device_discovery"])
	}
	b.run(t, "nothing subscribed while off", until(`document.querySelector("#f-device_discovery_filters").textContent.trim() === ""`))
	b.run(t, "turn it on",
		click(`input[name=device_discovery]`), click(`[data-testid=form-save]`), formLoaded(broker),
		until(`document.querySelector("#f-device_discovery_filters").textContent.includes("device/+/info, device/+/telemetry/+, device/+/event")`))
	b.screenshot(t, "browser-device-discovery-on")
	noPageErrors(t, b)
}
