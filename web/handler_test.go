package web

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
)

func TestHandler(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(NewHandler(Options{Title: `Test <&> "title"`}))
	t.Cleanup(srv.Close)
	client := srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	tests := []struct {
		name     string
		method   string
		path     string
		status   int
		ctype    string // prefix of Content-Type; "" = not checked
		location string
		body     string // substring of the body; "" = not checked
	}{
		{"root redirects", "GET", "/", http.StatusFound, "", "/web", ""},
		{"app shell", "GET", "/web", http.StatusOK, "text/html; charset=utf-8", "", `src="/web/static/app.js"`},
		{"title escaped", "GET", "/web", http.StatusOK, "text/html", "", "Test &lt;&amp;&gt; &quot;title&quot;"},
		{"login page", "GET", "/web/login", http.StatusOK, "text/html; charset=utf-8", "", `src="/web/static/login.js"`},
		{"head", "HEAD", "/web/login", http.StatusOK, "text/html", "", ""},
		{"script", "GET", "/web/static/app.js", http.StatusOK, "text/javascript; charset=utf-8", "", ""},
		{"module", "GET", "/web/static/rpc.js", http.StatusOK, "text/javascript", "", "export"},
		{"style", "GET", "/web/static/app.css", http.StatusOK, "text/css; charset=utf-8", "", ""},
		{"device proxy", "GET", "/web/static/device_proxy.js", http.StatusOK, "text/javascript", "", "DeviceProxy"},
		{"view index", "GET", "/web/static/views/index.js", http.StatusOK, "text/javascript; charset=utf-8", "", "buildRegistry"},
		{"view file", "GET", "/web/static/views/mqtt_broker.js", http.StatusOK, "text/javascript; charset=utf-8", "", "registerView"},
		{"panel", "GET", "/web/static/panels/live_list.js", http.StatusOK, "text/javascript; charset=utf-8", "", "export"},
		{"channels", "GET", "/web/static/channels.js", http.StatusOK, "text/javascript; charset=utf-8", "", "mqtt_realtime"},
		{"views folder", "GET", "/web/static/views/", http.StatusNotFound, "", "", ""},
		{"unknown static", "GET", "/web/static/nope.js", http.StatusNotFound, "text/plain", "", ""},
		{"html not under static", "GET", "/web/static/index.html", http.StatusNotFound, "", "", ""},
		{"dot dot", "GET", "/web/static/../handler.go", http.StatusNotFound, "", "", ""},
		{"directory", "GET", "/web/static/", http.StatusNotFound, "", "", ""},
		{"unknown page", "GET", "/web/nope", http.StatusNotFound, "", "", ""},
		{"post refused", "POST", "/web", http.StatusMethodNotAllowed, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body := readAll(t, resp)
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			// Every response, errors and redirects included, carries the
			// security headers.
			for k, want := range map[string]string{
				"Content-Security-Policy": csp,
				"X-Content-Type-Options":  "nosniff",
				"Referrer-Policy":         "same-origin",
				"X-Frame-Options":         "DENY",
			} {
				if got := resp.Header.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			if ct := resp.Header.Get("Content-Type"); tt.ctype != "" && !strings.HasPrefix(ct, tt.ctype) {
				t.Errorf("Content-Type = %q, want %q", ct, tt.ctype)
			}
			if loc := resp.Header.Get("Location"); loc != tt.location {
				t.Errorf("Location = %q, want %q", loc, tt.location)
			}
			if tt.body != "" && !strings.Contains(body, tt.body) {
				t.Errorf("body does not contain %q:\n%s", tt.body, body)
			}
			if tt.method == "HEAD" && body != "" {
				t.Errorf("HEAD has a body: %q", body)
			}
		})
	}
}

// TestCSPDirectives pins the policy: no inline script or style, no other
// origins, no framing.
func TestCSPDirectives(t *testing.T) {
	t.Parallel()
	for _, d := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "object-src 'none'",
		"base-uri 'none'", "frame-ancestors 'none'", "connect-src 'self'", "form-action 'self'"} {
		if !strings.Contains(csp, d+";") && !strings.HasSuffix(csp, d) {
			t.Errorf("CSP lacks %q", d)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("CSP allows unsafe sources: %s", csp)
	}
}

// TestNoInlineCode checks the embedded pages against the policy: a page
// with inline script, a style attribute or a javascript: URL would break
// under the CSP (and is how markup injection starts).
func TestNoInlineCode(t *testing.T) {
	t.Parallel()
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		text := strings.ToLower(string(body))
		switch {
		case strings.HasSuffix(p, ".html"):
			for _, bad := range []string{"<style", " style=", "javascript:", " onclick=", " onload=", " onerror="} {
				if strings.Contains(text, bad) {
					t.Errorf("%s contains %q", p, bad)
				}
			}
			for _, tag := range strings.Split(text, "<script")[1:] {
				if !strings.Contains(tag[:strings.Index(tag, ">")], "src=") {
					t.Errorf("%s has an inline <script>", p)
				}
			}
		case strings.HasSuffix(p, ".js"):
			// innerHTML/outerHTML/insertAdjacentHTML/document.write turn
			// data into markup; the pages build their DOM node by node.
			for _, bad := range []string{".innerhtml", ".outerhtml", "insertadjacenthtml", "document.write", "eval(", "new function("} {
				if strings.Contains(text, bad) {
					t.Errorf("%s uses %q", p, bad)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestETag checks that assets revalidate: the ETag comes back as a 304.
func TestETag(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(NewHandler(Options{}))
	t.Cleanup(srv.Close)
	resp, err := srv.Client().Get(srv.URL + "/web/static/app.js")
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, resp)
	etag := resp.Header.Get("ETag")
	if etag == "" || resp.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("ETag %q, Cache-Control %q", etag, resp.Header.Get("Cache-Control"))
	}
	req, _ := http.NewRequest("GET", srv.URL+"/web/static/app.js", nil)
	req.Header.Set("If-None-Match", etag)
	resp, err = srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, resp)
	if resp.StatusCode != http.StatusNotModified {
		t.Fatalf("revalidation status = %d, want 304", resp.StatusCode)
	}
}

// TestRoutes mounts the handler on another router, one pattern at a time,
// as the server does, and checks each pattern reaches it.
func TestRoutes(t *testing.T) {
	t.Parallel()
	h := NewHandler(Options{})
	r := chi.NewRouter()
	for _, p := range Routes() {
		r.Handle(p, h)
	}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	client := srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for _, path := range []string{"/", "/web", "/web/login", "/web/static/app.css"} {
		resp, err := client.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, resp)
		if resp.StatusCode >= 400 || resp.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("GET %s through the mounted patterns: %d", path, resp.StatusCode)
		}
	}
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
