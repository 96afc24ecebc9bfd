package main

// Helpers for the browser tests: a real headless Chromium (Debian's
// chromium package) driven over the DevTools protocol with chromedp, and
// screenshots saved as test artifacts.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
)

// chromiumPath finds the browser, failing under CI=true when it is missing.
func chromiumPath(t *testing.T) string {
	t.Helper()
	return testkit.Tool(t, "the browser tests need Debian's chromium package (.ci/run installs it)", "chromium", "chromium-browser", "google-chrome")
}

// browser is one headless Chromium with a fresh profile, one tab, and the
// page's console errors, uncaught exceptions and the browser's own error
// messages (CSP violations, failed loads) collected for the test.
type browser struct {
	ctx    context.Context
	errors chan string
}

// newBrowser starts Chromium with the flags this machine needs (no
// background networking: outside connections are refused here) and a
// phone- or desktop-sized window.
func newBrowser(t *testing.T, width, height int) *browser {
	t.Helper()
	profile := t.TempDir()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.UserDataDir(profile),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(width, height),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	b := &browser{ctx: ctx, errors: make(chan string, 100)}
	chromedp.ListenTarget(ctx, func(ev any) {
		var msg string
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			msg = "exception: " + ev.ExceptionDetails.Error()
		case *cdplog.EventEntryAdded:
			// The browser's own messages: CSP violations, failed loads.
			if ev.Entry.Level == cdplog.LevelError {
				msg = fmt.Sprintf("%s: %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL)
			}
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.APITypeError {
				var parts []string
				for _, a := range ev.Args {
					parts = append(parts, strings.Trim(string(a.Value), `"`)+a.Description)
				}
				msg = "console.error: " + strings.Join(parts, " ")
			}
		}
		if msg != "" {
			select {
			case b.errors <- msg:
			default:
			}
		}
	})
	// The window size alone is not the page's: headless Chromium keeps a
	// minimum width (500px), so the viewport is emulated, as a phone with
	// touch and the viewport meta tag below 600px.
	viewport := []chromedp.EmulateViewportOption{}
	if width < 600 {
		viewport = append(viewport, chromedp.EmulatePortrait, chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	if err := chromedp.Run(ctx, chromedp.EmulateViewport(int64(width), int64(height), viewport...)); err != nil { // starts the browser
		cancelCtx()
		cancelAlloc()
		t.Fatalf("start chromium: %v", err)
	}
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
		// Chromium's helper processes can still write to the profile for
		// a moment after the browser exited (chromedp notes the same), and
		// TempDir's own cleanup fails the test on a folder that is not
		// empty: remove it here, retrying until it stays removed.
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			err := os.RemoveAll(profile)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("remove the chromium profile: %v", err)
				break
			}
		}
	})
	return b
}

// run runs actions with a timeout, failing the test with what was being
// done.
func (b *browser) run(t *testing.T, what string, actions ...chromedp.Action) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Run(ctx, actions...); err != nil {
		b.screenshot(t, "failure-"+strings.ReplaceAll(what, " ", "-"))
		t.Fatalf("%s: %v (page errors: %v)", what, err, b.pageErrors())
	}
}

// pageErrors drains the console errors and exceptions seen so far.
func (b *browser) pageErrors() []string {
	var out []string
	for {
		select {
		case e := <-b.errors:
			out = append(out, e)
		default:
			return out
		}
	}
}

// artifactsDir is where screenshots go: $ODOO_IOT_MQTT_TEST_ARTIFACTS
// (.ci/run sets it and prints it) or testdata/artifacts, gitignored.
func artifactsDir(t *testing.T) string {
	dir := os.Getenv("ODOO_IOT_MQTT_TEST_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "testdata", "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("artifacts dir: %v", err)
	}
	return dir
}

// screenshot saves the whole page as <name>.png in the artifacts folder.
func (b *browser) screenshot(t *testing.T, name string) {
	t.Helper()
	var png []byte
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	if err := chromedp.Run(ctx, chromedp.FullScreenshot(&png, 100)); err != nil { // quality 100 is PNG, below is JPEG
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	path := filepath.Join(artifactsDir(t), name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	t.Logf("screenshot: %s", path)
}
