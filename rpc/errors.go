package rpc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// pyError is an error that Odoo raises as a Python exception models has no
// kind for: NameError for an unknown object method, psycopg2's
// OperationalError for an unknown database, expat's ExpatError for bad
// XML. Every one of them is a generic fault 1 carrying its message.
type pyError struct {
	name string // Python-qualified class, e.g. "builtins.NameError"
	msg  string
}

func (e *pyError) Error() string { return shortName(e.name) + ": " + e.msg }

// callError remembers which call an error came from, so that the log line of
// an internal error can name the method and model. It is transparent to
// models.KindOf.
type callError struct {
	service, method, model string
	err                    error
}

func (e *callError) Error() string { return e.err.Error() }
func (e *callError) Unwrap() error { return e.err }

// wireError is an error as every dialect shows it to a client.
type wireError struct {
	code    int    // XML-RPC fault code on /xmlrpc/2 (1-4)
	name    string // Python exception name, JSON data.name
	message string // the human message: faultString for codes 2-4, data.message
	debug   string // what we send where Odoo sends a traceback
	expired bool   // a web session is missing or stale: JSON code 100
}

// kindWire maps a models kind to its fault code and Python name (§1.7, §2.1).
var kindWire = [...]struct {
	code int
	name string
}{
	models.KindInternal:     {faultApplicationError, nameException},
	models.KindAccessDenied: {faultAccessDenied, nameAccessDenied},
	models.KindAccess:       {faultAccessError, nameAccessError},
	models.KindUser:         {faultWarning, nameUserError},
	models.KindValidation:   {faultWarning, nameValidationError},
	models.KindMissing:      {faultWarning, nameMissingError},
	models.KindValue:        {faultApplicationError, nameValueError},
	models.KindType:         {faultApplicationError, nameTypeError},
	models.KindAttribute:    {faultApplicationError, nameAttributeError},
	models.KindKey:          {faultApplicationError, nameKeyError},
}

// describe is the one function that decides what a client sees for err.
// Errors of kind internal (and any error models did not classify) are
// logged here with the request id, and the client gets only that id.
func describe(ctx context.Context, log *slog.Logger, err error) wireError {
	if errors.Is(err, models.ErrSessionExpired) {
		return wireError{code: faultApplicationError, name: nameSessionExpired, message: msgSessionExpired,
			debug: shortName(nameSessionExpired) + ": " + msgSessionExpired, expired: true}
	}
	var pe *pyError
	if errors.As(err, &pe) {
		return wireError{code: faultApplicationError, name: pe.name, message: pe.msg, debug: pe.Error()}
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		msg := fmt.Sprintf("%s (limit %d bytes)", msgTooLarge, tooLarge.Limit)
		return wireError{code: faultApplicationError, name: nameTooLarge, message: msg, debug: shortName(nameTooLarge) + ": " + msg}
	}
	kind := models.KindOf(err)
	if kind == models.KindInternal || int(kind) >= len(kindWire) {
		return internalError(ctx, log, err)
	}
	w := kindWire[kind]
	msg := models.MessageOf(err)
	return wireError{code: w.code, name: w.name, message: msg, debug: shortName(w.name) + ": " + msg}
}

// internalError logs err in full and returns the short text a client gets.
func internalError(ctx context.Context, log *slog.Logger, err error) wireError {
	id := middleware.GetReqID(ctx)
	attrs := []any{slog.String("request_id", id), slog.Any("error", err)}
	var ce *callError
	if errors.As(err, &ce) {
		attrs = append(attrs, slog.String("service", ce.service), slog.String("method", ce.method), slog.String("model", ce.model))
	}
	log.ErrorContext(ctx, "RPC call failed", attrs...)
	msg := "internal server error (request " + id + ")"
	return wireError{code: faultApplicationError, name: nameException, message: msg, debug: "InternalError: " + msg}
}

// fault returns the /xmlrpc/2 fault: Odoo puts the message in faultString
// for its own exceptions and a traceback for everything else.
func (e wireError) fault() (code int, text string) {
	if e.code == faultApplicationError {
		return e.code, e.debug
	}
	return e.code, e.message
}

// legacyFault returns the legacy /xmlrpc/<service> fault, where the string
// faultCode carries the kind and the message (xmlrpc_handle_exception_string).
func (e wireError) legacyFault() (code, text string) {
	switch e.name {
	case nameMissingError:
		return legacyMissingError + e.message, ""
	case nameAccessError:
		return legacyAccessError + e.message, ""
	case nameAccessDenied:
		return legacyAccessDenied, e.message
	case nameUserError, nameValidationError:
		return legacyUserError + e.message, ""
	}
	return e.message, e.debug
}

// jsonError is the "error" member of a JSON-RPC response (§2.1).
type jsonError struct {
	Code    int           `json:"code"`
	Message string        `json:"message"`
	Data    jsonErrorData `json:"data"`
}

// jsonErrorData keeps every key Odoo sends: odoorpc reads message, the web
// client name, message and arguments.
type jsonErrorData struct {
	Name      string         `json:"name"`
	Debug     string         `json:"debug"`
	Message   string         `json:"message"`
	Arguments []any          `json:"arguments"`
	Context   map[string]any `json:"context"`
}

// jsonError returns the JSON-RPC error object for e.
func (e wireError) jsonError() jsonError {
	code, msg := jsonCodeServerError, jsonMsgServerError
	if e.expired {
		code, msg = jsonCodeSessionExpired, jsonMsgSessionExpired
	}
	return newJSONError(code, msg, e.name, e.message, e.debug)
}

func newJSONError(code int, msg, name, message, debug string) jsonError {
	return jsonError{Code: code, Message: msg, Data: jsonErrorData{
		Name: name, Debug: debug, Message: message, Arguments: []any{message}, Context: map[string]any{},
	}}
}

// shortName is the class part of a Python-qualified exception name.
func shortName(name string) string {
	return name[strings.LastIndexByte(name, '.')+1:]
}
