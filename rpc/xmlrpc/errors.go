package xmlrpc

import (
	"errors"
	"strconv"
)

// Errors returned by this package. Callers test them with errors.Is; the
// message of the returned error adds detail (the offending element, type or
// path) after the sentinel's text.
var (
	// ErrMalformed wraps every DecodeCall error caused by the document itself
	// (as opposed to an error from the underlying reader, which is wrapped
	// unchanged so that e.g. *http.MaxBytesError stays visible).
	ErrMalformed = errors.New("xmlrpc: malformed request")

	// ErrNil is returned by EncodeResponse when the value contains nil. Odoo
	// marshals with allow_none=False, so its clients expect fault 1 carrying
	// Python's TypeError text, which this message reproduces.
	ErrNil = errors.New("xmlrpc: cannot marshal None unless allow_none is enabled")

	// ErrUnsupported is returned by EncodeResponse for values XML-RPC cannot
	// carry under Odoo's rules: unknown Go types, maps with non-string keys
	// and structures nested too deeply (usually cycles).
	ErrUnsupported = errors.New("xmlrpc: cannot marshal")
)

// encodeError records where in a result a marshalling failure happened, so
// that the fault a client sees points at the bad field rather than just
// saying "None". The path is built while the recursion unwinds, so the
// happy path pays nothing for it.
type encodeError struct {
	path string
	err  error
}

func (e *encodeError) Error() string {
	if e.path == "" {
		return e.err.Error()
	}
	return e.err.Error() + " (at result" + e.path + ")"
}

func (e *encodeError) Unwrap() error { return e.err }

// atIndex prefixes err's path with a list index.
func atIndex(err error, i int) error {
	if ee, ok := err.(*encodeError); ok {
		ee.path = "[" + strconv.Itoa(i) + "]" + ee.path
	}
	return err
}

// atKey prefixes err's path with a struct key.
func atKey(err error, k string) error {
	if ee, ok := err.(*encodeError); ok {
		ee.path = "[" + strconv.Quote(k) + "]" + ee.path
	}
	return err
}
