package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
)

//go:embed static
var staticFS embed.FS

// Options configures NewHandler.
type Options struct {
	Logger *slog.Logger // default slog.Default()
	Title  string       // the product name in the page titles; default "Odoo IoT MQTT"
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Title == "" {
		o.Title = "Odoo IoT MQTT"
	}
	return o
}

// csp forbids inline script and style (the pages have none) and every
// origin but ours; frame-ancestors and X-Frame-Options stop clickjacking.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

// Route patterns, for Routes and the router.
const (
	routeRoot   = "/"
	routeApp    = "/web"
	routeLogin  = "/web/login"
	routeStatic = "/web/static/*"
	staticPath  = "/web/static/"
)

// Routes returns the chi patterns NewHandler serves (GET and HEAD), for a
// server that mounts it next to other handlers on one router.
func Routes() []string {
	return []string{routeRoot, routeApp, routeLogin, routeStatic}
}

// asset is one embedded file with what its response needs, computed once.
type asset struct {
	name  string
	body  []byte
	ctype string
	etag  string
}

// handler serves the embedded files.
type handler struct {
	opts   Options
	log    *slog.Logger
	assets map[string]*asset // by path under static/, e.g. "app.js"
	start  time.Time         // Last-Modified of every asset: the binary's start
}

// NewHandler returns the handler of the admin pages: / redirects to /web,
// /web is the app shell, /web/login the login page, /web/static/* the
// assets. Every response has the security headers; assets are revalidated
// with their content hash as ETag, so a new binary is picked up at once.
func NewHandler(opts Options) http.Handler {
	opts = opts.withDefaults()
	h := &handler{opts: opts, log: opts.Logger, assets: map[string]*asset{}, start: time.Now()}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "static/")
		if strings.HasSuffix(name, ".html") {
			body = bytes.ReplaceAll(body, []byte("{{TITLE}}"), []byte(htmlEscape(opts.Title)))
		}
		sum := sha256.Sum256(body)
		h.assets[name] = &asset{
			name:  name,
			body:  body,
			ctype: contentType(name),
			etag:  `"` + hex.EncodeToString(sum[:12]) + `"`,
		}
		return nil
	})
	if err != nil {
		// The files are compiled in: failing to read them is a broken build.
		panic("web: reading embedded assets: " + err.Error())
	}

	r := chi.NewRouter()
	r.Use(securityHeaders)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "404 page not found", http.StatusNotFound)
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
	})
	for _, m := range []string{http.MethodGet, http.MethodHead} {
		r.Method(m, routeRoot, http.RedirectHandler(routeApp, http.StatusFound))
		r.Method(m, routeApp, h.file("index.html"))
		r.Method(m, routeLogin, h.file("login.html"))
		r.Method(m, routeStatic, http.HandlerFunc(h.serveStatic))
	}
	return r
}

// file serves one fixed asset (the HTML pages).
func (h *handler) file(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := h.assets[name]
		if a == nil {
			http.NotFound(w, r)
			return
		}
		h.serve(w, r, a)
	})
}

// serveStatic serves /web/static/<name>. Only embedded files exist, so a
// path with .. or a directory simply is not found.
func (h *handler) serveStatic(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, staticPath)
	a := h.assets[name]
	if a == nil || strings.HasSuffix(name, ".html") {
		h.log.DebugContext(r.Context(), "Unknown static asset", slog.String("path", r.URL.Path))
		http.NotFound(w, r)
		return
	}
	h.serve(w, r, a)
}

// serve writes an asset with its type and ETag; http.ServeContent answers
// If-None-Match with 304 and HEAD without a body.
func (h *handler) serve(w http.ResponseWriter, r *http.Request, a *asset) {
	hd := w.Header()
	hd.Set("Content-Type", a.ctype)
	hd.Set("ETag", a.etag)
	// no-cache means "revalidate": a cheap 304 while the binary is the same,
	// the new file as soon as it is not.
	hd.Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, a.name, h.start, bytes.NewReader(a.body))
}

// securityHeaders sets the headers every response carries, errors included.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", csp)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}

// contentType is the type of an asset by extension, with explicit entries
// for the ones whose system mapping varies (.js must be a JavaScript type
// for module scripts under nosniff).
func contentType(name string) string {
	switch path.Ext(name) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".json":
		return "application/json"
	case ".png":
		return "image/png"
	case ".ico":
		return "image/x-icon"
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// htmlEscape escapes the title for the HTML pages.
func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;").Replace(s)
}
