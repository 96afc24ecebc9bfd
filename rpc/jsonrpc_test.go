package rpc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
)

// testJSONRPCFlow runs the /jsonrpc path odoorpc 0.10 and odoo-client-lib
// use: common.version, common.login, then object.execute_kw CRUD.
func testJSONRPCFlow(t *testing.T) {
	ts := newTestServer(t)
	call := func(service, method string, args ...any) jsonResponse {
		if args == nil {
			args = []any{} // a null args is a TypeError, as in Odoo
		}
		return ts.jsonCall(t, "/jsonrpc", map[string]any{"service": service, "method": method, "args": args})
	}
	r := call("common", "version")
	if r.status != http.StatusOK || sessionCookieOf(r.cookies) != nil {
		t.Errorf("version: HTTP %d cookies %v (jsonrpc sets no cookie)", r.status, r.cookies)
	}
	if string(r.Result) != `{"server_version":"16.0","server_version_info":[16,0,0,"final",0,""],"server_serie":"16.0","protocol_version":1}` {
		t.Errorf("version = %s", r.Result)
	}
	var uid int64
	call("common", "login", testDB, testLogin, testPW).result(t, &uid)
	if uid != adminUID {
		t.Fatalf("login uid = %d", uid)
	}
	var bad any
	call("common", "authenticate", testDB, testLogin, "bad", map[string]any{}).result(t, &bad)
	if bad != false {
		t.Errorf("bad login = %v, want false", bad)
	}

	kw := func(method string, args []any, kwargs map[string]any) jsonResponse {
		return call("object", "execute_kw", testDB, uid, testPW, "mqtt.broker", method, args, kwargs)
	}
	var id int64
	kw("create", []any{map[string]any{"name": "JSON Plant", "host": "h1", "port": "1883"}}, nil).result(t, &id)
	var ok bool
	kw("write", []any{[]any{id}, map[string]any{"host": "h2"}}, nil).result(t, &ok)
	if !ok {
		t.Error("write returned false")
	}
	r = ts.jsonPost(t, "/jsonrpc", testdata(t, "jsonrpc_execute_kw.json"))
	var rows []map[string]any
	r.result(t, &rows)
	want := []map[string]any{{"id": float64(id), "name": "JSON Plant", "port": "1883"}}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("search_read = %v, want %v", rows, want)
	}
	kw("unlink", []any{id}, nil).result(t, &ok)

	// Errors carry Odoo's data.name; a float uid from a JS client works.
	kw("write", []any{[]any{id}, map[string]any{"host": "h3"}}, nil).wantError(t, 200, "odoo.exceptions.MissingError", "")
	call("object", "execute_kw", testDB, uid, "bad", "mqtt.broker", "search", []any{[]any{}}).wantError(t, 200, "odoo.exceptions.AccessDenied", "Access Denied")
	var ids []int64
	ts.jsonPost(t, "/jsonrpc", []byte(`{"params":{"service":"object","method":"execute_kw","args":["testdb",2.0,"`+testPW+`","mqtt.broker","search",[[["id","=",`+fmt.Sprint(id)+`.0]]]]}}`)).result(t, &ids)
	if len(ids) != 0 {
		t.Errorf("search after unlink = %v", ids)
	}
	call("object", "execute_kw", testDB, 2.5, testPW, "mqtt.broker", "search", []any{[]any{}}).wantError(t, 200, "builtins.ValueError", "invalid literal")
	call("object", "execute_kw", "nodb", uid, testPW, "mqtt.broker", "search", []any{[]any{}}).wantError(t, 200, "psycopg2.OperationalError", `database "nodb" does not exist`)
	call("object", "execute", testDB, uid, testPW, "mqtt.broker", "_private").wantError(t, 200, "odoo.exceptions.AccessError", "Private methods")
}

// testJSONEnvelopeErrors checks each malformed envelope gets its status
// and shape, and that the server keeps serving.
func testJSONEnvelopeErrors(t *testing.T) {
	ts := newTestServer(t, func(o *Options) { o.MaxRequestBytes = 2048 })
	big := []byte(`{"params":{"service":"common","method":"version","args":["` + strings.Repeat("x", 4096) + `"]}}`)
	tests := []struct {
		name        string
		contentType string
		body        []byte
		status      int
		code        int    // 0: not a JSON envelope
		id          string // echoed id
	}{
		{"truncated", "application/json", testdata(t, "bad_truncated.json"), 400, -32700, "null"},
		{"empty", "application/json", nil, 400, -32700, "null"},
		{"params array", "application/json", testdata(t, "bad_params_array.json"), 400, -32600, "7"},
		{"body array", "application/json", testdata(t, "bad_body_array.json"), 400, -32600, "null"},
		{"body null", "application/json", testdata(t, "bad_body_null.json"), 400, -32600, "null"},
		{"oversize", "application/json", big, 413, 413, "null"},
		{"text/plain", "text/plain", []byte(`{"params":{}}`), 400, 0, ""},
		{"no content type", "", []byte(`{"params":{}}`), 400, 0, ""},
		{"form", "application/x-www-form-urlencoded", []byte(`a=b`), 400, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := testkit.Post(t, ts.URL+"/jsonrpc", tt.contentType, tt.body)
			if resp.StatusCode != tt.status {
				t.Errorf("HTTP %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if tt.code == 0 {
				if bytes.HasPrefix(body, []byte("{")) {
					t.Errorf("content-type refusal should be plain text: %s", body)
				}
				return
			}
			var r jsonResponse
			if err := json.Unmarshal(body, &r); err != nil || r.Error == nil {
				t.Fatalf("not an error envelope: %s", body)
			}
			if r.Error.Code != tt.code || string(r.ID) != tt.id || r.JSONRPC != "2.0" {
				t.Errorf("error = %d id %s, want %d id %s: %s", r.Error.Code, r.ID, tt.code, tt.id, body)
			}
		})
	}
	// Content types Odoo accepts, with parameters.
	for _, ct := range []string{"application/json; charset=utf-8", "application/json-rpc", "Application/JSON"} {
		resp, body := testkit.Post(t, ts.URL+"/jsonrpc", ct, []byte(`{"params":{"service":"db","method":"server_version","args":[]}}`))
		if resp.StatusCode != 200 || !bytes.Contains(body, []byte(`"result":"16.0"`)) {
			t.Errorf("%s: HTTP %d %s", ct, resp.StatusCode, body)
		}
	}
	// The envelope's id is echoed verbatim; a missing one is null.
	r := ts.jsonPost(t, "/jsonrpc", []byte(`{"params":{"service":"db","method":"server_version","args":[]},"id":{"a": [1, "b"]}}`))
	if string(r.ID) != `{"a":[1,"b"]}` {
		t.Errorf("id = %s", r.ID)
	}
	// Unknown params are a TypeError, like Python keyword binding.
	ts.jsonCall(t, "/jsonrpc", map[string]any{"service": "db", "method": "list", "args": []any{}, "bogus": 1}).
		wantError(t, 200, "builtins.TypeError", "jsonrpc() got an unexpected keyword argument 'bogus'")
	ts.jsonCall(t, "/jsonrpc", map[string]any{"service": "db", "method": "list"}).
		wantError(t, 200, "builtins.TypeError", "jsonrpc() missing 1 required positional argument: 'args'")
	// Other HTTP methods are refused by the router; unknown paths are 404.
	resp, _ := http.Get(ts.URL + "/jsonrpc")
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /jsonrpc: HTTP %d", resp.StatusCode)
	}
	resp, _ = testkit.Post(t, ts.URL+"/web/nope", "application/json", []byte(`{}`))
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown path: HTTP %d", resp.StatusCode)
	}
}

// testXMLRPCBadBodies checks malformed, hostile and oversized XML bodies.
func testXMLRPCBadBodies(t *testing.T) {
	ts := newTestServer(t, func(o *Options) { o.MaxRequestBytes = 2048 })
	big := append([]byte(`<?xml version="1.0"?><methodCall><methodName>version</methodName><params><param><value><string>`),
		bytes.Repeat([]byte("x"), 4096)...)
	tests := []struct {
		name, text string
		body       []byte
	}{
		{"truncated", "ExpatError: ", testdata(t, "bad_truncated.xml")},
		{"two roots", "ExpatError: ", testdata(t, "bad_two_roots.xml")},
		{"doctype", "ExpatError: ", testdata(t, "bad_doctype.xml")},
		{"empty", "ExpatError: ", nil},
		{"not xml", "ExpatError: ", []byte("hello")},
		{"oversize", "RequestEntityTooLarge: ", big},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, isFault := fault(t, ts.xmlPost(t, "/xmlrpc/2/common", tt.body))
			if !isFault || f.Code != 1 || !strings.HasPrefix(f.String, tt.text) {
				t.Errorf("fault = %v %d %q, want 1 %q", isFault, f.Code, f.String, tt.text)
			}
		})
	}
	resp, err := http.Get(ts.URL + "/xmlrpc/2/common")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: HTTP %d, want 405", resp.StatusCode)
	}
	if f, isFault := fault(t, ts.xmlCall(t, "/xmlrpc/2/common", "version")); isFault {
		t.Errorf("server stopped serving: %+v", f)
	}
}
