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

// treeNode is the selector of the topic tree's node of path.
func treeNode(path string) string {
	return fmt.Sprintf(`[data-testid=topic-tree-node][data-path=%s]`, jsString(path))
}

// treeText is the JS expression of a part (count, payload, ...) of the
// row of path's node, "" when the node is not shown.
func treeText(path, part string) string {
	return fmt.Sprintf(`((document.querySelector(%s) || {querySelector: () => null}).querySelector(":scope > .tt-row [data-testid=topic-tree-%s]") || {textContent: ""}).textContent`,
		jsString(treeNode(path)), part)
}

// TestBrowserTopicTree: the broker form's Topics panel shows the tree of
// the topics received (from the summary), expands level by level, counts
// and shows last payloads live as messages arrive (a new topic under an
// open level appears), searches, and a topic opens its Received History
// pinned to it.
func TestBrowserTopicTree(t *testing.T) {
	e := startAdmin(t, 1280, 1400)
	b, o := e.b, e.o
	broker := o.create("mqtt.broker", map[string]any{"name": "Plant", "host": testmqtt.Host, "port": strconv.Itoa(e.mq.Port())})
	// A retained message published before the subscription: the broker
	// delivers it with the retain flag (later live ones have it clear).
	device := testmqtt.Connect(t, e.mq.URL(), "browser-tree-device", nil)
	testmqtt.Publish(t, device, "plant/line1/hum", 1, true, `{"rh": 40}`)
	sub := o.create("mqtt.subscription", map[string]any{"broker_id": broker, "topic": "plant/#", "qos": 1})
	o.call("mqtt.subscription", "subscribe_mqtt", []any{[]any{sub}}, nil)
	o.call("mqtt.service", "start_mqtt_service", nil, nil)
	received := func(n int) {
		t.Helper()
		if !testkit.Poll(20*time.Second, func() bool { return o.count("mqtt.signal.history", []any{[]any{"broker_id", "=", broker}}) >= n }) {
			t.Fatalf("fewer than %d messages stored", n)
		}
	}
	// The subscription is live once a probe arrives.
	if !testkit.Poll(20*time.Second, func() bool {
		testmqtt.Publish(t, device, "plant/line2/temp", 1, false, "19")
		return o.count("mqtt.signal.history", []any{[]any{"topic", "=", "plant/line2/temp"}}) > 0
	}) {
		t.Fatal("the subscription never received")
	}
	testmqtt.Publish(t, device, "plant/line1/temp", 1, false, "21.5")
	testmqtt.Publish(t, device, "plant/line1/temp", 1, false, "22.0")
	if !testkit.Poll(20*time.Second, func() bool {
		return o.count("mqtt.signal.history", []any{[]any{"topic", "=", "plant/line1/temp"}}) == 2
	}) {
		t.Fatal("plant/line1/temp not stored")
	}
	if n := o.count("mqtt.signal.history", []any{[]any{"topic", "=", "plant/line1/hum"}, []any{"retain", "=", true}}); n != 1 {
		t.Fatalf("%d retained plant/line1/hum stored, want 1", n)
	}
	base := o.count("mqtt.signal.history", []any{[]any{"broker_id", "=", broker}})
	line2 := o.count("mqtt.signal.history", []any{[]any{"topic", "=", "plant/line2/temp"}})

	e.logIn(t, "")
	b.run(t, "open the broker's Topics", chromedp.Navigate(fmt.Sprintf("%s/web#/mqtt.broker/%d", e.srv.url(), broker)),
		formLoaded(broker), chromedp.WaitVisible(treeNode("plant"), chromedp.ByQuery),
		until(treeText("plant", "count")+` === "`+strconv.Itoa(base)+`"`))
	b.run(t, "expand plant, then line1",
		click(treeNode("plant")+` [data-testid=topic-tree-toggle]`), chromedp.WaitVisible(treeNode("plant/line1"), chromedp.ByQuery),
		click(treeNode("plant/line1")+` [data-testid=topic-tree-toggle]`), chromedp.WaitVisible(treeNode("plant/line1/hum"), chromedp.ByQuery),
		until(treeText("plant/line1", "count")+` === "3"`),
		until(treeText("plant/line1/temp", "count")+` === "2"`),
		until(treeText("plant/line1/temp", "payload")+` === "22.0"`),
		until(treeText("plant/line1/hum", "payload")+` === '{"rh": 40}'`),
		until(treeText("plant/line2", "count")+` === "`+strconv.Itoa(line2)+`"`),
		until(`!document.querySelector(`+jsString(treeNode("plant/line1/hum")+` > .tt-row [data-testid=topic-tree-retain]`)+`).classList.contains("hidden")`),
		until(`document.querySelector(`+jsString(treeNode("plant/line1/temp")+` > .tt-row [data-testid=topic-tree-retain]`)+`).classList.contains("hidden")`),
		until(treeText("plant/line1/temp", "time")+` !== ""`))
	b.screenshot(t, "browser-topic-tree")

	// Live: a message on a shown topic counts on its path and replaces
	// its payload; a new topic under the open level appears.
	testmqtt.Publish(t, device, "plant/line1/temp", 1, false, "23.5")
	b.run(t, "a live message updates the nodes on its path",
		until(treeText("plant/line1/temp", "payload")+` === "23.5"`),
		until(treeText("plant/line1/temp", "count")+` === "3"`),
		until(treeText("plant/line1", "count")+` === "4"`),
		until(treeText("plant", "count")+` === "`+strconv.Itoa(base+1)+`"`))
	testmqtt.Publish(t, device, "plant/line1/pressure", 1, false, "1013")
	b.run(t, "a new topic appears under its open level",
		chromedp.WaitVisible(treeNode("plant/line1/pressure"), chromedp.ByQuery),
		until(treeText("plant/line1/pressure", "payload")+` === "1013"`),
		until(treeText("plant/line1/pressure", "count")+` === "1"`))
	b.screenshot(t, "browser-topic-tree-live")

	// Search: the matches and their ancestors, expanded.
	b.run(t, "search hum", fill(`[data-testid=topic-tree-search]`, "HUM"),
		until(`document.querySelectorAll("[data-testid=topic-tree-node]").length === 3`),
		chromedp.WaitVisible(treeNode("plant/line1/hum"), chromedp.ByQuery),
		until(treeText("plant", "count")+` === "1"`),
		until(`!document.querySelector(`+jsString(treeNode("plant/line2"))+`)`))
	b.screenshot(t, "browser-topic-tree-search")

	// A topic opens its Received History, pinned to it.
	b.run(t, "open the history of plant/line1/hum",
		click(treeNode("plant/line1/hum")+` [data-testid=topic-tree-topic]`),
		listLoaded("received-history"),
		until(`location.hash.startsWith("#/received-history?")`),
		until(`document.querySelectorAll("[data-testid=list-row]").length === 1`),
		until(`document.querySelector("[data-testid=list-row] [data-field=topic]").textContent === "plant/line1/hum"`),
		until(`document.querySelectorAll("[data-testid=pinned-filter]").length === 2`))
	b.screenshot(t, "browser-topic-tree-history")
	// A live message on another topic does not join the pinned list.
	testmqtt.Publish(t, device, "plant/line1/temp", 1, false, "24")
	received(base + 3)
	time.Sleep(500 * time.Millisecond)
	b.run(t, "the pinned list ignores other topics",
		until(`document.querySelectorAll("[data-testid=list-row], [data-testid=live-row]").length === 1`))
	noPageErrors(t, b)
}
