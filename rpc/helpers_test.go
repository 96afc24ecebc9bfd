package rpc

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	kolo "github.com/kolo/xmlrpc"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/websession"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
)

// Test fixtures: the database name and admin credentials of every test
// server (modelstest creates admin with modelstest.AdminPassword).
const (
	testDB    = "testdb"
	testLogin = "admin"
	testPW    = modelstest.AdminPassword
	adminUID  = int64(2)
)

// testReg is the one registry the server tests share. Sharing it is what
// keeps the suite fast: a bcrypt check costs seconds under -race, and the
// registry caches verified credentials. Tests therefore never assume the
// database is empty: each names its records and filters on those names.
var testReg *models.Registry

// TestServer runs every test that needs a registry, in parallel, over one
// fresh database.
func TestServer(t *testing.T) {
	testReg = modelstest.New(t).Registry
	tests := []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"XMLRPCClientFlow", testXMLRPCClientFlow},
		{"XMLRPCRecordedBodies", testXMLRPCRecordedBodies},
		{"XMLRPCFaults", testXMLRPCFaults},
		{"XMLRPCLegacyFaults", testXMLRPCLegacyFaults},
		{"XMLRPCServices", testXMLRPCServices},
		{"JSONRPCFlow", testJSONRPCFlow},
		{"JSONEnvelopeErrors", testJSONEnvelopeErrors},
		{"XMLRPCBadBodies", testXMLRPCBadBodies},
		{"WebSessionFlow", testWebSessionFlow},
		{"WebErrors", testWebErrors},
		{"WebPublicRoutes", testWebPublicRoutes},
		{"WebLoginRateLimit", testWebLoginRateLimit},
		{"LoginThrottle", testLoginThrottle},
		{"LoginThrottleJSON", testLoginThrottleJSON},
		{"WebCallButton", testWebCallButton},
		{"XMLRPCUnmarshallable", testXMLRPCUnmarshallable},
		{"PanicsAndInternalErrors", testPanicsAndInternalErrors},
		{"JSONResultEncoding", testJSONResultEncoding},
		{"MountedRoutes", testMountedRoutes},
		{"CrossOrigin", testCrossOrigin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t)
		})
	}
}

// testServer is a real handler over the shared registry.
type testServer struct {
	*httptest.Server
	logs *testkit.Buffer
}

// newTestServer starts NewHandler on a fresh database; opts may adjust
// the options before the handler is built.
func newTestServer(t *testing.T, opts ...func(*Options)) *testServer {
	t.Helper()
	return newTestServerWith(t, nil, opts...)
}

// newTestServerWith also mounts extra services next to the real ones.
func newTestServerWith(t *testing.T, extra map[string]serviceFunc, opts ...func(*Options)) *testServer {
	t.Helper()
	logs := &testkit.Buffer{}
	o := Options{
		DBName:          testDB,
		ListDB:          true,
		MaxRequestBytes: 64 << 10,
		LoginRateLimit:  3,
		Logger:          slog.New(slog.NewTextHandler(logs, nil)),
	}
	for _, f := range opts {
		f(&o)
	}
	ts := httptest.NewServer(newHandler(testReg, o, extra))
	t.Cleanup(ts.Close)
	return &testServer{Server: ts, logs: logs}
}

// testdata returns the content of a file in testdata/.
func testdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// xmlCall posts an XML-RPC call built by kolo's encoder and returns the
// raw response body, after checking the transport rules (HTTP 200,
// text/xml; charset=utf-8).
func (ts *testServer) xmlCall(t *testing.T, path, method string, params ...any) []byte {
	t.Helper()
	body, err := kolo.EncodeMethodCall(method, params...)
	if err != nil {
		t.Fatal(err)
	}
	return ts.xmlPost(t, path, body)
}

func (ts *testServer) xmlPost(t *testing.T, path string, body []byte) []byte {
	t.Helper()
	resp, out := testkit.Post(t, ts.URL+path, "text/xml", body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: HTTP %d, want 200; body %s", path, resp.StatusCode, out)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/xml; charset=utf-8" {
		t.Errorf("POST %s: Content-Type %q", path, ct)
	}
	return out
}

// fault decodes an /xmlrpc/2 fault with kolo's client code; ok is false
// for a success response.
func fault(t *testing.T, body []byte) (kolo.FaultError, bool) {
	t.Helper()
	err := kolo.Response(body).Err()
	if err == nil {
		return kolo.FaultError{}, false
	}
	f, ok := err.(kolo.FaultError)
	if !ok {
		t.Fatalf("response is neither a result nor a fault: %v\n%s", err, body)
	}
	return f, true
}

// legacyFault decodes a fault whose faultCode is a string (legacy
// /xmlrpc/<service>), which kolo cannot.
func legacyFault(t *testing.T, body []byte) (code, text string) {
	t.Helper()
	var doc struct {
		Members []struct {
			Name  string `xml:"name"`
			Value struct {
				Int    *string `xml:"int"`
				String *string `xml:"string"`
			} `xml:"value"`
		} `xml:"fault>value>struct>member"`
	}
	if err := xml.Unmarshal(body, &doc); err != nil || len(doc.Members) != 2 {
		t.Fatalf("not a fault (%v):\n%s", err, body)
	}
	get := func(i int) string {
		v := doc.Members[i].Value
		if v.String == nil {
			t.Fatalf("member %s is not a string:\n%s", doc.Members[i].Name, body)
		}
		return *v.String
	}
	return get(0), get(1)
}

// jsonResponse is a decoded JSON-RPC response.
type jsonResponse struct {
	JSONRPC string                     `json:"jsonrpc"`
	ID      json.RawMessage            `json:"id"`
	Result  json.RawMessage            `json:"result"`
	Error   *jsonError                 `json:"error"`
	raw     map[string]json.RawMessage // to tell a missing result from null
	status  int
	cookies []*http.Cookie
}

func (r jsonResponse) hasResult() bool { _, ok := r.raw["result"]; return ok }

// jsonPost posts a raw JSON body to path.
func (ts *testServer) jsonPost(t *testing.T, path string, body []byte, cookies ...*http.Cookie) jsonResponse {
	t.Helper()
	resp, out := testkit.Post(t, ts.URL+path, "application/json", body, cookies...)
	var r jsonResponse
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("POST %s: HTTP %d, body is not JSON (%v): %s", path, resp.StatusCode, err, out)
	}
	_ = json.Unmarshal(out, &r.raw)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("POST %s: Content-Type %q", path, ct)
	}
	r.status, r.cookies = resp.StatusCode, resp.Cookies()
	return r
}

// jsonCall posts {"jsonrpc","method":"call","params":params,"id":1}.
func (ts *testServer) jsonCall(t *testing.T, path string, params any, cookies ...*http.Cookie) jsonResponse {
	t.Helper()
	return ts.jsonPost(t, path, testkit.CallBody(t, params), cookies...)
}

// result unmarshals a successful response's result into v.
func (r jsonResponse) result(t *testing.T, v any) {
	t.Helper()
	if r.Error != nil {
		t.Fatalf("unexpected error %d %s: %+v", r.Error.Code, r.Error.Message, r.Error.Data)
	}
	if err := json.Unmarshal(r.Result, v); err != nil {
		t.Fatalf("result %s: %v", r.Result, err)
	}
}

// wantError checks an error response's code and data.name, and that its
// message contains msg.
func (r jsonResponse) wantError(t *testing.T, code int, name, msg string) {
	t.Helper()
	if r.Error == nil {
		t.Fatalf("want error %s, got result %s", name, r.Result)
	}
	e := r.Error
	if e.Code != code || e.Data.Name != name || !strings.Contains(e.Data.Message, msg) {
		t.Errorf("error = %d %q %+v; want %d %s containing %q", e.Code, e.Message, e.Data, code, name, msg)
	}
	if len(e.Data.Arguments) != 1 || e.Data.Arguments[0] != e.Data.Message || e.Data.Context == nil {
		t.Errorf("error data arguments/context = %v %v", e.Data.Arguments, e.Data.Context)
	}
	if strings.Contains(e.Data.Debug, "Traceback") || strings.Contains(e.Data.Debug, "goroutine") {
		t.Errorf("debug leaks a trace: %q", e.Data.Debug)
	}
}

// sessionCookieOf returns the session_id cookie a response set, or nil.
func sessionCookieOf(cookies []*http.Cookie) *http.Cookie {
	for _, c := range cookies {
		if c.Name == websession.Cookie {
			return c
		}
	}
	return nil
}

// runPython runs testdata/SCRIPT with Python's own python3 and returns
// what it printed on stdout; a failing script fails the test with its
// stderr. The probes print one JSON object (or line) for the test to read.
func runPython(t *testing.T, script string, args ...string) []byte {
	t.Helper()
	python := testkit.Tool(t, "the checks with Python's xmlrpc.client need it", "python3")
	cmd := exec.Command(python, append([]string{filepath.Join("testdata", script)}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", script, err, stderr.String())
	}
	return out
}
