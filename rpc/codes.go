package rpc

// Protocol constants, each mirroring a named Odoo 16 behaviour. Section
// numbers refer to the wire spec (odoo-rpc.md). Fault codes, JSON-RPC
// codes and the exception names of models' kinds are in internal/jsonrpc.

// Legacy /xmlrpc/<service> string fault codes (xmlrpc_handle_exception_string).
const (
	legacyUserError    = "warning -- UserError\n\n"
	legacyMissingError = "warning -- MissingError\n\n"
	legacyAccessError  = "warning -- AccessError\n\n"
	legacyAccessDenied = "AccessDenied"
)

// Python exception names only rpc raises (as pyError); the names of
// models' kinds are package internal/jsonrpc's.
const (
	nameNameError      = "builtins.NameError"
	nameExpatError     = "xml.parsers.expat.ExpatError"
	nameOperationalErr = "psycopg2.OperationalError"
)

// Fixed user-facing messages.
const (
	msgTooManyLogins = "Too many login failures, please wait a bit before trying again."
	msgDBNotFound    = "Database not found."
)

// serverVersion and friends are what common.version() reports (§1.2). Odoo
// clients compare server_version_info[0] to pick a protocol, so these must
// stay exactly 16.0.
const (
	serverVersion   = "16.0"
	serverSerie     = "16.0"
	protocolVersion = 1
)

// installedModules is what /web/session/modules reports: the Odoo modules
// this server stands in for.
var installedModules = []any{"base", "web", "bus", "mqtt_integration", "mqtt_listener"}

// langList is the only language offered ([[code, name], ...]).
var langList = []any{[]any{"en_US", "English (US)"}}
