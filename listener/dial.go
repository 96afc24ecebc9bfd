package listener

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	mqttmodel "github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
	"golang.org/x/net/proxy"
)

// dialOptions are what opening a broker's network connection needs, for
// either protocol's client.
type dialOptions struct {
	tls     *tls.Config // ssl and wss
	timeout time.Duration
	headers http.Header // of the websocket handshake
}

// brokerDialOptions builds a broker record's dial options.
func brokerDialOptions(cfg mqttmodel.BrokerConfig) (dialOptions, error) {
	tc, err := tlsConfig(cfg)
	if err != nil {
		return dialOptions{}, err
	}
	o := dialOptions{tls: tc, timeout: orDefault(cfg.ConnectTimeout, defaultConnectTimeout)}
	if len(cfg.WSHeaders) > 0 {
		o.headers = http.Header{}
		for k, v := range cfg.WSHeaders {
			o.headers.Set(k, v)
		}
	}
	return o, nil
}

// dialBroker opens the network connection to a broker as paho's own
// openConnection does (netconn.go), for the schemes a broker record can
// name: TCP through the environment's proxy, TLS, and websockets.
func dialBroker(ctx context.Context, uri *url.URL, o dialOptions) (net.Conn, error) {
	dialer := &net.Dialer{Timeout: o.timeout}
	switch uri.Scheme {
	case "ws", "wss":
		u := *uri
		u.User = nil // gorilla refuses URLs with user info
		return mqtt.NewWebsocket(u.String(), o.tls, o.timeout, o.headers, nil)
	case "tcp", "mqtt":
		return dialTCP(ctx, proxy.FromEnvironmentUsing(dialer), uri.Host)
	case "ssl", "tls", "mqtts":
		if os.Getenv("all_proxy") == "" {
			td := &tls.Dialer{NetDialer: dialer, Config: o.tls}
			return td.DialContext(ctx, "tcp", uri.Host)
		}
		conn, err := dialTCP(ctx, proxy.FromEnvironment(), uri.Host)
		if err != nil {
			return nil, err
		}
		tc := tls.Client(conn, o.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, err
		}
		return tc, nil
	}
	return nil, fmt.Errorf("listener: unknown scheme %q", uri.Scheme)
}

func dialTCP(ctx context.Context, d proxy.Dialer, addr string) (net.Conn, error) {
	if cd, ok := d.(proxy.ContextDialer); ok {
		return cd.DialContext(ctx, "tcp", addr)
	}
	return d.Dial("tcp", addr)
}
