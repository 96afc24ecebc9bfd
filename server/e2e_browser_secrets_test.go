package main

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserBrokerSecrets: the broker form shows the password and the
// websocket headers as write-only (issue 9 item 9): empty inputs that
// keep the stored value, no stored value anywhere in the page. Changing
// the host warns that the secrets not typed again are cleared (item 4),
// and saving does so, while the headers typed with the change are kept
// and reach the listener.
func TestBrowserBrokerSecrets(t *testing.T) {
	chromiumPath(t)
	dbPath := filepath.Join(t.TempDir(), "secrets.db")
	dsn := "sqlite:" + dbPath
	srv := startServer(t, "--db", dsn, "--db-name", "e2e", "--admin-password", browserPW)
	o := login(t, srv, "e2e", browserPW)
	id := o.create("mqtt.broker", map[string]any{"name": "Secret broker", "url_scheme": "ws://", "host": "127.0.0.1", "port": "9001",
		"password": "pw-stored", "ws_headers": "Authorization: Bearer tok-stored"})
	e := &adminEnv{srv: srv, o: o, b: newBrowser(t, 1280, 900)}
	e.logIn(t, "")
	b := e.b
	b.run(t, "open the broker's form",
		chromedp.Navigate(fmt.Sprintf("%s/web#/mqtt.broker/%d", srv.url(), id)), formLoaded(id),
		click(`details[data-group=Advanced] summary`),
		chromedp.WaitVisible(`textarea[name=ws_headers]`, chromedp.ByQuery))
	b.run(t, "see the secrets write-only",
		until(`document.querySelector("input[name=password]").type === "password" && document.querySelector("input[name=password]").value === ""`),
		until(`document.querySelector("textarea[name=ws_headers]").value === "" && document.querySelector("textarea[name=ws_headers]").placeholder === "leave empty to keep"`),
		until(`document.querySelector(".form-row[data-field=ws_headers] small.muted").textContent.startsWith("Stored; never shown")`),
		until(`!document.documentElement.outerHTML.includes("tok-stored") && !document.documentElement.outerHTML.includes("pw-stored")`),
		until(`!document.querySelector("[data-testid=form-warning-secrets-cleared]")`))
	b.run(t, "change the host: a warning",
		fill(`input[name=host]`, "127.0.0.2"),
		chromedp.WaitVisible(`[data-testid=form-warning-secrets-cleared]`, chromedp.ByQuery))
	b.screenshot(t, "browser-broker-secrets-warning")
	b.run(t, "type the headers again and save",
		fill(`textarea[name=ws_headers]`, "Authorization: Bearer tok-new"),
		click(`[data-testid=form-save]`),
		formLoaded(id),
		until(`!document.querySelector("[data-testid=form-warning-secrets-cleared]") && document.querySelector("[data-testid=form-errors]").textContent === ""`),
		until(`document.querySelector("textarea[name=ws_headers]").value === ""`))
	noPageErrors(t, b)
	if srv.stop(t) != 0 {
		t.Fatal("unclean stop")
	}
	pw, err := listenerPassword(t, dsn, loadKeyFile(t, dbPath+".key"), id)
	if pw != "" || err != nil {
		t.Errorf("password after the host change: %q, %v (want cleared)", pw, err)
	}
	cfg := listenerConfig(t, dsn, loadKeyFile(t, dbPath+".key"), id)
	if cfg.Host != "127.0.0.2" || cfg.WSHeaders["Authorization"] != "Bearer tok-new" {
		t.Errorf("listener config after the save: host %q, headers %v", cfg.Host, cfg.WSHeaders)
	}
}
