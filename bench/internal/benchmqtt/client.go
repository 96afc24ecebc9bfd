package benchmqtt

// The bench's own MQTT clients (paho.mqtt.golang, as the server uses).

import (
	"fmt"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// Client is a connected paho client that remembers a lost connection.
type Client struct {
	mqtt.Client
	ID   string
	lost atomic.Pointer[error]
}

// Connect opens a clean-session MQTT 3.1.1 client with the given id. It
// does not reconnect: a dropped connection fails the step that uses it,
// since messages lost in between would be counted against the server.
func Connect(brokerURL, id string) (*Client, error) {
	c := &Client{ID: id}
	o := mqtt.NewClientOptions().AddBroker(brokerURL).SetClientID(id).
		SetProtocolVersion(4).SetCleanSession(true).SetOrderMatters(true).
		SetAutoReconnect(false).SetKeepAlive(30 * time.Second).SetConnectTimeout(10 * time.Second).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) { c.lost.Store(&err) })
	c.Client = mqtt.NewClient(o)
	if err := Wait(c.Connect(), 10*time.Second); err != nil {
		return nil, fmt.Errorf("connect %s to %s: %w", id, brokerURL, err)
	}
	return c, nil
}

// LostErr is the reason the connection dropped, or nil.
func (c *Client) LostErr() error {
	if p := c.lost.Load(); p != nil {
		return fmt.Errorf("MQTT connection lost: %w", *p)
	}
	return nil
}

// Close disconnects, leaving paho 250 ms to send what it holds.
func (c *Client) Close() { c.Disconnect(250) }

// Wait waits at most d for a paho token.
func Wait(t mqtt.Token, d time.Duration) error {
	if !t.WaitTimeout(d) {
		return fmt.Errorf("no answer from the broker within %s", d)
	}
	return t.Error()
}
