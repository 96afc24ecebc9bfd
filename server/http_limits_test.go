package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/iotbox"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/iotdevice"
)

// The HTTP limits (issue 9, item 2) against the real server, started in
// this process on a real socket, and clients on raw TCP connections from
// chosen loopback addresses (127.0.0.x), so that each test has addresses
// of its own. Nothing is timed: a client that should be cut off must see
// its connection closed before a deadline many times the timeout.

// closedWithin is how long a client waits for the server to close a
// connection it should close; the timeouts under test are 1-2 s.
const closedWithin = 30 * time.Second

// TestSlowClientsAreCutOff: a body trickled a byte at a time, headers
// trickled the same way, and an idle kept-alive connection are all closed
// by the server; a normal call on the same server still works.
func TestSlowClientsAreCutOff(t *testing.T) {
	a := startTestApp(t, func(c *Config) {
		c.HTTPBodyTimeout = time.Second
		c.HTTPHeaderTimeout = time.Second
		c.HTTPIdleTimeout = time.Second
	})
	slowBody := func(path, contentType string) string {
		return "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: " + contentType + "\r\nContent-Length: 100000\r\n\r\n"
	}
	tests := []struct {
		name    string
		head    string // sent at once
		trickle bool   // then a byte every 200 ms
	}{
		{"slow JSON-RPC body", slowBody("/jsonrpc", "application/json"), true},
		{"slow XML-RPC body", slowBody("/xmlrpc/2/common", "text/xml"), true},
		{"slow web login body", slowBody("/web/session/authenticate", "application/json"), true},
		{"slow long-poll body", slowBody(iotbox.EventPath, "application/json"), true},
		{"slow body on an unknown path", slowBody("/nowhere", "text/plain"), true},
		{"slow chunked body", "POST /jsonrpc HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n100000\r\n", true},
		{"slow headers", "POST /jsonrpc HTTP/1.1\r\nHost: x\r\n", true},
		{"idle after a request", "GET /web/webclient/version_info HTTP/1.1\r\nHost: x\r\n\r\n", false},
	}
	var wg sync.WaitGroup
	for i, tt := range tests {
		wg.Go(func() {
			c := dialFrom(t, fmt.Sprintf("127.0.0.%d", 20+i), a.addr)
			defer c.Close()
			if _, err := io.WriteString(c, tt.head); err != nil {
				t.Errorf("%s: %v", tt.name, err)
				return
			}
			ctx, cancel := context.WithCancel(context.Background())
			var writer sync.WaitGroup
			if tt.trickle {
				writer.Go(func() { trickle(ctx, c) })
			}
			err := waitClosed(c)
			cancel()
			writer.Wait()
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
		})
	}
	wg.Wait()
	// The server is still fine for a client that sends its call at once.
	var got map[string]any
	postJSONFrom(t, "127.0.0.40", a.addr, "/jsonrpc", map[string]any{"service": "common", "method": "version", "args": []any{}}, nil, &got)
	if got["result"] == nil {
		t.Errorf("common.version after the slow clients: %v", got)
	}
}

// TestStreamsOutliveTheTimeouts: a websocket and a long poll stay open
// past the body, header and idle timeouts, and each gets the event sent
// after that.
func TestStreamsOutliveTheTimeouts(t *testing.T) {
	a := startTestApp(t, func(c *Config) {
		c.HTTPBodyTimeout = time.Second
		c.HTTPHeaderTimeout = time.Second
		c.HTTPIdleTimeout = time.Second
	})
	const ip = "127.0.0.50"
	sess := webLogin(t, ip, a.addr)
	ws := dialWebSocket(t, ip, a.addr, sess)
	if ws == nil {
		t.Fatal("websocket refused")
	}
	defer ws.Close()
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"event_name":"subscribe","data":{"channels":["`+iotdevice.ChannelDevices+`"],"last":0}}`)); err != nil {
		t.Fatal(err)
	}
	poll := make(chan map[string]any, 1)
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() {
		var got map[string]any
		postJSONFrom(t, ip, a.addr, iotbox.EventPath, map[string]any{"listener": map[string]any{
			"session_id": "http-limits-test", "last_event": 0, "devices": map[string]any{"dev-1": map[string]any{"device_identifier": "dev-1"}},
		}}, sess, &got)
		poll <- got
	})
	// Longer than every timeout, so each would have struck by now.
	time.Sleep(4 * time.Second)
	a.bus.Notify(context.Background(), models.Notification{Channel: iotdevice.ChannelDevices, Type: iotdevice.NoteDeviceEvent,
		Payload: map[string]any{"device_identifier": "dev-1", "value": "after the timeouts"}})
	select {
	case got := <-poll:
		if !strings.Contains(fmt.Sprint(got["result"]), "after the timeouts") {
			t.Errorf("long poll answered %v, want the event", got)
		}
	case <-time.After(closedWithin):
		t.Error("the long poll got no event")
	}
	ws.SetReadDeadline(time.Now().Add(closedWithin))
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("websocket ended before the event: %v", err)
		}
		if bytes.Contains(data, []byte("after the timeouts")) {
			break
		}
	}
}

// TestConcurrentRequestCap: an address with as many requests running as
// --max-requests-per-addr gets 429 for one more, while other addresses
// and its own websockets are served; websockets and long polls have a
// budget of their own (--max-streams-per-addr).
func TestConcurrentRequestCap(t *testing.T) {
	const maxRequests, maxStreams = 3, 2
	a := startTestApp(t, func(c *Config) { c.MaxRequestsPerAddr, c.MaxStreamsPerAddr = maxRequests, maxStreams })
	const busy, other = "127.0.0.60", "127.0.0.61"
	sess := webLogin(t, busy, a.addr)

	// Requests held running: their handlers wait for a body that does not
	// come (the body timeout is the default minute).
	var held []net.Conn
	for range maxRequests {
		c := dialFrom(t, busy, a.addr)
		defer c.Close()
		io.WriteString(c, "POST /jsonrpc HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
		held = append(held, c)
	}
	version := map[string]any{"service": "common", "method": "version", "args": []any{}}
	testkit.Eventually(t, closedWithin, "the held requests to be running", func() bool {
		return postStatusFrom(t, busy, a.addr, "/jsonrpc", version) == http.StatusTooManyRequests
	})
	status, body, retry := postFrom(t, busy, a.addr, "/xmlrpc/2/common", "text/xml", []byte("<methodCall><methodName>version</methodName></methodCall>"))
	if status != http.StatusTooManyRequests || !strings.Contains(body, "--max-requests-per-addr") || retry == "" {
		t.Errorf("one more request: HTTP %d, Retry-After %q, body %q; want 429 naming the cap", status, retry, body)
	}
	if s := postStatusFrom(t, other, a.addr, "/jsonrpc", version); s != http.StatusOK {
		t.Errorf("another address: HTTP %d, want 200", s)
	}
	// Streams are not counted with requests.
	var streams []*websocket.Conn
	for range maxStreams {
		ws := dialWebSocket(t, busy, a.addr, sess)
		if ws == nil {
			t.Fatal("websocket refused while only requests are at their cap")
		}
		defer ws.Close()
		streams = append(streams, ws)
	}
	if ws := dialWebSocket(t, busy, a.addr, sess); ws != nil {
		ws.Close()
		t.Error("one websocket more than --max-streams-per-addr was accepted")
	}
	status, body, _ = postFrom(t, busy, a.addr, iotbox.EventPath, "application/json", testkit.CallBody(t, map[string]any{}))
	if status != http.StatusTooManyRequests || !strings.Contains(body, "--max-streams-per-addr") {
		t.Errorf("a long poll with the streams at their cap: HTTP %d %q, want 429", status, body)
	}
	if ws := dialWebSocket(t, other, a.addr, sess); ws == nil {
		t.Error("a websocket from another address was refused")
	} else {
		ws.Close()
	}
	// A finished request frees its place.
	held[0].Close()
	testkit.Eventually(t, closedWithin, "a place to free up", func() bool {
		return postStatusFrom(t, busy, a.addr, "/jsonrpc", version) == http.StatusOK
	})
	streams[0].Close()
	testkit.Eventually(t, closedWithin, "a stream place to free up", func() bool {
		ws := dialWebSocket(t, busy, a.addr, sess)
		if ws != nil {
			ws.Close()
		}
		return ws != nil
	})
	m := metricsText(t, a)
	for _, kind := range []string{"request", "stream"} {
		if !strings.Contains(m, `odoo_iot_mqtt_http_refused_total{kind="`+kind+`"} `) {
			t.Errorf("/metrics has no refusals of kind %s", kind)
		}
	}
}

// startTestApp runs the server in this process on a fresh SQLite
// database and a free port, with cfg adjusted by mutate, until the test
// ends.
func startTestApp(t *testing.T, mutate func(*Config)) *app {
	t.Helper()
	a, _ := startTestAppLogs(t, mutate)
	return a
}

// startTestAppLogs is startTestApp, also returning the server's log (JSON
// lines).
func startTestAppLogs(t *testing.T, mutate func(*Config)) (*app, *testkit.Buffer) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.DB = "sqlite:" + filepath.Join(t.TempDir(), "limits.db")
	cfg.DBName = "limits"
	cfg.AdminPassword = "limits-admin-pw"
	cfg.LogLevel = "debug"
	mutate(&cfg)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	logs := &testkit.Buffer{}
	a, err := start(context.Background(), cfg, newTestLogger(logs))
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		if err := a.shutdown(); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return a, logs
}

// dialFrom opens a TCP connection to addr from the loopback address ip.
func dialFrom(t *testing.T, ip, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: closedWithin}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s from %s: %v", addr, ip, err)
	}
	return c
}

// clientFrom is an HTTP client whose connections come from ip.
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: closedWithin}
	return &http.Client{Timeout: 2 * closedWithin, Transport: &http.Transport{DialContext: d.DialContext}}
}

// trickle writes one byte every 200 ms until ctx ends or a write fails.
func trickle(ctx context.Context, c net.Conn) {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := c.Write([]byte("a")); err != nil {
				return
			}
		}
	}
}

// waitClosed reads c until the server closes it (EOF or a reset), and
// fails if that has not happened within closedWithin.
func waitClosed(c net.Conn) error {
	c.SetReadDeadline(time.Now().Add(closedWithin))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("connection still open after %s", closedWithin)
	}
	return nil
}

// postFrom posts body to path from ip and returns the status, the body and
// the Retry-After header.
func postFrom(t *testing.T, ip, addr, path, contentType string, body []byte) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	resp, out := testkit.Do(t, clientFrom(ip), req)
	return resp.StatusCode, string(out), resp.Header.Get("Retry-After")
}

func postStatusFrom(t *testing.T, ip, addr, path string, params any) int {
	t.Helper()
	status, _, _ := postFrom(t, ip, addr, path, "application/json", testkit.CallBody(t, params))
	return status
}

// postJSONFrom posts a JSON-RPC call from ip with the session cookie (if
// any) and decodes the answer into out.
func postJSONFrom(t *testing.T, ip, addr, path string, params any, sess *http.Cookie, out any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+path, bytes.NewReader(testkit.CallBody(t, params)))
	if err != nil {
		t.Error(err)
		return
	}
	req.Header.Set("Content-Type", "application/json")
	if sess != nil {
		req.AddCookie(sess)
	}
	resp, err := clientFrom(ip).Do(req)
	if err != nil {
		t.Errorf("POST %s: %v", path, err)
		return
	}
	defer resp.Body.Close()
	if err := jsonDecode(resp.Body, out); err != nil {
		t.Errorf("POST %s: HTTP %d: %v", path, resp.StatusCode, err)
	}
}

// webLogin logs in as admin from ip and returns the session cookie.
func webLogin(t *testing.T, ip, addr string) *http.Cookie {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/web/session/authenticate",
		bytes.NewReader(testkit.CallBody(t, map[string]any{"db": "limits", "login": "admin", "password": "limits-admin-pw"})))
	req.Header.Set("Content-Type", "application/json")
	resp, body := testkit.Do(t, clientFrom(ip), req)
	for _, c := range resp.Cookies() {
		if c.Name == "session_id" && strings.Contains(string(body), `"uid":2`) {
			return c
		}
	}
	t.Fatalf("web login: HTTP %d %s", resp.StatusCode, body)
	return nil
}

// dialWebSocket opens /websocket from ip as sess's user; nil when the
// server refused the handshake.
func dialWebSocket(t *testing.T, ip, addr string, sess *http.Cookie) *websocket.Conn {
	t.Helper()
	d := websocket.Dialer{
		NetDialContext:   (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}).DialContext,
		HandshakeTimeout: closedWithin,
	}
	h := http.Header{}
	h.Set("Cookie", sess.String())
	ws, resp, err := d.Dial("ws://"+addr+"/websocket", h)
	if err != nil {
		if resp == nil {
			t.Fatalf("websocket from %s: %v", ip, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("websocket from %s: HTTP %d, want 101 or 429", ip, resp.StatusCode)
		}
		return nil
	}
	return ws
}

// metricsText is GET /metrics.
func metricsText(t *testing.T, a *app) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+a.addr+"/metrics", nil)
	_, body := testkit.Do(t, clientFrom("127.0.0.1"), req)
	return string(body)
}

func newTestLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func jsonDecode(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }
