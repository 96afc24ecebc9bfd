package rpc

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
)

// testLoginThrottle drives the throttle with Python's real xmlrpc.client
// (testdata/throttle_client.py): three failures from one address, on
// authenticate, login and execute_kw, block every login and object call
// from it, right password included, with AccessDenied "Too many login
// failures..."; the same calls from another address still work.
func testLoginThrottle(t *testing.T) {
	ts := newTestServer(t, func(o *Options) { o.LoginRateLimit = 3 })
	out := runPython(t, "throttle_client.py", ts.URL, testDB, testLogin, testPW, strconv.FormatInt(adminUID, 10))
	type outcome struct {
		Step   string `json:"step"`
		Result any    `json:"result"`
		Fault  int    `json:"fault"`
		String string `json:"string"`
	}
	const throttled = "Too many login failures, please wait a bit before trying again."
	want := []outcome{
		{Step: "authenticate wrong", Result: false},
		{Step: "login wrong", Result: false},
		{Step: "execute_kw wrong", Fault: 3, String: "Access Denied"},
		{Step: "login right, throttled", Fault: 3, String: throttled},
		{Step: "authenticate right, throttled", Fault: 3, String: throttled},
		{Step: "execute_kw right, throttled", Fault: 3, String: throttled},
		{Step: "legacy login right, throttled", Fault: 0, String: throttled}, // faultCode "AccessDenied": not an int
		{Step: "login right, other address", Result: float64(adminUID)},
		{Step: "execute_kw right, other address", Result: float64(adminUID)},
	}
	var got []outcome
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var o outcome
		if err := json.Unmarshal(sc.Bytes(), &o); err != nil {
			// The legacy fault's code is a string; keep the rest.
			var raw map[string]any
			if json.Unmarshal(sc.Bytes(), &raw) != nil {
				t.Fatalf("python output %q: %v", sc.Text(), err)
			}
			o = outcome{Step: raw["step"].(string), String: raw["string"].(string)}
			if raw["fault"] != "AccessDenied" {
				t.Errorf("%s: legacy faultCode %v, want AccessDenied", o.Step, raw["fault"])
			}
		}
		got = append(got, o)
	}
	if len(got) != len(want) {
		t.Fatalf("python printed %d steps, want %d:\n%s", len(got), len(want), out)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("step %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	n := 0
	for _, line := range strings.Split(ts.logs.String(), "\n") {
		if strings.Contains(line, "Too many failed logins from an address") && strings.Contains(line, "remote_addr=127.0.0.1") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d cooldown warnings for 127.0.0.1, want 1:\n%s", n, ts.logs.String())
	}
}

// testLoginThrottleJSON is the same over /jsonrpc and the web login, and
// the per-account limit: failures for one login spread over addresses
// block it for new addresses (an API key included), not for an address
// that logged in as it before, nor for other logins.
func testLoginThrottleJSON(t *testing.T) {
	ts := newTestServer(t, func(o *Options) { o.LoginRateLimit = 100; o.LoginUserRateLimit = 3 })
	const throttled = "Too many login failures, please wait a bit before trying again."
	from := func(ip string) *http.Client {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
		return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		}}}
	}
	call := func(ip, path string, params any) jsonResponse {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, ts.URL+path, bytes.NewReader(testkit.CallBody(t, params)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		_, body := testkit.Do(t, from(ip), req)
		var r jsonResponse
		if err := json.Unmarshal(body, &r); err != nil {
			t.Fatalf("POST %s: %v: %s", path, err, body)
		}
		return r
	}
	login := func(ip, login, pw string) jsonResponse {
		t.Helper()
		return call(ip, "/jsonrpc", map[string]any{"service": "common", "method": "login", "args": []any{testDB, login, pw}})
	}
	executeKw := func(ip, pw string) jsonResponse {
		t.Helper()
		return call(ip, "/jsonrpc", map[string]any{"service": "object", "method": "execute_kw",
			"args": []any{testDB, adminUID, pw, "res.users", "context_get", []any{}}})
	}
	var uid int64
	login("127.0.0.2", testLogin, testPW).result(t, &uid) // the office logs in: trusted for login admin
	var key string
	call("127.0.0.2", "/jsonrpc", map[string]any{"service": "object", "method": "execute_kw",
		"args": []any{testDB, adminUID, testPW, "res.users.apikeys", "generate", []any{"throttle test"}}}).result(t, &key)

	for i, ip := range []string{"127.0.0.3", "127.0.0.4", "127.0.0.5"} {
		var got any
		login(ip, testLogin, "guess-"+strconv.Itoa(i)).result(t, &got)
		if got != false {
			t.Fatalf("wrong password from %s = %v, want false", ip, got)
		}
	}
	login("127.0.0.6", testLogin, testPW).wantError(t, 200, "odoo.exceptions.AccessDenied", throttled)
	login("127.0.0.6", testLogin, key).wantError(t, 200, "odoo.exceptions.AccessDenied", throttled)
	call("127.0.0.6", "/web/session/authenticate", map[string]any{"db": testDB, "login": testLogin, "password": testPW}).
		wantError(t, 200, "odoo.exceptions.AccessDenied", throttled)
	login("127.0.0.2", testLogin, testPW).result(t, &uid) // trusted
	if uid != adminUID {
		t.Errorf("trusted address login = %d", uid)
	}
	var other any
	login("127.0.0.6", "nobody", "x").result(t, &other) // another login: its own count
	if other != false {
		t.Errorf("login of another account = %v, want false", other)
	}

	// Object calls count per uid: three wrong passwords for uid 2 block it
	// from new addresses, not from the one that used it before.
	executeKw("127.0.0.2", testPW).result(t, new(map[string]any))
	for _, ip := range []string{"127.0.0.7", "127.0.0.8", "127.0.0.9"} {
		executeKw(ip, "guess").wantError(t, 200, "odoo.exceptions.AccessDenied", "Access Denied")
	}
	executeKw("127.0.0.10", testPW).wantError(t, 200, "odoo.exceptions.AccessDenied", throttled)
	executeKw("127.0.0.10", key).wantError(t, 200, "odoo.exceptions.AccessDenied", throttled)
	executeKw("127.0.0.2", testPW).result(t, new(map[string]any))
	executeKw("127.0.0.2", key).result(t, new(map[string]any))
}
