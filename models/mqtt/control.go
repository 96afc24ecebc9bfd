package mqtt

import (
	"context"
	"errors"
	"time"
)

// BrokerControl is what the MQTT actions need from the listener service.
// Package listener implements it; server hands it to the addon through
// Options.Control. Its methods are called outside any database
// transaction, so they may block on the network.
type BrokerControl interface {
	// CheckConnection opens a fresh connection with b, waits for the
	// CONNACK within b.ConnectTimeout, and disconnects. The error says why
	// the broker refused or could not be reached.
	CheckConnection(ctx context.Context, b BrokerConfig) error
	// Subscribe subscribes through the broker's running daemon and returns
	// once the SUBACK arrived; a 0x80 return code is an error.
	// ErrDaemonNotRunning when the service or that daemon is not running.
	Subscribe(ctx context.Context, brokerID int64, s SubscriptionConfig) error
	// SubscribeOnce asks the broker itself, as the addon's button does:
	// it opens a short-lived connection with b (a client id of its own,
	// clean session), subscribes s, waits for the SUBACK within the
	// deadline of ctx and disconnects. For a subscription no connected
	// daemon can carry now; the error says why the broker could not be
	// reached or refused it (a 0x80 return code).
	SubscribeOnce(ctx context.Context, b BrokerConfig, s SubscriptionConfig) error
	// Unsubscribe removes a topic filter through the running daemon.
	Unsubscribe(ctx context.Context, brokerID int64, topic string) error
	// Publish sends through the broker's running daemon, or a short-lived
	// connection when there is none, and waits for PUBACK/PUBCOMP at QoS
	// 1/2 up to the timeout of ctx.
	Publish(ctx context.Context, b BrokerConfig, m OutgoingMessage) error
	// StartService starts one daemon per active broker; StopService stops
	// them all and waits for them.
	StartService(ctx context.Context) error
	StopService(ctx context.Context) error
	ServiceRunning() bool
	// Daemons reports the daemon registry, one entry per broker, with
	// the instance owning it; in a cluster also every active broker
	// another instance owns, so that every instance reports the same.
	Daemons() []DaemonStatus
	// Instances are the live server instances of a cluster (this one
	// included); alone, this instance (ID 0).
	Instances() []InstanceStatus
	// BrokerChanged tells the service a broker record changed (options,
	// activation or deletion): its daemon restarts, starts or stops.
	BrokerChanged(ctx context.Context, brokerID int64)
}

// ErrDaemonNotRunning is returned by BrokerControl when the broker has no
// running daemon.
var ErrDaemonNotRunning = errors.New("the broker's listener is not running")

// BrokerConfig is everything needed to connect to one broker.
type BrokerConfig struct {
	ID             int64
	Name           string
	Scheme         string // "tcp", "ssl", "ws" or "wss" (normalised from url_scheme)
	Host           string
	Port           int
	ClientID       string
	Username       string
	Password       string
	Protocol       uint // ProtocolV31, ProtocolV311 or ProtocolV5
	CleanSession   bool
	Keepalive      time.Duration
	ConnectTimeout time.Duration
	PingTimeout    time.Duration
	WriteTimeout   time.Duration
	OrderMatters   bool

	// TLS, for ssl and wss: PEM texts.
	CACert, ClientCert, ClientKey string
	ServerName                    string
	InsecureSkipVerify            bool

	Will *WillMessage // nil: no last will

	StoreType string // "memory" or "file": where paho keeps in-flight QoS 1/2 messages
	StoreDir  string // for "file"

	WSPath    string            // websocket path, "/mqtt" by default
	WSHeaders map[string]string // extra HTTP headers of the websocket handshake

	// SecretError is set when a stored secret (password, client key,
	// websocket headers) cannot be decrypted: the broker must not be
	// connected to without it, and the error says what to do.
	SecretError error

	// Reconnection policy: first retry after Initial, times Factor after
	// each failure, capped at Max, each delay varied by +/- Jitter (a
	// fraction).
	ReconnectInitial time.Duration
	ReconnectFactor  float64
	ReconnectMax     time.Duration
	ReconnectJitter  float64

	// MQTT 5 only (ignored on 3.1/3.1.1). SessionExpiry is the CONNECT's
	// Session Expiry Interval, sent only when CleanSession is off (a
	// clean session ends with its connection, as on 3.1.1);
	// ReceiveMaximum bounds the QoS 1/2 messages the broker sends
	// unacknowledged, 0 leaving the protocol's default (65,535).
	SessionExpiry  time.Duration
	ReceiveMaximum uint16

	// MaxPayload is the largest payload received messages may have, in
	// bytes; a larger one is refused (not stored, acknowledged, counted).
	// 0 (also a row from before the field existed): DefaultMaxPayload.
	MaxPayload int

	// SharedGroup, when set, makes the broker's daemon run on every
	// instance of a cluster, each connecting with a client id of its own
	// and subscribing every filter as $share/<SharedGroup>/<filter>.
	SharedGroup string
}

// Bounds of mqtt.broker's max_payload_size: EMQX's default packet limit,
// and MQTT 3.1.1's largest remaining length (§2.2.3).
const (
	DefaultMaxPayload = 1 << 20
	MaxPayloadLimit   = 268_435_455
)

// Protocol versions, as BrokerConfig.Protocol carries them: the
// CONNECT's protocol level.
const (
	ProtocolV31  = 3
	ProtocolV311 = 4
	ProtocolV5   = 5
)

// WillMessage is a broker connection's last will.
type WillMessage struct {
	Topic   string
	Payload []byte
	QoS     byte
	Retain  bool
}

// SubscriptionConfig is one topic filter a daemon subscribes.
type SubscriptionConfig struct {
	ID    int64
	Topic string
	QoS   byte

	// MQTT 5 subscription options (ignored on 3.1/3.1.1): NoLocal keeps
	// our own publications from coming back, RetainAsPublished keeps
	// their retain flag, RetainHandling says when the broker sends
	// retained messages (0 on subscribe, 1 only for a new subscription,
	// 2 never).
	NoLocal           bool
	RetainAsPublished bool
	RetainHandling    byte
}

// OutgoingMessage is one message to publish.
type OutgoingMessage struct {
	Topic   string
	Payload []byte
	QoS     byte
	Retain  bool
	Properties
}

// Properties are the MQTT 5 properties of a PUBLISH that are stored with
// received messages and sent with ours. On 3.1/3.1.1 there are none:
// received rows have the zero value, and a send ignores them.
type Properties struct {
	ContentType     string
	ResponseTopic   string
	CorrelationData []byte
	// UserProperties keep their order and duplicates, as MQTT 5 does
	// (§3.3.2.3.7).
	UserProperties []UserProperty
	// MessageExpiry is the Message Expiry Interval in seconds; 0: none
	// (a received message: the broker's remaining lifetime of it).
	MessageExpiry uint32
}

// UserProperty is one MQTT 5 user property, a name/value pair.
type UserProperty struct{ Key, Value string }

// Daemon states, as mqtt.broker.listener_state stores them.
const (
	StateConnecting   = "connecting"
	StateConnected    = "connected"
	StateReconnecting = "reconnecting"
	StateStopped      = "stopped"
	StateError        = "error"
)

// DaemonStatus is one row of the daemon registry (the addon's MQTT_THREADS).
type DaemonStatus struct {
	BrokerID         int64
	BrokerName       string
	ThreadIdentifier string
	State            string
	StopReason       string // why it last stopped or disconnected
	Since            time.Time
	ConnectedAt      time.Time
	DisconnectedAt   time.Time
	Attempts         int // reconnect attempts since the last connection
	NextRetry        time.Time
	LastError        string
	MessagesIn       uint64
	MessagesOut      uint64
	// ClientID is the client id the daemon connects with: the broker's,
	// or with a shared group in a cluster this instance's own.
	ClientID string

	// The instance owning the broker's daemon and since when, when
	// Owned: in a cluster the live instance holding its lock (another
	// one's state comes from the broker record, which its daemon
	// writes); alone, this instance while the daemon runs (Owner.ID 0).
	Owned      bool
	Owner      InstanceStatus
	OwnerSince time.Time
}

// InstanceStatus is one server instance of a cluster.
type InstanceStatus struct {
	ID        int64 // its row in mqtt_instance; 0 for an instance alone
	Host      string
	PID       int
	Started   time.Time
	Heartbeat time.Time // its last heartbeat
	Self      bool      // the instance answering
	Brokers   int       // how many brokers it owns
}
