package rpc

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	kolo "github.com/kolo/xmlrpc"
)

// testXMLRPCClientFlow drives the server with kolo's client the way the
// Odoo external API docs do: version, authenticate, then CRUD on a model.
func testXMLRPCClientFlow(t *testing.T) {
	ts := newTestServer(t)
	common, err := kolo.NewClient(ts.URL+"/xmlrpc/2/common", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer common.Close()
	object, err := kolo.NewClient(ts.URL+"/xmlrpc/2/object", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer object.Close()

	// Byte for byte what Odoo sends (testdata/gen_testdata.py).
	if got := ts.xmlCall(t, "/xmlrpc/2/common", "version"); !bytes.Equal(got, testdata(t, "py_version_response.xml")) {
		t.Errorf("version body =\n%s\nwant\n%s", got, testdata(t, "py_version_response.xml"))
	}
	var version map[string]any
	if err := common.Call("version", nil, &version); err != nil || version["server_serie"] != "16.0" {
		t.Fatalf("version through kolo = %v, %v", version, err)
	}

	var uid int64
	if err := common.Call("authenticate", []any{testDB, testLogin, testPW, map[string]any{}}, &uid); err != nil || uid != adminUID {
		t.Fatalf("authenticate = %d, %v; want %d", uid, err, adminUID)
	}
	var bad bool
	if err := common.Call("authenticate", []any{testDB, testLogin, "wrong", map[string]any{}}, &bad); err != nil || bad {
		t.Fatalf("authenticate with a bad password = %v, %v; want false", bad, err)
	}
	if err := common.Call("login", []any{testDB, testLogin, testPW}, &uid); err != nil || uid != adminUID {
		t.Fatalf("login = %d, %v", uid, err)
	}

	call := func(method string, args []any, kwargs map[string]any, out any) error {
		params := []any{testDB, uid, testPW, "mqtt.broker", method, args}
		if kwargs != nil {
			params = append(params, kwargs)
		}
		return object.Call("execute_kw", params, out)
	}
	var id int64
	if err := call("create", []any{map[string]any{"name": "XML Plant", "host": "10.0.0.5", "port": "1883"}}, nil, &id); err != nil || id == 0 {
		t.Fatalf("create = %d, %v", id, err)
	}
	var ok bool
	if err := call("write", []any{[]any{id}, map[string]any{"port": "8883"}}, nil, &ok); err != nil || !ok {
		t.Fatalf("write = %v, %v", ok, err)
	}
	var rows []map[string]any
	err = call("search_read", []any{[]any{[]any{"name", "=", "XML Plant"}}}, map[string]any{"fields": []any{"name", "host", "port"}}, &rows)
	if err != nil {
		t.Fatal(err)
	}
	wantRows := []map[string]any{{"id": id, "name": "XML Plant", "host": "10.0.0.5", "port": "8883"}}
	if !reflect.DeepEqual(rows, wantRows) {
		t.Errorf("search_read = %#v\nwant %#v", rows, wantRows)
	}
	if err := call("unlink", []any{[]any{id}}, nil, &ok); err != nil || !ok {
		t.Fatalf("unlink = %v, %v", ok, err)
	}
	var count int64
	if err := call("search_count", []any{[]any{[]any{"id", "=", id}}}, nil, &count); err != nil || count != 0 {
		t.Fatalf("search_count after unlink = %d, %v", count, err)
	}
	// Through kolo's client a fault arrives as an error naming its code.
	err = call("write", []any{[]any{id}, map[string]any{"name": "x"}}, nil, &ok)
	if err == nil || !strings.HasPrefix(err.Error(), "Fault(2): ") {
		t.Errorf("write on a deleted record: %v, want Fault(2)", err)
	}
}

// testXMLRPCRecordedBodies replays requests written by Python's
// xmlrpc.client (testdata/gen_testdata.py).
func testXMLRPCRecordedBodies(t *testing.T) {
	ts := newTestServer(t)
	tests := []struct {
		file string
		want any
	}{
		{"py_authenticate.xml", int64(2)},
		{"py_execute_kw_search_read.xml", []any{}}, // its domain matches nothing
		{"py_execute_kw_nil_kwargs.xml", reflect.Slice},
		{"py_execute_kw_uid_string.xml", reflect.Int64},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body := ts.xmlPost(t, "/xmlrpc/2/"+service(tt.file), testdata(t, tt.file))
			if f, isFault := fault(t, body); isFault {
				t.Fatalf("fault %d: %s", f.Code, f.String)
			}
			var got any
			if err := kolo.Response(body).Unmarshal(&got); err != nil {
				t.Fatal(err)
			}
			if k, ok := tt.want.(reflect.Kind); ok {
				// The database is shared: only the shape is known.
				if got == nil || reflect.TypeOf(got).Kind() != k {
					t.Errorf("result = %#v, want a %v", got, k)
				}
			} else if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("result = %#v, want %#v", got, tt.want)
			}
		})
	}
}

// service picks the endpoint of a recorded body from its method.
func service(file string) string {
	if strings.Contains(file, "authenticate") {
		return "common"
	}
	return "object"
}

// testXMLRPCFaults checks the fault code and text of each error class on
// /xmlrpc/2, and that the server keeps serving after each.
func testXMLRPCFaults(t *testing.T) {
	ts := newTestServer(t)
	obj := func(params ...any) []any { return append([]any{testDB, adminUID, testPW}, params...) }
	tests := []struct {
		name    string
		service string
		method  string
		params  []any
		code    int
		text    string // faultString contains this
	}{
		{"bad password", "object", "execute_kw", []any{testDB, adminUID, "nope", "mqtt.broker", "search", []any{[]any{}}}, 3, "Access Denied"},
		{"private method", "object", "execute_kw", obj("mqtt.broker", "_foo", []any{}), 4, "Private methods (such as _foo) cannot be called remotely."},
		{"unknown model", "object", "execute_kw", obj("x", "search", []any{[]any{}}), 2, "Object x doesn't exist"},
		{"unknown model method", "object", "execute_kw", obj("mqtt.broker", "frobnicate", []any{}), 1, "AttributeError: "},
		{"required field", "object", "execute_kw", obj("mqtt.broker", "create", []any{map[string]any{"host": "h"}}), 2, ""},
		{"unknown field", "object", "execute_kw", obj("mqtt.broker", "read", []any{[]any{1}}, map[string]any{"fields": []any{"nope"}}), 1, "ValueError: "},
		{"wrong db", "object", "execute_kw", []any{"nodb", adminUID, testPW, "mqtt.broker", "search", []any{[]any{}}}, 1, `database "nodb" does not exist`},
		{"wrong db before bad uid", "object", "execute_kw", []any{"nodb", "abc", testPW, "m", "search", []any{}}, 1, "does not exist"},
		{"uid abc", "object", "execute_kw", []any{testDB, "abc", testPW, "mqtt.broker", "search", []any{[]any{}}}, 1, "ValueError: invalid literal for int() with base 10: 'abc'"},
		{"uid false", "object", "execute_kw", []any{testDB, false, testPW, "mqtt.broker", "search", []any{[]any{}}}, 3, "Access Denied"},
		{"too many params", "object", "execute_kw", obj("mqtt.broker", "search", []any{[]any{}}, map[string]any{}, 1), 1, "TypeError: execute_kw() takes from 5 to 6 positional arguments but 7 were given"},
		{"object method unknown", "object", "exec_workflow", obj("mqtt.broker", "x", int64(1)), 1, "NameError: Method not available exec_workflow"},
		{"common method unknown", "common", "nope", nil, 1, "Method not found: nope"},
		{"authenticate without user_agent_env", "common", "authenticate", []any{testDB, testLogin, testPW}, 1, "TypeError: exp_authenticate() missing 1 required positional argument: 'user_agent_env'"},
		{"authenticate wrong db", "common", "authenticate", []any{"other", testLogin, testPW, map[string]any{}}, 1, `database "other" does not exist`},
		{"db master method", "db", "drop", []any{"pw", testDB}, 3, "Access Denied"},
		{"db unknown", "db", "nope", nil, 1, "KeyError: 'Method not found: nope'"},
		{"unknown service", "nope", "version", nil, 1, "KeyError: 'nope'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := ts.xmlCall(t, "/xmlrpc/2/"+tt.service, tt.method, tt.params...)
			f, isFault := fault(t, body)
			if !isFault {
				t.Fatalf("want fault %d, got %s", tt.code, body)
			}
			if f.Code != tt.code || !strings.Contains(f.String, tt.text) {
				t.Errorf("fault = %d %q, want %d containing %q", f.Code, f.String, tt.code, tt.text)
			}
			if strings.Contains(f.String, "Traceback") || strings.Contains(f.String, "goroutine") {
				t.Errorf("fault leaks a trace: %q", f.String)
			}
		})
	}
	var v map[string]any
	if err := kolo.Response(ts.xmlCall(t, "/xmlrpc/2/common", "version")).Unmarshal(&v); err != nil || v["server_version"] != "16.0" {
		t.Errorf("server stopped serving: %v %v", v, err)
	}
}

// testXMLRPCLegacyFaults checks the string fault codes of /xmlrpc/<service>
// that erppeek and odoo-client-lib parse.
func testXMLRPCLegacyFaults(t *testing.T) {
	ts := newTestServer(t)
	obj := func(params ...any) []any { return append([]any{testDB, adminUID, testPW}, params...) }
	tests := []struct {
		name     string
		params   []any
		code     string
		textPart string
	}{
		{"access denied", []any{testDB, adminUID, "nope", "mqtt.broker", "search", []any{[]any{}}}, "AccessDenied", "Access Denied"},
		{"user error", obj("x", "search", []any{[]any{}}), "warning -- UserError\n\nObject x doesn't exist", ""},
		{"access error", obj("mqtt.broker", "_foo", []any{}), "warning -- AccessError\n\nPrivate methods (such as _foo) cannot be called remotely.", ""},
		{"missing", obj("mqtt.broker", "write", []any{[]any{999}, map[string]any{"name": "x"}}), "warning -- MissingError\n\n", ""},
		{"value error", []any{testDB, "abc", testPW, "mqtt.broker", "search", []any{}}, "invalid literal for int() with base 10: 'abc'", "ValueError: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, text := legacyFault(t, ts.xmlCall(t, "/xmlrpc/object", "execute_kw", tt.params...))
			if !strings.HasPrefix(code, tt.code) || !strings.Contains(text, tt.textPart) || (tt.textPart == "" && text != "") {
				t.Errorf("legacy fault = %q %q, want %q %q", code, text, tt.code, tt.textPart)
			}
		})
	}
	// Successes are the same on the legacy path.
	var v string
	if err := kolo.Response(ts.xmlCall(t, "/xmlrpc/db", "server_version")).Unmarshal(&v); err != nil || v != "16.0" {
		t.Errorf("legacy db.server_version = %q, %v", v, err)
	}
}

// testXMLRPCServices covers the remaining common and db methods.
func testXMLRPCServices(t *testing.T) {
	ts := newTestServer(t)
	tests := []struct {
		service, method string
		params          []any
		want            any
	}{
		{"common", "about", nil, "See http://openerp.com"},
		{"common", "about", []any{true}, []any{"See http://openerp.com", "16.0"}},
		{"common", "set_loglevel", []any{"debug"}, true},
		{"common", "login", []any{testDB, testLogin, "bad"}, false},
		{"common", "login", []any{testDB, "nobody", testPW}, false},
		{"db", "list", nil, []any{testDB}},
		{"db", "server_version", nil, "16.0"},
		{"db", "db_exist", []any{testDB}, true},
		{"db", "db_exist", []any{"other"}, false},
		{"db", "list_lang", nil, []any{[]any{"en_US", "English (US)"}}},
	}
	for _, tt := range tests {
		t.Run(tt.service+"."+tt.method, func(t *testing.T) {
			body := ts.xmlCall(t, "/xmlrpc/2/"+tt.service, tt.method, tt.params...)
			if f, isFault := fault(t, body); isFault {
				t.Fatalf("fault %d %s", f.Code, f.String)
			}
			var got any
			if err := kolo.Response(body).Unmarshal(&got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("= %#v, want %#v", got, tt.want)
			}
		})
	}

	noList := newTestServer(t, func(o *Options) { o.ListDB = false })
	f, isFault := fault(t, noList.xmlCall(t, "/xmlrpc/2/db", "list"))
	if !isFault || f.Code != 3 {
		t.Errorf("db.list with ListDB off = %v %+v, want fault 3", isFault, f)
	}
}
