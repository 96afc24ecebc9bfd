package models

import (
	"errors"
	"fmt"
)

// Kind classifies an error the way Odoo clients see it. The rpc package maps
// each kind to an XML-RPC fault code and a JSON-RPC error name in one place.
type Kind int

// The kinds. Do not reorder: tests and the rpc mapping table key on them.
const (
	KindInternal     Kind = iota // anything unexpected; the client sees a short message only
	KindAccessDenied             // bad credentials (odoo.exceptions.AccessDenied, fault 3)
	KindAccess                   // no right on a model or record (AccessError, fault 4)
	KindUser                     // a message for the user (UserError, fault 2)
	KindValidation               // a constraint failed (ValidationError, fault 2)
	KindMissing                  // the record does not exist (MissingError, fault 2)
	KindValue                    // bad argument value (builtins.ValueError, fault 1)
	KindType                     // bad argument shape or count (builtins.TypeError, fault 1)
	KindAttribute                // unknown method (builtins.AttributeError, fault 1)
	KindKey                      // unknown key (builtins.KeyError, fault 1)
)

var kindNames = [...]string{"internal", "access denied", "access", "user", "validation", "missing", "value", "type", "attribute", "key"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Error is the one error type model code returns to callers. Message is
// meant for the user; Err keeps the internal cause for the logs.
type Error struct {
	Kind    Kind
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil && e.Kind == KindInternal {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf reports the kind of err; errors not built here are internal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// MessageOf returns the user-facing message of err. Internal errors get a
// generic text so no detail of the server leaks to a client.
func MessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Kind != KindInternal {
		return e.Message
	}
	return "Internal server error"
}

func newErr(k Kind, format string, args ...any) error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

// UserErrorf returns a KindUser error.
func UserErrorf(format string, args ...any) error { return newErr(KindUser, format, args...) }

// ValidationErrorf returns a KindValidation error.
func ValidationErrorf(format string, args ...any) error {
	return newErr(KindValidation, format, args...)
}

// AccessErrorf returns a KindAccess error.
func AccessErrorf(format string, args ...any) error { return newErr(KindAccess, format, args...) }

// MissingErrorf returns a KindMissing error.
func MissingErrorf(format string, args ...any) error { return newErr(KindMissing, format, args...) }

// ValueErrorf returns a KindValue error.
func ValueErrorf(format string, args ...any) error { return newErr(KindValue, format, args...) }

// TypeErrorf returns a KindType error.
func TypeErrorf(format string, args ...any) error { return newErr(KindType, format, args...) }

// AttributeErrorf returns a KindAttribute error.
func AttributeErrorf(format string, args ...any) error {
	return newErr(KindAttribute, format, args...)
}

// KeyErrorf returns a KindKey error.
func KeyErrorf(format string, args ...any) error { return newErr(KindKey, format, args...) }

// ErrAccessDenied is returned for bad credentials, with Odoo's exact text.
var ErrAccessDenied error = &Error{Kind: KindAccessDenied, Message: "Access Denied"}

// Internal wraps an unexpected cause; clients see only a short message.
// A database error the user can act on (out of space, see
// classifyDBError) becomes the model error that says so instead.
func Internal(op string, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	if ce := classifyDBError(err); ce != nil {
		return ce
	}
	return &Error{Kind: KindInternal, Message: "models: " + op, Err: err}
}

// ErrUnknownName marks the error of a call naming a model or a method
// that does not exist, and ErrSignature the TypeError of a call whose
// arguments do not fit the method's parameters. The other dialects see
// only their kind (a UserError, an AttributeError, a TypeError); JSON-2
// answers them 404 and 422, as Odoo 19's controller does when the lookup
// or inspect.signature(...).bind fails.
var (
	ErrUnknownName = errors.New("unknown model or method")
	ErrSignature   = errors.New("arguments do not fit the method")
)

// signatureErrorf is a TypeError marked ErrSignature.
func signatureErrorf(format string, args ...any) error {
	return &Error{Kind: KindType, Message: fmt.Sprintf(format, args...), Err: ErrSignature}
}
