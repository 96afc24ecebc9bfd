package bus

import (
	"net/http"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/jsonrpc"
)

// The JSON-RPC envelope of the /websocket/* helper routes is the one
// package internal/jsonrpc reads and writes for every Odoo type='json'
// route (§2.1 of the wire notes), and their errors go through its table.

// readRPC reads and parses the request body; on failure it has answered.
func (b *Bus) readRPC(w http.ResponseWriter, r *http.Request) (*jsonrpc.Request, bool) {
	req, status, e := jsonrpc.ReadRequest(w, r, b.opts.MaxRequestBytes)
	if e != nil {
		jsonrpc.WriteError(w, status, req.ID, *e)
		return nil, false
	}
	// Odoo 16 pops the context out of params before binding them.
	delete(req.Params, "context")
	return req, true
}

// writeRPCFailure answers with what the client sees for err.
func (b *Bus) writeRPCFailure(w http.ResponseWriter, r *http.Request, status int, id []byte, err error) {
	jsonrpc.WriteError(w, status, id, jsonrpc.Describe(r.Context(), b.log, err).JSON())
}
