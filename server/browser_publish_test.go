package main

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testmqtt"
)

// TestBrowserPublishAndPayloads (issue 13, parts 3 and 4): the broker
// form's Publish dialog refuses bad JSON, pretty-prints good JSON and
// publishes it, which a real subscriber receives byte for byte and Send
// History lists; the MQTT 5 properties show only on an MQTT 5 broker. A
// history row's payload shows as a collapsible JSON tree, a binary one
// as a hex dump with its base64 and a download, and the diff with the
// message before it on the same topic.
func TestBrowserPublishAndPayloads(t *testing.T) {
	e := startAdmin(t, 1280, 1000)
	b, o := e.b, e.o
	port := strconv.Itoa(e.mq.Port())
	broker := o.create("mqtt.broker", map[string]any{"name": "Plant", "host": testmqtt.Host, "port": port})
	brokerV5 := o.create("mqtt.broker", map[string]any{"name": "Plant v5", "host": testmqtt.Host, "port": port, "protocol": "MQTTv5"})
	got := testmqtt.Subscribe(t, testmqtt.Connect(t, e.mq.URL(), "browser-observer", nil), "browser/#", 1)
	e.logIn(t, "")

	// 1. The dialog: bad JSON is refused in the dialog, good JSON is
	// pretty-printed when the payload is left, then published at QoS 1.
	openDialog := func(id int64) {
		b.run(t, "open the Publish dialog", chromedp.Navigate(fmt.Sprintf("%s/web#/mqtt.broker/%d", e.srv.url(), id)), formOf("mqtt.broker", id),
			click(`[data-testid=button-action_publish]`), chromedp.WaitVisible(`[data-testid=publish-dialog]`, chromedp.ByQuery))
	}
	openDialog(broker)
	var hasV5 bool
	b.run(t, "fill in a bad JSON payload", fill(`[data-testid=publish-topic]`, "browser/meter"), pick(`[data-testid=publish-encoding]`, "json"),
		fill(`[data-testid=publish-payload]`, `{"t": 21.5,}`), until(`document.querySelector("[data-testid=publish-problem]").textContent.startsWith("Not valid JSON")`),
		click(`[data-testid=publish-send]`), until(`document.querySelector("[data-testid=publish-result]").dataset.state === "error"`),
		chromedp.Evaluate(`Boolean(document.querySelector("[data-testid=publish-v5]"))`, &hasV5))
	if hasV5 {
		t.Error("the MQTT 5 properties show for an MQTT 3.1.1 broker")
	}
	b.screenshot(t, "browser-publish-bad-json")
	const pretty = "{\n  \"t\": 21.5,\n  \"ok\": true\n}"
	var text, result string
	b.run(t, "publish good JSON", fill(`[data-testid=publish-payload]`, `{"t":21.5,"ok":true}`), pick(`[data-testid=publish-qos]`, "1"),
		chromedp.Evaluate(`document.querySelector("[data-testid=publish-topic]").focus()`, nil), // leaving the payload pretty-prints it
		until(`document.querySelector("[data-testid=publish-payload]").value.includes("\n")`),
		chromedp.Value(`[data-testid=publish-payload]`, &text, chromedp.ByQuery),
		click(`[data-testid=publish-send]`), until(`document.querySelector("[data-testid=publish-result]").dataset.state === "ok"`),
		chromedp.Text(`[data-testid=publish-result]`, &result, chromedp.ByQuery))
	if text != pretty {
		t.Errorf("payload after leaving it %q, want %q", text, pretty)
	}
	if !strings.Contains(result, "on browser/meter at QoS 1") {
		t.Errorf("result %q", result)
	}
	b.screenshot(t, "browser-publish-dialog")
	if m := testmqtt.Receive(t, got, 5*time.Second, "the published JSON"); m.Topic() != "browser/meter" || string(m.Payload()) != pretty || m.Qos() != 1 {
		t.Errorf("received %s %q at QoS %d", m.Topic(), m.Payload(), m.Qos())
	}
	b.run(t, "close the dialog", click(`[data-testid=publish-close]`), until(`!document.querySelector("[data-testid=publish-dialog]")`))

	// The MQTT 5 broker's dialog has the properties.
	openDialog(brokerV5)
	b.run(t, "see the MQTT 5 properties", chromedp.WaitVisible(`[data-testid=publish-v5] [data-testid=publish-content_type]`, chromedp.ByQuery))
	b.screenshot(t, "browser-publish-dialog-v5")
	b.run(t, "close the v5 dialog", click(`[data-testid=publish-close]`))

	// 2. Send History lists it, tagged JSON.
	b.run(t, "open Send History", chromedp.Navigate(e.srv.url()+"/web#/send-history"), listLoaded("send-history"),
		until(`[...document.querySelectorAll("td[data-field=payload] .pl-tag")].some((el) => el.dataset.tag === "JSON")`))
	b.screenshot(t, "browser-publish-send-history")

	// 3. A binary row: hex dump, base64, download.
	o.call("mqtt.broker", "action_publish", []any{[]any{broker}, "browser/bin", "de ad be ef 00 01 41", "hex"}, nil)
	bin := rowID(o.searchRead("mqtt.signal.history", []any{[]any{"topic", "=", "browser/bin"}}, "id")[0])
	var dump, b64 string
	b.run(t, "open the binary row", chromedp.Navigate(fmt.Sprintf("%s/web#/send-history/%d", e.srv.url(), bin)),
		chromedp.WaitVisible(`[data-testid=payload-hexdump]`, chromedp.ByQuery),
		chromedp.Text(`[data-testid=payload-hexdump]`, &dump, chromedp.ByQuery), chromedp.Text(`[data-testid=payload-base64]`, &b64, chromedp.ByQuery),
		chromedp.WaitVisible(`[data-testid=payload-download]`, chromedp.ByQuery))
	if want := "00000000  de ad be ef 00 01 41"; !strings.HasPrefix(dump, want) || !strings.HasSuffix(dump, "|......A|") {
		t.Errorf("hex dump %q, want it to start with %q and end with the ASCII column", dump, want)
	}
	if b64 != "3q2+7wABQQ==" {
		t.Errorf("base64 %q", b64)
	}
	b.screenshot(t, "browser-payload-hexdump")
	b.run(t, "the list tags the binary row", chromedp.Navigate(e.srv.url()+"/web#/send-history"), listLoaded("send-history"),
		until(`[...document.querySelectorAll("td[data-field=payload] .pl-tag")].some((el) => el.dataset.tag === "binary")`))
	b.run(t, "back to the binary row", chromedp.Navigate(fmt.Sprintf("%s/web#/send-history/%d", e.srv.url(), bin)),
		chromedp.WaitVisible(`[data-testid=payload-download]`, chromedp.ByQuery))
	// The download holds the bytes themselves: the blob it makes, read back.
	var downloaded string
	b.run(t, "download the payload",
		chromedp.Evaluate(`(() => { const f = URL.createObjectURL; URL.createObjectURL = (blob) => { window.__blob = blob; return f(blob); }; })()`, nil),
		click(`[data-testid=payload-download]`), until(`window.__blob`),
		chromedp.Evaluate(`window.__blob.arrayBuffer().then((b) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, "0")).join(""))`, &downloaded,
			func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }))
	if downloaded != "deadbeef000141" {
		t.Errorf("downloaded bytes %s, want deadbeef000141", downloaded)
	}

	// 4. A JSON row as a tree, collapsible, and as pretty text; then the
	// diff with the one before it on the topic.
	o.call("mqtt.broker", "action_publish", []any{[]any{broker}, "browser/meter", `{"t": 22.5, "ok": true}`, "json"}, nil)
	rows := o.searchRead("mqtt.signal.history", []any{[]any{"topic", "=", "browser/meter"}}, "id")
	if len(rows) != 2 {
		t.Fatalf("%d rows on browser/meter, want 2", len(rows))
	}
	newer := rowID(rows[0]) // newest first
	var keys []string
	var prettyText string
	b.run(t, "open the newer JSON row", chromedp.Navigate(fmt.Sprintf("%s/web#/send-history/%d", e.srv.url(), newer)),
		formOf("mqtt.signal.history", newer), chromedp.WaitVisible(`[data-testid=payload-json] details[open]`, chromedp.ByQuery),
		chromedp.Evaluate(`[...document.querySelectorAll("[data-testid=payload-json] .pl-key")].map((k) => k.textContent)`, &keys))
	if strings.Join(keys, "") != `"t": "ok": ` {
		t.Errorf("JSON tree keys %q", keys)
	}
	b.run(t, "collapse the tree, then show it as text",
		click(`[data-testid=payload-json] summary`), until(`!document.querySelector("[data-testid=payload-json] details").open`),
		click(`[data-testid=payload-toggle]`), chromedp.WaitVisible(`[data-testid=payload-pretty]`, chromedp.ByQuery),
		chromedp.Text(`[data-testid=payload-pretty]`, &prettyText, chromedp.ByQuery))
	if prettyText != "{\n  \"t\": 22.5,\n  \"ok\": true\n}" {
		t.Errorf("pretty JSON %q", prettyText)
	}
	b.screenshot(t, "browser-payload-json")
	var diff []string
	b.run(t, "diff with the previous message", click(`[data-testid=payload-diff-btn]`), chromedp.WaitVisible(`[data-testid=payload-diff]`, chromedp.ByQuery),
		chromedp.Evaluate(`[...document.querySelectorAll("[data-testid=payload-diff] .pl-diff-line")].map((l) => l.textContent)`, &diff))
	if want := []string{"  {", `-   "t": 21.5,`, `+   "t": 22.5,`, `    "ok": true`, "  }"}; strings.Join(diff, "\n") != strings.Join(want, "\n") {
		t.Errorf("diff %q, want %q", diff, want)
	}
	b.screenshot(t, "browser-payload-diff")

	// The oldest row has nothing before it.
	b.run(t, "the first row has no previous", chromedp.Navigate(fmt.Sprintf("%s/web#/send-history/%d", e.srv.url(), rowID(rows[1]))),
		formOf("mqtt.signal.history", rowID(rows[1])), chromedp.WaitVisible(`[data-testid=payload-json]`, chromedp.ByQuery),
		click(`[data-testid=payload-diff-btn]`), chromedp.WaitVisible(`[data-testid=payload-diff-none]`, chromedp.ByQuery))
	if errs := b.pageErrors(); len(errs) > 0 {
		t.Errorf("page errors: %v", errs)
	}
}

// rowID is the id of a row search_read returned over JSON-RPC.
func rowID(r map[string]any) int64 {
	id, _ := r["id"].(float64)
	return int64(id)
}
