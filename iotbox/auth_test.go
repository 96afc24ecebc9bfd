package iotbox

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/jsonrpc"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
)

const allowed = "https://shop.example.com"

func TestAuth(t *testing.T) {
	f := newFixture(t, Options{PollTimeout: 10 * time.Millisecond, AllowedOrigins: []string{allowed + "/"}, PublicUser: "admin"})
	modelstest.CreateUser(t, f.reg.Registry, "nobody", "nobody-pw")
	nobody := modelstest.Login(t, f.reg.Registry, "nobody", "nobody-pw")
	poll := pollBody("s1", 0, "dev1")
	cases := []struct {
		name   string
		q      req
		status int
		code   int    // 0: no error
		errNam string // data.name
	}{
		{"no session", req{body: poll}, 200, 100, jsonrpc.NameSessionExpired},
		{"unknown session", req{body: poll, sid: strings.Repeat("ab", 20)}, 200, 100, jsonrpc.NameSessionExpired},
		{"junk cookie", req{body: poll, sid: "junk"}, 200, 100, jsonrpc.NameSessionExpired},
		{"session", req{body: poll, sid: f.sid}, 200, 0, ""},
		{"same-origin browser with session", req{body: poll, sid: f.sid, header: map[string]string{"Origin": "SELF", "Sec-Fetch-Site": "same-origin"}}, 200, 0, ""},
		{"same-origin browser without session", req{body: poll, header: map[string]string{"Origin": "SELF", "Sec-Fetch-Site": "same-origin"}}, 200, 100, jsonrpc.NameSessionExpired},
		{"public user from an allowed origin", req{body: poll, header: map[string]string{"Origin": allowed, "Sec-Fetch-Site": "cross-site"}}, 200, 0, ""},
		{"disallowed origin", req{body: poll, header: map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}}, 403, 403, jsonrpc.NameForbidden},
		{"disallowed origin with a session cookie (CSRF)", req{body: poll, sid: f.sid, header: map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}}, 403, 403, jsonrpc.NameForbidden},
		{"cross-site fetch without Origin", req{body: poll, sid: f.sid, header: map[string]string{"Sec-Fetch-Site": "cross-site"}}, 403, 403, jsonrpc.NameForbidden},
		{"user without read access to devices", req{body: poll, sid: nobody}, 200, 200, "odoo.exceptions.AccessError"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.q.header["Origin"] == "SELF" {
				c.q.header["Origin"] = f.srv.URL
			}
			r := f.do(t, EventPath, c.q)
			if r.status != c.status {
				t.Fatalf("status %d, want %d: %s", r.status, c.status, r.raw)
			}
			if c.code == 0 {
				if r.Error != nil {
					t.Fatalf("unexpected error %s", r.raw)
				}
				return
			}
			if r.Error == nil || r.Error.Code != c.code || r.Error.Data.Name != c.errNam {
				t.Fatalf("got %s, want error code %d %s", r.raw, c.code, c.errNam)
			}
			if c.code == 100 && (r.Error.Message != "Odoo Session Expired" || r.Error.Data.Message != "Session expired") {
				t.Fatalf("session expired shape: %s", r.raw)
			}
		})
	}
	// The action route applies the same rules before touching anything.
	act := `{"params":{"session_id":"s1","device_identifier":"dev1","data":"{\"action\":\"x\"}"}}`
	if r := f.do(t, ActionPath, req{body: act}); r.Error == nil || r.Error.Code != 100 {
		t.Fatalf("action without session: %s", r.raw)
	}
	if r := f.do(t, ActionPath, req{body: act, sid: f.sid, header: map[string]string{"Origin": "https://evil.example"}}); r.status != 403 {
		t.Fatalf("cross-site action with cookie: %d %s", r.status, r.raw)
	}
}

// Without PublicUser, an allowed origin still needs a session; a
// PublicUser that does not exist is no user.
func TestPublicUserRequired(t *testing.T) {
	cases := []struct {
		name, public string
	}{
		{"no public user", ""},
		{"unknown public user", "ghost"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, Options{PollTimeout: 10 * time.Millisecond, AllowedOrigins: []string{allowed}, PublicUser: c.public})
			r := f.do(t, EventPath, req{body: pollBody("s1", 0, "dev1"), header: map[string]string{"Origin": allowed}})
			if r.Error == nil || r.Error.Code != 100 {
				t.Fatalf("got %d %s, want session expired", r.status, r.raw)
			}
			if got := r.header.Get("Access-Control-Allow-Origin"); got != allowed {
				t.Fatalf("Access-Control-Allow-Origin = %q, want %q (the client must be able to read the error)", got, allowed)
			}
		})
	}
}

func TestCORS(t *testing.T) {
	f := newFixture(t, Options{PollTimeout: 10 * time.Millisecond, AllowedOrigins: []string{allowed}, PublicUser: "admin"})
	for _, path := range []string{EventPath, ActionPath} {
		t.Run(path, func(t *testing.T) {
			pre := map[string]string{"Origin": allowed, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
			r := f.do(t, path, req{method: http.MethodOptions, header: pre})
			want := map[string]string{
				"Access-Control-Allow-Origin":  allowed,
				"Access-Control-Allow-Methods": "POST",
				"Access-Control-Max-Age":       "86400",
				"Access-Control-Allow-Headers": "Origin, X-Requested-With, Content-Type, Accept, Authorization",
				"Vary":                         "Origin",
			}
			if r.status != http.StatusNoContent {
				t.Fatalf("preflight status %d, want 204", r.status)
			}
			for k, v := range want {
				if got := r.header.Get(k); got != v {
					t.Errorf("preflight %s = %q, want %q", k, got, v)
				}
			}
			pre["Origin"] = "https://evil.example"
			r = f.do(t, path, req{method: http.MethodOptions, header: pre})
			if r.status != http.StatusForbidden {
				t.Errorf("preflight from a disallowed origin: status %d, want 403", r.status)
			}
			for k := range r.header {
				if strings.HasPrefix(k, "Access-Control-") {
					t.Errorf("disallowed origin got CORS header %s", k)
				}
			}
		})
	}
	// The POST answer to an allowed origin carries the same Allow-Origin;
	// a same-origin answer none.
	r := f.do(t, EventPath, req{body: pollBody("s1", 0, "dev1"), header: map[string]string{"Origin": allowed}})
	if r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != allowed || r.header.Get("Vary") != "Origin" {
		t.Fatalf("POST from allowed origin: %d, headers %v", r.status, r.header)
	}
	r = f.do(t, EventPath, req{body: pollBody("s1", 0, "dev1"), sid: f.sid, header: map[string]string{"Origin": f.srv.URL}})
	if r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("same-origin POST got Access-Control-Allow-Origin %q", r.header.Get("Access-Control-Allow-Origin"))
	}
}

// Archiving the public user takes effect on the next request: its uid is
// not remembered.
func TestPublicUserArchived(t *testing.T) {
	f := newFixture(t, Options{PollTimeout: 10 * time.Millisecond, AllowedOrigins: []string{allowed}, PublicUser: "kiosk"})
	ctx := context.Background()
	res, err := f.reg.Execute(ctx, models.Call{UID: models.Superuser, Model: "res.users", Method: "create",
		Args: []any{map[string]any{"name": "Kiosk", "login": "kiosk", "groups_id": []any{[]any{int64(6), int64(0), []any{}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	poll := req{body: pollBody("s1", 0, "dev1"), header: map[string]string{"Origin": allowed}}
	// Kiosk has no MQTT group: it is a user (no code 100) without access.
	if r := f.do(t, EventPath, poll); r.Error == nil || r.Error.Code == 100 {
		t.Fatalf("public user without rights: %s", r.raw)
	}
	if _, err := f.reg.Execute(ctx, models.Call{UID: models.Superuser, Model: "res.users", Method: "write",
		Args: []any{[]any{res}, map[string]any{"active": false}}}); err != nil {
		t.Fatal(err)
	}
	if r := f.do(t, EventPath, poll); r.Error == nil || r.Error.Code != 100 {
		t.Fatalf("archived public user: %s, want session expired", r.raw)
	}
}
