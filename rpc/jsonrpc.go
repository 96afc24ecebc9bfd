package rpc

import (
	"mime"
	"net/http"
	"strings"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/jsonrpc"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// The JSON-RPC envelope of Odoo's type='json' routes (§2.1): only params
// (an object) and id are read; jsonrpc and method are ignored because
// clients differ on them (the IoT client and @rlizana/odoo-rpc send
// neither).

// jsonRoute declares one JSON route: its Odoo controller name (TypeErrors
// quote it), its keyword parameters, and whether it needs a logged-in web
// session (auth='user') or hands out an anonymous cookie (save_session).
type jsonRoute struct {
	path        string
	fn          string
	required    []string
	optional    []string
	auth        bool
	saveSession bool
	handle      func(s *server, c *jsonCall) (any, error)
}

// cookie reports whether the route acts with the session cookie: the
// /web routes do, /jsonrpc carries its credentials in the body.
func (rt jsonRoute) cookie() bool { return strings.HasPrefix(rt.path, "/web/") }

// jsonCall is one request on a JSON route, after the envelope was read.
type jsonCall struct {
	w       http.ResponseWriter
	r       *http.Request
	params  map[string]any
	context map[string]any  // params.context, popped as Odoo 16 does
	session *models.Session // set on auth routes
	cookie  bool            // the handler set the session cookie itself
}

// serveJSON wraps a route with the envelope: content type, size limit,
// parsing, session, parameter binding, and the response.
func (s *server) serveJSON(rt jsonRoute) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if rt.cookie() && !s.origins.Trusted(r) {
			// The session cookie would act for its user: a page on another
			// site must not be able to call with it (CSRF).
			jsonrpc.WriteError(w, http.StatusForbidden, nil, describe(r.Context(), s.log,
				models.AccessErrorf("Cross-origin request refused: %s is not an allowed origin.", r.Header.Get("Origin"))).JSON())
			return
		}
		if !jsonContentType(r.Header.Get("Content-Type")) {
			// Odoo answers a non-JSON request on a JSON route with a bare
			// 400 page, before any envelope exists.
			http.Error(w, "400 Bad Request: "+r.URL.Path+" is a JSON-RPC route, send Content-Type: application/json", http.StatusBadRequest)
			return
		}
		body, status, jerr := jsonrpc.ReadBody(w, r, s.opts.MaxRequestBytes)
		if jerr != nil {
			jsonrpc.WriteError(w, status, nil, *jerr)
			return
		}
		id, params, jerr := parseEnvelope(body)
		if jerr != nil {
			jsonrpc.WriteError(w, http.StatusBadRequest, id, *jerr)
			return
		}
		c := &jsonCall{w: w, r: r, params: params}
		result, err := s.runJSON(rt, c)
		if err != nil {
			jsonrpc.WriteError(w, http.StatusOK, id, describe(r.Context(), s.log, err).JSON())
			return
		}
		out, err := encodeResult(id, result)
		if err != nil {
			jsonrpc.WriteError(w, http.StatusOK, id, internalError(r.Context(), s.log, err).JSON())
			return
		}
		jsonrpc.WriteBody(w, http.StatusOK, out)
	}
}

// runJSON does what Odoo does between parsing and the controller: pop the
// context, authenticate, bind the keyword parameters, call.
func (s *server) runJSON(rt jsonRoute, c *jsonCall) (any, error) {
	if raw, ok := c.params["context"]; ok {
		delete(c.params, "context")
		c.context, _ = raw.(map[string]any)
	}
	if rt.saveSession {
		defer s.ensureCookie(c)
	}
	if rt.auth {
		sess, err := s.session(c.r)
		if err != nil {
			return nil, err
		}
		c.session = sess
	}
	if err := jsonrpc.Bind(rt.fn, c.params, rt.required, rt.optional); err != nil {
		return nil, err
	}
	return rt.handle(s, c)
}

// jsonContentType accepts what Odoo's dispatcher selection accepts,
// parameters such as charset included.
func jsonContentType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || mt == "application/json-rpc")
}

// parseEnvelope returns the request id (compacted, HTML-safe JSON; nil
// when absent) and params (an object, {} when absent or null). Numbers in
// params are int64 when written as integers and float64 otherwise, as
// Python's json module reads them.
func parseEnvelope(body []byte) (id []byte, params map[string]any, jerr *jsonError) {
	id, raw, jerr := jsonrpc.Parse(body)
	if jerr != nil {
		return id, nil, jerr
	}
	if raw == nil {
		return id, map[string]any{}, nil
	}
	params, err := jsonrpc.DecodeObject(raw)
	if err != nil {
		e := jsonrpc.BadRequest(jsonrpc.CodeParseError, jsonrpc.MsgParseError, err.Error())
		return id, nil, &e
	}
	return id, params, nil
}

// encodeResult builds a success response. A nil result omits the result
// key entirely, as Odoo does for None (§2.1).
func encodeResult(id []byte, result any) ([]byte, error) {
	b := append(jsonrpc.Head(id), ',')
	if result != nil {
		var err error
		b = append(b, `"result":`...)
		if b, err = appendJSON(b, result, 0); err != nil {
			return nil, err
		}
		b = append(b, ',')
	}
	b[len(b)-1] = '}'
	return b, nil
}
