// Package benchrpc configures the server under test the way a user's
// script would: over XML-RPC with github.com/kolo/xmlrpc, creating the
// broker, subscription and signal records and pressing the addon's
// buttons.
package benchrpc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/rpc"
	"strings"
	"time"

	"github.com/kolo/xmlrpc"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchproc"
)

// Client is one XML-RPC connection to /xmlrpc/2/object, authenticated
// as admin. A kolo client runs one call at a time: give each worker its own.
type Client struct {
	obj *xmlrpc.Client
	uid int64
}

var transport = &http.Transport{MaxIdleConnsPerHost: 16, IdleConnTimeout: time.Minute}

func Dial(base string) (*Client, error) {
	n, err := benchproc.Login(base, transport)
	if err != nil {
		return nil, err
	}
	obj, err := xmlrpc.NewClient(base+"/xmlrpc/2/object", transport)
	if err != nil {
		return nil, err
	}
	return &Client{obj: obj, uid: n}, nil
}

func (c *Client) Close() { c.obj.Close() }

// Call runs execute_kw(model, method, args, kw).
func (c *Client) Call(model, method string, args []any, kw map[string]any) (any, error) {
	if kw == nil {
		kw = map[string]any{}
	}
	if args == nil {
		args = []any{}
	}
	var out any
	err := c.obj.Call("execute_kw", []any{benchproc.DBName, c.uid, benchproc.AdminPassword, model, method, args, kw}, &out)
	if err != nil {
		return nil, fmt.Errorf("%s.%s: %w", model, method, err)
	}
	return out, nil
}

// Create makes one record and returns its id.
func (c *Client) Create(model string, vals map[string]any) (int64, error) {
	out, err := c.Call(model, "create", []any{vals}, nil)
	if err != nil {
		return 0, err
	}
	switch v := out.(type) {
	case int64:
		return v, nil
	case []any:
		if len(v) == 1 {
			if id, ok := v[0].(int64); ok {
				return id, nil
			}
		}
	}
	return 0, fmt.Errorf("%w: %s.create returned %#v", benchproc.ErrFunctional, model, out)
}

// Listening is a broker record plus one subscription to filter at qos,
// subscribed and with the service running and connected.
type Listening struct {
	Broker, Subscription int64
}

// Listen creates a broker for addr and a subscription to filter, presses
// Subscribe, starts the service and waits until check_mqtt_status says
// connected and the subscription says subscribed.
func (c *Client) Listen(ctx context.Context, brokerAddr, clientID, filter string, qos byte) (Listening, error) {
	return c.ListenWith(ctx, brokerAddr, clientID, filter, qos, nil)
}

// ListenWith is Listen with further mqtt.broker values (the protocol, say).
func (c *Client) ListenWith(ctx context.Context, brokerAddr, clientID, filter string, qos byte, brokerVals map[string]any) (Listening, error) {
	host, port, err := splitHostPort(brokerAddr)
	if err != nil {
		return Listening{}, err
	}
	var l Listening
	vals := map[string]any{"name": "Bench Mosquitto", "host": host, "port": port, "client_id": clientID, "clean_session": true}
	for k, v := range brokerVals {
		vals[k] = v
	}
	l.Broker, err = c.Create("mqtt.broker", vals)
	if err != nil {
		return l, err
	}
	l.Subscription, err = c.Create("mqtt.subscription", map[string]any{"broker_id": l.Broker, "topic": filter, "qos": int64(qos)})
	if err != nil {
		return l, err
	}
	if _, err := c.Call("mqtt.subscription", "subscribe_mqtt", []any{[]any{l.Subscription}}, nil); err != nil {
		return l, err
	}
	if _, err := c.Call("mqtt.service", "start_mqtt_service", nil, nil); err != nil {
		return l, err
	}
	var last any
	err = benchproc.Poll(ctx, 30*time.Second, 200*time.Millisecond, func() (bool, error) {
		out, err := c.Call("mqtt.service", "check_mqtt_status", nil, nil)
		last = out
		m, _ := out.(map[string]any)
		return err == nil && m["status"] == "connected", err
	})
	if err != nil {
		return l, fmt.Errorf("service not connected (check_mqtt_status: %v): %w", last, err)
	}
	err = benchproc.Poll(ctx, 30*time.Second, 100*time.Millisecond, func() (bool, error) {
		out, err := c.Call("mqtt.subscription", "read", []any{[]any{l.Subscription}}, map[string]any{"fields": []any{"subscribed", "subscription_status", "last_error"}})
		last = out
		rows, _ := out.([]any)
		if len(rows) != 1 {
			return false, err
		}
		row, _ := rows[0].(map[string]any)
		return row["subscribed"] == true, err
	})
	if err != nil {
		return l, fmt.Errorf("subscription not subscribed (read: %v): %w", last, err)
	}
	return l, nil
}

// splitHostPort splits "host:port" into the broker record's host and port
// (a string field, as in the addon).
func splitHostPort(addr string) (host, port string, err error) {
	host, port, err = net.SplitHostPort(addr)
	if err != nil {
		return "", "", fmt.Errorf("broker address %q: %w", addr, err)
	}
	return host, port, nil
}

// IsFault reports an XML-RPC fault: the server answered, and said no.
// kolo/xmlrpc returns faults as net/rpc's ServerError; a bad HTTP status
// comes the same way but is no answer.
func IsFault(err error) bool {
	var se rpc.ServerError
	return errors.As(err, &se) && !strings.HasPrefix(string(se), "request error:")
}
