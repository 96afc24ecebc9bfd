package mqtt

import (
	"context"
	"crypto/rand"
	"strconv"
	"strings"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/py"
)

// mqttBroker mirrors the addon's mqtt.broker (seed-addon.md §1.1). Fixed
// defects: the port is validated, client ids are unique, the password is
// write-only, and the default host is the local machine rather than a
// public broker. Secrets (password, client key, websocket headers) are
// write-only, encrypted at rest, and cleared when the broker's target
// changes (brokerTarget).
func (a *Addon) broker() *models.Model {
	return &models.Model{
		Name: "mqtt.broker", Description: "MQTT Broker",
		Fields: []*models.Field{
			{Name: "name", Type: models.Char, String: "Broker Name", Required: true},
			{Name: "url_scheme", Type: models.Selection, String: "URI scheme", Required: true, Default: models.Constant("mqtt://"),
				Selection: models.Choices("mqtt://", "MQTT", "tcp://", "TCP", "mqtts://", "MQTTS", "ssl://", "SSL", "tls://", "TLS", "ws://", "WS", "wss://", "WSS")},
			{Name: "host", Type: models.Char, Required: true, Default: models.Constant("localhost")},
			{Name: "port", Type: models.Char, Required: true, Default: models.Constant("1883")},
			{Name: "client_id", Type: models.Char, String: "Client ID", Required: true, NoCopy: true, Unique: true, Default: newClientID},
			{Name: "username", Type: models.Char, Default: models.Constant("")},
			{Name: "password", Type: models.Char, Secret: true, Encrypted: true, NoCopy: true, ClearOnChange: brokerTarget},
			{Name: "keepalive", Type: models.Integer, String: "Keepalive (s)", Default: models.Constant(int64(60))},
			{Name: "connect_timeout", Type: models.Integer, String: "Connect Timeout (s)", Default: models.Constant(int64(10))},
			{Name: "note", Type: models.Text},
			{Name: "connection_message", Type: models.Char, Readonly: true},
			{Name: "connection_status", Type: models.Selection, Readonly: true, Default: models.Constant("unknown"),
				Selection: models.Choices("unknown", "Unknown", "success", "Success", "fail", "Fail")},
			{Name: "clean_session", Type: models.Boolean, Required: true, Default: models.Constant(true),
				Help: "Non-persistent client: the broker will not buffer messages while disconnected, even at elevated QoS."},
			{Name: "subscription_ids", Type: models.One2many, Relation: "mqtt.subscription", InverseName: "broker_id", String: "Subscriptions"},
			{Name: "active", Type: models.Boolean, Default: models.Constant(true), Help: "Inactive brokers get no listener."},

			// Connection options beyond the addon's (paho's option set).
			{Name: "protocol", Type: models.Selection, Required: true, Default: models.Constant("MQTTv311"),
				Selection: protocolChoices},
			{Name: "session_expiry_interval", Type: models.Integer, String: "Session expiry (s)", Default: models.Constant(int64(86400)),
				Help: "MQTT 5: how long the broker keeps a persistent session (Clean session off) after a disconnect, up to 2147483647 (68 years). " +
					"With Clean session on, the session ends with the connection. Ignored on MQTT 3.1/3.1.1."},
			{Name: "receive_maximum", Type: models.Integer, String: "Receive maximum", Default: models.Constant(int64(0)),
				Help: "MQTT 5: how many QoS 1/2 messages the broker may send before we acknowledge them (1-65535); 0 leaves the broker's default. " +
					"Ignored on MQTT 3.1/3.1.1."},
			{Name: "ping_timeout", Type: models.Integer, String: "Ping Timeout (s)", Default: models.Constant(int64(10))},
			{Name: "write_timeout", Type: models.Integer, String: "Write Timeout (s)", Default: models.Constant(int64(10))},
			{Name: "ordered", Type: models.Boolean, String: "Ordered delivery", Default: models.Constant(true)},
			{Name: "ca_cert", Type: models.Text, String: "CA certificate (PEM)"},
			{Name: "client_cert", Type: models.Text, String: "Client certificate (PEM)"},
			{Name: "client_key", Type: models.Text, String: "Client key (PEM)", Secret: true, Encrypted: true, NoCopy: true, ClearOnChange: brokerTarget},
			{Name: "tls_server_name", Type: models.Char, String: "TLS server name"},
			{Name: "tls_insecure", Type: models.Boolean, String: "Skip TLS verification", Default: models.Constant(false),
				Help: "Accept any server certificate. Only for tests: it defeats TLS."},
			{Name: "will_topic", Type: models.Char, String: "Last will topic"},
			{Name: "will_payload", Type: models.Text, String: "Last will payload"},
			{Name: "will_qos", Type: models.Integer, String: "Last will QoS", Default: models.Constant(int64(0))},
			{Name: "will_retain", Type: models.Boolean, String: "Last will retained", Default: models.Constant(false)},
			{Name: "store_type", Type: models.Selection, String: "In-flight store", Default: models.Constant("memory"), Help: "MQTT 3.1/3.1.1: where in-flight QoS 1/2 messages are kept. MQTT 5 connections keep them in memory.",
				Selection: models.Choices("memory", "Memory", "file", "File")},
			{Name: "store_dir", Type: models.Char, String: "In-flight store folder"},
			{Name: "ws_path", Type: models.Char, String: "Websocket path", Default: models.Constant("/mqtt")},
			{Name: "ws_headers", Type: models.Text, String: "Websocket headers", Secret: true, Encrypted: true, NoCopy: true, ClearOnChange: brokerTarget,
				Help: "One 'Name: value' per line. Write-only, as they may carry credentials (Authorization)."},
			{Name: "reconnect_initial", Type: models.Float, String: "First retry after (s)", Default: models.Constant(5.0)},
			{Name: "reconnect_factor", Type: models.Float, String: "Retry delay factor", Default: models.Constant(1.5)},
			{Name: "reconnect_max", Type: models.Float, String: "Longest retry delay (s)", Default: models.Constant(300.0)},
			{Name: "reconnect_jitter", Type: models.Float, String: "Retry jitter", Default: models.Constant(0.1), Help: "Each delay varies by up to this fraction."},
			{Name: "history_max_age_days", Type: models.Integer, String: "Keep history (days)", Default: models.Constant(int64(0)), Help: "0 keeps everything."},
			{Name: "history_max_rows", Type: models.Integer, String: "Keep history (rows)", Default: models.Constant(int64(0)), Help: "0 keeps everything."},
			{Name: "shared_group", Type: models.Char, String: "Shared group",
				Help: "For a busy broker and several server instances: every instance connects (client id: this broker's, a dash and the instance's id) " +
					"and subscribes each topic as $share/<group>/<topic>, so the broker spreads the received messages across the instances. " +
					"Sends still go through one instance. On SQLite (one instance) the client id stays the one above. " +
					"Empty (the default): one instance connects, with the client id above."},
			{Name: "max_payload_size", Type: models.Integer, String: "Largest payload (bytes)", Default: models.Constant(int64(DefaultMaxPayload)),
				Help: "A received message with a larger payload is refused: not stored, acknowledged so the broker does not send it again, and counted. 0: 1 MiB."},

			// The broker's own entry of the daemon registry, persisted on change.
			{Name: "listener_state", Type: models.Selection, Readonly: true, NoCopy: true, Default: models.Constant(StateStopped),
				Selection: models.Choices(StateConnecting, "Connecting", StateConnected, "Connected", StateReconnecting, "Reconnecting", StateStopped, "Stopped", StateError, "Error")},
			{Name: "last_connected", Type: models.Datetime, Readonly: true, NoCopy: true},
			{Name: "last_error", Type: models.Char, Readonly: true, NoCopy: true},
			// The one status the pages show (brokerStatus).
			{Name: "status", Type: models.Selection, String: "Status", NotStored: true, Compute: brokerStatus, Selection: brokerStatusChoices,
				Help: "The listener's live state while it runs this broker; when it does not, Stopped with the outcome of the last Connect check, if any."},
		},
		Access:      map[string]string{GroupUser: "r", GroupManager: "rwcu"},
		Constraints: []models.Constraint{checkBroker},
		Channels:    []string{ChannelListener},
		Changed:     a.brokerChanged,
		// History rows link their broker without a foreign key: cascade
		// here. (Subscriptions and signals restrict the delete: the engine
		// refuses it while they exist.)
		BeforeUnlink: func(env *models.Env, ids []int64) error {
			if _, err := env.DeleteWhere(env.Registry().Model("mqtt.signal.history"), []any{[]any{"broker_id", "in", ids}}); err != nil {
				return err
			}
			return deleteSummaries(env, ids)
		},
		Methods: map[string]*models.Method{
			"action_check_connection": {Kind: models.RecordLevel, OwnTransactions: true, Fn: a.brokerCheckConnection},
			"check_connection":        {Kind: models.RecordLevel, OwnTransactions: true, Fn: a.brokerCheckConnection},
			"action_publish":          {Kind: models.RecordLevel, OwnTransactions: true, Params: publishParams, Fn: a.brokerPublish},
			"get_topic_tree": {Kind: models.RecordLevel, ReadOnly: true, Fn: a.brokerTopicTree, Params: []models.Param{
				{Name: "prefix", Optional: true, Default: false}, {Name: "depth", Optional: true, Default: int64(1)},
				{Name: "search", Optional: true, Default: false}, {Name: "limit", Optional: true, Default: int64(treeDefaultLimit)}}},
		},
	}
}

// brokerStatusChoices are mqtt.broker.status's values: the listener's
// live states, then those of a broker it does not run.
var brokerStatusChoices = models.Choices(StateConnecting, "Connecting", StateConnected, "Connected", StateReconnecting, "Reconnecting", StateError, "Error",
	"stopped_ok", "Stopped (last check passed)", "stopped_fail", "Stopped (last check failed)", StateStopped, "Stopped")

// brokerStatus computes mqtt.broker.status. Two fields said two things:
// connection_status is the outcome of the last Connect check (Unknown
// until one runs) and listener_state the daemon's live state, so a list
// showed "Unknown" beside "Connected". The daemon's state wins while it
// runs the broker; a stopped one shows the last check, when there was one.
func brokerStatus(_ *models.Env, r *models.Record) (any, error) {
	if st := r.Str("listener_state"); st != "" && st != StateStopped {
		return st, nil
	}
	switch r.Str("connection_status") {
	case "success":
		return "stopped_ok", nil
	case "fail":
		return "stopped_fail", nil
	}
	return StateStopped, nil
}

// protocolChoices are mqtt.broker.protocol's values, also those of the
// broker_protocol its subscriptions and signals mirror (the forms make
// the MQTT 5 options read-only unless it is MQTTv5).
var protocolChoices = models.Choices("MQTTv31", "MQTT 3.1", "MQTTv311", "MQTT 3.1.1", "MQTTv5", "MQTT 5")

// brokerTarget are the fields that decide where a broker's secrets are
// sent. A write that changes one of them without giving the secrets
// again clears the password, the TLS client key and the websocket
// headers, as Grafana does for a data source whose URL changes: whoever
// may edit a broker must not be able to point it at a listener of theirs
// and read the stored password from the CONNECT of Check Connection.
//
// The TLS trust settings and the websocket path count too: a new CA
// certificate or skipped verification lets a listener on the network
// path impersonate the broker, and a path can route to another backend
// behind the same host and port.
var brokerTarget = []string{"url_scheme", "host", "port", "tls_server_name", "ca_cert", "tls_insecure", "ws_path"}

// StatusFields are the fields the system writes about a broker, or that
// do not concern its connection: changing them does not restart its
// daemon.
var StatusFields = map[string]bool{
	"connection_status": true, "connection_message": true, "listener_state": true, "last_connected": true,
	"last_error": true, "note": true, "subscription_ids": true, "history_max_age_days": true, "history_max_rows": true,
}

// brokerChanged tells the running service, once committed, that a broker's
// connection settings, activation or existence changed.
func (a *Addon) brokerChanged(env *models.Env, ids []int64, names []string, deleted bool) {
	if ConnectionChanged(names, deleted) {
		a.notifyBrokers(env, ids)
	}
}

// ConnectionChanged reports whether a change of names (nil: a create) or
// a deletion concerns brokers' connections.
func ConnectionChanged(names []string, deleted bool) bool {
	relevant := names == nil || deleted
	for _, n := range names {
		relevant = relevant || !StatusFields[n]
	}
	return relevant
}

// notifyBrokers calls BrokerChanged for each broker after commit.
func (a *Addon) notifyBrokers(env *models.Env, brokerIDs []int64) {
	ctl := a.control()
	if ctl == nil || len(brokerIDs) == 0 {
		return
	}
	ids := append([]int64(nil), brokerIDs...)
	env.AfterCommit(func() {
		for _, id := range ids {
			ctl.BrokerChanged(context.Background(), id)
		}
	})
}

// newClientID generates the addon's client id: "client_" and 8 random
// characters from [a-z0-9].
func newClientID(*models.Env) any {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "client_" + string(b)
}

func checkBroker(env *models.Env, recs []*models.Record) error {
	for _, r := range recs {
		port, err := strconv.Atoi(strings.TrimSpace(r.Str("port")))
		if err != nil || port < 1 || port > 65535 {
			return models.ValidationErrorf("Port: %s is not a port number (1-65535).", py.Repr(r.Str("port")))
		}
		if strings.TrimSpace(r.Str("host")) == "" || strings.ContainsAny(r.Str("host"), " /") {
			return models.ValidationErrorf("Host: %s is not a host name or address.", py.Repr(r.Str("host")))
		}
		if k := r.Int("keepalive"); k < 0 || k > 65535 {
			return models.ValidationErrorf("Keepalive (s): must be between 0 and 65535 seconds.")
		}
		if t := r.Int("connect_timeout"); t < 0 || t > 3600 {
			return models.ValidationErrorf("Connect Timeout (s): must be between 0 and 3600 seconds.")
		}
		if strings.TrimSpace(r.Str("client_id")) == "" || len(r.Str("client_id")) > 65535 {
			return models.ValidationErrorf("Client ID: must not be empty.")
		}
		if err := checkBrokerOptions(r); err != nil {
			return err
		}
	}
	return nil
}
