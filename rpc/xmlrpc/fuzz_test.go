package xmlrpc

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzDecodeCall feeds arbitrary bodies to DecodeCall. Seeds live in
// testdata/fuzz/FuzzDecodeCall: the golden requests and odd inputs written
// by testdata/gen_golden.py, plus anything the fuzzer once found.
//
// Invariants: no panic; every error wraps ErrMalformed (the body is in
// memory, so no reader error is possible); a decoded call re-encodes
// without panicking, and, when it holds no nil, decoding our own response
// gives back the same value (ints beyond int32 turned into floats).
func FuzzDecodeCall(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		method, params, err := DecodeCall(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error does not wrap ErrMalformed: %v", err)
			}
			return
		}
		if method == "" || params == nil {
			t.Fatalf("decoded method %q params %s without error", method, show(params))
		}
		out, err := EncodeResponse(params)
		if err != nil {
			if errors.Is(err, ErrNil) && containsNil(params) {
				return
			}
			t.Fatalf("EncodeResponse(%s): %v", show(params), err)
		}
		back, err := decodeResponse(out)
		if err != nil {
			t.Fatalf("decoding our own response: %v\n%s", err, out)
		}
		if want := odooView(params); !equalValues(back, want) {
			t.Fatalf("round trip changed the value:\n got %s\nwant %s\n%s", show(back), show(want), out)
		}
	})
}
