package main

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testmqtt"
)

// TestBrowserDeviceCharts: a device's numeric sensor gets a chart on its
// page (iot.device.get_sensor_series, bucketed on the server) with the
// readings stored; the range buttons reload it; a reading published
// while the page is open joins the chart from the bus.
func TestBrowserDeviceCharts(t *testing.T) {
	e := startAdmin(t, 1280, 1000)
	b, o := e.b, e.o
	broker := o.create("mqtt.broker", map[string]any{"device_discovery": true, "name": "Plant", "host": testmqtt.Host, "port": strconv.Itoa(e.mq.Port())})
	sub := o.create("mqtt.subscription", map[string]any{"broker_id": broker, "topic": "device/#", "qos": 1})
	o.call("mqtt.subscription", "subscribe_mqtt", []any{[]any{sub}}, nil)
	o.call("mqtt.service", "start_mqtt_service", nil, nil)
	testkit.Eventually(t, 15*time.Second, "the subscription to be subscribed", func() bool {
		return o.count("mqtt.subscription", []any{[]any{"subscribed", "=", true}}) == 1
	})
	device := testmqtt.Connect(t, e.mq.URL(), "chart-device", nil)
	testmqtt.Publish(t, device, "device/therm-1/info", 1, true, `{"deviceId": "therm-1", "producer": "ACME", "resources": ["temperature"]}`)
	topic := "device/therm-1/telemetry/temperature"
	for _, v := range []string{"20.5", "21", "22.5", "21.5", "23"} {
		testmqtt.Publish(t, device, topic, 1, false, `{"value": `+v+`, "unit": "°C"}`)
	}
	var deviceID int64
	testkit.Eventually(t, 15*time.Second, "the device and its 5 readings stored", func() bool {
		rows := o.searchRead("iot.device", []any{[]any{"identifier", "=", "therm-1"}}, "last_values")
		if len(rows) == 1 {
			deviceID = int64(rows[0]["id"].(float64))
		}
		return deviceID != 0 && o.count("mqtt.signal.history", []any{[]any{"topic", "=", topic}}) == 5
	})
	e.logIn(t, "")
	chart := `document.querySelector("[data-testid=chart-temperature]")`
	panel := `document.querySelector("[data-testid=sensor-charts]")`
	loaded := func(rng int, count int) chromedp.Action {
		return until(fmt.Sprintf(`%s && %s.dataset.range === "%d" && !%s.dataset.loading && %s && %s.dataset.count === "%d" && %s.querySelectorAll("[data-testid=chart-point]").length >= 1`,
			panel, panel, rng, panel, chart, chart, count, chart))
	}
	b.run(t, "open the device: a chart of the last hour",
		chromedp.Navigate(fmt.Sprintf("%s/web#/iot.device/%d", e.srv.url(), deviceID)), formLoaded(deviceID), loaded(3600, 5),
		until(chart+`.querySelector("[data-testid=chart-ymax]").textContent.startsWith("23")`),
		until(chart+`.querySelector("[data-testid=chart-ymin]").textContent === "20.5"`))
	b.screenshot(t, "browser-charts-01-device-hour")
	b.run(t, "15 min", click(`[data-testid=sensor-charts] button[data-range="900"]`), loaded(900, 5),
		until(`document.querySelector('[data-testid=sensor-charts] button[data-range="900"]').getAttribute("aria-pressed") === "true"`))
	b.run(t, "7 days", click(`[data-testid=sensor-charts] button[data-range="604800"]`), loaded(604800, 5))
	b.screenshot(t, "browser-charts-02-device-week")
	b.run(t, "24 h", click(`[data-testid=sensor-charts] button[data-range="86400"]`), loaded(86400, 5))
	b.run(t, "back to 1 h", click(`[data-testid=sensor-charts] button[data-range="3600"]`), loaded(3600, 5))

	testmqtt.Publish(t, device, topic, 1, false, `{"value": 99, "unit": "°C"}`)
	b.run(t, "a live reading joins the chart", loaded(3600, 6),
		until(chart+`.querySelector("[data-testid=chart-ymax]").textContent.startsWith("99")`))
	b.screenshot(t, "browser-charts-03-device-live")

	// A message of the topic on Received History: its topic charted, by
	// the JSON path guessed from the payload, then one typed.
	msgs := o.searchRead("mqtt.signal.history", []any{[]any{"topic", "=", topic}}, "id")
	msg := int64(msgs[0]["id"].(float64))
	hist := `document.querySelector("[data-testid=history-chart]")`
	hpanel := `document.querySelector("[data-testid=history-chart-panel]")`
	b.run(t, "open a message: its topic's chart", chromedp.Navigate(fmt.Sprintf("%s/web#/received-history/%d", e.srv.url(), msg)), formOf("mqtt.signal.history", msg),
		until(hist+` && !`+hpanel+`.dataset.loading && `+hist+`.dataset.count === "6"`),
		until(`document.querySelector("[data-testid=history-chart-path]").value === "value"`))
	b.screenshot(t, "browser-charts-04-history-topic")
	b.run(t, "a path finding nothing", fill(`[data-testid=history-chart-path]`, "nope"),
		until(`!`+hpanel+`.dataset.loading && `+hist+`.dataset.count === "0"`),
		until(`document.querySelector("[data-testid=history-chart-status]").textContent.includes("6 without a number")`))
	b.run(t, "a bad path says so", fill(`[data-testid=history-chart-path]`, "a..b"),
		until(`document.querySelector("[data-testid=history-chart-error]") !== null`))
	b.run(t, "back to value", fill(`[data-testid=history-chart-path]`, "$.value"),
		until(`!`+hpanel+`.dataset.loading && `+hist+`.dataset.count === "6"`))
	noPageErrors(t, b)
}

// TestBrowserHistoryGroupChart: Received History grouped by topic has a
// Chart per topic group: a JSON topic charted by the path guessed from
// its newest payload, with its numeric paths suggested; another path
// picked; a text topic says it has no numbers; the ranges reload it.
func TestBrowserHistoryGroupChart(t *testing.T) {
	e := startAdmin(t, 1280, 1000)
	b, o := e.b, e.o
	broker := o.create("mqtt.broker", map[string]any{"name": "Plant", "host": testmqtt.Host, "port": strconv.Itoa(e.mq.Port())})
	sub := o.create("mqtt.subscription", map[string]any{"broker_id": broker, "topic": "plant/#", "qos": 1})
	o.call("mqtt.subscription", "subscribe_mqtt", []any{[]any{sub}}, nil)
	o.call("mqtt.service", "start_mqtt_service", nil, nil)
	testkit.Eventually(t, 15*time.Second, "the subscription to be subscribed", func() bool {
		return o.count("mqtt.subscription", []any{[]any{"subscribed", "=", true}}) == 1
	})
	c := testmqtt.Connect(t, e.mq.URL(), "group-chart", nil)
	for i, v := range []string{"20.5", "21", "22.5", "23"} {
		testmqtt.Publish(t, c, "plant/line-1/meter", 1, false, fmt.Sprintf(`{"temperature": %s, "energy": {"power": %d}, "state": "run"}`, v, 100+i))
	}
	testmqtt.Publish(t, c, "plant/line-1/status", 1, false, "running")
	testkit.Eventually(t, 15*time.Second, "the 5 messages stored", func() bool {
		return o.count("mqtt.signal.history", []any{[]any{"topic", "like", "plant/line-1/%"}}) == 5
	})
	e.logIn(t, "")
	group := func(topic string) string {
		return fmt.Sprintf(`[...document.querySelectorAll("[data-testid=group-row]")].find((r) => r.querySelector("[data-testid=group-label]").textContent === %q)`, topic)
	}
	chart := `document.querySelector("[data-testid=group-panel-row] [data-testid=history-chart]")`
	panel := `document.querySelector("[data-testid=group-panel-row] [data-testid=history-chart-panel]")`
	loaded := func(count int) chromedp.Action {
		return until(fmt.Sprintf(`%s && !%s.dataset.loading && %s.dataset.count === "%d"`, panel, panel, chart, count))
	}
	b.run(t, "Received History grouped by topic", chromedp.Navigate(e.srv.url()+"/web#/received-history?g=topic"), listLoaded("received-history"),
		until(group("plant/line-1/meter")+` && `+group("plant/line-1/status")+`.querySelector("[data-testid=group-panel]") !== null`))
	b.run(t, "the meter's chart", chromedp.Evaluate(group("plant/line-1/meter")+`.querySelector("[data-testid=group-panel]").click()`, nil),
		loaded(4),
		until(`document.querySelector("[data-testid=group-panel-row] [data-testid=history-chart-path]").value === "temperature"`),
		until(chart+`.querySelector("[data-testid=chart-ymax]").textContent.startsWith("23")`),
		until(`[...document.querySelectorAll("[data-testid=group-panel-row] [data-testid=history-chart-paths] option")].map((o) => o.value).join() === "temperature,energy.power"`),
		// The group did not expand: the button is the chart's, not the row's.
		until(group("plant/line-1/meter")+`.getAttribute("aria-expanded") === "false"`))
	b.screenshot(t, "browser-charts-05-history-group-chart")
	b.run(t, "another path", fill(`[data-testid=group-panel-row] [data-testid=history-chart-path]`, "energy.power"), loaded(4),
		until(chart+`.querySelector("[data-testid=chart-ymax]").textContent.startsWith("103")`))
	for _, rng := range []int{900, 86400, 604800, 3600} {
		b.run(t, fmt.Sprintf("range %d", rng), click(fmt.Sprintf(`[data-testid=group-panel-row] button[data-range="%d"]`, rng)), loaded(4),
			until(fmt.Sprintf(`document.querySelector('[data-testid=group-panel-row] button[data-range="%d"]').getAttribute("aria-pressed") === "true"`, rng)))
	}
	b.screenshot(t, "browser-charts-06-history-group-chart-power")
	b.run(t, "closed again", chromedp.Evaluate(group("plant/line-1/meter")+`.querySelector("[data-testid=group-panel]").click()`, nil),
		until(`document.querySelector("[data-testid=group-panel-row]") === null`))
	b.run(t, "a text topic has no numbers", chromedp.Evaluate(group("plant/line-1/status")+`.querySelector("[data-testid=group-panel]").click()`, nil),
		loaded(0), until(`document.querySelector("[data-testid=group-panel-row] [data-testid=history-chart-status]").textContent.includes("1 without a number")`))
	noPageErrors(t, b)
}
