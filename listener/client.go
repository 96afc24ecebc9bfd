package listener

import (
	"context"
	"net"

	mqttmodel "github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// client is the listener's one view of a connected MQTT client, whatever
// the protocol: client_v3.go puts paho.mqtt.golang behind it for MQTT 3.1
// and 3.1.1, client_v5.go paho.golang's paho.Client for MQTT 5. Everything
// above it (daemons, sessions, the writer, one-shot connections) is
// protocol-neutral.
//
// A client is one connection, from CONNACK to loss or disconnect: it is
// never reconnected. Reconnection, back-off, resubscription and state
// belong to the daemon (daemon.go), which connects a fresh client each
// time.
type client interface {
	// subscribe sends one SUBSCRIBE for filters and returns each filter's
	// outcome (nil, or why the broker refused it), or an error when no
	// SUBACK came.
	subscribe(ctx context.Context, filters map[string]filter) (map[string]error, error)
	// unsubscribe sends one UNSUBSCRIBE and waits for the UNSUBACK; an
	// error says why none came or why the broker refused.
	unsubscribe(ctx context.Context, topic string) error
	// publish sends m and at QoS 1/2 waits for its PUBACK/PUBCOMP; the
	// error says why the broker refused it. Properties are sent on MQTT 5
	// only.
	publish(ctx context.Context, m mqttmodel.OutgoingMessage) error
	// disconnect sends DISCONNECT (waiting up to disconnectQuiesce for
	// work in progress) and closes the connection.
	disconnect()
}

// filter is one topic filter of a SUBSCRIBE with its options. The MQTT 5
// subscription options are not sent on 3.1/3.1.1, which has none.
type filter struct {
	qos               byte
	noLocal           bool
	retainAsPublished bool
	retainHandling    byte
}

// subscriptionFilter is the filter a subscription record asks for.
func subscriptionFilter(s mqttmodel.SubscriptionConfig) filter {
	return filter{qos: s.QoS, noLocal: s.NoLocal, retainAsPublished: s.RetainAsPublished, retainHandling: s.RetainHandling}
}

// merge combines two records' options for one topic filter, which the
// broker holds once per client: each record gets at least what it asked
// for, so the higher QoS, retained messages when either wants them, the
// retain flag as published when either wants it, and our own messages
// unless both refuse them.
func (f filter) merge(g filter) filter {
	return filter{qos: max(f.qos, g.qos), noLocal: f.noLocal && g.noLocal,
		retainAsPublished: f.retainAsPublished || g.retainAsPublished, retainHandling: min(f.retainHandling, g.retainHandling)}
}

// message is one received PUBLISH, whatever the protocol.
type message struct {
	topic    string
	payload  []byte
	qos      byte
	retained bool
	dup      bool
	// props are the MQTT 5 properties the listener keeps; nil on
	// 3.1/3.1.1 and for a PUBLISH that has none of them.
	props *mqttmodel.Properties
	// packetID is the PUBLISH's packet id (0 at QoS 0): on MQTT 5 for
	// the byte budget's bookkeeping too; with dup, what identifies a
	// redelivery (the redelivery window of the mqtt addon).
	packetID uint16
	// ack acknowledges a QoS 1/2 message to the broker (nil at QoS 0).
	// Calls must come in arrival order, as MQTT requires.
	ack func()
}

// properties returns the message's properties (the zero value for none).
func (m *message) properties() mqttmodel.Properties {
	if m.props == nil {
		return mqttmodel.Properties{}
	}
	return *m.props
}

// clientHooks are what a connection reports to its owner.
type clientHooks struct {
	// wrap, when set, wraps the dialled connection before the client uses
	// it (a daemon's limitConn).
	wrap func(net.Conn) net.Conn
	// onMessage receives every PUBLISH exactly once, on the client's
	// goroutine (in order when the broker record asks for ordered
	// delivery; always on MQTT 5); it must ack QoS 1/2 messages itself.
	// nil: received messages are acknowledged at once and dropped, as a
	// short-lived client that reads nothing needs.
	onMessage func(message)
	// onLost reports the loss of an established connection, once at most
	// per client that matters (later calls may come and are ignored by
	// their owner).
	onLost func(error)
	// helper runs a goroutine that the Service waits for (the late
	// cleanup of a connection whose caller gave up waiting).
	helper func(func())
}

// connectClient opens one connection to cfg's broker and waits for the
// CONNACK, within cfg.ConnectTimeout and ctx. daemon says whether it is a
// daemon's client (the record's client id, session, will and store) or a
// short-lived one (clientID unique, clean session, no will).
func connectClient(ctx context.Context, cfg mqttmodel.BrokerConfig, clientID string, daemon bool, h clientHooks) (client, error) {
	if cfg.Protocol == mqttmodel.ProtocolV5 {
		return connectV5(ctx, cfg, clientID, daemon, h)
	}
	return connectV3(ctx, cfg, clientID, daemon, h)
}
