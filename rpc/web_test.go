package rpc

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// testWebSessionFlow walks the odoorpc/odooly web login: version_info
// hands out an anonymous cookie, authenticate rotates it, call_kw works
// with it, destroy ends it, and the old cookie then gets code 100.
func testWebSessionFlow(t *testing.T) {
	ts := newTestServer(t, func(o *Options) { o.SessionMaxAge = time.Hour })

	r := ts.jsonCall(t, "/web/webclient/version_info", map[string]any{})
	anon := sessionCookieOf(r.cookies)
	if anon == nil || len(anon.Value) != 40 {
		t.Fatalf("version_info cookies = %v, want an anonymous session_id", r.cookies)
	}
	var version map[string]any
	r.result(t, &version)
	if version["server_version"] != "16.0" || len(version) != 4 {
		t.Errorf("version_info = %v", version)
	}

	r = ts.jsonPost(t, "/web/session/authenticate", testdata(t, "odoorpc_authenticate.json"), anon)
	if string(r.ID) != "574398374" {
		t.Errorf("id = %s", r.ID)
	}
	var info map[string]any
	r.result(t, &info)
	if info["uid"] != float64(adminUID) || info["db"] != testDB || info["username"] != testLogin {
		t.Errorf("session_info = %v", info)
	}
	if uc, _ := info["user_context"].(map[string]any); uc["lang"] != "en_US" || uc["uid"] != float64(adminUID) {
		t.Errorf("user_context = %v", info["user_context"])
	}
	sess := sessionCookieOf(r.cookies)
	if sess == nil || sess.Value == anon.Value || len(sess.Value) != 40 {
		t.Fatalf("authenticate must rotate the cookie: %v", r.cookies)
	}
	if !sess.HttpOnly || sess.SameSite != http.SameSiteLaxMode || sess.Path != "/" || sess.MaxAge != 3600 {
		t.Errorf("cookie attributes = %+v", sess)
	}

	r = ts.jsonPost(t, "/web/dataset/call_kw/mqtt.broker/search_read", testdata(t, "webclient_call_kw_search_read.json"), sess)
	var rows []any
	r.result(t, &rows)
	if sessionCookieOf(r.cookies) != nil {
		t.Errorf("call_kw with a valid session set a cookie: %v", r.cookies)
	}
	var id int64
	ts.jsonCall(t, "/web/dataset/call_kw", map[string]any{"model": "mqtt.broker", "method": "create",
		"args": []any{map[string]any{"name": "Web B"}}, "kwargs": map[string]any{}}, sess).result(t, &id)
	if id == 0 {
		t.Error("create over call_kw gave no id")
	}

	r = ts.jsonCall(t, "/web/session/check", map[string]any{}, sess)
	if r.Error != nil || r.hasResult() {
		t.Errorf("check = %+v, want no result key", r.raw)
	}
	var modules []string
	ts.jsonCall(t, "/web/session/modules", map[string]any{}, sess).result(t, &modules)
	if !reflect.DeepEqual(modules, []string{"base", "web", "bus", "mqtt_integration", "mqtt_listener"}) {
		t.Errorf("modules = %v", modules)
	}
	ts.jsonCall(t, "/web/session/get_session_info", map[string]any{}, sess).result(t, &info)
	if info["uid"] != float64(adminUID) {
		t.Errorf("get_session_info = %v", info)
	}
	var length struct {
		Length  int              `json:"length"`
		Records []map[string]any `json:"records"`
	}
	ts.jsonCall(t, "/web/dataset/search_read", map[string]any{"model": "mqtt.broker", "fields": []any{"name"},
		"domain": []any{[]any{"name", "=", "Web B"}}}, sess).result(t, &length)
	if length.Length != 1 || len(length.Records) != 1 || length.Records[0]["name"] != "Web B" {
		t.Errorf("search_read = %+v", length)
	}
	// Every parameter but model has a default.
	ts.jsonCall(t, "/web/dataset/search_read", map[string]any{"model": "mqtt.broker", "context": map[string]any{"lang": "en_US"}}, sess).result(t, &length)
	if length.Length < 1 || len(length.Records) != length.Length || length.Records[0]["client_id"] == nil {
		t.Errorf("search_read with defaults = %+v", length)
	}

	r = ts.jsonCall(t, "/web/session/destroy", map[string]any{}, sess)
	if r.Error != nil || r.hasResult() {
		t.Errorf("destroy = %+v", r.raw)
	}
	if c := sessionCookieOf(r.cookies); c == nil || c.Value == sess.Value {
		t.Errorf("destroy should rotate the cookie: %v", r.cookies)
	}
	ts.jsonCall(t, "/web/dataset/call_kw", map[string]any{"model": "mqtt.broker", "method": "search",
		"args": []any{[]any{}}, "kwargs": map[string]any{}}, sess).
		wantError(t, 100, "odoo.http.SessionExpiredException", "Session expired")
	if r := ts.jsonCall(t, "/web/session/check", map[string]any{}, sess); r.Error == nil || r.Error.Message != "Odoo Session Expired" {
		t.Errorf("check after destroy = %+v", r.raw)
	}
}

// testWebErrors covers the error answers of the web routes.
func testWebErrors(t *testing.T) {
	ts := newTestServer(t)
	var info map[string]any
	r := ts.jsonCall(t, "/web/session/authenticate", map[string]any{"db": testDB, "login": testLogin, "password": testPW})
	r.result(t, &info)
	sess := sessionCookieOf(r.cookies)
	kw := func(params map[string]any) jsonResponse { return ts.jsonCall(t, "/web/dataset/call_kw", params, sess) }

	tests := []struct {
		name string
		r    jsonResponse
		code int
		err  string
		msg  string
	}{
		{"wrong db", ts.jsonCall(t, "/web/session/authenticate", map[string]any{"db": "x", "login": testLogin, "password": testPW}),
			200, "odoo.exceptions.AccessError", "Database not found."},
		{"bad password", ts.jsonCall(t, "/web/session/authenticate", map[string]any{"db": testDB, "login": testLogin, "password": "bad"}),
			200, "odoo.exceptions.AccessDenied", "Access Denied"},
		{"authenticate missing password", ts.jsonCall(t, "/web/session/authenticate", map[string]any{"db": testDB, "login": testLogin}),
			200, "builtins.TypeError", "authenticate() missing 1 required positional argument: 'password'"},
		{"no cookie", ts.jsonCall(t, "/web/dataset/call_kw", map[string]any{"model": "mqtt.broker", "method": "search", "args": []any{}, "kwargs": map[string]any{}}),
			100, "odoo.http.SessionExpiredException", "Session expired"},
		{"garbage cookie", ts.jsonCall(t, "/web/session/get_session_info", map[string]any{}, &http.Cookie{Name: "session_id", Value: "../../etc"}),
			100, "odoo.http.SessionExpiredException", "Session expired"},
		{"unknown sid", ts.jsonCall(t, "/web/session/check", map[string]any{}, &http.Cookie{Name: "session_id", Value: "0123456789abcdef0123456789abcdef01234567"}),
			100, "odoo.http.SessionExpiredException", "Session expired"},
		{"call_kw missing args", ts.jsonPost(t, "/web/dataset/call_kw", testdata(t, "bad_call_kw_missing_args.json"), sess),
			200, "builtins.TypeError", "call_kw() missing 1 required positional argument: 'args'"},
		{"call_kw unknown model", kw(map[string]any{"model": "x", "method": "search", "args": []any{[]any{}}, "kwargs": map[string]any{}}),
			200, "odoo.exceptions.UserError", "Object x doesn't exist"},
		{"call_kw private", kw(map[string]any{"model": "mqtt.broker", "method": "_foo", "args": []any{}, "kwargs": map[string]any{}}),
			200, "odoo.exceptions.AccessError", "Private methods"},
		{"call_kw args not a list", kw(map[string]any{"model": "mqtt.broker", "method": "search", "args": map[string]any{}, "kwargs": map[string]any{}}),
			200, "builtins.TypeError", "args must be a list"},
		{"call_kw unknown method", kw(map[string]any{"model": "mqtt.broker", "method": "frob", "args": []any{}, "kwargs": map[string]any{}}),
			200, "builtins.AttributeError", "frob"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.r.status != http.StatusOK {
				t.Errorf("HTTP %d", tt.r.status)
			}
			tt.r.wantError(t, tt.code, tt.err, tt.msg)
		})
	}
}

// testWebPublicRoutes covers the auth='none' helpers.
func testWebPublicRoutes(t *testing.T) {
	ts := newTestServer(t)
	var langs [][]string
	r := ts.jsonCall(t, "/web/session/get_lang_list", map[string]any{})
	r.result(t, &langs)
	if !reflect.DeepEqual(langs, [][]string{{"en_US", "English (US)"}}) {
		t.Errorf("langs = %v", langs)
	}
	if sessionCookieOf(r.cookies) == nil {
		t.Error("get_lang_list should hand out an anonymous cookie")
	}
	var dbs []string
	ts.jsonCall(t, "/web/database/list", map[string]any{}).result(t, &dbs)
	if !reflect.DeepEqual(dbs, []string{testDB}) {
		t.Errorf("database/list = %v", dbs)
	}
	off := newTestServer(t, func(o *Options) { o.ListDB = false })
	off.jsonCall(t, "/web/database/list", map[string]any{}).wantError(t, 200, "odoo.exceptions.AccessDenied", "Access Denied")
}

// testWebLoginRateLimit checks that failed web logins from one address are
// capped, that even the right password is then refused, and that RPC
// logins are not limited (Odoo's cooldown only applies to web logins).
func testWebLoginRateLimit(t *testing.T) {
	ts := newTestServer(t, func(o *Options) { o.LoginRateLimit = 2 })
	login := func(pw string) jsonResponse {
		return ts.jsonCall(t, "/web/session/authenticate", map[string]any{"db": testDB, "login": testLogin, "password": pw})
	}
	login("bad1").wantError(t, 200, "odoo.exceptions.AccessDenied", "Access Denied")
	login("bad2").wantError(t, 200, "odoo.exceptions.AccessDenied", "Access Denied")
	login(testPW).wantError(t, 200, "odoo.exceptions.AccessDenied", "Too many login failures, please wait a bit before trying again.")
	// The address is limited on every entry point, not only the web login.
	ts.jsonCall(t, "/jsonrpc", map[string]any{"service": "common", "method": "login", "args": []any{testDB, testLogin, testPW}}).
		wantError(t, 200, "odoo.exceptions.AccessDenied", "Too many login failures, please wait a bit before trying again.")
}

// testWebCallButton checks that only action dicts pass call_button.
func testWebCallButton(t *testing.T) {
	ts := newTestServer(t)
	r := ts.jsonCall(t, "/web/session/authenticate", map[string]any{"db": testDB, "login": testLogin, "password": testPW})
	sess := sessionCookieOf(r.cookies)
	var id int64
	ts.jsonCall(t, "/web/dataset/call_kw", map[string]any{"model": "mqtt.broker", "method": "create",
		"args": []any{map[string]any{"name": "B"}}, "kwargs": map[string]any{}}, sess).result(t, &id)
	// write returns True, which is not an action: false.
	var got json.RawMessage
	ts.jsonCall(t, "/web/dataset/call_button", map[string]any{"model": "mqtt.broker", "method": "write",
		"args": []any{[]any{id}, map[string]any{"name": "C"}}, "kwargs": map[string]any{}}, sess).result(t, &got)
	if string(got) != "false" {
		t.Errorf("call_button(write) = %s, want false", got)
	}
}

func TestButtonResult(t *testing.T) {
	action := models.NewDict(2)
	action.Set("type", "ir.actions.client")
	action.Set("tag", "display_notification")
	typeless := models.NewDict(1)
	typeless.Set("value", "x")
	var nilDict *models.Dict
	tests := []struct {
		name string
		in   any
		want any
	}{
		{"map action", map[string]any{"type": "ir.actions.act_window", "res_model": "m"}, map[string]any{"type": "ir.actions.act_window", "res_model": "m"}},
		{"dict action", action, action},
		{"empty type", map[string]any{"type": ""}, false},
		{"no type", typeless, false},
		{"type not a string", map[string]any{"type": false}, false},
		{"nil dict", nilDict, false},
		{"true", true, false},
		{"nil", nil, false},
		{"list", []any{int64(1)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := buttonResult(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("buttonResult(%v) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}
