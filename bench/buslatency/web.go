package main

// The bench talks to the server the way the admin pages do: a web session
// (/web/session/authenticate, its cookie in a jar), JSON-RPC on
// /web/dataset/call_kw for the setup, and the same cookie for /websocket
// and /hw_drivers/event.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchproc"
)

// webClient is one logged-in session. Its http.Client is safe for
// concurrent use; its transport keeps enough idle connections for the
// pollers, each of which holds one request open at a time.
type webClient struct {
	base string
	http *http.Client
}

var webTransport = &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: time.Minute}

// login opens a session as admin.
func login(ctx context.Context, base string) (*webClient, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	c := &webClient{base: base, http: &http.Client{Jar: jar, Transport: webTransport, Timeout: 70 * time.Second}}
	var info struct {
		UID int64 `json:"uid"`
	}
	err = c.jsonRPC(ctx, "/web/session/authenticate", map[string]any{"db": benchproc.DBName, "login": "admin", "password": benchproc.AdminPassword}, &info)
	if err != nil {
		return nil, fmt.Errorf("log in: %w", err)
	}
	if info.UID <= 0 || c.sessionID() == "" {
		return nil, fmt.Errorf("%w: log in: uid %d, session cookie %q", benchproc.ErrFunctional, info.UID, c.sessionID())
	}
	return c, nil
}

// sessionID is the session cookie's value.
func (c *webClient) sessionID() string {
	u, _ := url.Parse(c.base)
	for _, k := range c.http.Jar.Cookies(u) {
		if k.Name == "session_id" {
			return k.Value
		}
	}
	return ""
}

// rpcError is a JSON-RPC error answer.
type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    struct {
		Name    string `json:"name"`
		Message string `json:"message"`
	} `json:"data"`
}

func (e *rpcError) Error() string {
	return fmt.Sprintf("JSON-RPC error %d %s: %s", e.Code, e.Data.Name, e.Data.Message)
}

// jsonRPC posts params in a JSON-RPC envelope and decodes the result into
// out. An error answer is an *rpcError; a JSON-RPC answer without result
// leaves out untouched.
func (c *webClient) jsonRPC(ctx context.Context, path string, params any, out any) error {
	body, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": "call", "id": 1, "params": params})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: HTTP %s: %.300s", path, resp.Status, raw)
	}
	var env struct {
		Result json.RawMessage `json:"result"`
		Error  *rpcError       `json:"error"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return fmt.Errorf("%s: %w: %.300s", path, err, raw)
	}
	if env.Error != nil {
		return fmt.Errorf("%s: %w", path, env.Error)
	}
	if len(env.Result) == 0 || out == nil {
		return nil
	}
	if err := json.Unmarshal(env.Result, out); err != nil {
		return fmt.Errorf("%s: result: %w: %.300s", path, err, env.Result)
	}
	return nil
}

// call runs model.method(*args) through /web/dataset/call_kw.
func (c *webClient) call(ctx context.Context, model, method string, args []any, kw map[string]any, out any) error {
	if args == nil {
		args = []any{}
	}
	if kw == nil {
		kw = map[string]any{}
	}
	err := c.jsonRPC(ctx, "/web/dataset/call_kw/"+model+"/"+method,
		map[string]any{"model": model, "method": method, "args": args, "kwargs": kw}, out)
	if err != nil {
		return fmt.Errorf("%s.%s: %w", model, method, err)
	}
	return nil
}

// create makes one record and returns its id (Odoo answers a single
// dict with an id, a list with a list).
func (c *webClient) create(ctx context.Context, model string, vals map[string]any) (int64, error) {
	var out json.RawMessage
	if err := c.call(ctx, model, "create", []any{vals}, nil, &out); err != nil {
		return 0, err
	}
	var id int64
	if json.Unmarshal(out, &id) == nil && id > 0 {
		return id, nil
	}
	var ids []int64
	if json.Unmarshal(out, &ids) == nil && len(ids) == 1 && ids[0] > 0 {
		return ids[0], nil
	}
	return 0, fmt.Errorf("%w: %s.create returned %s", benchproc.ErrFunctional, model, out)
}

// listen creates a broker record for addr (device discovery on, with
// seed 004's topics: its default) and one subscription per filter,
// presses Subscribe, starts the service and waits until the service says
// connected and every subscription subscribed.
func (c *webClient) listen(ctx context.Context, addr, clientID string, filters []string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	broker, err := c.create(ctx, "mqtt.broker", map[string]any{
		"name": "Bench Mosquitto", "host": host, "port": port, "client_id": clientID, "clean_session": true, "device_discovery": true,
	})
	if err != nil {
		return err
	}
	var subs []any
	for _, f := range filters {
		id, err := c.create(ctx, "mqtt.subscription", map[string]any{"broker_id": broker, "topic": f, "qos": 0})
		if err != nil {
			return err
		}
		subs = append(subs, id)
	}
	if err := c.call(ctx, "mqtt.subscription", "subscribe_mqtt", []any{subs}, nil, nil); err != nil {
		return err
	}
	if err := c.call(ctx, "mqtt.service", "start_mqtt_service", nil, nil, nil); err != nil {
		return err
	}
	var status map[string]any
	err = benchproc.Poll(ctx, 30*time.Second, 200*time.Millisecond, func() (bool, error) {
		err := c.call(ctx, "mqtt.service", "check_mqtt_status", nil, nil, &status)
		return err == nil && status["status"] == "connected", err
	})
	if err != nil {
		return fmt.Errorf("service not connected (check_mqtt_status: %v): %w", status, err)
	}
	var rows []map[string]any
	err = benchproc.Poll(ctx, 30*time.Second, 100*time.Millisecond, func() (bool, error) {
		err := c.call(ctx, "mqtt.subscription", "read", []any{subs}, map[string]any{"fields": []any{"subscribed", "last_error"}}, &rows)
		done := err == nil && len(rows) == len(subs)
		for _, r := range rows {
			done = done && r["subscribed"] == true
		}
		return done, err
	})
	if err != nil {
		return fmt.Errorf("subscriptions not subscribed (read: %v): %w", rows, err)
	}
	return nil
}
