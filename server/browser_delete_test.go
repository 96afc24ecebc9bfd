package main

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserDeleteBroker: the broker form's Delete on a broker that has
// subscriptions and signals (which the server refuses to delete it
// before) says what goes with it, counted, archived devices included;
// Cancel keeps everything; Delete all removes the signals, then the
// subscriptions, then the broker, whose history and devices the server
// deletes with it. A broker with nothing attached gets the plain question.
func TestBrowserDeleteBroker(t *testing.T) {
	e := startAdmin(t, 1280, 900)
	b, o := e.b, e.o
	broker := o.create("mqtt.broker", map[string]any{"name": "Doomed"})
	sub := o.create("mqtt.subscription", map[string]any{"broker_id": broker, "topic": "cmd/lamp"})
	o.create("mqtt.subscription", map[string]any{"broker_id": broker, "topic": "sensors/#"})
	o.create("mqtt.signal", map[string]any{"broker_id": broker, "subscription_id": sub, "payload": "on"})
	for _, p := range []string{"21.5", "22.0"} {
		o.create("mqtt.signal.history", map[string]any{"broker_id": broker, "payload": p, "direction": "receive", "topic": "sensors/a"})
	}
	o.create("iot.device", map[string]any{"broker_id": broker, "name": "Lamp", "identifier": "lamp"})
	o.create("iot.device", map[string]any{"broker_id": broker, "name": "Old lamp", "identifier": "old", "active": false})
	bare := o.create("mqtt.broker", map[string]any{"name": "Bare"})
	left := func() [5]int {
		of := []any{[]any{"broker_id", "=", broker}}
		devices, _ := o.call("iot.device", "search_count", []any{of}, map[string]any{"context": map[string]any{"active_test": false}}).(float64)
		return [5]int{o.count("mqtt.broker", []any{[]any{"id", "=", broker}}), o.count("mqtt.subscription", of),
			o.count("mqtt.signal", of), o.count("mqtt.signal.history", of), int(devices)}
	}
	if got := left(); got != [5]int{1, 2, 1, 2, 2} {
		t.Fatalf("setup: %v", got)
	}
	e.logIn(t, "")

	dialogText := `document.querySelector("[data-testid=confirm] p").textContent`
	openDelete := func(id int64) chromedp.Action {
		return chromedp.Tasks{
			chromedp.Navigate(fmt.Sprintf("%s/web#/mqtt.broker/%d", e.srv.url(), id)), formLoaded(id),
			click(`[data-testid=form-delete]`),
			chromedp.WaitVisible(`[data-testid=confirm]`, chromedp.ByQuery),
		}
	}
	want := "Deleting “Doomed” also deletes its 1 signal, 2 subscriptions, 2 messages and 2 devices. This cannot be undone."
	var text, ok string
	b.run(t, "ask to delete the broker", openDelete(broker),
		chromedp.Evaluate(dialogText, &text), chromedp.Text(`[data-testid=confirm-ok]`, &ok, chromedp.ByQuery))
	if text != want || ok != "Delete all" {
		t.Errorf("confirmation = %q / %q, want %q / Delete all", text, ok, want)
	}
	b.screenshot(t, "browser-delete-broker")
	b.run(t, "cancel", click(`[data-testid=confirm-cancel]`), until(`!document.querySelector("[data-testid=confirm]")`))
	if got := left(); got != [5]int{1, 2, 1, 2, 2} {
		t.Errorf("Cancel deleted records: %v", got)
	}

	b.run(t, "delete the broker with its subscriptions and signals", openDelete(broker),
		click(`[data-testid=confirm-ok]`), listLoaded("mqtt.broker"),
		until(`![...document.querySelectorAll("[data-testid=list-row] td[data-field=name]")].some((td) => td.textContent === "Doomed")`))
	if got := left(); got != [5]int{} {
		t.Errorf("left after Delete all (broker, subscriptions, signals, history, devices): %v", got)
	}

	b.run(t, "delete a bare broker", openDelete(bare), chromedp.Evaluate(dialogText, &text), chromedp.Text(`[data-testid=confirm-ok]`, &ok, chromedp.ByQuery))
	if text != "Are you sure you want to delete this record?" || ok != "Delete" {
		t.Errorf("confirmation for a bare broker = %q / %q", text, ok)
	}
	b.run(t, "confirm", click(`[data-testid=confirm-ok]`), listLoaded("mqtt.broker"))
	if n := o.count("mqtt.broker", []any{[]any{"id", "=", bare}}); n != 0 {
		t.Errorf("bare broker still there")
	}
	noPageErrors(t, b)
}
