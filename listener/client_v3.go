package listener

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	mqttmodel "github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// MQTT 3.1 and 3.1.1 go through paho.mqtt.golang. Its own reconnection is
// off (the daemon reconnects with a fresh client), and so is its
// automatic acknowledgement for a daemon's client (the writer acks after
// commit).

// subackFailure is the SUBACK return code of a refused filter (MQTT 3.1.1
// §3.9.3).
const subackFailure = 0x80

// clientV3 is a connected paho.mqtt.golang client.
type clientV3 struct{ c mqtt.Client }

func connectV3(ctx context.Context, cfg mqttmodel.BrokerConfig, clientID string, daemon bool, h clientHooks) (client, error) {
	opts, err := clientOptions(cfg, clientID, daemon)
	if err != nil {
		return nil, err
	}
	dial, err := brokerDialOptions(cfg)
	if err != nil {
		return nil, err
	}
	opts.SetCustomOpenConnectionFn(func(uri *url.URL, _ mqtt.ClientOptions) (net.Conn, error) {
		c, err := dialBroker(context.WithoutCancel(ctx), uri, dial)
		if err != nil {
			return nil, err
		}
		if h.wrap != nil {
			c = h.wrap(c)
		}
		return c, nil
	})
	if h.onMessage != nil {
		// Subscriptions carry no callback: every message goes to this one
		// handler exactly once, even when several filters match it.
		opts.SetDefaultPublishHandler(func(_ mqtt.Client, m mqtt.Message) {
			msg := message{topic: m.Topic(), payload: m.Payload(), qos: m.Qos(), retained: m.Retained(), dup: m.Duplicate(), packetID: m.MessageID()}
			if msg.qos > 0 {
				msg.ack = m.Ack
			}
			h.onMessage(msg)
		})
	} else {
		// It reads nothing it receives (retained messages after
		// SubscribeOnce's SUBACK, say), but a handler makes paho
		// acknowledge (and so not pile up) anything a broker sends it.
		opts.SetAutoAckDisabled(false).SetDefaultPublishHandler(func(mqtt.Client, mqtt.Message) {})
	}
	if h.onLost != nil {
		opts.SetConnectionLostHandler(func(_ mqtt.Client, err error) { h.onLost(err) })
	}
	c := mqtt.NewClient(opts)
	tok := c.Connect()
	if daemon {
		// paho bounds the wait by the connect timeout; a daemon's session
		// must not outlive a connection that succeeds after it gave up.
		<-tok.Done()
	} else {
		select {
		case <-tok.Done():
		case <-ctx.Done():
			// paho's connect timeout ends the attempt; disconnect it if it
			// succeeded meanwhile.
			h.helper(func() {
				<-tok.Done()
				if tok.Error() == nil {
					c.Disconnect(0)
				}
			})
			return nil, fmt.Errorf("cannot connect to %s: %w", brokerURL(cfg), context.Cause(ctx))
		}
	}
	if err := tok.Error(); err != nil {
		return nil, connectErrorV3(brokerURL(cfg), tok, err)
	}
	return &clientV3{c: c}, nil
}

// connectErrorV3 says why a CONNECT failed: the broker's CONNACK refusal
// (bad credentials, say) or the network/TLS error.
func connectErrorV3(url string, tok mqtt.Token, err error) error {
	if ct, ok := tok.(*mqtt.ConnectToken); ok {
		if rc := ct.ReturnCode(); rc != 0 && rc < 0x80 {
			return fmt.Errorf("%s refused the connection: %w (CONNACK return code %d)", url, err, rc)
		}
	}
	return fmt.Errorf("cannot connect to %s: %w", url, err)
}

func (c *clientV3) subscribe(ctx context.Context, filters map[string]filter) (map[string]error, error) {
	ctx, cancel := withDefaultTimeout(ctx, subackTimeout)
	defer cancel()
	qos := make(map[string]byte, len(filters))
	for f, o := range filters {
		qos[f] = o.qos
	}
	tok := c.c.SubscribeMultiple(qos, nil)
	if err := waitToken(ctx, tok); err != nil {
		return nil, fmt.Errorf("subscribe: %w", err)
	}
	codes := tok.(*mqtt.SubscribeToken).Result()
	out := make(map[string]error, len(filters))
	for f := range filters {
		code, ok := codes[f]
		switch {
		case !ok:
			out[f] = fmt.Errorf("no SUBACK return code for %q", f)
		case code == subackFailure:
			out[f] = fmt.Errorf("the broker refused the subscription to %q (SUBACK return code 0x80)", f)
		case code > 2:
			out[f] = fmt.Errorf("unexpected SUBACK return code 0x%02x for %q", code, f)
		}
	}
	return out, nil
}

func (c *clientV3) unsubscribe(ctx context.Context, topic string) error {
	return waitToken(ctx, c.c.Unsubscribe(topic))
}

func (c *clientV3) publish(ctx context.Context, m mqttmodel.OutgoingMessage) error {
	return waitToken(ctx, c.c.Publish(m.Topic, m.QoS, m.Retain, m.Payload))
}

func (c *clientV3) disconnect() { c.c.Disconnect(disconnectQuiesce) }

// waitToken waits for a paho token or ctx.
func waitToken(ctx context.Context, tok mqtt.Token) error {
	select {
	case <-tok.Done():
		return tok.Error()
	case <-ctx.Done():
		return fmt.Errorf("no acknowledgement from the broker: %w", context.Cause(ctx))
	}
}

// clientOptions maps a broker record to paho options. A daemon's client
// (daemon true) keeps the record's session, will and store; the
// short-lived clients of CheckConnection and Publish get a unique client
// id, a clean session, no will and a memory store, so they can neither
// kick the daemon off the broker nor leave state behind.
//
// Reconnection is never paho's: AutoReconnect and ConnectRetry are off and
// each daemon reconnects with a fresh client by its broker's backoff.
// Acknowledgements are never automatic: the writer acks after commit.
func clientOptions(cfg mqttmodel.BrokerConfig, clientID string, daemon bool) (*mqtt.ClientOptions, error) {
	if cfg.SecretError != nil {
		// Connecting without the secret would only earn a refusal, or
		// worse, an anonymous session with other rights.
		return nil, &configError{fmt.Errorf("listener: %w", cfg.SecretError)}
	}
	tc, err := tlsConfig(cfg)
	if err != nil {
		return nil, err
	}
	o := mqtt.NewClientOptions().
		AddBroker(brokerURL(cfg)).
		SetClientID(clientID).
		SetUsername(cfg.Username).
		SetPassword(cfg.Password).
		SetKeepAlive(cfg.Keepalive).
		SetPingTimeout(orDefault(cfg.PingTimeout, defaultPingTimeout)).
		SetConnectTimeout(orDefault(cfg.ConnectTimeout, defaultConnectTimeout)).
		SetWriteTimeout(cfg.WriteTimeout).
		SetOrderMatters(cfg.OrderMatters).
		SetAutoReconnect(false).
		SetConnectRetry(false).
		SetResumeSubs(false).
		SetAutoAckDisabled(true).
		SetCleanSession(true)
	if cfg.Protocol == 3 || cfg.Protocol == 4 {
		o.SetProtocolVersion(cfg.Protocol)
	} else {
		o.SetProtocolVersion(4)
	}
	if tc != nil {
		o.SetTLSConfig(tc)
	}
	if len(cfg.WSHeaders) > 0 {
		h := http.Header{}
		for k, v := range cfg.WSHeaders {
			h.Set(k, v)
		}
		o.SetHTTPHeaders(h)
	}
	if daemon {
		o.SetCleanSession(cfg.CleanSession)
		if w := cfg.Will; w != nil && w.Topic != "" {
			o.SetBinaryWill(w.Topic, w.Payload, w.QoS, w.Retain)
		}
		if cfg.StoreType == "file" && cfg.StoreDir != "" {
			o.SetStore(mqtt.NewFileStore(cfg.StoreDir))
		}
	}
	return o, nil
}
