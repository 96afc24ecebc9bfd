package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserAPIKeys: My API keys, from the user menu. A new key is shown
// once and works on JSON-2; the list shows its description and expiry but
// never the key; Revoke removes it and the key is refused (401) at once.
// The API link opens /doc with the session.
func TestBrowserAPIKeys(t *testing.T) {
	e := startAdmin(t, 1280, 900)
	b := e.b
	e.logIn(t, "")
	b.run(t, "open My API keys from the user menu",
		click(`[data-testid=my-api-keys]`),
		until(`location.hash === "#/my-api-keys"`),
		chromedp.WaitVisible(`[data-testid=apikeys-page]`, chromedp.ByQuery),
		until(`document.querySelector("[data-testid=apikeys-rows] td")`))
	var key string
	b.run(t, "create a key",
		fill(`[data-testid=apikey-name]`, "CI <script>"),
		click(`[data-testid=apikey-generate]`),
		chromedp.WaitVisible(`[data-testid=apikey-value]`, chromedp.ByQuery),
		chromedp.Text(`[data-testid=apikey-value]`, &key, chromedp.ByQuery),
		until(`[...document.querySelectorAll("[data-testid=apikey-row-name]")].some((td) => td.textContent === "CI <script>")`))
	b.screenshot(t, "browser-apikeys-created")
	if len(key) != 40 {
		t.Fatalf("shown key %q", key)
	}
	if st, res := json2(t, e.srv.url(), key, "mqtt.broker", "search_count", map[string]any{"domain": []any{}}); st != 200 {
		t.Fatalf("the new key on JSON-2: %d %v", st, res)
	}
	var expires, body string
	b.run(t, "reload the page: listed, the key not shown",
		chromedp.Reload(),
		until(`[...document.querySelectorAll("[data-testid=apikey-row-name]")].some((td) => td.textContent === "CI <script>")`),
		chromedp.Evaluate(`[...document.querySelectorAll("[data-testid=apikey-row]")].find((r) => r.querySelector("[data-testid=apikey-row-name]").textContent === "CI <script>").children[3].textContent`, &expires),
		chromedp.Evaluate(`document.body.innerHTML`, &body))
	if expires == "" || expires == "Never" {
		t.Errorf("the key's expiry shows %q, want the date a month from now", expires)
	}
	if strings.Contains(body, key) {
		t.Errorf("the key is still on the page after a reload")
	}
	b.run(t, "revoke it",
		chromedp.Evaluate(`[...document.querySelectorAll("[data-testid=apikey-row]")].find((r) => r.querySelector("[data-testid=apikey-row-name]").textContent === "CI <script>").querySelector("[data-testid=apikey-revoke]").click()`, nil),
		chromedp.WaitVisible(`[data-testid=confirm]`, chromedp.ByQuery),
		click(`[data-testid=confirm-ok]`),
		until(`![...document.querySelectorAll("[data-testid=apikey-row-name]")].some((td) => td.textContent === "CI <script>")`))
	if st, res := json2(t, e.srv.url(), key, "mqtt.broker", "search_count", map[string]any{"domain": []any{}}); st != 401 {
		t.Errorf("the revoked key on JSON-2: %d %v, want 401", st, res)
	}
	b.run(t, "open the API documentation",
		click(`[data-testid=api-doc]`),
		until(`location.pathname === "/doc"`),
		chromedp.WaitVisible(`section[data-model="mqtt.broker"]`, chromedp.ByQuery))
	b.screenshot(t, "browser-apikeys-doc")
	noPageErrors(t, b)
}
