package iotbox

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/jsonrpc"
)

// Bodies that are not what the routes take get a JSON-RPC error envelope,
// never a panic or an HTML page.
func TestMalformedBodies(t *testing.T) {
	f := newFixture(t, Options{PollTimeout: 10 * time.Millisecond, MaxBody: 4096})
	cases := []struct {
		name, path, body, contentType string
		status, code                  int
	}{
		{"not JSON", EventPath, `{"params":`, "", 400, jsonrpc.CodeParseError},
		{"body is an array", EventPath, `[1,2]`, "", 400, jsonrpc.CodeInvalidRequest},
		{"body is a string", EventPath, `"x"`, "", 400, jsonrpc.CodeInvalidRequest},
		{"params is an array", EventPath, `{"params":[1]}`, "", 400, jsonrpc.CodeInvalidRequest},
		{"not JSON content type", EventPath, pollBody("s", 0, "d"), "text/plain", 400, jsonrpc.CodeInvalidRequest},
		{"too large", EventPath, `{"params":{"x":"` + strings.Repeat("a", 5000) + `"}}`, "", 413, jsonrpc.CodeTooLarge},
		{"no listener", EventPath, `{"params":{}}`, "", 400, jsonrpc.CodeInvalidParams},
		{"listener is a string", EventPath, `{"params":{"listener":"x"}}`, "", 400, jsonrpc.CodeInvalidParams},
		{"no session_id", EventPath, `{"params":{"listener":{"last_event":0,"devices":{}}}}`, "", 400, jsonrpc.CodeInvalidParams},
		{"session_id a number", EventPath, `{"params":{"listener":{"session_id":5,"devices":{}}}}`, "", 400, jsonrpc.CodeInvalidParams},
		{"last_event a string", EventPath, `{"params":{"listener":{"session_id":"s","last_event":"1","devices":{}}}}`, "", 400, jsonrpc.CodeInvalidParams},
		{"devices an array", EventPath, `{"params":{"listener":{"session_id":"s","devices":["d"]}}}`, "", 400, jsonrpc.CodeInvalidParams},
		{"action: no device", ActionPath, `{"params":{"session_id":"s","data":"{}"}}`, "", 400, jsonrpc.CodeInvalidParams},
		{"action: device a number", ActionPath, `{"params":{"device_identifier":3,"data":"{}"}}`, "", 400, jsonrpc.CodeInvalidParams},
		{"action: data not JSON", ActionPath, `{"params":{"device_identifier":"d","data":"{nope"}}`, "", 400, jsonrpc.CodeInvalidParams},
		{"action: data an empty string", ActionPath, `{"params":{"device_identifier":"d","data":""}}`, "", 400, jsonrpc.CodeInvalidParams},
		{"action: data null", ActionPath, `{"params":{"device_identifier":"d","data":null}}`, "", 400, jsonrpc.CodeInvalidParams},
		{"action: no data", ActionPath, `{"params":{"device_identifier":"d"}}`, "", 400, jsonrpc.CodeInvalidParams},
		{"action: session_id an object", ActionPath, `{"params":{"session_id":{},"device_identifier":"d","data":"{}"}}`, "", 400, jsonrpc.CodeInvalidParams},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := f.do(t, c.path, req{body: c.body, contentType: c.contentType, sid: f.sid})
			if r.status != c.status || r.Error == nil || r.Error.Code != c.code {
				t.Fatalf("got %d %s, want %d with error code %d", r.status, r.raw, c.status, c.code)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Fatalf("Content-Type %q", ct)
			}
		})
	}
	// A full JSON-RPC envelope is accepted and its id echoed.
	r := f.do(t, EventPath, req{body: `{"jsonrpc":"2.0","method":"call","id":7,"params":` + strings.TrimSuffix(strings.TrimPrefix(pollBody("s", 0, "d"), `{"params":`), "}") + `}`, sid: f.sid})
	if r.status != http.StatusOK || string(r.ID) != "7" || r.Error != nil {
		t.Fatalf("full envelope: %d %s", r.status, r.raw)
	}
}
