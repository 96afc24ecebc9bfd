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
}

// NewFailure is a failure of the Python exception name with message,
// debug text "<Class>: message" and fault code 1.
func NewFailure(name, message string) Failure {
	return Failure{Code: FaultApplicationError, Name: name, Message: message, Debug: ShortName(name) + ": " + message}
}

// kindWire is the one table from a models kind to its fault code and
// Python name (§1.7, §2.1).
var kindWire = [...]struct {
	code int
	name string
}{
	models.KindInternal:     {FaultApplicationError, NameException},
	models.KindAccessDenied: {FaultAccessDenied, NameAccessDenied},
	models.KindAccess:       {FaultAccessError, NameAccessError},
	models.KindUser:         {FaultWarning, NameUserError},
	models.KindValidation:   {FaultWarning, NameValidationError},
	models.KindMissing:      {FaultWarning, NameMissingError},
	models.KindValue:        {FaultApplicationError, NameValueError},
	models.KindType:         {FaultApplicationError, NameTypeError},
	models.KindAttribute:    {FaultApplicationError, NameAttributeError},
	models.KindKey:          {FaultApplicationError, NameKeyError},
}

// Describe decides what a client sees for err. Errors of kind internal
// (and any error models did not classify) are logged here with the
// request id, and the client gets only that id.
func Describe(ctx context.Context, log *slog.Logger, err error) Failure {
	if errors.Is(err, models.ErrSessionExpired) {
		f := NewFailure(NameSessionExpired, TextSessionExpired)
		f.Expired = true
		return f
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return NewFailure(NameTooLarge, tooLargeText(tooLarge.Limit))
	}
	kind := models.KindOf(err)
	if kind == models.KindInternal || int(kind) >= len(kindWire) {
		return Internal(ctx, log, err)
	}
	w := kindWire[kind]
	f := NewFailure(w.name, models.MessageOf(err))
	f.Code = w.code
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
	return Failure{Code: FaultApplicationError, Name: NameException, Message: msg, Debug: "InternalError: " + msg}
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
