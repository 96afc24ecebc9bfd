package bus

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// The JSON-RPC envelope of the /websocket/* helper routes. It is the same
// envelope package rpc writes for Odoo's type='json' routes (§2.1 of the
// wire notes): bus does not import rpc, so the few shapes it needs are
// repeated here and must stay identical to rpc's.

// JSON-RPC codes and Odoo exception names (odoo/http.py JsonRPCDispatcher).
const (
	codeServerError    = 200
	msgServerError     = "Odoo Server Error"
	codeSessionExpired = 100
	msgSessionExpired  = "Odoo Session Expired"
	codeParseError     = -32700
	msgParseError      = "Invalid JSON data"
	codeInvalidRequest = -32600
	msgInvalidRequest  = "Invalid JSON-RPC data"
	codeTooLarge       = 413
	msgTooLarge        = "Request Entity Too Large"

	nameSessionExpired = "odoo.http.SessionExpiredException"
	nameBadRequest     = "werkzeug.exceptions.BadRequest"
	nameTooLarge       = "werkzeug.exceptions.RequestEntityTooLarge"
	nameAccessError    = "odoo.exceptions.AccessError"
	nameValueError     = "builtins.ValueError"
	nameTypeError      = "builtins.TypeError"

	textSessionExpired = "Session expired"
	textTooLarge       = "The data value transmitted exceeds the capacity limit."
)

// rpcError is the "error" member of a JSON-RPC response.
type rpcError struct {
	Code    int          `json:"code"`
	Message string       `json:"message"`
	Data    rpcErrorData `json:"data"`
}

type rpcErrorData struct {
	Name      string         `json:"name"`
	Debug     string         `json:"debug"`
	Message   string         `json:"message"`
	Arguments []any          `json:"arguments"`
	Context   map[string]any `json:"context"`
}

// newRPCError builds an error whose debug text is "<Class>: message", what
// rpc sends where Odoo sends a traceback.
func newRPCError(code int, msg, name, message string) rpcError {
	return rpcError{Code: code, Message: msg, Data: rpcErrorData{
		Name: name, Debug: name[strings.LastIndexByte(name, '.')+1:] + ": " + message, Message: message,
		Arguments: []any{message}, Context: map[string]any{},
	}}
}

// Errors the helper routes answer with.
var (
	errSessionExpired = newRPCError(codeSessionExpired, msgSessionExpired, nameSessionExpired, textSessionExpired)
	errCrossOrigin    = func(o string) rpcError {
		return newRPCError(codeServerError, msgServerError, nameAccessError, "Cross-origin request refused: "+o+" is not an allowed origin.")
	}
	errValue = func(text string) rpcError { return newRPCError(codeServerError, msgServerError, nameValueError, text) }
	errType  = func(text string) rpcError { return newRPCError(codeServerError, msgServerError, nameTypeError, text) }
)

// badRequest is the error of a request the envelope rejects.
func badRequest(code int, msg, detail string) rpcError {
	e := newRPCError(code, msg, nameBadRequest, msg)
	e.Data.Debug += ": " + detail
	return e
}

// rpcRequest is a parsed envelope: the id (compacted, HTML-safe JSON) and
// params as an object of raw values.
type rpcRequest struct {
	id     []byte
	params map[string]json.RawMessage
}

// readRPC reads and parses the request body; on failure it has answered.
func (b *Bus) readRPC(w http.ResponseWriter, r *http.Request) (*rpcRequest, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, b.opts.MaxRequestBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			msg := textTooLarge + " (limit " + strconv.FormatInt(tooLarge.Limit, 10) + " bytes)"
			writeRPCError(w, http.StatusRequestEntityTooLarge, nil, newRPCError(codeTooLarge, msgTooLarge, nameTooLarge, msg))
			return nil, false
		}
		writeRPCError(w, http.StatusBadRequest, nil, badRequest(codeParseError, msgParseError, "cannot read request body"))
		return nil, false
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil || top == nil {
		var te *json.UnmarshalTypeError
		if err == nil || errors.As(err, &te) {
			writeRPCError(w, http.StatusBadRequest, nil, badRequest(codeInvalidRequest, msgInvalidRequest, "the request body must be a JSON object"))
		} else {
			writeRPCError(w, http.StatusBadRequest, nil, badRequest(codeParseError, msgParseError, err.Error()))
		}
		return nil, false
	}
	req := &rpcRequest{params: map[string]json.RawMessage{}}
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
			writeRPCError(w, http.StatusBadRequest, req.id, badRequest(codeInvalidRequest, msgInvalidRequest, "params must be a JSON object"))
			return nil, false
		}
	}
	// Odoo 16 pops the context out of params before binding them.
	delete(req.params, "context")
	return req, true
}

// bind checks params against a route's keyword parameters the way Python
// binds them, and returns the TypeError Odoo would raise.
func (req *rpcRequest) bind(fn string, required, optional []string) *rpcError {
	for k := range req.params {
		if !slices.Contains(required, k) && !slices.Contains(optional, k) {
			e := errType(fn + "() got an unexpected keyword argument '" + k + "'")
			return &e
		}
	}
	var missing []string
	for _, k := range required {
		if _, ok := req.params[k]; !ok {
			missing = append(missing, "'"+k+"'")
		}
	}
	switch len(missing) {
	case 0:
		return nil
	case 1:
		e := errType(fn + "() missing 1 required positional argument: " + missing[0])
		return &e
	default:
		e := errType(fn + "() missing " + strconv.Itoa(len(missing)) + " required positional arguments: " +
			strings.Join(missing[:len(missing)-1], ", ") + " and " + missing[len(missing)-1])
		return &e
	}
}

// writeRPCResult writes {"jsonrpc":"2.0","id":..,"result":result}.
func writeRPCResult(w http.ResponseWriter, id []byte, result []byte) {
	b := envelopeHead(id)
	b = append(b, `,"result":`...)
	b = append(b, result...)
	writeJSON(w, http.StatusOK, append(b, '}'))
}

func writeRPCError(w http.ResponseWriter, status int, id []byte, e rpcError) {
	eb, err := json.Marshal(e) // strings and empty values only: cannot fail
	if err != nil {
		eb = []byte(`{"code":200,"message":"Odoo Server Error"}`)
	}
	b := append(envelopeHead(id), `,"error":`...)
	b = append(append(b, eb...), '}')
	writeJSON(w, status, b)
}

func envelopeHead(id []byte) []byte {
	if len(id) == 0 {
		id = []byte("null")
	}
	b := make([]byte, 0, 256)
	b = append(b, `{"jsonrpc":"2.0","id":`...)
	return append(b, id...)
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
