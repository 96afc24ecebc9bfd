package listener

import (
	"crypto/tls"
	"errors"
	"strings"
	"testing"
	"time"

	mqttmodel "github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

func TestBrokerURL(t *testing.T) {
	cases := []struct {
		cfg  mqttmodel.BrokerConfig
		want string
	}{
		{mqttmodel.BrokerConfig{Host: "plant.local", Port: 1883}, "tcp://plant.local:1883"},
		{mqttmodel.BrokerConfig{Scheme: "ssl", Host: "plant.local", Port: 8883}, "ssl://plant.local:8883"},
		{mqttmodel.BrokerConfig{Scheme: "ws", Host: "h", Port: 80}, "ws://h:80/mqtt"},
		{mqttmodel.BrokerConfig{Scheme: "wss", Host: "h", Port: 443, WSPath: "/ws/mqtt"}, "wss://h:443/ws/mqtt"},
		{mqttmodel.BrokerConfig{Host: "::1", Port: 1883}, "tcp://[::1]:1883"},
	}
	for _, c := range cases {
		if got := brokerURL(c.cfg); got != c.want {
			t.Errorf("brokerURL(%+v) = %q, want %q", c.cfg, got, c.want)
		}
	}
}

func TestClientOptions(t *testing.T) {
	pki := newPKI(t)
	base := mqttmodel.BrokerConfig{ID: 1, Host: "h", Port: 1883, ClientID: "client_abc", Username: "u", Password: "p", Protocol: 3,
		CleanSession: false, Keepalive: 45 * time.Second, OrderMatters: true, StoreType: "file", StoreDir: t.TempDir(),
		Will:      &mqttmodel.WillMessage{Topic: "status/plant", Payload: []byte("offline"), QoS: 1, Retain: true},
		WSHeaders: map[string]string{"Authorization": "Bearer x"}}

	o, err := clientOptions(base, base.ClientID, true)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case o.ClientID != "client_abc" || o.Username != "u" || o.Password != "p" || o.ProtocolVersion != 3:
		t.Errorf("identity %q %q %d", o.ClientID, o.Username, o.ProtocolVersion)
	case o.CleanSession || !o.WillEnabled || o.WillTopic != "status/plant" || string(o.WillPayload) != "offline" || o.WillQos != 1 || !o.WillRetained:
		t.Errorf("session/will %v %v %q", o.CleanSession, o.WillEnabled, o.WillTopic)
	case o.KeepAlive != 45 || o.ConnectTimeout != defaultConnectTimeout || o.PingTimeout != defaultPingTimeout:
		t.Errorf("timeouts %d %v %v", o.KeepAlive, o.ConnectTimeout, o.PingTimeout)
	case o.AutoReconnect || o.ConnectRetry || !o.AutoAckDisabled || !o.Order:
		t.Errorf("reconnect %v retry %v manual ack %v order %v", o.AutoReconnect, o.ConnectRetry, o.AutoAckDisabled, o.Order)
	case o.Store == nil || o.HTTPHeaders.Get("Authorization") != "Bearer x":
		t.Errorf("store %T headers %v", o.Store, o.HTTPHeaders)
	}

	// A short-lived client: its own id, clean session, no will, memory store.
	v311 := base
	v311.Protocol = 4
	o, err = clientOptions(v311, uniqueClientID(v311, "check"), false)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(o.ClientID, "client_abc-check-") || !o.CleanSession || o.WillEnabled || o.Store != nil {
		t.Errorf("short-lived client %q clean %v will %v store %T", o.ClientID, o.CleanSession, o.WillEnabled, o.Store)
	}
	long := base
	long.ClientID = "a-very-long-client-id-for-mqtt-3.1"
	if id := uniqueClientID(long, "check"); len(id) > 23 || !strings.HasPrefix(id, "a-very-long") || id == uniqueClientID(long, "check") {
		t.Errorf("MQTT 3.1 short-lived id %q: want unique and at most 23 bytes", id)
	}

	tlsCfg := base
	tlsCfg.Scheme, tlsCfg.CACert, tlsCfg.ClientCert, tlsCfg.ClientKey, tlsCfg.ServerName = "ssl", string(pki.caPEM), string(pki.clientCertPEM), string(pki.clientKeyPEM), "broker.plant"
	o, err = clientOptions(tlsCfg, "x", true)
	if err != nil {
		t.Fatal(err)
	}
	if tc := o.TLSConfig; tc == nil || tc.MinVersion != tls.VersionTLS12 || tc.RootCAs == nil || len(tc.Certificates) != 1 || tc.ServerName != "broker.plant" || tc.InsecureSkipVerify {
		t.Errorf("TLS config %+v", o.TLSConfig)
	}
	bad := tlsCfg
	bad.CACert = "not a certificate"
	var ce *configError
	if _, err := clientOptions(bad, "x", true); !errors.As(err, &ce) {
		t.Errorf("bad CA: %v, want a configError", err)
	}
	plain := base
	plain.CACert = "ignored without TLS"
	if o, err := clientOptions(plain, "x", true); err != nil || (o.TLSConfig != nil && o.TLSConfig.RootCAs != nil) {
		t.Errorf("a plain scheme got TLS settings: %v", err)
	}
}
