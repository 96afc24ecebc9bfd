package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/clientaddr"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
)

// Proxy mode against the real server in this process: clients reach it
// through a "proxy" at one loopback address that names them in
// X-Forwarded-For, and the login throttle (--login-rate-limit) must count
// each of them apart with proxy mode on, and all of them as the proxy with
// it off. A peer that is not a trusted proxy cannot choose its address.

const (
	proxyIP     = "127.0.0.80" // the trusted reverse proxy
	untrustedIP = "127.0.0.81" // a client reaching the server directly
	clientA     = "198.51.100.1"
	clientB     = "198.51.100.2"
	proxyLimit  = 2 // --login-rate-limit in these tests; each failure costs a bcrypt
)

// proxyLogin is common.login over JSON-RPC from peer ip, with the given
// X-Forwarded-For ("" for none); it returns "ok", "wrong" or "throttled".
// Each wrong login uses a fresh unknown name, so that only the per-address
// count (not --login-user-rate-limit) can refuse.
func proxyLogin(t *testing.T, a *app, ip, xff, login, pw string) string {
	t.Helper()
	body := testkit.CallBody(t, map[string]any{"service": "common", "method": "login", "args": []any{"limits", login, pw}})
	req, err := http.NewRequest(http.MethodPost, "http://"+a.addr+"/jsonrpc", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	resp, out := testkit.Do(t, clientFrom(ip), req)
	switch s := string(out); {
	case resp.StatusCode != http.StatusOK:
		t.Fatalf("login %s from %s (XFF %q): HTTP %d %s", login, ip, xff, resp.StatusCode, s)
	case strings.Contains(s, "Too many login failures"):
		return "throttled"
	case strings.Contains(s, `"result":false`):
		return "wrong"
	case strings.Contains(s, `"result":2`):
		return "ok"
	default:
		t.Fatalf("login %s from %s (XFF %q): unexpected answer %s", login, ip, xff, s)
	}
	return ""
}

// failLogins uses up the per-address allowance of (ip, xff).
func failLogins(t *testing.T, a *app, ip, xff, tag string) {
	t.Helper()
	for i := range proxyLimit {
		if got := proxyLogin(t, a, ip, xff, tag+"-nobody-"+string(rune('a'+i)), "wrong"); got != "wrong" {
			t.Fatalf("failure %d from %s (XFF %q): %s, want wrong", i+1, ip, xff, got)
		}
	}
	if got := proxyLogin(t, a, ip, xff, tag+"-nobody-z", "wrong"); got != "throttled" {
		t.Fatalf("a login after %d failures from %s (XFF %q): %s, want throttled", proxyLimit, ip, xff, got)
	}
}

// TestProxyModeClients runs one server per mode (each start costs
// seconds under -race, and each failed login a bcrypt).
func TestProxyModeClients(t *testing.T) {
	t.Run("listed proxy", func(t *testing.T) {
		trusted, err := parseTrustedForTest(proxyIP + ", 10.0.0.0/8")
		if err != nil {
			t.Fatal(err)
		}
		a, logs := startTestAppLogs(t, func(c *Config) { c.LoginRateLimit, c.ProxyMode, c.TrustedProxies = proxyLimit, true, trusted })
		checkSecureCookie(t, a)
		checkSeparateClients(t, a)
		checkUntrustedPeer(t, a)
		// The cooldowns are logged with the addresses they count.
		for _, want := range []string{clientA, untrustedIP} {
			if !slices.ContainsFunc(jsonLogRecords(logs.String(), "Too many failed logins from an address"), func(r map[string]any) bool {
				return r["remote_addr"] == want
			}) {
				t.Errorf("no cooldown logged for remote_addr %s:\n%s", want, logs.String())
			}
		}
	})
	t.Run("one hop, no list", func(t *testing.T) {
		a := startTestApp(t, func(c *Config) { c.LoginRateLimit, c.ProxyMode = proxyLimit, true })
		checkSeparateClients(t, a)
	})
	t.Run("proxy mode off", func(t *testing.T) {
		a := startTestApp(t, func(c *Config) { c.LoginRateLimit = proxyLimit })
		failLogins(t, a, proxyIP, clientA, "a")
		// Every client behind the proxy is the proxy: B shares A's cooldown.
		if got := proxyLogin(t, a, proxyIP, clientB, "admin", "limits-admin-pw"); got != "throttled" {
			t.Errorf("client B behind the same proxy: %s, want throttled (one shared allowance)", got)
		}
	})
}

// checkSeparateClients: A's failures through the proxy throttle A only.
func checkSeparateClients(t *testing.T, a *app) {
	t.Helper()
	failLogins(t, a, proxyIP, clientA, "a")
	if got := proxyLogin(t, a, proxyIP, clientB, "admin", "limits-admin-pw"); got != "ok" {
		t.Errorf("client B behind the same proxy: %s, want ok (an allowance of its own)", got)
	}
	// A spoofed leftmost entry does not get A out of its cooldown.
	if got := proxyLogin(t, a, proxyIP, "203.0.113.9, "+clientA, "admin", "limits-admin-pw"); got != "throttled" {
		t.Errorf("client A with a spoofed leftmost entry: %s, want throttled", got)
	}
	// The proxy's own address keeps its allowance: its clients did not
	// spend it.
	if got := proxyLogin(t, a, proxyIP, "", "admin", "limits-admin-pw"); got != "ok" {
		t.Errorf("the proxy itself, without X-Forwarded-For: %s, want ok", got)
	}
}

// checkUntrustedPeer: a direct client naming a new address in every
// request is still counted as itself, and the addresses it named are not
// charged.
func checkUntrustedPeer(t *testing.T, a *app) {
	t.Helper()
	for i := range proxyLimit {
		xff := "203.0.113." + string(rune('1'+i))
		if got := proxyLogin(t, a, untrustedIP, xff, "u-nobody-"+xff, "wrong"); got != "wrong" {
			t.Fatalf("failure %d from the untrusted peer: %s", i+1, got)
		}
	}
	if got := proxyLogin(t, a, untrustedIP, "203.0.113.99", "admin", "limits-admin-pw"); got != "throttled" {
		t.Errorf("the untrusted peer with yet another X-Forwarded-For: %s, want throttled (its own address)", got)
	}
	if got := proxyLogin(t, a, proxyIP, "203.0.113.1", "admin", "limits-admin-pw"); got != "ok" {
		t.Errorf("the client the untrusted peer named, through the proxy: %s, want ok", got)
	}
}

// jsonLogRecords returns the JSON log lines of logs whose msg starts with
// msg.
func jsonLogRecords(logs, msg string) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(logs, "\n") {
		var r map[string]any
		if json.Unmarshal([]byte(line), &r) == nil && strings.HasPrefix(fmt.Sprint(r["msg"]), msg) {
			out = append(out, r)
		}
	}
	return out
}

func parseTrustedForTest(list string) ([]netip.Prefix, error) {
	var c Config
	err := configOptionNamed("trusted-proxies").set(&c, list)
	return c.TrustedProxies, err
}

func configOptionNamed(name string) configOption {
	for _, o := range configOptions {
		if o.name == name {
			return o
		}
	}
	panic("no option " + name)
}

// checkSecureCookie: the session cookie is Secure when a trusted proxy
// says it got the request over https, and only then.
func checkSecureCookie(t *testing.T, a *app) {
	t.Helper()
	tests := []struct {
		name, ip, proto string
		want            bool
	}{
		{"trusted proxy, https", proxyIP, "https", true},
		{"trusted proxy, http", proxyIP, "http", false},
		{"trusted proxy, no header", proxyIP, "", false},
		{"untrusted peer claiming https", untrustedIP, "https", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, "http://"+a.addr+"/web/session/authenticate",
				bytes.NewReader(testkit.CallBody(t, map[string]any{"db": "limits", "login": "admin", "password": "limits-admin-pw"})))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Forwarded-For", clientA)
			if tt.proto != "" {
				req.Header.Set("X-Forwarded-Proto", tt.proto)
			}
			resp, body := testkit.Do(t, clientFrom(tt.ip), req)
			var sess *http.Cookie
			for _, c := range resp.Cookies() {
				if c.Name == "session_id" {
					sess = c
				}
			}
			if sess == nil {
				t.Fatalf("no session cookie: HTTP %d %s", resp.StatusCode, body)
			}
			if sess.Secure != tt.want {
				t.Errorf("cookie Secure = %v, want %v (%s)", sess.Secure, tt.want, resp.Header.Get("Set-Cookie"))
			}
		})
	}
}

// TestProxyModeRequestCap: the per-address cap (--max-requests-per-addr)
// counts the clients behind a trusted proxy apart: the resolver in front
// of the limiter, as app.routes mounts them.
func TestProxyModeRequestCap(t *testing.T) {
	trusted, _ := parseTrustedForTest(proxyIP)
	tests := []struct {
		name      string
		proxyMode bool
		wantOther int // status of client B while A holds its one place
	}{
		{"proxy mode", true, http.StatusOK},
		{"proxy mode off", false, http.StatusTooManyRequests},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			release := make(chan struct{})
			held := make(chan struct{})
			h := clientaddr.NewResolver(tt.proxyMode, trusted).Middleware(
				newClientLimiter(1, 1, nil, newTestLogger(io.Discard)).middleware(
					http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						if r.Header.Get("X-Hold") != "" {
							close(held)
							<-release
						}
					})))
			call := func(xff string, hold bool) int {
				r := httptest.NewRequest(http.MethodPost, "/jsonrpc", nil)
				r.RemoteAddr = proxyIP + ":40000"
				r.Header.Set("X-Forwarded-For", xff)
				if hold {
					r.Header.Set("X-Hold", "1")
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				return w.Code
			}
			var wg sync.WaitGroup
			wg.Go(func() { call(clientA, true) })
			<-held
			if got := call(clientA, false); got != http.StatusTooManyRequests {
				t.Errorf("client A's second request: HTTP %d, want 429", got)
			}
			if got := call(clientB, false); got != tt.wantOther {
				t.Errorf("client B's request: HTTP %d, want %d", got, tt.wantOther)
			}
			close(release)
			wg.Wait()
		})
	}
}

func TestConfigProxyMode(t *testing.T) {
	pfx := func(ss ...string) []netip.Prefix {
		var out []netip.Prefix
		for _, s := range ss {
			out = append(out, netip.MustParsePrefix(s))
		}
		return out
	}
	tests := []struct {
		name        string
		args, env   []string
		file        string // [options] body, "" for none
		wantMode    bool
		wantTrusted []netip.Prefix
		wantErr     string // part of the error; "" when valid
	}{
		{name: "off by default"},
		{name: "flag", args: []string{"--proxy-mode"}, wantMode: true},
		{name: "flags with a list", args: []string{"--proxy-mode", "--trusted-proxies", " 10.0.0.5, 10.1.0.0/16 ,2001:db8::/64"},
			wantMode: true, wantTrusted: pfx("10.0.0.5/32", "10.1.0.0/16", "2001:db8::/64")},
		{name: "environment", env: []string{"ODOO_IOT_MQTT_PROXY_MODE=yes", "ODOO_IOT_MQTT_TRUSTED_PROXIES=192.168.1.10/24"},
			wantMode: true, wantTrusted: pfx("192.168.1.0/24")},
		{name: "Odoo's proxy_mode key", file: "proxy_mode = True\ntrusted_proxies = 10.0.0.5\n", wantMode: true, wantTrusted: pfx("10.0.0.5/32")},
		{name: "Odoo's proxy_mode = False", file: "proxy_mode = False\n"},
		{name: "flag turns the file's off", args: []string{"--proxy-mode=false"}, file: "proxy_mode = True\n"},
		{name: "bad address in a flag", args: []string{"--proxy-mode", "--trusted-proxies", "10.0.0.5,proxy.internal"},
			wantErr: `--trusted-proxies: invalid address or network "proxy.internal"`},
		{name: "bad network in the environment", env: []string{"ODOO_IOT_MQTT_PROXY_MODE=1", "ODOO_IOT_MQTT_TRUSTED_PROXIES=10.0.0.0/40"},
			wantErr: `ODOO_IOT_MQTT_TRUSTED_PROXIES: invalid address or network "10.0.0.0/40"`},
		{name: "bad address in the file", file: "proxy_mode = True\ntrusted_proxies = 10.0.0.256\n",
			wantErr: `:3: trusted_proxies: invalid address or network "10.0.0.256"`},
		{name: "bad boolean", env: []string{"ODOO_IOT_MQTT_PROXY_MODE=maybe"}, wantErr: `ODOO_IOT_MQTT_PROXY_MODE: invalid boolean "maybe"`},
		{name: "list without proxy mode", env: []string{"ODOO_IOT_MQTT_TRUSTED_PROXIES=10.0.0.5"},
			wantErr: "--trusted-proxies: has no effect without --proxy-mode (set --proxy-mode, or leave --trusted-proxies empty) (set by ODOO_IOT_MQTT_TRUSTED_PROXIES)"},
		{name: "trusting everyone", args: []string{"--proxy-mode", "--trusted-proxies", "10.0.0.5,0.0.0.0/0"},
			wantErr: "--trusted-proxies: 0.0.0.0/0 trusts every address"},
		{name: "trusting every IPv6 address", args: []string{"--proxy-mode", "--trusted-proxies", "::/0"},
			wantErr: "--trusted-proxies: ::/0 trusts every address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if tt.file != "" {
				args = append([]string{"-c", configTestFile(t, "[options]\n"+tt.file)}, args...)
			}
			got, err := LoadConfig(args, tt.env)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("LoadConfig error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadConfig error: %v", err)
			}
			if got.ProxyMode != tt.wantMode || !slices.Equal(got.TrustedProxies, tt.wantTrusted) {
				t.Errorf("ProxyMode, TrustedProxies = %v, %v; want %v, %v", got.ProxyMode, got.TrustedProxies, tt.wantMode, tt.wantTrusted)
			}
		})
	}
	c := DefaultConfig()
	c.ProxyMode, c.TrustedProxies = true, pfx("10.0.0.5/32", "2001:db8::/64")
	if lines := c.Redacted(); !slices.Contains(lines, "trusted-proxies=10.0.0.5/32,2001:db8::/64") || !slices.Contains(lines, "proxy-mode=true") {
		t.Errorf("Redacted() = %q", lines)
	}
}
