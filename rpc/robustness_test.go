package rpc

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	kolo "github.com/kolo/xmlrpc"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/jsonrpc"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
)

// testServices answer with values no real service returns, to reach the
// codec and recovery paths.
var testServices = map[string]serviceFunc{
	"test": func(s *server, ctx context.Context, method string, params []any) (any, error) {
		switch method {
		case "nil":
			return nil, nil
		case "nested_nil":
			return []any{int64(1), map[string]any{"x": nil}}, nil
		case "int_keys":
			return map[int]string{1: "a"}, nil
		case "panic":
			panic("kaboom")
		case "internal":
			return nil, errors.New("pq: password authentication failed for user odoo")
		case "nil_slice":
			var ids []int64
			return map[string]any{"ids": ids, "f": 20.0, "html": "<b>"}, nil
		}
		return nil, errors.New("unknown test method")
	},
}

// testXMLRPCUnmarshallable checks Odoo's allow_none=False behaviour: a nil
// anywhere in a result is fault 1 with Python's TypeError text.
func testXMLRPCUnmarshallable(t *testing.T) {
	ts := newTestServerWith(t, testServices)
	tests := []struct{ method, text string }{
		{"nil", "TypeError: cannot marshal None unless allow_none is enabled"},
		{"nested_nil", `TypeError: cannot marshal None unless allow_none is enabled (at result[1]["x"])`},
		{"int_keys", "TypeError: cannot marshal"},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			f, isFault := fault(t, ts.xmlCall(t, "/xmlrpc/2/test", tt.method))
			if !isFault || f.Code != 1 || !strings.HasPrefix(f.String, tt.text) {
				t.Errorf("fault = %v %d %q, want 1 %q", isFault, f.Code, f.String, tt.text)
			}
		})
	}
}

// testPanicsAndInternalErrors checks that a panic or an unclassified error
// gives each dialect its internal-error shape with the request id, logs
// the cause, leaks nothing, and leaves the server serving.
func testPanicsAndInternalErrors(t *testing.T) {
	ts := newTestServerWith(t, testServices)
	for _, method := range []string{"panic", "internal"} {
		t.Run(method, func(t *testing.T) {
			f, isFault := fault(t, ts.xmlCall(t, "/xmlrpc/2/test", method))
			if !isFault || f.Code != 1 || !strings.HasPrefix(f.String, "InternalError: internal server error (request ") {
				t.Errorf("xmlrpc/2 = %v %d %q", isFault, f.Code, f.String)
			}
			code, text := legacyFault(t, ts.xmlCall(t, "/xmlrpc/test", method))
			if !strings.HasPrefix(code, "internal server error (request ") || !strings.HasPrefix(text, "InternalError: ") {
				t.Errorf("legacy = %q %q", code, text)
			}
			r := ts.jsonCall(t, "/jsonrpc", map[string]any{"service": "test", "method": method, "args": []any{}})
			if r.status != http.StatusOK {
				t.Errorf("jsonrpc HTTP %d", r.status)
			}
			r.wantError(t, 200, "builtins.Exception", "internal server error (request ")
			for _, leak := range []string{"kaboom", "pq:", "goroutine"} {
				if strings.Contains(f.String+code+text+r.Error.Data.Debug+r.Error.Data.Message, leak) {
					t.Errorf("client sees %q", leak)
				}
			}
		})
	}
	logs := ts.logs.String()
	for _, want := range []string{"kaboom", "goroutine", "pq: password authentication failed", "request_id="} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	var v string
	if err := kolo.Response(ts.xmlCall(t, "/xmlrpc/2/db", "server_version")).Unmarshal(&v); err != nil || v != "16.0" {
		t.Errorf("server stopped serving: %q %v", v, err)
	}
}

// testJSONResultEncoding checks the JSON value rules: nil result omits the
// key, nil slices are [], floats keep their ".0", HTML is escaped.
func testJSONResultEncoding(t *testing.T) {
	ts := newTestServerWith(t, testServices)
	r := ts.jsonCall(t, "/jsonrpc", map[string]any{"service": "test", "method": "nil", "args": []any{}})
	if r.hasResult() || r.Error != nil || string(r.ID) != "1" {
		t.Errorf("nil result: %+v", r.raw)
	}
	_, body := testkit.Post(t, ts.URL+"/jsonrpc", "application/json",
		[]byte(`{"params":{"service":"test","method":"nil_slice","args":[]},"id":"<x>"}`))
	want := `{"jsonrpc":"2.0","id":"\u003cx\u003e","result":{"f":20.0,"html":"\u003cb\u003e","ids":[]}}`
	if !bytes.Equal(body, []byte(want)) {
		t.Errorf("body = %s\nwant %s", body, want)
	}
}

// testMountedRoutes mounts the handler on an outer chi router, pattern by
// pattern, as the server does next to the web package, and checks that
// every dialect still routes (URL params included) and other paths are the
// outer router's.
func testMountedRoutes(t *testing.T) {
	h := NewHandler(testReg, Options{DBName: testDB, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	outer := chi.NewRouter()
	for _, p := range Routes() {
		outer.Handle(p, h)
	}
	outer.Get("/web", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "admin page") })
	srv := httptest.NewServer(outer)
	defer srv.Close()
	ts := &testServer{Server: srv, logs: &testkit.Buffer{}}

	var v string
	if err := kolo.Response(ts.xmlCall(t, "/xmlrpc/2/db", "server_version")).Unmarshal(&v); err != nil || v != "16.0" {
		t.Errorf("xmlrpc/2 through the outer router = %q, %v", v, err)
	}
	if code, _ := legacyFault(t, ts.xmlCall(t, "/xmlrpc/object", "execute_kw", "nodb", 2, "x", "m", "search", []any{})); !strings.Contains(code, "does not exist") {
		t.Errorf("legacy through the outer router = %q", code)
	}
	r := ts.jsonCall(t, "/web/dataset/call_kw/mqtt.broker/search", map[string]any{"model": "mqtt.broker", "method": "search", "args": []any{}, "kwargs": map[string]any{}})
	r.wantError(t, 100, jsonrpc.NameSessionExpired, jsonrpc.TextSessionExpired)
	resp, body := testkit.Post(t, srv.URL+"/jsonrpc", "application/json", []byte(`{"params":{"service":"common","method":"version","args":[]}}`))
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte(`"server_serie":"16.0"`)) {
		t.Errorf("jsonrpc through the outer router: %d %s", resp.StatusCode, body)
	}
	resp, body = testkit.Post(t, srv.URL+"/json/2/mqtt.broker/search", "application/json", []byte(`{"domain": []}`))
	if resp.StatusCode != 401 || !bytes.Contains(body, []byte(`"werkzeug.exceptions.Unauthorized"`)) {
		t.Errorf("JSON-2 through the outer router: %d %s", resp.StatusCode, body)
	}
	resp, body = testkit.Post(t, srv.URL+"/json/2/mqtt.broker", "application/json", []byte(`{}`))
	if resp.StatusCode != 404 || !bytes.Contains(body, []byte("Did you mean POST /json/2/")) {
		t.Errorf("/json/2 hint through the outer router: %d %s", resp.StatusCode, body)
	}
	get, err := http.Get(srv.URL + "/web")
	if err != nil {
		t.Fatal(err)
	}
	get.Body.Close()
	if get.StatusCode != 200 {
		t.Errorf("outer route: HTTP %d", get.StatusCode)
	}
}
