// Package jsonrpc is the one place where an error becomes what an Odoo
// client sees, and where the JSON-RPC 2.0 envelope of Odoo's type='json'
// routes is read and written (odoo-rpc.md §1.7, §2.1).
//
// The record layer (package models) returns typed errors; Describe maps
// them, through the single table of this package, to Odoo's Python
// exception names and XML-RPC fault codes, and logs internal errors with
// the request id so that a client never sees more than that id. Package
// rpc adds the XML-RPC fault encoding on top; packages rpc, bus and iotbox
// all use the envelope reader and writers here, so the three speak the
// same JSON-RPC.
//
// The package may import models (for Kind) and nothing else of ours.
package jsonrpc
