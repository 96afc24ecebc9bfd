// Package rpc serves Odoo 16's external RPC surface so that unmodified Odoo
// clients (Python's xmlrpc.client, odoorpc, odooly, erppeek, odoo-await,
// the web client's RPC layer) work against this server.
//
// The package has three layers, and the arrows point one way:
//
//   - the dispatcher (dispatch.go and service_*.go) knows no wire format: it
//     takes a service, a method and positional params as plain Go values,
//     checks the database name and the credentials, calls models, and
//     returns a result or an error of a models kind;
//   - the dialects decode requests and encode results: XML-RPC
//     (xmlrpc_handler.go, using the rpc/xmlrpc codec) and the JSON-RPC
//     envelope shared by /jsonrpc and the /web routes (jsonrpc.go,
//     jsonenc.go, web_*.go);
//   - errors.go is the one place that turns an error into what a client
//     sees: an XML-RPC fault code (int or legacy string) or a JSON-RPC error
//     object. Internal errors are logged there, with the request id, and
//     never leave the server in detail.
//
// NewHandler returns one http.Handler serving every route listed by
// Routes. README.md lists the Odoo subset implemented and where this
// package deliberately differs from Odoo.
package rpc
