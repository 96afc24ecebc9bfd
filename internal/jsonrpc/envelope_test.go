package jsonrpc

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

// TestReadRequest: the shapes every JSON route accepts and the status and
// code of each rejection; the id is kept once it could be read.
func TestReadRequest(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		status int
		code   int // JSON-RPC error code, 0 for none
		id     string
		params []string
	}{
		{"params only", `{"params":{"a":1}}`, 200, 0, "", []string{"a"}},
		{"full envelope", `{"jsonrpc":"2.0","method":"call","id":7,"params":{"b":"x"}}`, 200, 0, "7", []string{"b"}},
		{"null params", `{"params":null,"id":"x"}`, 200, 0, `"x"`, nil},
		{"id compacted and html-escaped", `{"id": [ "</script>" ]}`, 200, 0, `["\u003c/script\u003e"]`, nil},
		{"not JSON", `{"params":`, 400, CodeParseError, "", nil},
		{"trailing garbage", `{"params":{}} x`, 400, CodeParseError, "", nil},
		{"array body", `[1]`, 400, CodeInvalidRequest, "", nil},
		{"null body", `null`, 400, CodeInvalidRequest, "", nil},
		{"params an array keeps the id", `{"id":3,"params":[1]}`, 400, CodeInvalidRequest, "3", nil},
		{"params a string", `{"params":"x"}`, 400, CodeInvalidRequest, "", nil},
		{"too large", `{"params":{"x":"` + strings.Repeat("a", 100) + `"}}`, 413, CodeTooLarge, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			r := httptest.NewRequest(http.MethodPost, "/x", strings.NewReader(tt.body))
			req, status, e := ReadRequest(w, r, 64)
			if status != tt.status || (e == nil) != (tt.code == 0) || (e != nil && e.Code != tt.code) {
				t.Fatalf("status %d, error %+v; want %d, code %d", status, e, tt.status, tt.code)
			}
			if string(req.ID) != tt.id {
				t.Errorf("id %s, want %s", req.ID, tt.id)
			}
			if e != nil {
				return
			}
			var keys []string
			for k := range req.Params {
				keys = append(keys, k)
			}
			if !reflect.DeepEqual(keys, tt.params) {
				t.Errorf("params %v, want %v", keys, tt.params)
			}
		})
	}
}

func TestDecodeObject(t *testing.T) {
	m, err := DecodeObject([]byte(`{"i":3,"f":1.5,"l":[7,{"n":-2}],"big":1e400}`))
	if err != nil {
		t.Fatal(err)
	}
	l := m["l"].([]any)
	if m["i"] != int64(3) || m["f"] != 1.5 || l[0] != int64(7) || l[1].(map[string]any)["n"] != int64(-2) || m["big"].(float64) < 1e308 {
		t.Errorf("decoded %#v", m)
	}
}

// TestWrite: the envelope as Odoo writes it, byte for byte.
func TestWrite(t *testing.T) {
	tests := []struct {
		name   string
		write  func(w http.ResponseWriter)
		status int
		body   string
	}{
		{"result", func(w http.ResponseWriter) { WriteResult(w, []byte("1"), []byte(`{"a":true}`)) }, 200,
			`{"jsonrpc":"2.0","id":1,"result":{"a":true}}`},
		{"no result, no id", func(w http.ResponseWriter) { WriteResult(w, nil, nil) }, 200,
			`{"jsonrpc":"2.0","id":null}`},
		{"error", func(w http.ResponseWriter) {
			WriteError(w, 400, []byte(`"x"`), BadRequest(CodeInvalidRequest, MsgInvalidRequest, "detail"))
		}, 400,
			`{"jsonrpc":"2.0","id":"x","error":{"code":-32600,"message":"Invalid JSON-RPC data","data":{"name":"werkzeug.exceptions.BadRequest","debug":"BadRequest: Invalid JSON-RPC data: detail","message":"Invalid JSON-RPC data","arguments":["Invalid JSON-RPC data"],"context":{}}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			tt.write(w)
			if w.Code != tt.status || w.Body.String() != tt.body {
				t.Errorf("got %d %s\nwant %d %s", w.Code, w.Body, tt.status, tt.body)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
}
