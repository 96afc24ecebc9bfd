package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/eclipse/paho.golang/paho"
)

// The lamp connects with an MQTT 5 client (paho.golang on a plain
// net.Conn), so that it can answer commands the MQTT 5 way: to the
// request's Response Topic, with its Correlation Data. It is the same
// device as over MQTT 3.1.1 otherwise: last will, retained availability,
// info and state on each connection, telemetry every interval, actions.
// paho.golang has no reconnect of its own below autopaho: runV5 redials
// a second after a connection ends.

// v5Timeout bounds the CONNECT, SUBSCRIBE and each publish.
const v5Timeout = 5 * time.Second

// runV5 is the lamp's life over MQTT 5, until ctx ends.
func (d *device) runV5(ctx context.Context, addr string, interval time.Duration, log *slog.Logger) {
	inbox := make(chan inbound, 32)
	t := time.NewTicker(interval)
	defer t.Stop()
	for ctx.Err() == nil {
		c, err := d.connectV5(ctx, addr, inbox, log)
		if err == nil {
			d.serveV5(ctx, c, t, inbox, log)
			continue
		}
		if ctx.Err() == nil {
			log.Debug("Demo device could not connect", slog.Any("error", err))
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// connectV5 dials addr and connects with a clean start and the lamp's
// last will. Received messages go to inbox; the router never waits.
func (d *device) connectV5(ctx context.Context, addr string, inbox chan<- inbound, log *slog.Logger) (*paho.Client, error) {
	cctx, cancel := context.WithTimeout(ctx, v5Timeout)
	defer cancel()
	var dialer net.Dialer
	conn, err := dialer.DialContext(cctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	c := paho.NewClient(paho.ClientConfig{
		ClientID: "demo-" + d.id,
		Conn:     conn,
		OnPublishReceived: []func(paho.PublishReceived) (bool, error){func(pr paho.PublishReceived) (bool, error) {
			in := inbound{topic: pr.Packet.Topic, payload: pr.Packet.Payload}
			if p := pr.Packet.Properties; p != nil {
				in.responseTopic, in.corr = p.ResponseTopic, p.CorrelationData
			}
			select {
			case inbox <- in:
			default:
				log.Warn("Demo device busy, message dropped", slog.String("topic", in.topic))
			}
			return true, nil
		}},
		OnClientError:      func(error) {},            // Done() tells serveV5
		OnServerDisconnect: func(*paho.Disconnect) {}, // likewise
	})
	cp := &paho.Connect{ClientID: "demo-" + d.id, KeepAlive: 30, CleanStart: true}
	if will, ok := d.availability(false); ok {
		cp.WillMessage = &paho.WillMessage{Topic: will.topic, Payload: will.payload, QoS: will.qos, Retain: will.retain}
	}
	ca, err := c.Connect(cctx, cp) // closes conn when it fails
	if err != nil {
		return nil, err
	}
	if ca.ReasonCode >= 0x80 {
		_ = c.Disconnect(&paho.Disconnect{})
		return nil, fmt.Errorf("CONNACK reason code %#x", ca.ReasonCode)
	}
	return c, nil
}

// serveV5 runs one connection: subscribe to actions and requests, say
// online with the info and state, then publish telemetry, obey actions
// and answer requests until the connection ends (it returns) or ctx does
// (it says offline and disconnects first).
func (d *device) serveV5(ctx context.Context, c *paho.Client, t *time.Ticker, inbox <-chan inbound, log *slog.Logger) {
	if err := d.subscribeV5(ctx, c); err != nil && ctx.Err() == nil {
		log.Warn("Demo device could not subscribe to its actions and requests", slog.Any("error", err))
	}
	online, _ := d.availability(true)
	d.publishV5(ctx, c, log, append([]message{online, d.infoMessage()}, d.stateMessages(time.Now())...))
	for {
		select {
		case <-ctx.Done():
			// A clean disconnect sends no will: say offline first.
			if offline, ok := d.availability(false); ok {
				d.publishV5(context.Background(), c, log, []message{offline})
			}
			_ = c.Disconnect(&paho.Disconnect{}) // waits for the client's goroutines
			return
		case <-c.Done():
			return
		case now := <-t.C:
			d.publishV5(ctx, c, log, d.tick(now))
		case in := <-inbox:
			if answer, ok := d.answer(in); ok {
				log.Info("Demo device answered a command", slog.String("topic", in.topic), slog.String("response_topic", answer.topic),
					slog.Bool("correlation_data", len(answer.corr) > 0))
				d.publishV5(ctx, c, log, []message{answer})
				continue
			}
			msgs := d.act(time.Now(), in.topic, in.payload)
			if len(msgs) == 0 {
				log.Info("Demo device ignored an action (unknown, or no change)", slog.String("topic", in.topic))
				continue
			}
			log.Info("Demo device obeyed an action", slog.String("topic", in.topic))
			d.publishV5(ctx, c, log, msgs)
		}
	}
}

// subscribeV5 subscribes to the lamp's actions and command requests.
func (d *device) subscribeV5(ctx context.Context, c *paho.Client) error {
	sctx, cancel := context.WithTimeout(ctx, v5Timeout)
	defer cancel()
	sa, err := c.Subscribe(sctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{
		{Topic: d.actionFilter(), QoS: 1}, {Topic: d.requestFilter(), QoS: 1}}})
	if err != nil {
		return err
	}
	var errs []error
	for i, code := range sa.Reasons {
		if code >= 0x80 {
			errs = append(errs, fmt.Errorf("SUBACK reason code %#x for filter %d", code, i))
		}
	}
	return errors.Join(errs...)
}

// publishV5 sends msgs in order, each QoS 1 one acknowledged, with an
// answer's Correlation Data.
func (d *device) publishV5(ctx context.Context, c *paho.Client, log *slog.Logger, msgs []message) {
	for _, m := range msgs {
		p := &paho.Publish{Topic: m.topic, QoS: m.qos, Retain: m.retain, Payload: m.payload}
		if len(m.corr) > 0 {
			p.Properties = &paho.PublishProperties{CorrelationData: m.corr}
		}
		pctx, cancel := context.WithTimeout(ctx, v5Timeout)
		_, err := c.Publish(pctx, p)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				log.Debug("Demo device publish failed", slog.String("topic", m.topic), slog.Any("error", err))
			}
			return
		}
	}
}
