// Package xmlrpc is the server side of Odoo's XML-RPC dialect: it turns a
// <methodCall> document into plain Go values and turns results and faults
// into the exact <methodResponse> documents Odoo 16 emits.
//
// The package is a codec and nothing more. It knows no services, models or
// fault numbering; the dispatcher decides what a call means and which fault
// code an error becomes.
//
// Decoding ([DecodeCall]) follows Python's xmlrpc.client.loads, which is what
// Odoo itself uses, plus the extensions other clients send (<i8>, <i1>, <i2>,
// <biginteger>, <float>, <nil/> with any namespace prefix). Values come back
// only as nil, bool, int64, float64, string, []any and map[string]any:
// <dateTime.iso8601> becomes the string "YYYY-MM-DD HH:MM:SS" and <base64>
// its base64 text, because that is how Odoo's ORM wants datetimes and
// binaries. Anything that is not a well-formed XML-RPC call is rejected with
// an error wrapping [ErrMalformed]; no input makes the decoder panic.
//
// Encoding ([EncodeResponse], [EncodeFault]) follows Odoo's OdooMarshaller
// with allow_none=False: nil cannot be sent ([ErrNil]), ints outside int32
// travel as <double>, strings lose the ASCII control characters XML 1.0
// cannot carry, time.Time is a "YYYY-MM-DD HH:MM:SS" UTC string, []byte is a
// string, and maps become structs with sorted keys unless the value orders
// itself through [Ranger]. The output is built in memory, so a failure never
// leaves a half-written response.
//
// See README.md for the subset of the protocol implemented and where this
// package deliberately differs from Odoo.
package xmlrpc
