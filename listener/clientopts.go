package listener

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	mqttmodel "github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// Timeouts used when a broker record leaves them at zero, where paho's
// zero would mean "wait forever" (connect) or "disconnect at once" (ping).
const (
	defaultConnectTimeout = 10 * time.Second
	defaultPingTimeout    = 10 * time.Second
)

// configError is a broker setting paho cannot use (a bad PEM, say):
// retrying will not help until the record changes.
type configError struct{ err error }

func (e *configError) Error() string { return e.err.Error() }
func (e *configError) Unwrap() error { return e.err }

// brokerURL is paho's server URL for a broker: scheme://host:port, plus
// the websocket path for ws and wss.
func brokerURL(cfg mqttmodel.BrokerConfig) string {
	scheme := cfg.Scheme
	if scheme == "" {
		scheme = "tcp"
	}
	u := scheme + "://" + net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))
	if scheme == "ws" || scheme == "wss" {
		path := cfg.WSPath
		if path == "" {
			path = "/mqtt"
		}
		u += path
	}
	return u
}

// tlsConfig builds the TLS settings of an ssl or wss broker from its PEM
// texts; nil for plain schemes.
func tlsConfig(cfg mqttmodel.BrokerConfig) (*tls.Config, error) {
	if cfg.Scheme != "ssl" && cfg.Scheme != "wss" {
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: cfg.ServerName, InsecureSkipVerify: cfg.InsecureSkipVerify}
	if cfg.CACert != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(cfg.CACert)) {
			return nil, &configError{errors.New("listener: the CA certificate is not PEM certificate text")}
		}
		tc.RootCAs = pool
	}
	if cfg.ClientCert != "" || cfg.ClientKey != "" {
		cert, err := tls.X509KeyPair([]byte(cfg.ClientCert), []byte(cfg.ClientKey))
		if err != nil {
			return nil, &configError{fmt.Errorf("listener: client certificate: %w", err)}
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// uniqueClientID derives a client id for a short-lived connection from the
// broker's: a broker drops the older of two connections with one id, so
// reusing the daemon's would cut it off. MQTT 3.1 allows 23 bytes at most
// [MQTT 3.1 §3.1], so there the base is shortened.
func uniqueClientID(cfg mqttmodel.BrokerConfig, purpose string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	suffix := "-" + purpose + "-" + hex.EncodeToString(b)
	base := cfg.ClientID
	if cfg.Protocol == 3 {
		suffix = "-" + hex.EncodeToString(b)
		base = base[:min(len(base), 23-len(suffix))]
	}
	return base + suffix
}
