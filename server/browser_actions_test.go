package main

// Page actions for the browser tests, on top of chromedp: waits, typing,
// choosing, the header menu, and reading what a page shows.
// chromedp.Poll evaluates with new Function, which the pages'
// Content-Security-Policy forbids, so waits here poll from Go.

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// until waits until the JavaScript expression is truthy, polling every
// 100ms until the action's context ends. Errors while the page navigates
// count as "not yet".
func until(expr string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		var lastErr error
		for {
			var ok bool
			err := chromedp.Evaluate("Boolean("+expr+")", &ok).Do(ctx)
			if err == nil && ok {
				return nil
			}
			lastErr = err
			select {
			case <-ctx.Done():
				return fmt.Errorf("waiting for %s: %w (last error: %v)", expr, ctx.Err(), lastErr)
			case <-time.After(100 * time.Millisecond):
			}
		}
	})
}

// fill empties an input and types value into it, key by key.
func fill(sel, value string) chromedp.Action {
	return chromedp.Tasks{
		chromedp.WaitVisible(sel, chromedp.ByQuery),
		chromedp.Evaluate(fmt.Sprintf(`(() => { const el = document.querySelector(%s); el.value = ""; el.focus(); })()`, jsString(sel)), nil),
		chromedp.SendKeys(sel, value, chromedp.ByQuery),
	}
}

// pick chooses value in a select once the option is there (many2one
// options come from name_search) and fires change, as a user's choice does.
func pick(sel, value string) chromedp.Action {
	opt := fmt.Sprintf(`document.querySelector(%s + " option[value='" + %s + "']")`, jsString(sel), jsString(value))
	return chromedp.Tasks{
		until(opt),
		chromedp.SetValue(sel, value, chromedp.ByQuery),
		chromedp.Evaluate(fmt.Sprintf(`document.querySelector(%s).dispatchEvent(new Event("change", {bubbles: true}))`, jsString(sel)), nil),
	}
}

// click clicks the first element matching a CSS selector.
func click(sel string) chromedp.Action { return chromedp.Click(sel, chromedp.ByQuery) }

// menu opens a page from the header menu, opening the dropdown that
// holds it first.
func menu(action string) chromedp.Action {
	link := fmt.Sprintf(`a.menu-link[data-action=%s]`, jsString(action))
	return chromedp.ActionFunc(func(ctx context.Context) error {
		var visible bool
		if err := chromedp.Evaluate(fmt.Sprintf(`document.querySelector(%s).offsetParent !== null`, jsString(link)), &visible).Do(ctx); err != nil {
			return err
		}
		if !visible {
			parent := fmt.Sprintf(`//li[contains(@class,"menu-item")][.//a[@data-action=%s]]/button`, jsString(action))
			if err := chromedp.Click(parent, chromedp.BySearch).Do(ctx); err != nil {
				return err
			}
		}
		return chromedp.Tasks{
			click(link),
			until(fmt.Sprintf(`location.hash.startsWith("#/" + %s)`, jsString(action))),
		}.Do(ctx)
	})
}

// listLoaded waits for the list view of action with its records on
// screen (not the page before it, which stays until the new one is ready).
func listLoaded(action string) chromedp.Action {
	return until(fmt.Sprintf(`(() => { const v = document.querySelector("[data-testid=list-view]");
		return v && v.dataset.action === %s && !v.classList.contains("loading") && v.querySelector("[data-testid=pager-total]").textContent !== ""; })()`,
		jsString(action)))
}

// formLoaded waits for a form view showing record id (0: any saved record).
func formLoaded(id int64) chromedp.Action {
	want := `v.dataset.id !== ""`
	if id != 0 {
		want = fmt.Sprintf(`v.dataset.id === "%d"`, id)
	}
	return until(`(() => { const v = document.querySelector("[data-testid=form-view]");
		return v && !v.classList.contains("loading") && ` + want + `; })()`)
}

// savedID waits for the route of a saved record of action and returns its id.
func savedID(t *testing.T, b *browser, action string) int64 {
	t.Helper()
	var hash string
	b.run(t, "wait for the saved "+action,
		until(fmt.Sprintf(`/^#\/%s\/\d+$/.test(location.hash)`, regexp.QuoteMeta(action))),
		formLoaded(0),
		chromedp.Evaluate(`location.hash`, &hash))
	id, err := strconv.ParseInt(hash[strings.LastIndex(hash, "/")+1:], 10, 64)
	if err != nil {
		t.Fatalf("route %q: %v", hash, err)
	}
	return id
}

// noPageErrors fails the test when the page logged errors, exceptions or
// CSP violations.
func noPageErrors(t *testing.T, b *browser) {
	t.Helper()
	if errs := b.pageErrors(); len(errs) > 0 {
		t.Errorf("page errors:\n%s", strings.Join(errs, "\n"))
	}
}
