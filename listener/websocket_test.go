package listener

import (
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testmqtt"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
)

// TestWebsocketScheme: url_scheme ws:// reaches the broker over a
// websocket at ws_path, with the ws_headers in the handshake (the addon
// stored the scheme and ignored it). Debian's Mosquitto here is built
// without a working websocket listener, so the broker is mochi, behind a
// reverse proxy that records the handshake.
// On MQTT 3.1.1 and 5 (mochi speaks both).
func TestWebsocketScheme(t *testing.T) {
	for _, protocol := range []string{"MQTTv311", "MQTTv5"} {
		t.Run(protocol, func(t *testing.T) { testWebsocketScheme(t, protocol) })
	}
}

func testWebsocketScheme(t *testing.T, protocol string) {
	modelstest.CheckLeaks(t)
	logger, _ := testkit.NewLogger(t, slog.LevelInfo)
	srv := mochi.New(&mochi.Options{Logger: logger, InlineClient: true})
	if err := srv.AddHook(new(auth.AllowHook), nil); err != nil {
		t.Fatal(err)
	}
	wsAddr := "127.0.0.1:" + strconv.Itoa(testmqtt.FreePort(t))
	if err := srv.AddListener(listeners.NewWebsocket(listeners.Config{ID: "ws", Address: wsAddr})); err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })

	var mu sync.Mutex
	var paths, headers []string
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: wsAddr})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths, headers = append(paths, r.URL.Path), append(headers, r.Header.Get("X-Plant"))
		mu.Unlock()
		proxy.ServeHTTP(w, r)
	})}
	served := make(chan struct{})
	go func() { defer close(served); _ = hs.Serve(l) }()
	t.Cleanup(func() { hs.Close(); <-served })

	h := newHarness(t, "sqlite", Options{})
	b := h.broker(l.Addr().(*net.TCPAddr).Port, map[string]any{"url_scheme": "ws://", "ws_path": "/mqtt", "ws_headers": "X-Plant: line-7", "protocol": protocol})
	if _, err := h.try("mqtt.broker", "check_connection", []any{b}); err != nil {
		t.Fatalf("check over websocket: %v", err)
	}
	start := time.Now()
	h.call("mqtt.service", "start_mqtt_service")
	h.waitConnected(b, start)
	sub := h.subscription(b, "ws/+", 1)
	if err := srv.Publish("ws/probe", []byte("over websocket"), false, 1); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 10*time.Second, "the message over websocket", func() bool { return h.count([]any{"subscription_id", "=", sub}) == 1 })
	h.call("mqtt.service", "stop_mqtt_service")

	mu.Lock()
	defer mu.Unlock()
	if len(paths) != 2 {
		t.Fatalf("%d websocket handshakes, want 2 (check, daemon)", len(paths))
	}
	for i := range paths {
		if paths[i] != "/mqtt" || headers[i] != "line-7" {
			t.Errorf("handshake %d: path %q, X-Plant %q", i, paths[i], headers[i])
		}
	}
}
