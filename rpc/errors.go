package rpc

import (
	"context"
	"errors"
	"log/slog"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/jsonrpc"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// The mapping from an error to what a client sees is package
// internal/jsonrpc's (one table for rpc, bus and iotbox); this file adds
// the errors only rpc raises and the XML-RPC fault shapes.

// pyError is an error that Odoo raises as a Python exception models has no
// kind for: NameError for an unknown object method, psycopg2's
// OperationalError for an unknown database, expat's ExpatError for bad
// XML. Every one of them is a generic fault 1 carrying its message.
type pyError struct {
	name string // Python-qualified class, e.g. "builtins.NameError"
	msg  string
}

func (e *pyError) Error() string { return jsonrpc.ShortName(e.name) + ": " + e.msg }

// callError remembers which call an error came from, so that the log line of
// an internal error can name the method and model. It is transparent to
// models.KindOf.
type callError struct {
	service, method, model string
	err                    error
}

func (e *callError) Error() string { return e.err.Error() }
func (e *callError) Unwrap() error { return e.err }

// LogAttrs names the call in the log line of an internal error.
func (e *callError) LogAttrs() []any {
	return []any{slog.String("service", e.service), slog.String("method", e.method), slog.String("model", e.model)}
}

// jsonError is the "error" member of a JSON-RPC response (§2.1).
type jsonError = jsonrpc.Error

// wireError is an error as every dialect shows it to a client.
type wireError struct{ jsonrpc.Failure }

// describe decides what a client sees for err: rpc's own Python errors,
// then the shared table (which logs internal errors with the request id).
func describe(ctx context.Context, log *slog.Logger, err error) wireError {
	var pe *pyError
	if !errors.Is(err, models.ErrSessionExpired) && errors.As(err, &pe) {
		return wireError{jsonrpc.NewFailure(pe.name, pe.msg)}
	}
	return wireError{jsonrpc.Describe(ctx, log, err)}
}

// internalError logs err in full and returns the short text a client gets.
func internalError(ctx context.Context, log *slog.Logger, err error) wireError {
	return wireError{jsonrpc.Internal(ctx, log, err)}
}

// fault returns the /xmlrpc/2 fault: Odoo puts the message in faultString
// for its own exceptions and a traceback for everything else.
func (e wireError) fault() (code int, text string) {
	if e.Code == jsonrpc.FaultApplicationError {
		return e.Code, e.Debug
	}
	return e.Code, e.Message
}

// legacyFault returns the legacy /xmlrpc/<service> fault, where the string
// faultCode carries the kind and the message (xmlrpc_handle_exception_string).
func (e wireError) legacyFault() (code, text string) {
	switch e.Name {
	case jsonrpc.NameMissingError:
		return legacyMissingError + e.Message, ""
	case jsonrpc.NameAccessError:
		return legacyAccessError + e.Message, ""
	case jsonrpc.NameAccessDenied:
		return legacyAccessDenied, e.Message
	case jsonrpc.NameUserError, jsonrpc.NameValidationError:
		return legacyUserError + e.Message, ""
	}
	return e.Message, e.Debug
}
