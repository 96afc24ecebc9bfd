package rpc

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	kolo "github.com/kolo/xmlrpc"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
)

// testWebExportCSV: POST /web/export/csv with the web client's data
// parameter streams a CSV (quoted cells, a header row of labels, or of
// names when import-compatible) of the domain's records in the given
// order, across several export chunks; ids export those records only;
// a bad field or a missing session answers Odoo's JSON error before any
// CSV byte.
// TestWebExportCSV runs alone on a registry of its own, not among
// TestServer's parallel subtests: its thousands of creates on their shared
// SQLite database (seconds under -race) made their writes wait past the
// busy timeout. (Top-level tests run one after another, so setting
// testReg here does not race with TestServer's.)
func TestWebExportCSV(t *testing.T) {
	testReg = modelstest.New(t).Registry
	testWebExportCSV(t)
}

func testWebExportCSV(t *testing.T) {
	ts := newTestServer(t)
	login := ts.jsonPost(t, "/web/session/authenticate", testdata(t, "odoorpc_authenticate.json"))
	sess := sessionCookieOf(login.cookies)
	if sess == nil {
		t.Fatal("no session")
	}
	call := func(model, method string, args ...any) any {
		t.Helper()
		var out any
		ts.jsonCall(t, "/web/dataset/call_kw", map[string]any{"model": model, "method": method, "args": args, "kwargs": map[string]any{}}, sess).result(t, &out)
		return out
	}
	broker := call("mqtt.broker", "create", map[string]any{"name": "CSV broker"})
	const n = 2*exportChunk + 5
	vals := make([]any, n)
	for i := range vals {
		vals[i] = map[string]any{"broker_id": broker, "topic": fmt.Sprintf("csvexp/%04d", i), "payload": fmt.Sprintf("%d", i),
			"direction": "receive", "qos": i % 3, "retain": i%2 == 0, "timestamp": "2026-03-04 05:06:07"}
	}
	vals[1].(map[string]any)["payload"] = "=1+1"
	for i := 0; i < n; i += 400 {
		call("mqtt.signal.history", "create", vals[i:min(n, i+400)])
	}

	post := func(data map[string]any, cookies ...*http.Cookie) (*http.Response, []byte) {
		t.Helper()
		b, _ := json.Marshal(data)
		form := url.Values{"data": {string(b)}, "csrf_token": {"ignored"}}
		return testkit.Post(t, ts.URL+"/web/export/csv", "application/x-www-form-urlencoded", []byte(form.Encode()), cookies...)
	}
	fields := []map[string]any{{"name": "topic", "label": "Topic"}, {"name": "payload", "label": " Payload "},
		{"name": "qos", "label": "QoS"}, {"name": "retain", "label": "Retain"}, {"name": "broker_id", "label": "Broker"},
		{"name": "direction", "label": "Direction"}}
	domain := []any{[]any{"topic", "=like", "csvexp/%"}}

	resp, body := post(map[string]any{"model": "mqtt.signal.history", "fields": fields, "ids": false, "domain": domain,
		"import_compat": false, "context": map[string]any{}, "order": "topic desc"}, sess)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/csv;charset=utf8" ||
		!strings.HasPrefix(resp.Header.Get("Content-Disposition"), `attachment; filename="MQTT Signal History.csv"`) {
		t.Fatalf("export: %d %v %.300s", resp.StatusCode, resp.Header, body)
	}
	if !strings.HasPrefix(string(body), `"Topic","Payload","QoS","Retain","Broker","Direction"`+"\r\n") {
		t.Errorf("header row: %.100q", body)
	}
	rows, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != n+1 {
		t.Fatalf("%d rows, want %d + header", len(rows), n)
	}
	last := fmt.Sprintf("csvexp/%04d", n-1)
	if got := rows[1]; strings.Join(got, "|") != last+"|"+fmt.Sprint(n-1)+"|"+fmt.Sprint((n-1)%3)+"|"+map[bool]string{true: "True", false: "False"}[(n-1)%2 == 0]+"|CSV broker|Received" {
		t.Errorf("first row (topic desc) = %q", got)
	}
	if got := rows[n-1]; got[0] != "csvexp/0001" || got[1] != "'=1+1" {
		t.Errorf("row of csvexp/0001 = %q, want the formula quoted", got)
	}

	// ids, import-compatible: names as the header, those records only.
	ids := call("mqtt.signal.history", "search", []any{[]any{"topic", "in", []any{"csvexp/0003", "csvexp/0004"}}}).([]any)
	resp, body = post(map[string]any{"model": "mqtt.signal.history", "fields": fields[:1], "ids": ids, "domain": []any{}, "import_compat": true}, sess)
	if resp.StatusCode != 200 || string(body) != "\"topic\"\r\n\"csvexp/0004\"\r\n\"csvexp/0003\"\r\n" && string(body) != "\"topic\"\r\n\"csvexp/0003\"\r\n\"csvexp/0004\"\r\n" {
		t.Errorf("export of ids: %d %q", resp.StatusCode, body)
	}

	// export_data itself over the wire: call_kw (JSON) and XML-RPC.
	one := call("mqtt.signal.history", "search", []any{[]any{"topic", "=", "csvexp/0002"}}).([]any)
	var viaJSON map[string][][]any
	ts.jsonCall(t, "/web/dataset/call_kw", map[string]any{"model": "mqtt.signal.history", "method": "export_data",
		"args": []any{one, []any{"topic", "retain", "qos", "broker_id/name"}}, "kwargs": map[string]any{}}, sess).result(t, &viaJSON)
	if got := fmt.Sprint(viaJSON["datas"]); got != "[[csvexp/0002 true 2 CSV broker]]" {
		t.Errorf("export_data over call_kw = %s", got)
	}
	var viaXML map[string]any
	if err := kolo.Response(ts.xmlCall(t, "/xmlrpc/2/object", "execute_kw", testDB, adminUID, testPW, "mqtt.signal.history", "export_data",
		[]any{[]any{int64(one[0].(float64))}, []any{"topic", "retain", "qos"}})).Unmarshal(&viaXML); err != nil {
		t.Fatalf("export_data over XML-RPC: %v", err)
	}
	if got := fmt.Sprint(viaXML["datas"]); got != "[[csvexp/0002 true 2]]" {
		t.Errorf("export_data over XML-RPC = %s", got)
	}

	for _, c := range []struct {
		name    string
		data    map[string]any
		cookies []*http.Cookie
		status  int
		errName string
	}{
		{"bad field", map[string]any{"model": "mqtt.signal.history", "fields": []any{map[string]any{"name": "nope", "label": "Nope"}}, "ids": false, "domain": domain}, []*http.Cookie{sess}, 500, "builtins.KeyError"},
		{"no session", map[string]any{"model": "mqtt.signal.history", "fields": fields, "ids": false, "domain": domain}, nil, 401, "odoo.http.SessionExpiredException"},
		{"unknown model", map[string]any{"model": "no.such", "fields": fields, "ids": false, "domain": []any{}}, []*http.Cookie{sess}, 500, "odoo.exceptions.UserError"},
	} {
		resp, body := post(c.data, c.cookies...)
		var e struct {
			Data struct {
				Name string `json:"name"`
			} `json:"data"`
		}
		_ = json.Unmarshal(body, &e)
		if resp.StatusCode != c.status || e.Data.Name != c.errName || strings.Contains(string(body), "csvexp") {
			t.Errorf("%s: %d %s, want %d %s", c.name, resp.StatusCode, body, c.status, c.errName)
		}
	}
}
