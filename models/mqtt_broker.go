package models

import (
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
		Fields: []*Field{
			{Name: "name", Type: Char, String: "Broker Name", Required: true},
			{Name: "url_scheme", Type: Selection, String: "URL Scheme", Required: true, Default: constant("mqtt://"),
				Selection: []Choice{{"mqtt://", "MQTT"}, {"ws://", "WS"}}},
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
		},
		Access:      map[string]string{GroupMQTTUser: "r", GroupMQTTManager: "rwcu"},
		Constraints: []Constraint{checkBroker},
	}
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
	}
	return nil
}
