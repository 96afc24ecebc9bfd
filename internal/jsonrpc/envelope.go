package jsonrpc

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
)

// The envelope of Odoo's type='json' routes (§2.1): only params (an
// object) and id are read; jsonrpc and method are ignored because clients
// differ on them (the IoT client and @rlizana/odoo-rpc send neither).
// Envelope errors are HTTP 400 (413 for a body over the limit); errors of
// the call itself are HTTP 200 envelopes.

// ReadBody reads r's body within limit bytes. On failure it returns the
// HTTP status and the error object to answer with.
func ReadBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, int, *Error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			e := TooLarge(tooLarge.Limit)
			return nil, http.StatusRequestEntityTooLarge, &e
		}
		e := BadRequest(CodeParseError, MsgParseError, "cannot read request body")
		return nil, http.StatusBadRequest, &e
	}
	return body, http.StatusOK, nil
}

// Parse returns the request id (compacted, HTML-safe JSON; nil when
// absent) and params, checked to be a JSON object (nil when absent or
// null). A rejected envelope is answered with HTTP 400 and e, with the id
// when it could be read.
func Parse(body []byte) (id []byte, params json.RawMessage, e *Error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil || top == nil {
		var te *json.UnmarshalTypeError
		if err == nil || errors.As(err, &te) {
			e := BadRequest(CodeInvalidRequest, MsgInvalidRequest, "the request body must be a JSON object")
			return nil, nil, &e
		}
		e := BadRequest(CodeParseError, MsgParseError, err.Error())
		return nil, nil, &e
	}
	if raw := top["id"]; len(raw) > 0 {
		var buf bytes.Buffer
		if json.Compact(&buf, raw) == nil {
			var safe bytes.Buffer
			json.HTMLEscape(&safe, buf.Bytes())
			id = safe.Bytes()
		}
	}
	raw := top["params"]
	if len(raw) == 0 || string(raw) == "null" {
		return id, nil, nil
	}
	// body was valid JSON, so raw is one whole value without leading space.
	if raw[0] != '{' {
		e := BadRequest(CodeInvalidRequest, MsgInvalidRequest, "params must be a JSON object")
		return id, nil, &e
	}
	return id, raw, nil
}

// Request is a parsed envelope with params as an object of raw values.
type Request struct {
	ID     []byte // compacted, HTML-safe JSON; nil when absent
	Params map[string]json.RawMessage
}

// ReadRequest reads and parses r's body within limit bytes. On failure it
// returns the HTTP status and error to answer with, and the request with
// the id when it could be read.
func ReadRequest(w http.ResponseWriter, r *http.Request, limit int64) (*Request, int, *Error) {
	body, status, e := ReadBody(w, r, limit)
	if e != nil {
		return &Request{}, status, e
	}
	id, raw, e := Parse(body)
	req := &Request{ID: id, Params: map[string]json.RawMessage{}}
	if e != nil {
		return req, http.StatusBadRequest, e
	}
	if raw != nil {
		if err := json.Unmarshal(raw, &req.Params); err != nil {
			e := BadRequest(CodeInvalidRequest, MsgInvalidRequest, "params must be a JSON object")
			return req, http.StatusBadRequest, &e
		}
	}
	return req, http.StatusOK, nil
}

// DecodeObject decodes a JSON object (raw starts with '{') into the plain values models takes:
// integer literals as int64 (so ids compare as ints), other numbers as
// float64, as Python's json module reads them.
func DecodeObject(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	return convertNumbers(m).(map[string]any), nil
}

// convertNumbers replaces json.Number in place.
func convertNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if n, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return n
		}
		f, _ := strconv.ParseFloat(string(x), 64) // out of range gives ±Inf, as Python
		return f
	case []any:
		for i := range x {
			x[i] = convertNumbers(x[i])
		}
	case map[string]any:
		for k, e := range x {
			x[k] = convertNumbers(e)
		}
	}
	return v
}

// Head is `{"jsonrpc":"2.0","id":<id>` without the closing brace; a nil
// id is null.
func Head(id []byte) []byte {
	if len(id) == 0 {
		id = []byte("null")
	}
	b := make([]byte, 0, 256)
	b = append(b, `{"jsonrpc":"2.0","id":`...)
	return append(b, id...)
}

// WriteResult sends {"jsonrpc":"2.0","id":id,"result":result} with
// HTTP 200; result is JSON. A nil result omits the key, as Odoo does for
// None.
func WriteResult(w http.ResponseWriter, id, result []byte) {
	b := Head(id)
	if result != nil {
		b = append(b, `,"result":`...)
		b = append(b, result...)
	}
	WriteBody(w, http.StatusOK, append(b, '}'))
}

// WriteError sends {"jsonrpc":"2.0","id":id,"error":e} with status.
func WriteError(w http.ResponseWriter, status int, id []byte, e Error) {
	eb, err := json.Marshal(e) // only strings and empty values: cannot fail
	if err != nil {
		eb = []byte(`{"code":200,"message":"Odoo Server Error"}`)
	}
	b := append(Head(id), `,"error":`...)
	b = append(append(b, eb...), '}')
	WriteBody(w, status, b)
}

// WriteBody sends a whole JSON body with status.
func WriteBody(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
