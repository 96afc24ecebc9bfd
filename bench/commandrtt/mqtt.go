package main

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/eclipse/paho.golang/paho"
	mqtt3 "github.com/eclipse/paho.mqtt.golang"
)

// endpoint is one bench MQTT client, the device or the bare requester,
// on either protocol: what the bench needs of it and no more.
type endpoint interface {
	// publish sends at QoS 1 and waits for the PUBACK; responseTopic and
	// correlation are sent on MQTT 5 only.
	publish(ctx context.Context, topic string, payload []byte, retain bool, responseTopic string, correlation []byte) error
	// subscribe subscribes filter at QoS 1; handle gets every message.
	subscribe(ctx context.Context, filter string) error
	close()
}

// received is what an endpoint hands its handler.
type received struct {
	topic, responseTopic string
	payload, correlation []byte
}

// connect opens a clean-session client of the given protocol ("3.1.1" or
// "5") to addr (host:port); handle is called on paho's goroutine.
func connect(ctx context.Context, protocol, addr, id string, handle func(received)) (endpoint, error) {
	if protocol == "5" {
		return connect5(ctx, addr, id, handle)
	}
	o := mqtt3.NewClientOptions().AddBroker("tcp://" + addr).SetClientID(id).SetProtocolVersion(4).
		SetCleanSession(true).SetAutoReconnect(false).SetOrderMatters(false).SetKeepAlive(30 * time.Second).
		SetDefaultPublishHandler(func(_ mqtt3.Client, m mqtt3.Message) {
			handle(received{topic: m.Topic(), payload: m.Payload()})
		})
	c := mqtt3.NewClient(o)
	if err := wait(ctx, c.Connect()); err != nil {
		return nil, fmt.Errorf("connect %s: %w", id, err)
	}
	return &endpoint3{c: c}, nil
}

type endpoint3 struct{ c mqtt3.Client }

func (e *endpoint3) publish(ctx context.Context, topic string, payload []byte, retain bool, _ string, _ []byte) error {
	return wait(ctx, e.c.Publish(topic, 1, retain, payload))
}

func (e *endpoint3) subscribe(ctx context.Context, filter string) error {
	return wait(ctx, e.c.Subscribe(filter, 1, nil))
}

func (e *endpoint3) close() { e.c.Disconnect(250) }

func wait(ctx context.Context, t mqtt3.Token) error {
	select {
	case <-t.Done():
		return t.Error()
	case <-ctx.Done():
		return ctx.Err()
	}
}

type endpoint5 struct{ c *paho.Client }

func connect5(ctx context.Context, addr, id string, handle func(received)) (endpoint, error) {
	conn, err := (&net.Dialer{Timeout: 10 * time.Second}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	c := paho.NewClient(paho.ClientConfig{ClientID: id, Conn: conn,
		OnPublishReceived: []func(paho.PublishReceived) (bool, error){func(pr paho.PublishReceived) (bool, error) {
			m := received{topic: pr.Packet.Topic, payload: pr.Packet.Payload}
			if p := pr.Packet.Properties; p != nil {
				m.responseTopic, m.correlation = p.ResponseTopic, p.CorrelationData
			}
			handle(m)
			return true, nil
		}}})
	ca, err := c.Connect(ctx, &paho.Connect{ClientID: id, CleanStart: true, KeepAlive: 30})
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", id, err)
	}
	if ca.ReasonCode != 0 {
		return nil, fmt.Errorf("connect %s: CONNACK reason code 0x%02x", id, ca.ReasonCode)
	}
	return &endpoint5{c: c}, nil
}

func (e *endpoint5) publish(ctx context.Context, topic string, payload []byte, retain bool, responseTopic string, correlation []byte) error {
	p := &paho.Publish{Topic: topic, QoS: 1, Retain: retain, Payload: payload}
	if responseTopic != "" || correlation != nil {
		p.Properties = &paho.PublishProperties{ResponseTopic: responseTopic, CorrelationData: correlation}
	}
	pr, err := e.c.Publish(ctx, p)
	if err == nil && pr != nil && pr.ReasonCode >= 0x80 {
		err = fmt.Errorf("PUBACK reason code 0x%02x", pr.ReasonCode)
	}
	return err
}

func (e *endpoint5) subscribe(ctx context.Context, filter string) error {
	sa, err := e.c.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: filter, QoS: 1}}})
	if err == nil && len(sa.Reasons) == 1 && sa.Reasons[0] >= 0x80 {
		err = fmt.Errorf("SUBACK reason code 0x%02x for %s", sa.Reasons[0], filter)
	}
	return err
}

func (e *endpoint5) close() { _ = e.c.Disconnect(&paho.Disconnect{}) }

// responseTopicOf is the 3.1.1 convention's answer topic of a request
// topic: the same with its "request" level replaced by "response".
func responseTopicOf(request string) string {
	levels := strings.Split(request, "/")
	for i := len(levels) - 2; i >= 0; i-- {
		if levels[i] == "request" {
			levels[i] = "response"
			break
		}
	}
	return strings.Join(levels, "/")
}
