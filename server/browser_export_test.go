package main

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// TestBrowserExportBulkPurge: Export CSV of a searched Received History
// downloads the search's rows with the visible columns; rows selected on
// Subscriptions are deleted in bulk after a confirmation naming their
// count and what becomes of their history; Purge on a searched history,
// then a broker form's Purge history, delete after a confirmation with
// the count, and only those rows; a subscription's form Delete names its
// signal (deleted first) and its messages (kept, unlinked).
func TestBrowserExportBulkPurge(t *testing.T) {
	e := startAdmin(t, 1280, 900)
	b, o := e.b, e.o
	broker := o.create("mqtt.broker", map[string]any{"name": "Exporter"})
	other := o.create("mqtt.broker", map[string]any{"name": "Other"})
	for i := range 5 {
		o.create("mqtt.signal.history", map[string]any{"broker_id": broker, "topic": "exp/a", "payload": fmt.Sprintf("a%d", i),
			"direction": "receive", "qos": int64(i % 2), "timestamp": fmt.Sprintf("2026-05-01 10:00:0%d", i)})
	}
	for i := range 3 {
		o.create("mqtt.signal.history", map[string]any{"broker_id": broker, "topic": "exp/b", "payload": fmt.Sprintf("b%d", i), "direction": "receive"})
	}
	o.create("mqtt.signal.history", map[string]any{"broker_id": other, "topic": "exp/a", "payload": "kept", "direction": "receive"})
	var subs []int64
	for i := range 3 {
		subs = append(subs, o.create("mqtt.subscription", map[string]any{"broker_id": other, "topic": fmt.Sprintf("bulk/%d", i)}))
	}
	o.create("mqtt.signal.history", map[string]any{"broker_id": other, "subscription_id": subs[0], "topic": "bulk/0", "payload": "x", "direction": "receive"})
	e.logIn(t, "")

	// 1. Export CSV of a search.
	downloads := t.TempDir()
	b.run(t, "allow downloads", cdpbrowser.SetDownloadBehavior(cdpbrowser.SetDownloadBehaviorBehaviorAllow).WithDownloadPath(downloads))
	b.run(t, "search Received History", chromedp.Navigate(e.srv.url()+"/web#/received-history?q=Exporter&o=timestamp%20asc"), listLoaded("received-history"),
		until(`document.querySelectorAll("[data-testid=list-row]").length === 8`))
	b.run(t, "export", click(`[data-testid=list-export]`))
	csvPath := filepath.Join(downloads, "Received History.csv")
	var body []byte
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		var err error
		if body, err = os.ReadFile(csvPath); err == nil && len(body) > 0 {
			break
		}
		if time.Now().After(deadline) {
			entries, _ := os.ReadDir(downloads)
			t.Fatalf("no download at %s (folder: %v)", csvPath, entries)
		}
	}
	b.screenshot(t, "browser-export-csv")
	rows, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	if err != nil {
		t.Fatalf("csv: %v\n%s", err, body)
	}
	if len(rows) != 9 || strings.Join(rows[0], ",") != "Timestamp,Topic,Payload,QoS,Retain,MQTT Signal,Broker" {
		t.Fatalf("csv = %q", rows)
	}
	if got := strings.Join(rows[1], ","); got != "2026-05-01 10:00:00,exp/a,a0,0,False,,Exporter" {
		t.Errorf("first row (timestamp asc) = %q", got)
	}
	for _, r := range rows[1:] {
		if r[6] != "Exporter" {
			t.Errorf("a row of another broker: %q", r)
		}
	}

	// 2. Select two subscriptions, Delete them.
	b.run(t, "open Subscriptions", chromedp.Navigate(e.srv.url()+"/web#/mqtt.subscription?q=bulk%2F"), listLoaded("mqtt.subscription"),
		until(`document.querySelectorAll("[data-testid=list-row]").length === 3`))
	sel := func(id int64) string {
		return fmt.Sprintf(`[data-testid=list-row][data-id="%d"] [data-testid=select-row]`, id)
	}
	var text, ok string
	b.run(t, "select two", click(sel(subs[0])), click(sel(subs[1])),
		until(`document.querySelector("[data-testid=list-delete-selected]").textContent === "Delete 2 selected"`),
		until(`location.hash.startsWith("#/mqtt.subscription?")`), // a checkbox does not open the row
		click(`[data-testid=list-delete-selected]`), chromedp.WaitVisible(`[data-testid=confirm]`, chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelector("[data-testid=confirm] p").textContent`, &text),
		chromedp.Text(`[data-testid=confirm-ok]`, &ok, chromedp.ByQuery))
	if !strings.HasPrefix(text, "Delete 2 selected records? Their messages stay in the history, no longer linked to a subscription") || ok != "Delete 2" {
		t.Errorf("bulk delete confirmation = %q / %q", text, ok)
	}
	b.screenshot(t, "browser-bulk-delete")
	b.run(t, "confirm the bulk delete", click(`[data-testid=confirm-ok]`),
		until(`document.querySelectorAll("[data-testid=list-row]").length === 1`))
	if n := o.count("mqtt.subscription", []any{[]any{"id", "in", []any{subs[0], subs[1], subs[2]}}}); n != 1 {
		t.Errorf("%d subscriptions left, want 1", n)
	}
	if n := o.count("mqtt.signal.history", []any{[]any{"topic", "=", "bulk/0"}, []any{"subscription_id", "=", false}}); n != 1 {
		t.Errorf("the deleted subscription's message: %d unlinked rows, want 1", n)
	}

	// 3. Purge the history of a search.
	b.run(t, "search exp/b", chromedp.Navigate(e.srv.url()+"/web#/received-history?q=exp%2Fb"), listLoaded("received-history"),
		until(`document.querySelectorAll("[data-testid=list-row]").length === 3`),
		click(`[data-testid=list-purge]`), chromedp.WaitVisible(`[data-testid=confirm]`, chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelector("[data-testid=confirm] p").textContent`, &text),
		chromedp.Text(`[data-testid=confirm-ok]`, &ok, chromedp.ByQuery))
	if !strings.HasPrefix(text, "Purge 3 messages matching this search on Received History?") || ok != "Purge 3 messages" {
		t.Errorf("purge confirmation = %q / %q", text, ok)
	}
	b.screenshot(t, "browser-purge-search")
	b.run(t, "confirm the purge", click(`[data-testid=confirm-ok]`), listLoaded("received-history"),
		until(`document.querySelectorAll("[data-testid=list-row]").length === 0`))
	if n := o.count("mqtt.signal.history", []any{[]any{"topic", "=", "exp/b"}}); n != 0 {
		t.Errorf("%d exp/b rows left after the purge", n)
	}

	// 4. Purge history from the broker form.
	b.run(t, "open the broker", chromedp.Navigate(fmt.Sprintf("%s/web#/mqtt.broker/%d", e.srv.url(), broker)), formLoaded(broker),
		click(`[data-testid=button-purge_history]`), chromedp.WaitVisible(`[data-testid=confirm]`, chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelector("[data-testid=confirm] p").textContent`, &text))
	if !strings.HasPrefix(text, "Purge 5 messages of broker “Exporter”?") {
		t.Errorf("broker purge confirmation = %q", text)
	}
	b.screenshot(t, "browser-purge-broker")
	b.run(t, "confirm the broker purge", click(`[data-testid=confirm-ok]`), until(`[...document.querySelectorAll("[data-testid=toast]")].some((t) => t.textContent.includes("5 messages purged"))`))
	if n := o.count("mqtt.signal.history", []any{[]any{"broker_id", "=", broker}}); n != 0 {
		t.Errorf("%d rows of the broker left", n)
	}
	if n := o.count("mqtt.signal.history", []any{[]any{"broker_id", "=", other}}); n != 2 {
		t.Errorf("the other broker has %d rows, want 2", n)
	}
	// 5. Delete a subscription from its form: its signal goes first, its
	// messages stay, unlinked.
	sub := o.create("mqtt.subscription", map[string]any{"broker_id": other, "topic": "form/del"})
	sig := o.create("mqtt.signal", map[string]any{"broker_id": other, "subscription_id": sub, "payload": "on"})
	for range 2 {
		o.create("mqtt.signal.history", map[string]any{"broker_id": other, "subscription_id": sub, "signal_id": sig, "topic": "form/del", "payload": "1", "direction": "receive"})
	}
	b.run(t, "open the subscription", chromedp.Navigate(fmt.Sprintf("%s/web#/mqtt.subscription/%d", e.srv.url(), sub)), formLoaded(sub),
		click(`[data-testid=form-delete]`), chromedp.WaitVisible(`[data-testid=confirm]`, chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelector("[data-testid=confirm] p").textContent`, &text))
	if !strings.HasSuffix(text, "also deletes its 1 signal. This cannot be undone. Its 2 messages stay in the history, no longer linked to it.") {
		t.Errorf("subscription delete confirmation = %q", text)
	}
	b.screenshot(t, "browser-delete-subscription")
	b.run(t, "confirm the subscription delete", click(`[data-testid=confirm-ok]`), listLoaded("mqtt.subscription"))
	if n := o.count("mqtt.subscription", []any{[]any{"id", "=", sub}}) + o.count("mqtt.signal", []any{[]any{"id", "=", sig}}); n != 0 {
		t.Errorf("subscription or signal left: %d", n)
	}
	if n := o.count("mqtt.signal.history", []any{[]any{"topic", "=", "form/del"}, []any{"subscription_id", "=", false}, []any{"signal_id", "=", false}}); n != 2 {
		t.Errorf("%d unlinked form/del messages, want 2", n)
	}
	noPageErrors(t, b)
}
