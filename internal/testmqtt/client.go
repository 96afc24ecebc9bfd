package testmqtt

// paho clients for tests: devices, operators' tools and observers.

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// ackLimit bounds the wait for a broker's answer (CONNACK, PUBACK,
// SUBACK): it turns a hang into a failure.
const ackLimit = 10 * time.Second

// clientSeq makes the client ids of Retained unique.
var clientSeq atomic.Int64

// Connect connects a paho client to url (tcp://host:port) as id, failing
// the test when it cannot, and disconnects it when the test ends. It does
// not reconnect: a test sees a dropped connection. setup, when not nil,
// adjusts the options first (a will, credentials, a dialer).
func Connect(t testing.TB, url, id string, setup func(*paho.ClientOptions)) paho.Client {
	t.Helper()
	o := paho.NewClientOptions().AddBroker(url).SetClientID(id).SetAutoReconnect(false).SetConnectTimeout(5 * time.Second)
	if setup != nil {
		setup(o)
	}
	c := paho.NewClient(o)
	if err := Wait(c.Connect()); err != nil {
		t.Fatalf("MQTT connect %s to %s: %v", id, url, err)
	}
	t.Cleanup(func() { c.Disconnect(250) })
	return c
}

// Wait waits for a paho token's answer, at most ackLimit.
func Wait(tok paho.Token) error {
	if !tok.WaitTimeout(ackLimit) {
		return fmt.Errorf("no answer from the broker within %v", ackLimit)
	}
	return tok.Error()
}

// Publish publishes payload on topic and waits for the broker's
// acknowledgement (for QoS 0, for the message to be sent).
func Publish(t testing.TB, c paho.Client, topic string, qos byte, retain bool, payload any) {
	t.Helper()
	if err := Wait(c.Publish(topic, qos, retain, payload)); err != nil {
		t.Fatalf("publish %s: %v", topic, err)
	}
}

// PublishStream publishes the numbers 0..n-1 as payloads on topic
// without waiting for each acknowledgement (a stream, so the broker has a
// window of messages in flight), then waits for them all.
func PublishStream(t testing.TB, c paho.Client, topic string, qos byte, n int) {
	t.Helper()
	toks := make([]paho.Token, n)
	for i := range n {
		toks[i] = c.Publish(topic, qos, false, fmt.Sprint(i))
	}
	for i, tok := range toks {
		if err := Wait(tok); err != nil {
			t.Fatalf("publish %d on %s: %v", i, topic, err)
		}
	}
}

// Subscribe subscribes c to filter and returns the messages it receives,
// once the broker acknowledged the subscription. The channel holds 100
// unread messages; more are dropped.
func Subscribe(t testing.TB, c paho.Client, filter string, qos byte) <-chan paho.Message {
	t.Helper()
	ch := make(chan paho.Message, 100)
	err := Wait(c.Subscribe(filter, qos, func(_ paho.Client, m paho.Message) {
		select {
		case ch <- m:
		default:
		}
	}))
	if err != nil {
		t.Fatalf("subscribe %s: %v", filter, err)
	}
	return ch
}

// Receive returns the next message of ch, failing the test when none
// comes within timeout.
func Receive(t testing.TB, ch <-chan paho.Message, timeout time.Duration, what string) paho.Message {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(timeout):
		t.Fatalf("no MQTT message within %v: %s", timeout, what)
		return nil
	}
}

// Retained returns the retained message of topic on the broker at url,
// read with a fresh client, or nil when none arrives within wait of the
// subscription.
func Retained(t testing.TB, url, topic string, wait time.Duration) []byte {
	t.Helper()
	c := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetAutoReconnect(false).
		SetClientID(fmt.Sprintf("test-retained-%d-%d", time.Now().UnixNano(), clientSeq.Add(1))))
	if err := Wait(c.Connect()); err != nil {
		t.Fatalf("MQTT connect to %s: %v", url, err)
	}
	defer c.Disconnect(100)
	got := make(chan []byte, 1)
	err := Wait(c.Subscribe(topic, 1, func(_ paho.Client, m paho.Message) {
		select {
		case got <- m.Payload():
		default:
		}
	}))
	if err != nil {
		t.Fatalf("subscribe %s: %v", topic, err)
	}
	select {
	case p := <-got:
		return p
	case <-time.After(wait):
		return nil
	}
}
