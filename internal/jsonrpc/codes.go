package jsonrpc

// Protocol constants, each mirroring a named Odoo 16 behaviour. Section
// numbers refer to the wire spec (odoo-rpc.md).

// XML-RPC fault codes on /xmlrpc/2 (odoo/http.py RPC_FAULT_CODE_*, §1.7).
// They live here because they come from the same kind table as the
// exception names.
const (
	FaultApplicationError = 1 // anything that is not an Odoo exception
	FaultWarning          = 2 // UserError, ValidationError, MissingError
	FaultAccessDenied     = 3 // bad credentials
	FaultAccessError      = 4 // no right on a model or record, private method
)

// JSON-RPC error codes and messages (odoo/http.py JsonRPCDispatcher, §2.1).
const (
	CodeServerError    = 200
	MsgServerError     = "Odoo Server Error"
	CodeSessionExpired = 100
	MsgSessionExpired  = "Odoo Session Expired"

	// Envelope errors use the JSON-RPC 2.0 codes: Odoo answers these with a
	// bare HTTP 400 text, we send an envelope too (rpc/README.md).
	CodeParseError     = -32700
	MsgParseError      = "Invalid JSON data"
	CodeInvalidRequest = -32600
	MsgInvalidRequest  = "Invalid JSON-RPC data"
	CodeInvalidParams  = -32602
	MsgInvalidParams   = "Invalid params"

	// Oversized bodies: werkzeug's RequestEntityTooLarge, as HTTP 413.
	CodeTooLarge = 413
	MsgTooLarge  = "Request Entity Too Large"

	// werkzeug's Forbidden, as HTTP 403.
	CodeForbidden = 403
	MsgForbidden  = "403: Forbidden"
)

// Python exception names as they appear in JSON data.name (§2.1).
const (
	NameUserError       = "odoo.exceptions.UserError"
	NameValidationError = "odoo.exceptions.ValidationError"
	NameMissingError    = "odoo.exceptions.MissingError"
	NameAccessError     = "odoo.exceptions.AccessError"
	NameAccessDenied    = "odoo.exceptions.AccessDenied"
	NameValueError      = "builtins.ValueError"
	NameTypeError       = "builtins.TypeError"
	NameAttributeError  = "builtins.AttributeError"
	NameKeyError        = "builtins.KeyError"
	NameException       = "builtins.Exception"
	NameSessionExpired  = "odoo.http.SessionExpiredException"
	NameBadRequest      = "werkzeug.exceptions.BadRequest"
	NameTooLarge        = "werkzeug.exceptions.RequestEntityTooLarge"
	NameForbidden       = "werkzeug.exceptions.Forbidden"
	NameNotFound        = "werkzeug.exceptions.NotFound"
	NameUnprocessable   = "werkzeug.exceptions.UnprocessableEntity"
	NameUnauthorized    = "werkzeug.exceptions.Unauthorized"
	NameMethodNotAllow  = "werkzeug.exceptions.MethodNotAllowed"
	NameTooManyRequests = "werkzeug.exceptions.TooManyRequests"
)

// Fixed user-facing messages.
const (
	TextSessionExpired = "Session expired"
	TextTooLarge       = "The data value transmitted exceeds the capacity limit."
)
