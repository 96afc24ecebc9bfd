package listener

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/eclipse/paho.golang/packets"
	"github.com/eclipse/paho.golang/paho"
	mqttmodel "github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// MQTT 5 goes through paho.golang's paho.Client, one per connection, on a
// connection we dial ourselves (dialBroker, under limitConn for a
// daemon). Not autopaho: its connection manager reconnects, backs off and
// resubscribes by itself, which is what our daemon already does by the
// broker record's policy, with its state in the registry and on the
// record; running both would make two owners of one connection. A fresh
// paho.Client per session is what the daemon does on 3.1.1 too.
//
// A daemon's client acknowledges by hand (EnableManualAcknowledgment):
// the writer calls the message's ack after its row is committed, which
// calls paho's Client.Ack; paho sends the acknowledgements in arrival
// order, as MQTT requires, every ackFlushInterval.

// paho.golang keeps a connection's in-flight state in memory, a fresh
// state per client as paho.mqtt.golang's memory store is: the record's
// store_type "file" applies to 3.1/3.1.1 only. The broker redelivers
// what was not acknowledged to a persistent session either way.

// ackFlushInterval is how often paho sends the acknowledgements marked
// since the last time. Short: at QoS 1 the broker sends no more than its
// in-flight window (Mosquitto's 20 messages) until they arrive.
const ackFlushInterval = 2 * time.Millisecond

// defaultV5WriteTimeout bounds a write when the broker record sets no
// write timeout.
const defaultV5WriteTimeout = 30 * time.Second

// v5PacketTimeout is paho's own bound on waiting for an acknowledgement;
// ours are the callers' contexts, so it only has to be longer.
const v5PacketTimeout = 24 * time.Hour

// clientV5 is a connected paho.golang client.
type clientV5 struct{ c *paho.Client }

func connectV5(ctx context.Context, cfg mqttmodel.BrokerConfig, clientID string, daemon bool, h clientHooks) (client, error) {
	if cfg.SecretError != nil {
		// Connecting without the secret would only earn a refusal, or
		// worse, an anonymous session with other rights.
		return nil, &configError{fmt.Errorf("listener: %w", cfg.SecretError)}
	}
	dial, err := brokerDialOptions(cfg)
	if err != nil {
		return nil, err
	}
	burl := brokerURL(cfg)
	uri, err := url.Parse(burl)
	if err != nil {
		return nil, &configError{fmt.Errorf("listener: broker URL %q: %w", burl, err)}
	}
	ctx, cancel := context.WithTimeout(ctx, dial.timeout)
	defer cancel()
	raw, err := dialBroker(ctx, uri, dial)
	if err != nil {
		return nil, fmt.Errorf("cannot connect to %s: %w", burl, err)
	}
	conn := raw
	if h.wrap != nil {
		conn = h.wrap(conn)
	}
	conn = &writeTimeoutConn{Conn: conn, timeout: orDefault(cfg.WriteTimeout, defaultV5WriteTimeout)}
	gate := newConnackGate(conn)
	conn = gate
	// paho writes from several goroutines (pings, acks, publishes); a TLS
	// or websocket connection must not interleave them.
	conn = packets.NewThreadSafeConn(conn)

	cc := paho.ClientConfig{ClientID: clientID, Conn: conn, PacketTimeout: v5PacketTimeout,
		PingHandler: newPinger(orDefault(cfg.PingTimeout, defaultPingTimeout))}
	if h.onLost != nil {
		cc.OnClientError = h.onLost
		cc.OnServerDisconnect = func(d *paho.Disconnect) {
			reason := ""
			if d.Properties != nil {
				reason = d.Properties.ReasonString
			}
			h.onLost(fmt.Errorf("the broker disconnected: %s", reasonText(d.ReasonCode, reason)))
		}
	}
	if h.onMessage != nil {
		cc.EnableManualAcknowledgment, cc.SendAcksInterval = true, ackFlushInterval
		cc.OnPublishReceived = []func(paho.PublishReceived) (bool, error){func(pr paho.PublishReceived) (bool, error) {
			p, c := pr.Packet, pr.Client
			m := message{topic: p.Topic, payload: p.Payload, qos: p.QoS, retained: p.Retain, dup: p.Duplicate(), props: propertiesV5(p.Properties), packetID: p.PacketID}
			if p.QoS > 0 {
				m.ack = func() { _ = c.Ack(p) } // fails only once the connection is gone: the broker redelivers
			}
			h.onMessage(m)
			return true, nil
		}}
	} else {
		// It reads nothing it receives; paho acknowledges it at once.
		cc.OnPublishReceived = []func(paho.PublishReceived) (bool, error){func(paho.PublishReceived) (bool, error) { return true, nil }}
	}
	c := paho.NewClient(cc)
	c.SetErrorLogger(pahoLogger{slog.LevelInfo}) // as paho.mqtt.golang's ERROR lines: connection events

	cp := &paho.Connect{ClientID: clientID, KeepAlive: uint16(min(cfg.Keepalive/time.Second, 65535)), CleanStart: true,
		Username: cfg.Username, UsernameFlag: cfg.Username != "", Password: []byte(cfg.Password), PasswordFlag: cfg.Password != ""}
	if daemon {
		// Reason strings wanted: they go in the errors. (paho sends
		// Request Problem Information 0 otherwise, and mochi then drops
		// user properties from PUBLISH packets too.)
		props := &paho.ConnectProperties{RequestProblemInfo: true}
		// Clean Start is 3.1.1's clean session at connect: off resumes
		// the session the broker kept.
		cp.CleanStart = cfg.CleanSession
		if !cfg.CleanSession {
			// MQTT 5 ends a session with its connection unless the CONNECT
			// asks for longer (§3.1.2.11.2); 3.1.1's persistent session is
			// clean_session off, kept for the record's expiry.
			exp := uint32(min(cfg.SessionExpiry/time.Second, 1<<32-1))
			props.SessionExpiryInterval = &exp
		}
		if cfg.ReceiveMaximum > 0 {
			rm := cfg.ReceiveMaximum
			props.ReceiveMaximum = &rm
		}
		cp.Properties = props
		if w := cfg.Will; w != nil && w.Topic != "" {
			cp.WillMessage = &paho.WillMessage{Topic: w.Topic, Payload: w.Payload, QoS: w.QoS, Retain: w.Retain}
		}
	}
	ca, err := c.Connect(ctx, cp)
	gate.release()
	if err != nil {
		if ca != nil && ca.ReasonCode >= 0x80 {
			reason := ""
			if ca.Properties != nil {
				reason = ca.Properties.ReasonString
			}
			return nil, fmt.Errorf("%s refused the connection: %s", burl, reasonText(ca.ReasonCode, reason))
		}
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			err = fmt.Errorf("no CONNACK within the connect timeout (%s)", dial.timeout)
		}
		return nil, fmt.Errorf("cannot connect to %s: %w", burl, err)
	}
	return &clientV5{c: c}, nil
}

// propertiesV5 are the properties of a received PUBLISH the listener
// keeps; nil when it has none of them.
func propertiesV5(p *paho.PublishProperties) *mqttmodel.Properties {
	if p == nil || (p.ContentType == "" && p.ResponseTopic == "" && p.CorrelationData == nil && len(p.User) == 0 && p.MessageExpiry == nil) {
		return nil
	}
	out := &mqttmodel.Properties{ContentType: p.ContentType, ResponseTopic: p.ResponseTopic, CorrelationData: p.CorrelationData}
	if p.MessageExpiry != nil {
		out.MessageExpiry = *p.MessageExpiry
	}
	if len(p.User) > 0 {
		out.UserProperties = make([]mqttmodel.UserProperty, len(p.User))
		for i, u := range p.User {
			out.UserProperties[i] = mqttmodel.UserProperty{Key: u.Key, Value: u.Value}
		}
	}
	return out
}

// publishPropertiesV5 are an outgoing message's properties; nil for none.
func publishPropertiesV5(p mqttmodel.Properties) *paho.PublishProperties {
	if p.ContentType == "" && p.ResponseTopic == "" && p.CorrelationData == nil && len(p.UserProperties) == 0 && p.MessageExpiry == 0 {
		return nil
	}
	out := &paho.PublishProperties{ContentType: p.ContentType, ResponseTopic: p.ResponseTopic, CorrelationData: p.CorrelationData}
	if p.MessageExpiry > 0 {
		exp := p.MessageExpiry
		out.MessageExpiry = &exp
	}
	for _, u := range p.UserProperties {
		out.User = append(out.User, paho.UserProperty{Key: u.Key, Value: u.Value})
	}
	return out
}

func (c *clientV5) subscribe(ctx context.Context, filters map[string]filter) (map[string]error, error) {
	ctx, cancel := withDefaultTimeout(ctx, subackTimeout)
	defer cancel()
	s := &paho.Subscribe{Subscriptions: make([]paho.SubscribeOptions, 0, len(filters))}
	for t, f := range filters {
		// No Local on a shared subscription is a protocol error
		// (MQTT-3.8.3-4): the broker would close the connection.
		noLocal := f.noLocal && !strings.HasPrefix(t, "$share/")
		s.Subscriptions = append(s.Subscriptions, paho.SubscribeOptions{Topic: t, QoS: f.qos, NoLocal: noLocal,
			RetainAsPublished: f.retainAsPublished, RetainHandling: f.retainHandling})
	}
	sa, err := c.c.Subscribe(ctx, s)
	if sa == nil {
		if err == nil {
			err = errors.New("no SUBACK")
		}
		return nil, fmt.Errorf("subscribe: %w", err)
	}
	reason := ""
	if sa.Properties != nil {
		reason = sa.Properties.ReasonString
	}
	out := make(map[string]error, len(filters))
	for i, o := range s.Subscriptions {
		switch {
		case i >= len(sa.Reasons):
			out[o.Topic] = fmt.Errorf("no SUBACK reason code for %q", o.Topic)
		case sa.Reasons[i] >= 0x80:
			out[o.Topic] = fmt.Errorf("the broker refused the subscription to %q: %s", o.Topic, reasonText(sa.Reasons[i], reason))
		case sa.Reasons[i] > 2:
			out[o.Topic] = fmt.Errorf("unexpected SUBACK reason code 0x%02X for %q", sa.Reasons[i], o.Topic)
		}
	}
	return out, nil
}

func (c *clientV5) unsubscribe(ctx context.Context, topic string) error {
	ua, err := c.c.Unsubscribe(ctx, &paho.Unsubscribe{Topics: []string{topic}})
	if ua != nil && len(ua.Reasons) == 1 && ua.Reasons[0] >= 0x80 {
		reason := ""
		if ua.Properties != nil {
			reason = ua.Properties.ReasonString
		}
		return fmt.Errorf("the broker refused: %s", reasonText(ua.Reasons[0], reason))
	}
	if err != nil {
		return noAck(ctx, err)
	}
	return nil
}

func (c *clientV5) publish(ctx context.Context, m mqttmodel.OutgoingMessage) error {
	pr, err := c.c.Publish(ctx, &paho.Publish{Topic: m.Topic, Payload: m.Payload, QoS: m.QoS, Retain: m.Retain, Properties: publishPropertiesV5(m.Properties)})
	// A reason code below 0x80 is success: 0x10, No matching subscribers,
	// is a PUBACK's way to say nobody listens.
	if pr != nil && pr.ReasonCode >= 0x80 {
		reason := ""
		if pr.Properties != nil {
			reason = pr.Properties.ReasonString
		}
		return fmt.Errorf("the broker refused it: %s", reasonText(pr.ReasonCode, reason))
	}
	if err != nil {
		return noAck(ctx, err)
	}
	return nil
}

// noAck words a wait that ctx ended as waitToken does on 3.1.1.
func noAck(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("no acknowledgement from the broker: %w", context.Cause(ctx))
	}
	return err
}

func (c *clientV5) disconnect() { _ = c.c.Disconnect(&paho.Disconnect{ReasonCode: 0}) }

// writeTimeoutConn bounds each write by the broker record's write
// timeout, as paho.mqtt.golang does on 3.1.1, or else by
// defaultV5WriteTimeout: paho.golang has no bound of its own, and a
// connection whose peer stopped reading would hold a Disconnect forever.
// It sets the deadline inside Write, under paho's write lock: a
// websocket's deadline must not change during a write.
type writeTimeoutConn struct {
	net.Conn
	timeout time.Duration
}

func (c *writeTimeoutConn) Write(b []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, err
	}
	return c.Conn.Write(b)
}
