package xmlrpc

import (
	"bytes"
	"errors"
	"testing"
	"time"

	kolo "github.com/kolo/xmlrpc"
)

// TestKoloRequest decodes a call encoded by github.com/kolo/xmlrpc, the Go
// client our own integration tests and Go users are likely to use.
func TestKoloRequest(t *testing.T) {
	body, err := kolo.EncodeMethodCall("execute_kw",
		"odoo16", 2, "admin", "res.partner", "search_read",
		[]any{[]any{[]any{"name", "ilike", "a&b <c>\n"}, []any{"active", "=", true}}},
		map[string]any{
			"fields":  []string{"name", "email"},
			"limit":   5,
			"context": map[string]any{"lang": "", "ratio": 0.5},
			"since":   time.Date(2024, 1, 31, 23, 59, 1, 0, time.UTC),
		},
	)
	if err != nil {
		t.Fatal(err)
	}
	method, params, err := DecodeCall(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("DecodeCall: %v\n%s", err, body)
	}
	want := []any{"odoo16", int64(2), "admin", "res.partner", "search_read",
		[]any{[]any{[]any{"name", "ilike", "a&b <c>\n"}, []any{"active", "=", true}}},
		map[string]any{
			"fields":  []any{"name", "email"},
			"limit":   int64(5),
			"context": map[string]any{"lang": "", "ratio": 0.5}, // kolo itself would read "" back as nil
			"since":   "2024-01-31 23:59:01",
		},
	}
	if method != "execute_kw" {
		t.Errorf("method = %q", method)
	}
	if !equalValues(params, want) {
		t.Errorf("params =\n%s\nwant\n%s", show(params), show(want))
	}
}

// TestKoloResponse reads one of our responses with kolo's client decoder.
func TestKoloResponse(t *testing.T) {
	records := []map[string]any{
		{"id": 1, "name": "A & <B>", "partner_id": []any{3, "Bob"}, "active": true, "ratio": 0.25, "big": int64(1) << 40},
		{"id": 2, "name": "Zoë 🚀", "partner_id": false, "active": false, "ratio": 1e16, "big": 7},
	}
	body, err := EncodeResponse(records)
	if err != nil {
		t.Fatal(err)
	}
	if err := kolo.Response(body).Err(); err != nil {
		t.Fatalf("kolo sees a fault in a result: %v", err)
	}
	var got any
	if err := kolo.Response(body).Unmarshal(&got); err != nil {
		t.Fatalf("kolo Unmarshal: %v\n%s", err, body)
	}
	want := []any{
		map[string]any{"id": int64(1), "name": "A & <B>", "partner_id": []any{int64(3), "Bob"}, "active": true, "ratio": 0.25, "big": float64(1 << 40)},
		map[string]any{"id": int64(2), "name": "Zoë 🚀", "partner_id": false, "active": false, "ratio": 1e16, "big": int64(7)},
	}
	if !equalValues(got, want) {
		t.Errorf("kolo read\n%s\nwant\n%s", show(got), show(want))
	}
}

// TestKoloFault checks that kolo recognises our faults.
func TestKoloFault(t *testing.T) {
	err := kolo.Response(EncodeFault(2, "Record <7> & co is missing")).Err()
	var fault kolo.FaultError
	if !errors.As(err, &fault) {
		t.Fatalf("kolo Err() = %v, want a FaultError", err)
	}
	if fault.Code != 2 || fault.String != "Record <7> & co is missing" {
		t.Errorf("fault = %+v", fault)
	}
}
