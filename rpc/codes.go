package rpc

// Protocol constants, each mirroring a named Odoo 16 behaviour. Section
// numbers refer to the wire spec (odoo-rpc.md).

// XML-RPC fault codes on /xmlrpc/2 (odoo/http.py RPC_FAULT_CODE_*, §1.7).
const (
	faultApplicationError = 1 // anything that is not an Odoo exception
	faultWarning          = 2 // UserError, ValidationError, MissingError
	faultAccessDenied     = 3 // bad credentials
	faultAccessError      = 4 // no right on a model or record, private method
)

// Legacy /xmlrpc/<service> string fault codes (xmlrpc_handle_exception_string).
const (
	legacyUserError    = "warning -- UserError\n\n"
	legacyMissingError = "warning -- MissingError\n\n"
	legacyAccessError  = "warning -- AccessError\n\n"
	legacyAccessDenied = "AccessDenied"
)

// JSON-RPC error codes and messages (odoo/http.py JsonRPCDispatcher, §2.1).
const (
	jsonCodeServerError    = 200
	jsonMsgServerError     = "Odoo Server Error"
	jsonCodeSessionExpired = 100
	jsonMsgSessionExpired  = "Odoo Session Expired"

	// Envelope errors use the JSON-RPC 2.0 codes: Odoo answers these with a
	// bare HTTP 400 text, we send an envelope too (README.md).
	jsonCodeParseError     = -32700
	jsonMsgParseError      = "Invalid JSON data"
	jsonCodeInvalidRequest = -32600
	jsonMsgInvalidRequest  = "Invalid JSON-RPC data"

	// Oversized bodies: werkzeug's RequestEntityTooLarge, as HTTP 413.
	jsonCodeTooLarge = 413
	jsonMsgTooLarge  = "Request Entity Too Large"
)

// Python exception names as they appear in JSON data.name (§2.1).
const (
	nameUserError       = "odoo.exceptions.UserError"
	nameValidationError = "odoo.exceptions.ValidationError"
	nameMissingError    = "odoo.exceptions.MissingError"
	nameAccessError     = "odoo.exceptions.AccessError"
	nameAccessDenied    = "odoo.exceptions.AccessDenied"
	nameValueError      = "builtins.ValueError"
	nameTypeError       = "builtins.TypeError"
	nameAttributeError  = "builtins.AttributeError"
	nameKeyError        = "builtins.KeyError"
	nameNameError       = "builtins.NameError"
	nameException       = "builtins.Exception"
	nameSessionExpired  = "odoo.http.SessionExpiredException"
	nameBadRequest      = "werkzeug.exceptions.BadRequest"
	nameTooLarge        = "werkzeug.exceptions.RequestEntityTooLarge"
	nameExpatError      = "xml.parsers.expat.ExpatError"
	nameOperationalErr  = "psycopg2.OperationalError"
)

// Fixed user-facing messages.
const (
	msgSessionExpired = "Session expired"
	msgTooManyLogins  = "Too many login failures, please wait a bit before trying again."
	msgDBNotFound     = "Database not found."
	msgTooLarge       = "The data value transmitted exceeds the capacity limit."
)

// sessionCookie is the name of Odoo's web session cookie (§2.4).
const sessionCookie = "session_id"

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
