package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// json2Env is a handler on a registry of its own (ids are predictable:
// the goldens name them) with the API keys the cases use.
type json2Env struct {
	reg  *modelstest.App
	ts   *httptest.Server
	logs *testkit.Buffer
	keys map[string]string // admin, user (MQTT user), expired, scoped (scope other)
}

func newJSON2Env(t *testing.T, kind string) *json2Env {
	t.Helper()
	ctl := &modelstest.Control{CheckErr: errors.New("connection refused")}
	reg := modelstest.NewFor(t, kind, modelstest.Options{Control: func() mqtt.BrokerControl { return ctl }})
	logs := &testkit.Buffer{}
	ts := httptest.NewServer(newHandler(reg.Registry, Options{DBName: testDB, LoginRateLimit: 1000, Logger: testLogger(logs)}, nil))
	t.Cleanup(ts.Close)
	e := &json2Env{reg: reg, ts: ts, logs: logs, keys: map[string]string{}}
	exec := func(uid int64, model, method string, args ...any) any {
		t.Helper()
		res, err := reg.Execute(context.Background(), models.Call{UID: uid, Model: model, Method: method, Args: args})
		if err != nil {
			t.Fatalf("%s.%s%v: %v", model, method, args, err)
		}
		return res
	}
	gids := exec(adminUID, "res.groups", "search", []any{[]any{"xml_id", "=", "mqtt.group_mqtt_user"}}).([]int64)
	user := exec(adminUID, "res.users", "create", map[string]any{"name": "JSON-2 user", "login": "json2-user", "password": "pw-json2-user",
		"groups_id": []any{[]any{int64(6), int64(0), []any{gids[0]}}}}).(int64)
	e.keys["admin"] = exec(adminUID, "res.users.apikeys", "generate", "json2 admin").(string)
	e.keys["user"] = exec(user, "res.users.apikeys", "generate", "json2 user", false, time.Now().Add(24*time.Hour).UTC().Format(models.DatetimeFormat)).(string)
	e.keys["scoped"] = exec(adminUID, "res.users.apikeys", "generate", "json2 scoped", "other").(string)
	e.keys["expired"] = exec(adminUID, "res.users.apikeys", "generate", "json2 expired", false, "2099-01-01").(string)
	// Let it expire: a key cannot be made already expired.
	past := reg.Dialect().DBDatetime(time.Now().Add(-time.Minute))
	if err := reg.DB().Exec(`UPDATE "res_users_apikeys" SET "expiration_date" = ? WHERE "name" = ?`, past, "json2 expired").Error; err != nil {
		t.Fatal(err)
	}
	return e
}

// post sends a JSON-2 request with the named key ("" for none, anything
// not a key name is sent as is) and returns the status and body.
func (e *json2Env) post(t *testing.T, method, path, key, body string, headers map[string]string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, e.ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	if k, ok := e.keys[key]; ok {
		req.Header.Set("Authorization", "bearer "+k)
	} else if key != "" {
		req.Header.Set("Authorization", key)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, out := testkit.Do(t, http.DefaultClient, req)
	return resp.StatusCode, resp.Header, out
}

// json2Golden is a sample in testdata/json2/, shaped after the examples
// of Odoo 19's "External JSON-2 API" documentation: the request (path,
// body) and the status and JSON body of the answer. A response of null in
// the file means "check the status only".
type json2Golden struct {
	Path     string          `json:"path"`
	Body     json.RawMessage `json:"body"`
	Status   int             `json:"status"`
	Response json.RawMessage `json:"response"`
}

func loadGolden(t *testing.T, name string) json2Golden {
	t.Helper()
	var g json2Golden
	if err := json.Unmarshal(testdata(t, filepath.Join("json2", name+".json")), &g); err != nil {
		t.Fatalf("testdata/json2/%s.json: %v", name, err)
	}
	return g
}

// sameJSON compares two JSON texts as values.
func sameJSON(t *testing.T, got, want []byte) bool {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("answer is not JSON: %v: %s", err, got)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("want is not JSON: %v: %s", err, want)
	}
	return reflect.DeepEqual(g, w)
}

// TestJSON2 runs the table of JSON-2 requests in order (later rows see
// what earlier ones created): each generic method, the action methods,
// and each error class with its HTTP status and Odoo 19's error body.
func TestJSON2(t *testing.T) {
	for _, kind := range modelstest.Kinds(t) {
		t.Run(kind, func(t *testing.T) { testJSON2(t, newJSON2Env(t, kind)) })
	}
}

func testJSON2(t *testing.T, e *json2Env) {
	// The expiry holds on the other dialects too: an expired key is no
	// password for execute_kw.
	ctx := context.Background()
	if err := e.reg.CheckCredentials(ctx, adminUID, e.keys["expired"]); models.KindOf(err) != models.KindAccessDenied {
		t.Errorf("execute_kw with an expired key: %v, want AccessDenied", err)
	}
	if err := e.reg.CheckCredentials(ctx, adminUID, e.keys["admin"]); err != nil {
		t.Errorf("execute_kw with a valid key: %v", err)
	}
	tests := []struct {
		name    string
		golden  string // testdata/json2/<golden>.json gives path, body, status, response
		method  string // HTTP method, POST when empty
		path    string
		key     string
		body    string
		headers map[string]string
		status  int
		want    string // the whole answer, as JSON; or:
		errName string // the error's name, and a part of its message
		errMsg  string
	}{
		// Generic methods.
		{name: "create", golden: "create", key: "admin"},
		{name: "create one more", path: "/json/2/mqtt.broker/create", key: "admin",
			body: `{"vals_list": [{"name": "Azure Interior", "host": "azure.example", "active": false}]}`, status: 200, want: `[2]`},
		{name: "search_read as in the docs", golden: "search_read", key: "admin"},
		{name: "search", path: "/json/2/mqtt.broker/search", key: "admin",
			body: `{"domain": [["host", "like", "example"]], "order": "name desc"}`, status: 200, want: `[1]`},
		{name: "search with context active_test", path: "/json/2/mqtt.broker/search", key: "admin",
			body: `{"domain": [], "order": "id", "context": {"active_test": false}}`, status: 200, want: `[1, 2]`},
		{name: "search_count", path: "/json/2/mqtt.broker/search_count", key: "admin",
			body: `{"domain": [["name", "ilike", "deco"]]}`, status: 200, want: `1`},
		{name: "read", path: "/json/2/mqtt.broker/read", key: "admin",
			body: `{"ids": [1], "fields": ["name", "port"]}`, status: 200, want: `[{"id": 1, "name": "Deco Addict", "port": "1883"}]`},
		{name: "write", golden: "write", key: "admin"},
		{name: "read after write", path: "/json/2/mqtt.broker/read", key: "admin",
			body: `{"ids": [1], "fields": ["port"]}`, status: 200, want: `[{"id": 1, "port": "8883"}]`},
		{name: "fields_get", path: "/json/2/mqtt.broker/fields_get", key: "admin",
			body: `{"allfields": ["name"], "attributes": ["string", "type", "required"]}`, status: 200,
			want: `{"name": {"string": "Broker Name", "type": "char", "required": true}}`},
		{name: "name_search with Odoo 19's domain", path: "/json/2/mqtt.broker/name_search", key: "admin",
			body: `{"name": "deco", "domain": [["active", "=", true]], "limit": 5}`, status: 200, want: `[[1, "Deco Addict"]]`},
		{name: "read_group", path: "/json/2/mqtt.broker/read_group", key: "admin",
			body: `{"domain": [], "fields": ["port"], "groupby": ["port"], "lazy": false}`, status: 200},
		{name: "model method of an addon", path: "/json/2/mqtt.service/get_listener_status", key: "user",
			body: `{}`, status: 200},
		{name: "ids absent on a model method", path: "/json/2/mqtt.broker/search_count", key: "admin",
			body: `{"domain": [], "ids": []}`, status: 200, want: `1`},
		{name: "empty body", path: "/json/2/res.users/context_get", key: "admin", status: 200},
		{name: "unlink", path: "/json/2/mqtt.broker/unlink", key: "admin",
			body: `{"ids": [2]}`, status: 200, want: `true`},
		{name: "X-Odoo-Database ours", path: "/json/2/mqtt.broker/search", key: "admin", headers: map[string]string{"X-Odoo-Database": testDB},
			body: `{"domain": []}`, status: 200, want: `[1]`},

		// Action methods, with their own keyword names; a user-facing
		// refusal is Odoo's UserError, 422.
		{name: "check_connection refused", path: "/json/2/mqtt.broker/check_connection", key: "admin",
			body: `{"ids": [1]}`, status: 422, errName: "odoo.exceptions.UserError", errMsg: "connection refused"},
		{name: "status kept after the refusal", path: "/json/2/mqtt.broker/read", key: "admin",
			body: `{"ids": [1], "fields": ["connection_status"]}`, status: 200, want: `[{"id": 1, "connection_status": "fail"}]`},
		{name: "subscription create", path: "/json/2/mqtt.subscription/create", key: "admin",
			body: `{"vals_list": [{"broker_id": 1, "topic": "json2/out"}]}`, status: 200, want: `[1]`},
		{name: "subscribe_mqtt", path: "/json/2/mqtt.subscription/subscribe_mqtt", key: "admin",
			body: `{"ids": [1]}`, status: 200, want: `true`},
		{name: "signal create", path: "/json/2/mqtt.signal/create", key: "admin",
			body: `{"vals_list": [{"broker_id": 1, "subscription_id": 1, "payload": "on"}]}`, status: 200, want: `[1]`},
		{name: "action_send_mqtt", path: "/json/2/mqtt.signal/action_send_mqtt", key: "admin",
			body: `{"ids": [1]}`, status: 200, want: `true`},
		{name: "device create", path: "/json/2/iot.device/create", key: "admin",
			body: `{"vals_list": [{"broker_id": 1, "name": "Lamp", "identifier": "lamp"}]}`, status: 200, want: `[1]`},
		{name: "device action", path: "/json/2/iot.device/action", key: "admin",
			body: `{"ids": [1], "data": {"action": "on"}}`, status: 200},
		{name: "generate a key in the past", path: "/json/2/res.users.apikeys/generate", key: "admin",
			body: `{"name": "Some service", "expiration_date": "2000-01-01"}`, status: 422, errName: "odoo.exceptions.UserError", errMsg: "expire in the future"},
		{name: "generate a key", path: "/json/2/res.users.apikeys/generate", key: "admin",
			body: `{"name": "Some service", "scope": null, "expiration_date": "2099-05-19"}`, status: 200},
		{name: "mqtt.service status", path: "/json/2/mqtt.service/check_mqtt_status", key: "admin",
			body: `{}`, status: 200},

		// 401: no key, a wrong one, an expired one, one of another scope.
		{name: "401 no key", golden: "error_401_missing"},
		{name: "401 invalid key", golden: "error_401", key: "bearer 6578616d706c65206a736f6e20617069206b6579"},
		{name: "401 expired key", path: "/json/2/mqtt.broker/search", key: "expired", body: `{"domain": []}`,
			status: 401, errName: "werkzeug.exceptions.Unauthorized", errMsg: "Invalid apikey"},
		{name: "401 key of another scope", path: "/json/2/mqtt.broker/search", key: "scoped", body: `{"domain": []}`,
			status: 401, errName: "werkzeug.exceptions.Unauthorized", errMsg: "Invalid apikey"},
		{name: "401 basic auth", path: "/json/2/mqtt.broker/search", key: "Basic YWRtaW46YWRtaW4=", body: `{"domain": []}`,
			status: 401, errName: "werkzeug.exceptions.Unauthorized", errMsg: msgNoAuthorization},

		// 403: access rights and private methods.
		{name: "403 create without the right", golden: "error_403", key: "user"},
		{name: "403 private method", path: "/json/2/mqtt.broker/_compute_x", key: "admin", body: `{}`,
			status: 403, errName: "odoo.exceptions.AccessError", errMsg: "Private methods"},

		// 404: unknown model, method, record, database, route.
		{name: "404 unknown model", golden: "error_404_model", key: "admin"},
		{name: "404 unknown method", path: "/json/2/mqtt.broker/frobnicate", key: "admin", body: `{}`,
			status: 404, errName: "werkzeug.exceptions.NotFound", errMsg: "The method 'frobnicate' does not exist on the model 'mqtt.broker'"},
		{name: "404 missing record", path: "/json/2/mqtt.broker/write", key: "admin", body: `{"ids": [999], "vals": {"port": "1"}}`,
			status: 404, errName: "odoo.exceptions.MissingError"},
		{name: "404 another database", path: "/json/2/mqtt.broker/search", key: "admin", headers: map[string]string{"X-Odoo-Database": "other"},
			body: `{"domain": []}`, status: 404, errName: "werkzeug.exceptions.NotFound", errMsg: `database "other" does not exist`},
		{name: "404 GET", method: http.MethodGet, path: "/json/2/mqtt.broker/search", key: "admin",
			status: 404, errName: "werkzeug.exceptions.NotFound", errMsg: json2DidYouMean},
		{name: "404 short path", path: "/json/2/mqtt.broker", key: "admin", body: `{}`,
			status: 404, errName: "werkzeug.exceptions.NotFound", errMsg: json2DidYouMean},

		// 422: arguments that do not fit, a failed constraint.
		{name: "422 unexpected keyword", golden: "error_422", key: "admin"},
		{name: "422 missing argument", path: "/json/2/mqtt.broker/write", key: "admin", body: `{"ids": [1]}`,
			status: 422, errName: "werkzeug.exceptions.UnprocessableEntity", errMsg: "missing 1 required positional argument(s): 'vals'"},
		{name: "422 ids on a model method", path: "/json/2/mqtt.broker/search", key: "admin", body: `{"ids": [1], "domain": []}`,
			status: 422, errName: "werkzeug.exceptions.UnprocessableEntity", errMsg: "cannot call mqtt.broker.search with ids"},
		{name: "422 ids not a list", path: "/json/2/mqtt.broker/read", key: "admin", body: `{"ids": "one"}`,
			status: 422, errName: "werkzeug.exceptions.UnprocessableEntity", errMsg: "Invalid ids"},
		{name: "422 validation", path: "/json/2/mqtt.broker/write", key: "admin", body: `{"ids": [1], "vals": {"reconnect_factor": 0}}`,
			status: 422, errName: "odoo.exceptions.ValidationError"},

		// 400 and 415: bodies the dispatcher cannot take.
		{name: "400 not JSON", path: "/json/2/mqtt.broker/search", key: "admin", body: `{"domain": [`,
			status: 400, errName: "werkzeug.exceptions.BadRequest", errMsg: "could not parse the body as json"},
		{name: "400 not an object", path: "/json/2/mqtt.broker/search", key: "admin", body: `[1, 2]`,
			status: 400, errName: "werkzeug.exceptions.BadRequest", errMsg: "expecting a json object"},
		{name: "415 not JSON content", path: "/json/2/mqtt.broker/search", key: "admin", body: `{}`,
			headers: map[string]string{"Content-Type": "text/plain"}, status: 415},

		// 500: a Python error of the method itself.
		{name: "500 bad domain", path: "/json/2/mqtt.broker/search", key: "admin", body: `{"domain": [["name", "~", "x"]]}`,
			status: 500, errName: "builtins.ValueError", errMsg: "Invalid leaf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, body, status, want := tt.path, tt.body, tt.status, tt.want
			if tt.golden != "" {
				g := loadGolden(t, tt.golden)
				path, body, status = g.Path, string(g.Body), g.Status
				if string(g.Response) != "null" {
					want = string(g.Response)
				}
			}
			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			got, hdr, out := e.post(t, method, path, tt.key, body, tt.headers)
			if got != status {
				t.Fatalf("%s %s: HTTP %d, want %d: %s", method, path, got, status, out)
			}
			if ct := hdr.Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			if want != "" && !sameJSON(t, out, []byte(want)) {
				t.Errorf("answer %s\nwant   %s", out, want)
			}
			if status == http.StatusUnauthorized && hdr.Get("WWW-Authenticate") != "bearer" {
				t.Errorf("401 without WWW-Authenticate: bearer")
			}
			if tt.errName == "" && status < 400 {
				return
			}
			var eb struct {
				Name      string         `json:"name"`
				Message   string         `json:"message"`
				Arguments []any          `json:"arguments"`
				Context   map[string]any `json:"context"`
				Debug     *string        `json:"debug"`
			}
			if err := json.Unmarshal(out, &eb); err != nil {
				t.Fatalf("error body: %v: %s", err, out)
			}
			if tt.errName != "" && eb.Name != tt.errName {
				t.Errorf("name %q, want %q: %s", eb.Name, tt.errName, out)
			}
			if !strings.Contains(eb.Message, tt.errMsg) {
				t.Errorf("message %q, want it to contain %q", eb.Message, tt.errMsg)
			}
			if len(eb.Arguments) == 0 || eb.Arguments[0] != eb.Message || eb.Context == nil || eb.Debug == nil {
				t.Errorf("not Odoo 19's error body (arguments[0] = message, context, debug): %s", out)
			}
			if strings.HasPrefix(eb.Name, "werkzeug.") && (len(eb.Arguments) != 2 || eb.Arguments[1] != float64(status)) {
				t.Errorf("a werkzeug error's arguments are (description, status): %v", eb.Arguments)
			}
		})
	}
}

// TestJSON2Throttle: failed keys count against the address as on the
// other dialects, and once over, even a right key is refused (429).
func TestJSON2Throttle(t *testing.T) {
	reg := modelstest.New(t)
	logs := &testkit.Buffer{}
	ts := httptest.NewServer(newHandler(reg.Registry, Options{DBName: testDB, LoginRateLimit: 2, Logger: testLogger(logs)}, nil))
	t.Cleanup(ts.Close)
	res, err := reg.Execute(context.Background(), models.Call{UID: adminUID, Model: "res.users.apikeys", Method: "generate", Args: []any{"throttle"}})
	if err != nil {
		t.Fatal(err)
	}
	e := &json2Env{reg: reg, ts: ts, logs: logs, keys: map[string]string{"admin": res.(string)}}
	for i, tc := range []struct {
		key    string
		status int
	}{
		{"admin", 200}, {"bearer 0123456789abcdef", 401}, {"bearer fedcba9876543210", 401}, {"bearer 00000000ffffffff", 429}, {"admin", 429},
	} {
		got, _, out := e.post(t, http.MethodPost, "/json/2/res.users/context_get", tc.key, `{}`, nil)
		if got != tc.status {
			t.Errorf("call %d: HTTP %d, want %d: %s", i, got, tc.status, out)
		}
		if got == 429 && !bytes.Contains(out, []byte(msgTooManyLogins)) {
			t.Errorf("call %d: %s", i, out)
		}
	}
	// XML-RPC from the same address is throttled too: one budget.
	body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": "call", "params": map[string]any{"service": "common", "method": "login", "args": []any{testDB, testLogin, testPW}}})
	_, out := testkit.Post(t, ts.URL+"/jsonrpc", "application/json", body)
	if !bytes.Contains(out, []byte(msgTooManyLogins)) {
		t.Errorf("/jsonrpc login after JSON-2 failures: %s", out)
	}
}

// TestJSON2Doc: /doc lists what the user may call, with examples; an MQTT
// user sees no create on brokers; /doc/<model>.json is the same as JSON;
// no session redirects to the login page.
func TestJSON2Doc(t *testing.T) {
	e := newJSON2Env(t, "sqlite")
	login := func(t *testing.T, user, pw string) *http.Cookie {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": "call", "params": map[string]any{"db": testDB, "login": user, "password": pw}})
		resp, out := testkit.Post(t, e.ts.URL+"/web/session/authenticate", "application/json", body)
		for _, c := range resp.Cookies() {
			if c.Name == "session_id" {
				return c
			}
		}
		t.Fatalf("no session cookie: %s", out)
		return nil
	}
	get := func(t *testing.T, path string, c *http.Cookie) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, e.ts.URL+path, nil)
		if c != nil {
			req.AddCookie(c)
		}
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		return testkit.Do(t, client, req)
	}
	resp, _ := get(t, "/doc", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/web/login?redirect=%2Fdoc" {
		t.Errorf("/doc without session: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, out := get(t, "/doc/mqtt.broker.json", nil); resp.StatusCode != 401 {
		t.Errorf("/doc/mqtt.broker.json without session: %d %s", resp.StatusCode, out)
	}
	admin := login(t, testLogin, testPW)
	user := login(t, "json2-user", "pw-json2-user")
	resp, page := get(t, "/doc", admin)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("/doc: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, s := range []string{`<section id="mqtt.broker"`, `data-method="check_connection"`, "POST /json/2/mqtt.broker/search_read HTTP/1.1",
		"Authorization: bearer &lt;API key&gt;", `&#34;domain&#34;: []`} {
		if !bytes.Contains(page, []byte(s)) {
			t.Errorf("/doc lacks %q", s)
		}
	}
	doc := func(t *testing.T, c *http.Cookie, model string) (int, map[string]any) {
		t.Helper()
		resp, out := get(t, "/doc/"+model+".json", c)
		var d map[string]any
		if err := json.Unmarshal(out, &d); err != nil {
			t.Fatalf("%s: %v", out, err)
		}
		return resp.StatusCode, d
	}
	methods := func(d map[string]any) map[string]map[string]any {
		out := map[string]map[string]any{}
		for _, m := range d["methods"].([]any) {
			mm := m.(map[string]any)
			out[mm["name"].(string)] = mm
		}
		return out
	}
	_, d := doc(t, admin, "mqtt.broker")
	am := methods(d)
	if am["create"] == nil || am["check_connection"] == nil || am["search_read"] == nil {
		t.Errorf("admin's mqtt.broker methods lack create, check_connection or search_read: %v", am)
	}
	if f := d["fields"].(map[string]any)["name"].(map[string]any); f["string"] != "Broker Name" {
		t.Errorf("fields.name = %v", f)
	}
	ex := am["search_read"]["example"].(map[string]any)
	if ex["path"] != "/json/2/mqtt.broker/search_read" {
		t.Errorf("example %v", ex)
	}
	// The example works as shown, with a real key.
	exBody, _ := json.Marshal(ex["body"])
	if st, _, out := e.post(t, http.MethodPost, ex["path"].(string), "admin", string(exBody), nil); st != 200 {
		t.Errorf("the search_read example: %d %s", st, out)
	}
	if ns := am["name_search"]["parameters"].([]any)[1].(map[string]any); ns["name"] != "domain" {
		t.Errorf("name_search's 2nd parameter is %v, want Odoo 19's domain", ns)
	}
	_, d = doc(t, user, "mqtt.broker")
	um := methods(d)
	if um["create"] != nil || um["unlink"] != nil || um["search_read"] == nil {
		t.Errorf("MQTT user's broker methods: create %v unlink %v search_read %v", um["create"] != nil, um["unlink"] != nil, um["search_read"] != nil)
	}
	if st, d := doc(t, user, "ir.config_parameter"); st != 403 || d["name"] != "odoo.exceptions.AccessError" {
		t.Errorf("user's /doc/ir.config_parameter.json: %d %v", st, d)
	}
	if st, _ := doc(t, admin, "no.such.model"); st != 404 {
		t.Errorf("/doc/no.such.model.json: %d", st)
	}
	resp, page = get(t, "/doc", user)
	if resp.StatusCode != 200 || bytes.Contains(page, []byte(`id="ir.config_parameter"`)) {
		t.Errorf("user's /doc shows ir.config_parameter (%d)", resp.StatusCode)
	}
}

// testLogger logs to buf, for tests that read the logs.
func testLogger(buf *testkit.Buffer) *slog.Logger { return slog.New(slog.NewTextHandler(buf, nil)) }

// TestJSON2PythonClient drives a real handler with Python's standard
// library only (testdata/python_json2.py): the same operations through
// xmlrpc.client and through JSON-2 with urllib.request give the same data,
// the same error message (with JSON-2's status), and a bad key is a 401.
func TestJSON2PythonClient(t *testing.T) {
	for _, kind := range modelstest.Kinds(t) {
		t.Run(kind, func(t *testing.T) {
			reg := modelstest.NewFor(t, kind).Registry
			ts := httptest.NewServer(newHandler(reg, Options{DBName: testDB, Logger: modelstest.Logger(t)}, nil))
			t.Cleanup(ts.Close)
			raw := runPython(t, "python_json2.py", ts.URL, testDB, testLogin, testPW)
			var got map[string]any
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatalf("python_json2.py printed %q: %v", raw, err)
			}
			if created, _ := got["created"].([]any); len(created) != 2 {
				t.Fatalf("created %v", got["created"])
			}
			for _, op := range []string{"search_read", "search", "search_count", "read", "name_search", "fields_get", "read_group", "write", "read after write", "unlink"} {
				pair, _ := got[op].(map[string]any)
				if pair == nil || pair["xml"] == nil || !reflect.DeepEqual(pair["xml"], pair["json2"]) {
					t.Errorf("%s: XML-RPC gave %v\nJSON-2 gave  %v", op, pair["xml"], pair["json2"])
				}
			}
			if rows, _ := got["search_read"].(map[string]any)["json2"].([]any); len(rows) != 2 {
				t.Errorf("search_read found %v, want the 2 brokers", rows)
			}
			kw := got["unexpected keyword"].(map[string]any)
			xf, jf := kw["xml"].(map[string]any), kw["json2"].(map[string]any)
			const msg = "search() got an unexpected keyword argument 'limt'"
			if xf["text"] != "TypeError: "+msg || jf["status"] != float64(422) || jf["message"] != msg {
				t.Errorf("unexpected keyword: XML-RPC %v, JSON-2 %v", xf, jf)
			}
			if bad := got["bad key"].(map[string]any); bad["status"] != float64(401) || bad["name"] != "werkzeug.exceptions.Unauthorized" {
				t.Errorf("bad key: %v", bad)
			}
		})
	}
}
