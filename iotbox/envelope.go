package iotbox

import (
	"encoding/json"
	"mime"
	"net/http"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/jsonrpc"
)

// The JSON-RPC envelope of the two routes is package internal/jsonrpc's,
// the same as rpc's (odoo-rpc.md §2.1): the IoT client posts a body with
// only "params"; other clients send a full {"jsonrpc", "method", "params",
// "id"}. Only params and id are read. Errors are HTTP 200 envelopes except
// for bodies that are not JSON-RPC at all (HTTP 400/413) and params of the
// wrong shape (HTTP 400).

// readRequest reads and parses the body of r within max bytes; on failure
// it has answered.
func readRequest(w http.ResponseWriter, r *http.Request, max int64) (*jsonrpc.Request, bool) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || (mt != "application/json" && mt != "application/json-rpc") {
		// A JSON content type also makes a cross-origin browser request
		// non-simple, so it cannot skip the preflight.
		jsonrpc.WriteError(w, http.StatusBadRequest, nil, jsonrpc.BadRequest(jsonrpc.CodeInvalidRequest, jsonrpc.MsgInvalidRequest,
			r.URL.Path+" is a JSON-RPC route, send Content-Type: application/json"))
		return nil, false
	}
	req, status, e := jsonrpc.ReadRequest(w, r, max)
	if e != nil {
		jsonrpc.WriteError(w, status, req.ID, *e)
		return nil, false
	}
	return req, true
}

// badParams is the answer to params of the wrong shape (sent with HTTP 400).
func badParams(message string) *jsonrpc.Error {
	e := jsonrpc.NewError(jsonrpc.CodeInvalidParams, jsonrpc.MsgInvalidParams, jsonrpc.NameTypeError, message)
	return &e
}

// writeBadParams sends e, from badParams.
func writeBadParams(w http.ResponseWriter, id []byte, e *jsonrpc.Error) {
	jsonrpc.WriteError(w, http.StatusBadRequest, id, *e)
}

// writeFailure sends what the client sees for err (internal errors are
// logged there, with the request id).
func (b *Box) writeFailure(w http.ResponseWriter, r *http.Request, id []byte, err error) {
	jsonrpc.WriteError(w, http.StatusOK, id, jsonrpc.Describe(r.Context(), b.log, err).JSON())
}

// writeResult sends a result that marshals to JSON.
func (b *Box) writeResult(w http.ResponseWriter, r *http.Request, id []byte, result any) {
	out, err := json.Marshal(result)
	if err != nil {
		b.writeFailure(w, r, id, err)
		return
	}
	jsonrpc.WriteResult(w, id, out)
}
