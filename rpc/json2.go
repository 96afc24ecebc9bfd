package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"regexp"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/jsonrpc"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// Odoo 19's JSON-2 API (addons/web/controllers/json2.py,
// WebJson2Controller): POST /json/2/<model>/<method>, a bearer API key,
// the method's arguments by name in a JSON object, the return value as
// plain JSON, and errors as HTTP statuses with
// odoo.http.serialize_exception's body. The call goes through the same
// models.Execute as execute_kw (access rights, record rules, binding, one
// transaction), and the same login throttle as every other dialect.

const (
	json2Path    = "/json/2/{model}/{method}"
	json2Root    = "/json/2"
	json2Subtree = "/json/2/*"
)

// json2DidYouMean is Odoo 19's 404 for any other /json/2 path or method.
const json2DidYouMean = "Did you mean POST /json/2/<model>/<method>?"

// Odoo 19's texts for a refused bearer (ir_http._auth_method_bearer).
const (
	msgInvalidAPIKey   = "Invalid apikey"
	msgNoAuthorization = `User not authenticated, use the "Authorization" header`
)

// bearerRe is Odoo's ^bearer\s+(.+)$, case-insensitive.
var bearerRe = regexp.MustCompile(`(?i)^bearer\s+(.+)$`)

// serveJSON2 is POST /json/2/<model>/<method>. The order is Odoo 19's:
// the route (method, content type, body) first, then the key, then the
// model and method, the ids and the arguments, then the call.
func (s *server) serveJSON2(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if r.Method != http.MethodPost {
		s.writeJSON2Error(w, jsonrpc.HTTPFailure(http.StatusNotFound, jsonrpc.NameNotFound, json2DidYouMean))
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		// Odoo's Json2RpcDispatcher only takes application/json; another
		// type finds no dispatcher for the route.
		s.writeJSON2Error(w, jsonrpc.HTTPFailure(http.StatusUnsupportedMediaType, "werkzeug.exceptions.UnsupportedMediaType",
			"POST /json/2/<model>/<method> takes Content-Type: application/json"))
		return
	}
	body, status, jerr := jsonrpc.ReadBody(w, r, s.opts.MaxRequestBytes)
	if jerr != nil {
		s.writeJSON2Error(w, jsonrpc.HTTPFailure(status, jerr.Data.Name, jerr.Data.Message))
		return
	}
	params := map[string]any{}
	if len(bytes.TrimSpace(body)) > 0 {
		if trimmed := bytes.TrimSpace(body); trimmed[0] != '{' {
			s.writeJSON2Error(w, jsonrpc.HTTPFailure(http.StatusBadRequest, jsonrpc.NameBadRequest, "could not parse the body, expecting a json object"))
			return
		}
		var err error
		if params, err = jsonrpc.DecodeObject(body); err != nil {
			s.writeJSON2Error(w, jsonrpc.HTTPFailure(http.StatusBadRequest, jsonrpc.NameBadRequest, "could not parse the body as json: "+err.Error()))
			return
		}
	}
	if db := r.Header.Get("X-Odoo-Database"); db != "" && db != s.opts.DBName {
		// Odoo finds no database of that name, so no route with auth.
		s.writeJSON2Error(w, jsonrpc.HTTPFailure(http.StatusNotFound, jsonrpc.NameNotFound, `database "`+db+`" does not exist`))
		return
	}
	uid, err := s.bearer(ctx, r)
	if err != nil {
		s.writeJSON2Error(w, s.json2Failure(ctx, err))
		return
	}
	ids := params["ids"]
	delete(params, "ids")
	// Execute pops kwargs.context as call_kw does: the same context rules.
	call := models.Call{UID: uid, Model: chi.URLParam(r, "model"), Method: chi.URLParam(r, "method"), Kwargs: params, Named: true, IDs: ids}
	res, err := s.reg.Execute(ctx, call)
	if err != nil {
		s.writeJSON2Error(w, s.json2Failure(ctx, &callError{service: "json2", method: call.Method, model: call.Model, err: err}))
		return
	}
	out, err := appendJSON(nil, res, 0) // None is null, as in Odoo 19
	if err != nil {
		s.writeJSON2Error(w, internalError(ctx, s.log, err).Failure)
		return
	}
	jsonrpc.WriteBody(w, http.StatusOK, out)
}

// errBearerMissing and errBearerInvalid are the 401s of a request without
// a usable API key.
var (
	errBearerMissing = errors.New(msgNoAuthorization)
	errBearerInvalid = errors.New(msgInvalidAPIKey)
)

// bearer returns the user of the request's API key, throttled like every
// other credential check: per address, and per key index as the account
// (the key alone names its user).
func (s *server) bearer(ctx context.Context, r *http.Request) (int64, error) {
	m := bearerRe.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		return 0, errBearerMissing
	}
	key := strings.TrimSpace(m[1])
	index := key
	if len(index) > 8 {
		index = index[:8]
	}
	addr, account := clientAddr(ctx), "apikey:"+index
	if err := s.throttle.check(ctx, addr, account); err != nil {
		return 0, err
	}
	uid, err := s.reg.AuthenticateAPIKey(ctx, key)
	switch {
	case err == nil:
		s.throttle.succeed(addr, account)
		return uid, nil
	case models.KindOf(err) == models.KindAccessDenied:
		s.throttle.fail(ctx, addr, account)
		return 0, errBearerInvalid
	}
	return 0, err
}

// json2Failure is describe's answer for err with JSON-2's own cases: the
// bearer's 401s and the throttle's 429.
func (s *server) json2Failure(ctx context.Context, err error) jsonrpc.Failure {
	switch {
	case errors.Is(err, errBearerMissing), errors.Is(err, errBearerInvalid):
		return jsonrpc.HTTPFailure(http.StatusUnauthorized, jsonrpc.NameUnauthorized, err.Error())
	}
	f := describe(ctx, s.log, err).Failure
	if errors.Is(err, errTooManyLogins) {
		// Our throttle, which Odoo does not have: a client should wait,
		// not replace a key that may be right.
		f.Status = http.StatusTooManyRequests
	}
	return f
}

// writeJSON2Error sends f as Odoo 19's JSON-2 error body with its status;
// a 401 carries WWW-Authenticate: bearer, as werkzeug's Unauthorized does.
func (s *server) writeJSON2Error(w http.ResponseWriter, f jsonrpc.Failure) {
	b, err := json.Marshal(f.JSON2()) // strings and ints only
	if err != nil {
		s.log.Error("Unable to encode a JSON-2 error", slog.Any("error", err))
		b = []byte(`{"name":"builtins.Exception","message":"internal server error","arguments":[],"context":{},"debug":""}`)
	}
	if f.HTTPStatus() == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", "bearer")
	}
	jsonrpc.WriteBody(w, f.HTTPStatus(), b)
}

// serveJSON2NotFound is every other /json/2 path: Odoo 19's hint.
func (s *server) serveJSON2NotFound(w http.ResponseWriter, r *http.Request) {
	s.writeJSON2Error(w, jsonrpc.HTTPFailure(http.StatusNotFound, jsonrpc.NameNotFound, json2DidYouMean))
}
