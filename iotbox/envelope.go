package iotbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// The JSON-RPC envelope of the two routes, with the same shapes as package
// rpc (odoo-rpc.md §2.1): the IoT client posts a body with only "params";
// other clients send a full {"jsonrpc", "method", "params", "id"}. Only
// params and id are read. Errors are HTTP 200 envelopes except for bodies
// that are not JSON-RPC at all (HTTP 400/413, as rpc does).

// JSON-RPC error codes and messages (odoo/http.py JsonRPCDispatcher, and
// the JSON-RPC 2.0 codes for envelope errors, as in rpc/codes.go).
const (
	codeServerError    = 200
	msgServerError     = "Odoo Server Error"
	codeSessionExpired = 100
	msgSessionExpired  = "Odoo Session Expired"
	codeParseError     = -32700
	msgParseError      = "Invalid JSON data"
	codeInvalidRequest = -32600
	msgInvalidRequest  = "Invalid JSON-RPC data"
	codeInvalidParams  = -32602
	msgInvalidParams   = "Invalid params"
	codeTooLarge       = 413
	msgTooLarge        = "Request Entity Too Large"
	codeForbidden      = 403
	msgForbidden       = "403: Forbidden"
)

// Python exception names as they appear in data.name.
const (
	nameSessionExpired = "odoo.http.SessionExpiredException"
	nameBadRequest     = "werkzeug.exceptions.BadRequest"
	nameTooLarge       = "werkzeug.exceptions.RequestEntityTooLarge"
	nameForbidden      = "werkzeug.exceptions.Forbidden"
	nameTypeError      = "builtins.TypeError"
	nameException      = "builtins.Exception"
)

// kindNames maps a models kind to its Python name, as rpc's kindWire does.
var kindNames = map[models.Kind]string{
	models.KindAccessDenied: "odoo.exceptions.AccessDenied",
	models.KindAccess:       "odoo.exceptions.AccessError",
	models.KindUser:         "odoo.exceptions.UserError",
	models.KindValidation:   "odoo.exceptions.ValidationError",
	models.KindMissing:      "odoo.exceptions.MissingError",
	models.KindValue:        "builtins.ValueError",
	models.KindType:         nameTypeError,
	models.KindAttribute:    "builtins.AttributeError",
	models.KindKey:          "builtins.KeyError",
}

// rpcError is the "error" member of a response, plus the HTTP status it
// is sent with.
type rpcError struct {
	Code    int       `json:"code"`
	Message string    `json:"message"`
	Data    errorData `json:"data"`
	status  int
}

// errorData keeps every key Odoo sends: the web client reads name and
// message, odoorpc message.
type errorData struct {
	Name      string         `json:"name"`
	Debug     string         `json:"debug"`
	Message   string         `json:"message"`
	Arguments []any          `json:"arguments"`
	Context   map[string]any `json:"context"`
}

func newError(status, code int, msg, name, message string) *rpcError {
	short := name[strings.LastIndexByte(name, '.')+1:]
	return &rpcError{Code: code, Message: msg, status: status, Data: errorData{
		Name: name, Debug: short + ": " + message, Message: message, Arguments: []any{message}, Context: map[string]any{},
	}}
}

// badParams is the answer to params of the wrong shape.
func badParams(message string) *rpcError {
	return newError(http.StatusBadRequest, codeInvalidParams, msgInvalidParams, nameTypeError, message)
}

// sessionExpired is Odoo's answer to a request without a valid session.
func sessionExpired() *rpcError {
	return newError(http.StatusOK, codeSessionExpired, msgSessionExpired, nameSessionExpired, "Session expired")
}

// describe turns an error of the record layer into the envelope error the
// client sees. Internal errors are logged here and the client gets only a
// short text.
func describe(ctx context.Context, log *slog.Logger, err error) *rpcError {
	if errors.Is(err, models.ErrSessionExpired) {
		return sessionExpired()
	}
	if name, ok := kindNames[models.KindOf(err)]; ok {
		return newError(http.StatusOK, codeServerError, msgServerError, name, models.MessageOf(err))
	}
	log.ErrorContext(ctx, "IoT box request failed", slog.Any("error", err))
	return newError(http.StatusOK, codeServerError, msgServerError, nameException, "Internal server error")
}

// request is a parsed body: the id to echo (raw JSON, "null" when absent)
// and the members of params.
type request struct {
	id     json.RawMessage
	params map[string]json.RawMessage
}

var nullID = json.RawMessage("null")

// readRequest reads and parses the body of r within max bytes.
func readRequest(w http.ResponseWriter, r *http.Request, max int64) (*request, *rpcError) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || (mt != "application/json" && mt != "application/json-rpc") {
		// A JSON content type also makes a cross-origin browser request
		// non-simple, so it cannot skip the preflight.
		return nil, newError(http.StatusBadRequest, codeInvalidRequest, msgInvalidRequest, nameBadRequest,
			r.URL.Path+" is a JSON-RPC route, send Content-Type: application/json")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, newError(http.StatusRequestEntityTooLarge, codeTooLarge, msgTooLarge, nameTooLarge,
				"The data value transmitted exceeds the capacity limit (limit "+strconv.FormatInt(tooLarge.Limit, 10)+" bytes)")
		}
		return nil, newError(http.StatusBadRequest, codeParseError, msgParseError, nameBadRequest, "cannot read request body")
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, newError(http.StatusBadRequest, codeInvalidRequest, msgInvalidRequest, nameBadRequest, "the request body must be a JSON object")
		}
		return nil, newError(http.StatusBadRequest, codeParseError, msgParseError, nameBadRequest, err.Error())
	}
	if top == nil {
		return nil, newError(http.StatusBadRequest, codeInvalidRequest, msgInvalidRequest, nameBadRequest, "the request body must be a JSON object")
	}
	req := &request{id: nullID, params: map[string]json.RawMessage{}}
	if raw := top["id"]; len(raw) > 0 {
		var buf bytes.Buffer
		if json.Compact(&buf, raw) == nil {
			var safe bytes.Buffer
			json.HTMLEscape(&safe, buf.Bytes())
			req.id = safe.Bytes()
		}
	}
	if raw := top["params"]; len(raw) > 0 && string(raw) != "null" {
		if err := json.Unmarshal(raw, &req.params); err != nil || req.params == nil {
			return nil, newError(http.StatusBadRequest, codeInvalidRequest, msgInvalidRequest, nameBadRequest, "params must be a JSON object")
		}
	}
	return req, nil
}

// writeEnvelope sends {"jsonrpc":"2.0","id":id,<member>}; member is
// `"result":...`, `"error":...` or empty (no result: Odoo drops the key
// for None).
func writeEnvelope(w http.ResponseWriter, status int, id json.RawMessage, member []byte) {
	if len(id) == 0 {
		id = nullID
	}
	buf := make([]byte, 0, 32+len(id)+len(member))
	buf = append(buf, `{"jsonrpc":"2.0","id":`...)
	buf = append(buf, id...)
	if len(member) > 0 {
		buf = append(buf, ',')
		buf = append(buf, member...)
	}
	buf = append(buf, '}', '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(buf)))
	w.WriteHeader(status)
	_, _ = w.Write(buf)
}

// writeResult sends a result that marshals to JSON.
func writeResult(w http.ResponseWriter, id json.RawMessage, result any) {
	b, err := json.Marshal(result)
	if err != nil {
		writeError(w, id, newError(http.StatusOK, codeServerError, msgServerError, nameException, "Internal server error"))
		return
	}
	writeEnvelope(w, http.StatusOK, id, append([]byte(`"result":`), b...))
}

// writeError sends e with its status.
func writeError(w http.ResponseWriter, id json.RawMessage, e *rpcError) {
	b, err := json.Marshal(e)
	if err != nil { // cannot happen: the fields are strings and plain values
		b = []byte(`{"code":200,"message":"Odoo Server Error"}`)
	}
	writeEnvelope(w, e.status, id, append([]byte(`"error":`), b...))
}
