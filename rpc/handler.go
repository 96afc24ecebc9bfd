package rpc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/clientaddr"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/jsonrpc"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/origin"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/py"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/rpc/xmlrpc"
)

// Options configures NewHandler. Zero values get the defaults documented
// on each field, except ListDB, whose zero value (listing disabled) is the
// safe one.
type Options struct {
	DBName          string        // the database name clients must pass; default "odoo"
	ListDB          bool          // answer db.list and /web/database/list (Odoo's list_db)
	MaxRequestBytes int64         // largest request body; default 10 MiB
	SessionMaxAge   time.Duration // web session lifetime and cookie Max-Age; default 7 days
	LoginRateLimit  int           // failed logins per remote address per minute, on every entry point; default 10
	AllowedOrigins  []string      // foreign browser origins trusted on the /web routes, besides our own host
	Logger          *slog.Logger  // default slog.Default()

	// LoginUserRateLimit is the failed logins per account (login or uid)
	// per minute from all addresses together; default 20. See authThrottle.
	LoginUserRateLimit int
}

func (o Options) withDefaults() Options {
	if o.DBName == "" {
		o.DBName = "odoo"
	}
	if o.MaxRequestBytes <= 0 {
		o.MaxRequestBytes = 10 << 20
	}
	if o.SessionMaxAge <= 0 {
		o.SessionMaxAge = 7 * 24 * time.Hour // Odoo's SESSION_LIFETIME
	}
	if o.LoginRateLimit <= 0 {
		o.LoginRateLimit = 10
	}
	if o.LoginUserRateLimit <= 0 {
		o.LoginUserRateLimit = 20
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// server is the state every route shares.
type server struct {
	reg      *models.Registry
	opts     Options
	log      *slog.Logger
	throttle *authThrottle
	origins  origin.Policy

	services map[string]serviceFunc
}

// xmlrpcRoutes are the XML-RPC endpoints: /xmlrpc/2 with integer fault
// codes, the legacy /xmlrpc with string ones (§0).
const (
	xmlrpcPath       = "/xmlrpc/2/{service}"
	xmlrpcLegacyPath = "/xmlrpc/{service}"
)

// jsonRoutes is every JSON route, with its Odoo controller signature.
var jsonRoutes = []jsonRoute{
	{path: "/jsonrpc", fn: "jsonrpc", required: []string{"service", "method", "args"}, handle: jsonrpcCall},
	{path: "/web/webclient/version_info", fn: "version_info", saveSession: true, handle: webVersionInfo},
	{path: "/web/session/authenticate", fn: "authenticate", required: []string{"db", "login", "password"},
		optional: []string{"base_location"}, saveSession: true, handle: webAuthenticate},
	{path: "/web/session/get_session_info", fn: "get_session_info", auth: true, handle: webGetSessionInfo},
	{path: "/web/session/check", fn: "check", auth: true, handle: webCheck},
	{path: "/web/session/destroy", fn: "destroy", auth: true, handle: webDestroy},
	{path: "/web/session/modules", fn: "modules", auth: true, handle: webModules},
	{path: "/web/session/get_lang_list", fn: "get_lang_list", saveSession: true, handle: webLangList},
	{path: "/web/database/list", fn: "list", saveSession: true, handle: webDatabaseList},
	{path: "/web/dataset/call_kw", fn: "call_kw", required: []string{"model", "method", "args", "kwargs"},
		optional: []string{"path"}, auth: true, handle: webCallKw},
	{path: "/web/dataset/call_kw/*", fn: "call_kw", required: []string{"model", "method", "args", "kwargs"},
		optional: []string{"path"}, auth: true, handle: webCallKw},
	{path: "/web/dataset/call_button", fn: "call_button", required: []string{"model", "method", "args", "kwargs"},
		auth: true, handle: webCallButton},
	{path: "/web/dataset/search_read", fn: "search_read", required: []string{"model"},
		optional: []string{"fields", "offset", "limit", "domain", "sort"}, auth: true, handle: webSearchRead},
}

// Routes returns the chi patterns NewHandler serves, for a server that
// mounts the handler next to others on one router: every path matching
// one of these must reach the handler unchanged.
func Routes() []string {
	out := []string{xmlrpcPath, xmlrpcLegacyPath, exportPath, json2Path, json2Root, json2Subtree, docPath, docModelPath}
	for _, rt := range jsonRoutes {
		out = append(out, rt.path)
	}
	return out
}

// NewHandler returns the handler of Odoo's external RPC: /xmlrpc/2/*,
// /xmlrpc/*, /jsonrpc and the /web routes of Routes, all POST only (other
// methods get 405). Unknown paths get a plain 404, as in Odoo, where the
// JSON dispatcher is only chosen once a route matched.
func NewHandler(reg *models.Registry, opts Options) http.Handler {
	return newHandler(reg, opts, nil)
}

// newHandler is NewHandler with extra services, which tests use to reach
// paths no real service takes (nil results, panics).
func newHandler(reg *models.Registry, opts Options, extra map[string]serviceFunc) http.Handler {
	opts = opts.withDefaults()
	s := &server{
		reg:      reg,
		opts:     opts,
		log:      opts.Logger,
		throttle: newAuthThrottle(opts.LoginRateLimit, opts.LoginUserRateLimit, time.Minute, defaultLimiterSize, opts.Logger),
		origins:  origin.New(opts.AllowedOrigins),
		services: maps.Clone(services),
	}
	maps.Copy(s.services, extra)
	r := chi.NewRouter()
	r.Use(withRequestID, withClientAddr, s.recoverer)
	r.Post(xmlrpcPath, s.serveXMLRPC(false))
	r.Post(xmlrpcLegacyPath, s.serveXMLRPC(true))
	r.Post(exportPath, s.serveExportCSV)
	for _, rt := range jsonRoutes {
		r.Post(rt.path, s.serveJSON(rt))
	}
	// Odoo 19 answers every method on /json/2/<model>/<method> (a 404
	// hint for all but POST) and a hint on the rest of /json/2.
	r.HandleFunc(json2Path, s.serveJSON2)
	r.HandleFunc(json2Root, s.serveJSON2NotFound)
	r.HandleFunc(json2Subtree, s.serveJSON2NotFound)
	r.Get(docPath, s.serveDoc)
	r.Get(docModelPath, s.serveDocModel)
	return r
}

// jsonrpcCall is POST /jsonrpc: the same dispatch as XML-RPC, positional
// args, no session (§2.3).
func jsonrpcCall(s *server, c *jsonCall) (any, error) {
	args, ok := c.params["args"].([]any)
	if !ok {
		return nil, models.TypeErrorf("jsonrpc() args must be a list, not %s", py.TypeName(c.params["args"]))
	}
	return s.dispatch(c.r.Context(), py.Text(c.params["service"]), py.Text(c.params["method"]), args)
}

// withRequestID gives each request an id for the logs and for the message
// of an internal error. It reuses chi's key, so an id set by an outer
// middleware.RequestID is kept and log lines correlate.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if middleware.GetReqID(r.Context()) == "" {
			b := make([]byte, 8)
			_, _ = rand.Read(b)
			ctx := context.WithValue(r.Context(), middleware.RequestIDKey, hex.EncodeToString(b))
			r = r.WithContext(ctx)
		}
		next.ServeHTTP(w, r)
	})
}

// withClientAddr puts the client's address (clientaddr.Key, which in
// proxy mode is the one the server's clientaddr.Resolver found) in the
// request's context, where the login throttle reads it and logs it:
// dispatch knows no HTTP.
func withClientAddr(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := context.WithValue(r.Context(), clientAddrKey{}, clientaddr.Key(r))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// recoverer turns a panic into the dialect's internal error (a fault 1 or
// a JSON-RPC error) and logs it with its stack; a client never sees a 500
// page or a trace. Handlers build their whole body before writing, so
// nothing has been written when a handler panics.
func (s *server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v) // net/http's way to abort a response; not ours to catch
			}
			err := fmt.Errorf("panic: %v\n%s", v, debug.Stack())
			we := internalError(r.Context(), s.log, err)
			switch {
			case strings.HasPrefix(r.URL.Path, json2Root+"/"):
				s.writeJSON2Error(w, we.Failure)
			case strings.HasPrefix(r.URL.Path, "/xmlrpc/2/"):
				code, text := we.fault()
				writeXML(w, xmlrpc.EncodeFault(code, text))
			case strings.HasPrefix(r.URL.Path, "/xmlrpc/"):
				code, text := we.legacyFault()
				writeXML(w, xmlrpc.EncodeFault(code, text))
			default:
				jsonrpc.WriteError(w, http.StatusOK, nil, we.JSON())
			}
		}()
		next.ServeHTTP(w, r)
	})
}
