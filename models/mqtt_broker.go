package models

import (
	"context"
	"crypto/rand"
	"strconv"
	"strings"
)

func init() { declarations = append(declarations, mqttBroker) }

// mqttBroker mirrors the addon's mqtt.broker (seed-addon.md §1.1). Fixed
// defects: the port is validated, client ids are unique, the password is
// write-only, and the default host is the local machine rather than a
// public broker.
func mqttBroker() *Model {
	return &Model{
		Name: "mqtt.broker", Description: "MQTT Broker",
		Fields: append([]*Field{
			{Name: "name", Type: Char, String: "Broker Name", Required: true},
			{Name: "url_scheme", Type: Selection, String: "URL Scheme", Required: true, Default: constant("mqtt://"),
				Selection: []Choice{{"mqtt://", "MQTT"}, {"tcp://", "TCP"}, {"mqtts://", "MQTTS"}, {"ssl://", "SSL"}, {"tls://", "TLS"}, {"ws://", "WS"}, {"wss://", "WSS"}}},
			{Name: "host", Type: Char, Required: true, Default: constant("localhost")},
			{Name: "port", Type: Char, Required: true, Default: constant("1883")},
			{Name: "client_id", Type: Char, String: "Client ID", Required: true, NoCopy: true, Unique: true, Default: newClientID},
			{Name: "username", Type: Char, Default: constant("")},
			{Name: "password", Type: Char, Secret: true, NoCopy: true},
			{Name: "keepalive", Type: Integer, String: "Keepalive (s)", Default: constant(int64(60))},
			{Name: "connect_timeout", Type: Integer, String: "Connect Timeout (s)", Default: constant(int64(10))},
			{Name: "note", Type: Text},
			{Name: "connection_message", Type: Char, Readonly: true},
			{Name: "connection_status", Type: Selection, Readonly: true, Default: constant("unknown"),
				Selection: []Choice{{"unknown", "Unknown"}, {"success", "Success"}, {"fail", "Fail"}}},
			{Name: "clean_session", Type: Boolean, Required: true, Default: constant(true),
				Help: "Non-persistent client: the broker will not buffer messages while disconnected, even at elevated QoS."},
			{Name: "subscription_ids", Type: One2many, Relation: "mqtt.subscription", InverseName: "broker_id", String: "Subscriptions"},
			{Name: "active", Type: Boolean, Default: constant(true), Help: "Inactive brokers get no listener."},

			// Connection options beyond the addon's (paho's option set).
			{Name: "protocol", Type: Selection, Required: true, Default: constant("MQTTv311"),
				Selection: []Choice{{"MQTTv31", "MQTT 3.1"}, {"MQTTv311", "MQTT 3.1.1"}}},
			{Name: "ping_timeout", Type: Integer, String: "Ping Timeout (s)", Default: constant(int64(10))},
			{Name: "write_timeout", Type: Integer, String: "Write Timeout (s)", Default: constant(int64(10))},
			{Name: "ordered", Type: Boolean, String: "Ordered delivery", Default: constant(true)},
			{Name: "ca_cert", Type: Text, String: "CA certificate (PEM)"},
			{Name: "client_cert", Type: Text, String: "Client certificate (PEM)"},
			{Name: "client_key", Type: Text, String: "Client key (PEM)", Secret: true, NoCopy: true},
			{Name: "tls_server_name", Type: Char, String: "TLS server name"},
			{Name: "tls_insecure", Type: Boolean, String: "Skip TLS verification", Default: constant(false),
				Help: "Accept any server certificate. Only for tests: it defeats TLS."},
			{Name: "will_topic", Type: Char, String: "Last will topic"},
			{Name: "will_payload", Type: Text, String: "Last will payload"},
			{Name: "will_qos", Type: Integer, String: "Last will QoS", Default: constant(int64(0))},
			{Name: "will_retain", Type: Boolean, String: "Last will retained", Default: constant(false)},
			{Name: "store_type", Type: Selection, String: "In-flight store", Default: constant("memory"),
				Selection: []Choice{{"memory", "Memory"}, {"file", "File"}}},
			{Name: "store_dir", Type: Char, String: "In-flight store folder"},
			{Name: "ws_path", Type: Char, String: "Websocket path", Default: constant("/mqtt")},
			{Name: "ws_headers", Type: Text, String: "Websocket headers", Help: "One 'Name: value' per line."},
			{Name: "reconnect_initial", Type: Float, String: "First retry after (s)", Default: constant(5.0)},
			{Name: "reconnect_factor", Type: Float, String: "Retry delay factor", Default: constant(1.5)},
			{Name: "reconnect_max", Type: Float, String: "Longest retry delay (s)", Default: constant(300.0)},
			{Name: "reconnect_jitter", Type: Float, String: "Retry jitter", Default: constant(0.1), Help: "Each delay varies by up to this fraction."},
			{Name: "history_max_age_days", Type: Integer, String: "Keep history (days)", Default: constant(int64(0)), Help: "0 keeps everything."},
			{Name: "history_max_rows", Type: Integer, String: "Keep history (rows)", Default: constant(int64(0)), Help: "0 keeps everything."},

			// The broker's own entry of the daemon registry, persisted on change.
			{Name: "listener_state", Type: Selection, Readonly: true, NoCopy: true, Default: constant(StateStopped),
				Selection: []Choice{{StateConnecting, "Connecting"}, {StateConnected, "Connected"}, {StateReconnecting, "Reconnecting"}, {StateStopped, "Stopped"}, {StateError, "Error"}}},
			{Name: "last_connected", Type: Datetime, Readonly: true, NoCopy: true},
			{Name: "last_error", Type: Char, Readonly: true, NoCopy: true},
		}, deviceBrokerFields()...), // group "Devices": where its devices publish (iot_device_broker.go)
		Access:      map[string]string{GroupMQTTUser: "r", GroupMQTTManager: "rwcu"},
		Constraints: []Constraint{checkBroker, checkBrokerDevices},
		Changed:     brokerChanged,
		// History rows link their broker without a foreign key: cascade
		// here. (Subscriptions and signals cascade through their keys.)
		BeforeUnlink: func(env *Env, ids []int64) error {
			return env.execCleanup(`DELETE FROM "mqtt_signal_history" WHERE "broker_id" IN ?`, ids)
		},
	}
}

// brokerStatusFields are written by the system about a broker; changing
// them does not concern its daemon.
var brokerStatusFields = map[string]bool{
	"connection_status": true, "connection_message": true, "listener_state": true, "last_connected": true,
	"last_error": true, "note": true, "subscription_ids": true, "history_max_age_days": true, "history_max_rows": true,
}

// brokerChanged tells the running service, once committed, that a broker's
// connection settings, activation or existence changed.
func brokerChanged(env *Env, ids []int64, names []string, deleted bool) {
	relevant := names == nil || deleted
	for _, n := range names {
		relevant = relevant || !brokerStatusFields[n]
	}
	notifyBrokers(env, ids, relevant)
	if relevant {
		env.reg.iot.forgetBrokersAfterCommit(env, ids)
	}
}

// notifyBrokers calls BrokerChanged for each broker after commit.
func notifyBrokers(env *Env, brokerIDs []int64, relevant bool) {
	ctl := env.reg.control
	if ctl == nil || !relevant || len(brokerIDs) == 0 {
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
func newClientID(*Env) any {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "client_" + string(b)
}

func checkBroker(env *Env, recs []*Record) error {
	for _, r := range recs {
		port, err := strconv.Atoi(strings.TrimSpace(r.Str("port")))
		if err != nil || port < 1 || port > 65535 {
			return ValidationErrorf("Port: %q is not a port number (1-65535).", r.Str("port"))
		}
		if strings.TrimSpace(r.Str("host")) == "" || strings.ContainsAny(r.Str("host"), " /") {
			return ValidationErrorf("Host: %q is not a host name or address.", r.Str("host"))
		}
		if k := r.Int("keepalive"); k < 0 || k > 65535 {
			return ValidationErrorf("Keepalive (s): must be between 0 and 65535 seconds.")
		}
		if t := r.Int("connect_timeout"); t < 0 || t > 3600 {
			return ValidationErrorf("Connect Timeout (s): must be between 0 and 3600 seconds.")
		}
		if strings.TrimSpace(r.Str("client_id")) == "" || len(r.Str("client_id")) > 65535 {
			return ValidationErrorf("Client ID: must not be empty.")
		}
		if err := checkBrokerOptions(r); err != nil {
			return err
		}
	}
	return nil
}
