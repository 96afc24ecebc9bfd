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

// listenedBroker creates a broker on the test Mosquitto with a QoS 1
// subscription to filter, subscribed, and starts the service; it returns
// the broker and a device client once a probe on probeTopic is stored.
func listenedBroker(t *testing.T, e *adminEnv, name, filter, probeTopic string) (int64, func(topic, payload string)) {
	t.Helper()
	o := e.o
	broker := o.create("mqtt.broker", map[string]any{"name": name, "host": testmqtt.Host, "port": strconv.Itoa(e.mq.Port())})
	sub := o.create("mqtt.subscription", map[string]any{"broker_id": broker, "topic": filter, "qos": 1})
	o.call("mqtt.subscription", "subscribe_mqtt", []any{[]any{sub}}, nil)
	o.call("mqtt.service", "start_mqtt_service", nil, nil)
	device := testmqtt.Connect(t, e.mq.URL(), "browser-friction-"+name, nil)
	pub := func(topic, payload string) { testmqtt.Publish(t, device, topic, 1, false, payload) }
	if !testkit.Poll(20*time.Second, func() bool {
		pub(probeTopic, "probe")
		return o.count("mqtt.signal.history", []any{[]any{"topic", "=", probeTopic}}) > 0
	}) {
		t.Fatal("the subscription never received")
	}
	return broker, pub
}

// TestBrowserLiveBannerCountsMatches: on a searched Received History, the
// "N new messages" banner counts the new messages the search matches,
// not every message that arrives.
func TestBrowserLiveBannerCountsMatches(t *testing.T) {
	e := startAdmin(t, 1280, 900)
	b, o := e.b, e.o
	_, pub := listenedBroker(t, e, "Plant", "plant/#", "plant/probe")
	e.logIn(t, "")
	b.run(t, "open Received History searched for plant/a",
		chromedp.Navigate(e.srv.url()+"/web#/received-history?q=plant%2Fa"), listLoaded("received-history"),
		until(`document.querySelector("[data-testid=search-input]").value === "plant/a"`))
	before := o.count("mqtt.signal.history", []any{})
	for i := range 3 {
		pub("plant/b/temp", fmt.Sprint(20+i))
	}
	pub("plant/a/temp", "1")
	pub("plant/a/temp", "2")
	if !testkit.Poll(20*time.Second, func() bool { return o.count("mqtt.signal.history", []any{}) == before+5 }) {
		t.Fatal("the five messages were not stored")
	}
	b.run(t, "the banner counts the two matching messages",
		until(`(() => { const el = document.querySelector("[data-testid=live-banner]");
			return !el.classList.contains("hidden") && el.dataset.count === "2" && el.textContent === "2 new messages — refresh"; })()`))
	b.screenshot(t, "browser-live-banner-search")
	b.run(t, "refresh shows them",
		click(`[data-testid=live-banner]`), listLoaded("received-history"),
		until(`document.querySelectorAll("[data-testid=list-row]").length === 2`),
		until(`document.querySelector("[data-testid=live-banner]").classList.contains("hidden")`))
	noPageErrors(t, b)
}

// TestBrowserDiscardDialogOnce: navigating away from a form with unsaved
// changes asks once; navigating again while it asks opens no second
// dialog, and Discard goes to the latest address, Cancel stays.
func TestBrowserDiscardDialogOnce(t *testing.T) {
	e := startAdmin(t, 1280, 900)
	b, o := e.b, e.o
	broker := o.create("mqtt.broker", map[string]any{"name": "Plant"})
	e.logIn(t, "")
	edit := func() {
		b.run(t, "edit the broker",
			chromedp.Navigate(fmt.Sprintf("%s/web#/mqtt.broker/%d", e.srv.url(), broker)), formLoaded(broker),
			fill(`input[name=name]`, "Plant (edited)"),
			until(`document.querySelector("[data-testid=form-view]").classList.contains("dirty")`))
	}
	dialogs := `document.querySelectorAll("[data-testid=confirm]").length`
	edit()
	b.run(t, "navigate twice",
		chromedp.Evaluate(`location.hash = "#/mqtt.subscription"`, nil), until(dialogs+` === 1`),
		chromedp.Evaluate(`location.hash = "#/mqtt.signal"`, nil),
		chromedp.Evaluate(`history.back()`, nil),
		chromedp.Evaluate(`location.hash = "#/received-history"`, nil),
		chromedp.Sleep(300*time.Millisecond), // let the hash changes be handled
		until(dialogs+` === 1`))
	b.screenshot(t, "browser-discard-once")
	b.run(t, "cancel stays on the edited form",
		click(`[data-testid=confirm-cancel]`), until(dialogs+` === 0`),
		until(fmt.Sprintf(`location.hash === "#/mqtt.broker/%d"`, broker)),
		until(`document.querySelector("input[name=name]").value === "Plant (edited)"`))
	b.run(t, "discard goes to the latest address",
		chromedp.Evaluate(`location.hash = "#/mqtt.subscription"`, nil), until(dialogs+` === 1`),
		chromedp.Evaluate(`location.hash = "#/received-history"`, nil),
		click(`[data-testid=confirm-ok]`), until(dialogs+` === 0`),
		listLoaded("received-history"), until(`location.hash === "#/received-history"`))
	if n := o.count("mqtt.broker", []any{[]any{"name", "=", "Plant"}}); n != 1 {
		t.Errorf("the discarded name was saved")
	}
	noPageErrors(t, b)
}

// TestBrowserTopicTreePublish: a node of the broker's topic tree has a
// Publish button opening the Publish dialog with its topic; what it sends
// reaches the broker and Send History.
func TestBrowserTopicTreePublish(t *testing.T) {
	e := startAdmin(t, 1280, 1400)
	b, o := e.b, e.o
	broker, pub := listenedBroker(t, e, "Plant", "plant/#", "plant/probe")
	pub("plant/line1/temp", "21.5")
	if !testkit.Poll(20*time.Second, func() bool {
		return o.count("mqtt.signal.history", []any{[]any{"topic", "=", "plant/line1/temp"}}) == 1
	}) {
		t.Fatal("plant/line1/temp not stored")
	}
	got := testmqtt.Subscribe(t, testmqtt.Connect(t, e.mq.URL(), "browser-tree-observer", nil), "plant/line1/temp", 1)
	e.logIn(t, "")
	b.run(t, "open the broker's Topics and expand to plant/line1/temp",
		chromedp.Navigate(fmt.Sprintf("%s/web#/mqtt.broker/%d", e.srv.url(), broker)), formLoaded(broker),
		chromedp.WaitVisible(treeNode("plant"), chromedp.ByQuery),
		click(treeNode("plant")+` [data-testid=topic-tree-toggle]`), chromedp.WaitVisible(treeNode("plant/line1"), chromedp.ByQuery),
		click(treeNode("plant/line1")+` [data-testid=topic-tree-toggle]`), chromedp.WaitVisible(treeNode("plant/line1/temp"), chromedp.ByQuery))
	b.run(t, "Publish on the node opens the dialog with its topic",
		click(treeNode("plant/line1/temp")+` > .tt-row [data-testid=topic-tree-publish]`),
		chromedp.WaitVisible(`[data-testid=publish-dialog]`, chromedp.ByQuery),
		until(`document.querySelector("[data-testid=publish-topic]").value === "plant/line1/temp"`))
	b.screenshot(t, "browser-topic-tree-publish")
	b.run(t, "send", fill(`[data-testid=publish-payload]`, "42"), pick(`[data-testid=publish-qos]`, "1"),
		click(`[data-testid=publish-send]`), until(`document.querySelector("[data-testid=publish-result]").dataset.state === "ok"`))
	if m := testmqtt.Receive(t, got, 5*time.Second, "the published message"); m.Topic() != "plant/line1/temp" || string(m.Payload()) != "42" {
		t.Errorf("received %s %q", m.Topic(), m.Payload())
	}
	if n := o.count("mqtt.signal.history", []any{[]any{"direction", "=", "send"}, []any{"topic", "=", "plant/line1/temp"}}); n != 1 {
		t.Errorf("%d sent rows on plant/line1/temp, want 1", n)
	}
	b.run(t, "a level's Publish fills the level's path",
		click(`[data-testid=publish-close]`), until(`!document.querySelector("[data-testid=publish-dialog]")`),
		click(treeNode("plant/line1")+` > .tt-row [data-testid=topic-tree-publish]`),
		chromedp.WaitVisible(`[data-testid=publish-dialog]`, chromedp.ByQuery),
		until(`document.querySelector("[data-testid=publish-topic]").value === "plant/line1"`))
	noPageErrors(t, b)
}
