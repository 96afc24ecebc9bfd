package mqtt

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"strconv"
	"strings"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/topic"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/py"
)

// checkBrokerOptions validates the connection options of one broker, each
// error naming the field.
func checkBrokerOptions(r *models.Record) error {
	for _, f := range []struct{ name, label string }{{"ping_timeout", "Ping timeout"}, {"write_timeout", "Write timeout"}} {
		if v := r.Int(f.name); v < 0 || v > 3600 {
			return models.ValidationErrorf("%s: must be between 0 and 3600 seconds.", f.label)
		}
	}
	if v := r.Int("session_expiry_interval"); v < 0 {
		return models.ValidationErrorf("Session expiry (s): %d is negative.", v)
	}
	if v := r.Int("receive_maximum"); v < 0 || v > 65535 {
		return models.ValidationErrorf("Receive maximum: %d is not between 0 and 65535.", v)
	}
	if q := r.Int("will_qos"); q < 0 || q > 2 {
		return models.ValidationErrorf("Last will QoS: %d is not a QoS level (0, 1 or 2).", q)
	}
	if t := r.Str("will_topic"); t != "" {
		if err := topic.ValidateName(t); err != nil {
			return models.ValidationErrorf("Last will topic: %v", err)
		}
	}
	if ca := r.Str("ca_cert"); ca != "" {
		if _, err := parseCertPool(ca); err != nil {
			return models.ValidationErrorf("CA certificate (PEM): %v", err)
		}
	}
	cert, key := r.Str("client_cert"), r.Str("client_key")
	if r.LoadError("client_key") != nil {
		// Stored under a key this server lacks: the listener reports it;
		// other edits of the broker stay possible.
		key = ""
	} else if cert != "" && key == "" {
		return models.ValidationErrorf("Client certificate (PEM): a client certificate needs its Client key (PEM). " +
			"A change of URL scheme, host, port, TLS server name, CA certificate, TLS verification or websocket path clears the stored key: give it again in the same change.")
	} else if cert == "" && key != "" {
		return models.ValidationErrorf("Client certificate (PEM): a client key needs its certificate.")
	}
	if cert != "" && key != "" {
		if _, err := tls.X509KeyPair([]byte(cert), []byte(key)); err != nil {
			return models.ValidationErrorf("Client certificate (PEM): %v", err)
		}
	}
	if r.Str("store_type") == "file" && strings.TrimSpace(r.Str("store_dir")) == "" {
		return models.ValidationErrorf("In-flight store folder: required when the store is a file.")
	}
	if p := r.Str("ws_path"); p != "" && !strings.HasPrefix(p, "/") {
		return models.ValidationErrorf("Websocket path: %s must start with '/'.", py.Repr(p))
	}
	if _, err := parseHeaders(r.Str("ws_headers")); err != nil {
		return models.ValidationErrorf("Websocket headers: %v", err)
	}
	if v := r.Float("reconnect_initial"); v <= 0 || v > 86400 {
		return models.ValidationErrorf("First retry after (s): must be more than 0 and at most a day.")
	}
	if v := r.Float("reconnect_factor"); v < 1 || v > 10 {
		return models.ValidationErrorf("Retry delay factor: must be between 1 and 10.")
	}
	if v := r.Float("reconnect_max"); v < r.Float("reconnect_initial") || v > 86400 {
		return models.ValidationErrorf("Longest retry delay (s): must be at least the first delay and at most a day.")
	}
	if v := r.Float("reconnect_jitter"); v < 0 || v >= 1 {
		return models.ValidationErrorf("Retry jitter: must be a fraction between 0 and 1.")
	}
	if r.Int("history_max_age_days") < 0 || r.Int("history_max_rows") < 0 {
		return models.ValidationErrorf("Keep history: must not be negative.")
	}
	if err := checkSharedGroup(r.Str("shared_group")); err != nil {
		return err
	}
	if v := r.Int("max_payload_size"); v < 0 || v > MaxPayloadLimit {
		return models.ValidationErrorf("Largest payload (bytes): must be between 0 (the default, %d) and %d (MQTT's largest packet).", DefaultMaxPayload, MaxPayloadLimit)
	}
	return nil
}

// MaxSharedGroup is the longest shared_group: the group name goes into
// every SUBSCRIBE's filter, and brokers bound the filter's length.
const MaxSharedGroup = 64

// checkSharedGroup validates a shared subscription group name (MQTT 5
// §4.8.2, which Mosquitto also applies to 3.1.1 clients): not empty when
// set, and none of '/', '+', '#' (they would end the group or be
// wildcards) nor NUL nor spaces around it.
func checkSharedGroup(g string) error {
	if g == "" {
		return nil
	}
	switch {
	case strings.TrimSpace(g) != g || strings.TrimSpace(g) == "":
		return models.ValidationErrorf("Shared group: %s must not start or end with spaces.", py.Repr(g))
	case strings.ContainsAny(g, "/+#\x00"):
		return models.ValidationErrorf("Shared group: %s must not contain '/', '+', '#' or NUL.", py.Repr(g))
	case len(g) > MaxSharedGroup:
		return models.ValidationErrorf("Shared group: at most %d bytes.", MaxSharedGroup)
	}
	return nil
}

// parseCertPool reads one or more PEM certificates.
func parseCertPool(pemText string) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	rest := []byte(pemText)
	n := 0
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, errorf("unexpected PEM block %s (want CERTIFICATE)", py.Repr(block.Type))
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, errorf("bad certificate: %v", err)
		}
		pool.AddCert(c)
		n++
	}
	if n == 0 || strings.TrimSpace(string(rest)) != "" {
		return nil, errorf("not PEM certificate text")
	}
	return pool, nil
}

// parseHeaders reads "Name: value" lines.
func parseHeaders(text string) (map[string]string, error) {
	out := map[string]string{}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return nil, errorf("line %d: want 'Name: value'", i+1)
		}
		out[name] = strings.TrimSpace(value)
	}
	return out, nil
}

// schemes maps url_scheme to the paho scheme that implements it.
var schemes = map[string]string{
	"mqtt://": "tcp", "tcp://": "tcp",
	"mqtts://": "ssl", "ssl://": "ssl", "tls://": "ssl",
	"ws://": "ws", "wss://": "wss",
}

func seconds(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }

// brokerConfig builds the connection settings of a loaded broker record.
func brokerConfig(r *models.Record) BrokerConfig {
	port, _ := strconv.Atoi(strings.TrimSpace(r.Str("port"))) // checkBroker validated it
	b := BrokerConfig{
		ID: r.ID, Name: r.Str("name"), Scheme: schemes[r.Str("url_scheme")], Host: strings.TrimSpace(r.Str("host")), Port: port,
		ClientID: r.Str("client_id"), Username: r.Str("username"), Password: r.Str("password"),
		Protocol: ProtocolV311, CleanSession: r.Bool("clean_session"),
		Keepalive: time.Duration(r.Int("keepalive")) * time.Second, ConnectTimeout: time.Duration(r.Int("connect_timeout")) * time.Second,
		PingTimeout: time.Duration(r.Int("ping_timeout")) * time.Second, WriteTimeout: time.Duration(r.Int("write_timeout")) * time.Second,
		OrderMatters: r.Bool("ordered"),
		CACert:       r.Str("ca_cert"), ClientCert: r.Str("client_cert"), ClientKey: r.Str("client_key"),
		ServerName: r.Str("tls_server_name"), InsecureSkipVerify: r.Bool("tls_insecure"),
		StoreType: r.Str("store_type"), StoreDir: r.Str("store_dir"), WSPath: r.Str("ws_path"),
		ReconnectInitial: seconds(r.Float("reconnect_initial")), ReconnectFactor: r.Float("reconnect_factor"),
		ReconnectMax: seconds(r.Float("reconnect_max")), ReconnectJitter: r.Float("reconnect_jitter"),
		MaxPayload: int(r.Int("max_payload_size")), SharedGroup: r.Str("shared_group"),
	}
	if b.Scheme == "" {
		b.Scheme = "tcp"
	}
	switch r.Str("protocol") {
	case "MQTTv31":
		b.Protocol = ProtocolV31
	case "MQTTv5":
		b.Protocol = ProtocolV5
		b.SessionExpiry = time.Duration(r.Int("session_expiry_interval")) * time.Second
		b.ReceiveMaximum = uint16(r.Int("receive_maximum"))
	}
	if b.StoreType == "" {
		b.StoreType = "memory"
	}
	b.WSHeaders, _ = parseHeaders(r.Str("ws_headers"))
	b.SecretError = secretError(r)
	if t := r.Str("will_topic"); t != "" {
		b.Will = &WillMessage{Topic: t, Payload: []byte(r.Str("will_payload")), QoS: byte(r.Int("will_qos")), Retain: r.Bool("will_retain")}
	}
	return b
}

// brokerSecrets are the broker's encrypted fields.
var brokerSecrets = []string{"password", "client_key", "ws_headers"}

// secretError is why a loaded broker's secrets cannot be used: one was
// encrypted with a key this server does not have (a database restored
// without its key file).
func secretError(r *models.Record) error {
	var errs []error
	var texts []string
	for _, name := range brokerSecrets {
		if err := r.LoadError(name); err != nil {
			errs, texts = append(errs, err), append(texts, err.Error())
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return &secretsError{broker: r.Str("name"), text: strings.Join(texts, "; "), errs: errs}
}

// secretsError is a broker's undecryptable secrets, in one line.
type secretsError struct {
	broker, text string
	errs         []error
}

func (e *secretsError) Error() string {
	return "broker " + strconv.Quote(e.broker) + ": " + e.text + ". Enter it again, or restore the server's secret key it was stored with."
}

func (e *secretsError) Unwrap() []error { return e.errs }
