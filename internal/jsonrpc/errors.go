package jsonrpc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// Failure is an error as every dialect shows it to a client.
type Failure struct {
	Code    int    // XML-RPC fault code on /xmlrpc/2 (1-4)
	Name    string // Python exception name, JSON data.name
	Message string // the human message: faultString for codes 2-4, data.message
	Debug   string // what we send where Odoo sends a traceback
	Expired bool   // a web session is missing or stale: JSON code 100

	// Status is the HTTP status JSON-2 answers with (Odoo 19's
	// exception http_status); HTTPName, when set, replaces Name there:
	// the werkzeug exception Odoo 19's controller raises instead.
	Status   int
	HTTPName string
}

// NewFailure is a failure of the Python exception name with message,
// debug text "<Class>: message" and fault code 1.
func NewFailure(name, message string) Failure {
	return Failure{Code: FaultApplicationError, Name: name, Message: message, Debug: ShortName(name) + ": " + message,
		Status: http.StatusInternalServerError}
}

// kindWire is the one table from a models kind to its fault code, Python
// name (§1.7, §2.1) and JSON-2 HTTP status (Odoo 19's http_status of
// odoo.exceptions: UserError 422, AccessDenied and AccessError 403,
// MissingError 404; any other exception is a 500).
var kindWire = [...]struct {
	code   int
	name   string
	status int
}{
	models.KindInternal:     {FaultApplicationError, NameException, http.StatusInternalServerError},
	models.KindAccessDenied: {FaultAccessDenied, NameAccessDenied, http.StatusForbidden},
	models.KindAccess:       {FaultAccessError, NameAccessError, http.StatusForbidden},
	models.KindUser:         {FaultWarning, NameUserError, http.StatusUnprocessableEntity},
	models.KindValidation:   {FaultWarning, NameValidationError, http.StatusUnprocessableEntity},
	models.KindMissing:      {FaultWarning, NameMissingError, http.StatusNotFound},
	models.KindValue:        {FaultApplicationError, NameValueError, http.StatusInternalServerError},
	models.KindType:         {FaultApplicationError, NameTypeError, http.StatusInternalServerError},
	models.KindAttribute:    {FaultApplicationError, NameAttributeError, http.StatusInternalServerError},
	models.KindKey:          {FaultApplicationError, NameKeyError, http.StatusInternalServerError},
}

// Describe decides what a client sees for err. Errors of kind internal
// (and any error models did not classify) are logged here with the
// request id, and the client gets only that id.
func Describe(ctx context.Context, log *slog.Logger, err error) Failure {
	if errors.Is(err, models.ErrSessionExpired) {
		f := NewFailure(NameSessionExpired, TextSessionExpired)
		f.Expired = true
		f.Status = http.StatusForbidden // Odoo 19's SessionExpiredException.http_status
		return f
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		f := NewFailure(NameTooLarge, tooLargeText(tooLarge.Limit))
		f.Status, f.HTTPName = http.StatusRequestEntityTooLarge, NameTooLarge
		return f
	}
	kind := models.KindOf(err)
	if kind == models.KindInternal || int(kind) >= len(kindWire) {
		return Internal(ctx, log, err)
	}
	w := kindWire[kind]
	f := NewFailure(w.name, models.MessageOf(err))
	f.Code, f.Status = w.code, w.status
	switch {
	case errors.Is(err, models.ErrUnknownName):
		f.Status, f.HTTPName = http.StatusNotFound, NameNotFound
	case errors.Is(err, models.ErrSignature):
		f.Status, f.HTTPName = http.StatusUnprocessableEntity, NameUnprocessable
	}
	return f
}

// LogAttrser is implemented by an error that knows what to add to the log
// line of an internal error (package rpc's call: service, method, model).
type LogAttrser interface {
	LogAttrs() []any
}

// Internal logs err in full, with the request id (chi's, or a new one when
// the request has none), and returns the short text a client gets.
func Internal(ctx context.Context, log *slog.Logger, err error) Failure {
	id := middleware.GetReqID(ctx)
	if id == "" {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		id = hex.EncodeToString(b)
	}
	attrs := []any{slog.String("request_id", id), slog.Any("error", err)}
	var la LogAttrser
	if errors.As(err, &la) {
		attrs = append(attrs, la.LogAttrs()...)
	}
	log.ErrorContext(ctx, "RPC call failed", attrs...)
	msg := "internal server error (request " + id + ")"
	return Failure{Code: FaultApplicationError, Name: NameException, Message: msg, Debug: "InternalError: " + msg,
		Status: http.StatusInternalServerError}
}

// HTTPFailure is a werkzeug HTTPException of status as Odoo 19's JSON-2
// dispatcher serializes it: the werkzeug name, arguments (message, status).
func HTTPFailure(status int, name, message string) Failure {
	f := NewFailure(name, message)
	f.Status, f.HTTPName = status, name
	return f
}

// JSON2 returns the body of a JSON-2 error (odoo.http.serialize_exception):
// name, message, arguments, context, debug. A werkzeug exception's
// arguments are its description and status, as Odoo 19 sends them.
func (f Failure) JSON2() ErrorData {
	name := f.Name
	if f.HTTPName != "" {
		name = f.HTTPName
	}
	d := newData(name, f.Message, ShortName(name)+": "+f.Message)
	if f.HTTPName != "" {
		d.Arguments = []any{f.Message, f.HTTPStatus()}
	}
	return d
}

// HTTPStatus is the JSON-2 status of f (500 when none was set).
func (f Failure) HTTPStatus() int {
	if f.Status == 0 {
		return http.StatusInternalServerError
	}
	return f.Status
}

// JSON returns the JSON-RPC error object for f.
func (f Failure) JSON() Error {
	code, msg := CodeServerError, MsgServerError
	if f.Expired {
		code, msg = CodeSessionExpired, MsgSessionExpired
	}
	return Error{Code: code, Message: msg, Data: newData(f.Name, f.Message, f.Debug)}
}

// Error is the "error" member of a JSON-RPC response (§2.1).
type Error struct {
	Code    int       `json:"code"`
	Message string    `json:"message"`
	Data    ErrorData `json:"data"`
}

// ErrorData keeps every key Odoo sends: odoorpc reads message, the web
// client name, message and arguments.
type ErrorData struct {
	Name      string         `json:"name"`
	Debug     string         `json:"debug"`
	Message   string         `json:"message"`
	Arguments []any          `json:"arguments"`
	Context   map[string]any `json:"context"`
}

func newData(name, message, debug string) ErrorData {
	return ErrorData{Name: name, Debug: debug, Message: message, Arguments: []any{message}, Context: map[string]any{}}
}

// NewError is an error object with code and msg whose data names the
// Python exception name, with message and debug text "<Class>: message".
func NewError(code int, msg, name, message string) Error {
	return Error{Code: code, Message: msg, Data: newData(name, message, ShortName(name)+": "+message)}
}

// BadRequest is the error object of a request the envelope rejects: a
// werkzeug BadRequest whose message is msg and whose debug text adds
// detail.
func BadRequest(code int, msg, detail string) Error {
	return Error{Code: code, Message: msg, Data: newData(NameBadRequest, msg, ShortName(NameBadRequest)+": "+msg+": "+detail)}
}

// TooLarge is the error object of a body over limit bytes (sent with
// HTTP 413).
func TooLarge(limit int64) Error {
	return NewError(CodeTooLarge, MsgTooLarge, NameTooLarge, tooLargeText(limit))
}

func tooLargeText(limit int64) string {
	return fmt.Sprintf("%s (limit %d bytes)", TextTooLarge, limit)
}

// ShortName is the class part of a Python-qualified exception name.
func ShortName(name string) string {
	return name[strings.LastIndexByte(name, '.')+1:]
}
