package listener

import (
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	packets5 "github.com/eclipse/paho.golang/packets"
	"github.com/eclipse/paho.golang/paho"
	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testmqtt"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/iotdevice"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
	mqttmodel "github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// v5Client is an MQTT 5 device or observer in the tests: paho.golang on
// a plain TCP connection.
type v5Client struct {
	c    *paho.Client
	msgs chan *paho.Publish
}

func connectV5Client(t testing.TB, port int, id string) *v5Client {
	t.Helper()
	conn, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	vc := &v5Client{msgs: make(chan *paho.Publish, 100)}
	vc.c = paho.NewClient(paho.ClientConfig{ClientID: id, Conn: conn,
		OnPublishReceived: []func(paho.PublishReceived) (bool, error){func(pr paho.PublishReceived) (bool, error) {
			select {
			case vc.msgs <- pr.Packet:
			default:
			}
			return true, nil
		}}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := vc.c.Connect(ctx, &paho.Connect{ClientID: id, CleanStart: true, KeepAlive: 30}); err != nil {
		t.Fatalf("v5 test client %s: %v", id, err)
	}
	t.Cleanup(func() { _ = vc.c.Disconnect(&paho.Disconnect{}) })
	return vc
}

func (vc *v5Client) publish(t testing.TB, p *paho.Publish) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := vc.c.Publish(ctx, p); err != nil {
		t.Fatalf("publish %s: %v", p.Topic, err)
	}
}

func (vc *v5Client) subscribe(t testing.TB, filter string, qos byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := vc.c.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: filter, QoS: qos}}}); err != nil {
		t.Fatalf("subscribe %s: %v", filter, err)
	}
}

func (vc *v5Client) receive(t testing.TB, what string) *paho.Publish {
	t.Helper()
	select {
	case p := <-vc.msgs:
		return p
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s received", what)
		return nil
	}
}

// startMochi runs the embedded broker's library, mochi v2 (which speaks
// MQTT 5), on a free TCP port; with acl, its auth ledger admits everyone
// and applies acl's filters.
func startMochi(t testing.TB, acl auth.Filters) int {
	t.Helper()
	logger, _ := testkit.NewLogger(t, slog.LevelWarn)
	srv := mochi.New(&mochi.Options{Logger: logger, InlineClient: true})
	var err error
	if acl == nil {
		err = srv.AddHook(new(auth.AllowHook), nil)
	} else {
		err = srv.AddHook(new(auth.Hook), &auth.Options{Ledger: &auth.Ledger{
			Auth: auth.AuthRules{{Allow: true}}, ACL: auth.ACLRules{{Filters: acl}}}})
	}
	if err != nil {
		t.Fatal(err)
	}
	port := testmqtt.FreePort(t)
	if err := srv.AddListener(listeners.NewTCP(listeners.Config{ID: "tcp", Address: "127.0.0.1:" + strconv.Itoa(port)})); err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return port
}

// propsRow is a history row's MQTT 5 fields as read through the models.
type propsRow struct {
	topic, contentType, responseTopic, userProperties string
	correlation                                       []byte
	expiry                                            int64
}

func (h *harness) historyProps(domain ...any) []propsRow {
	h.t.Helper()
	res := h.call("mqtt.signal.history", "search_read", domain,
		[]any{"topic", "content_type", "response_topic", "correlation_data", "user_properties", "message_expiry"}, int64(0), false, "id asc")
	var out []propsRow
	for _, d := range res.([]*models.Dict) {
		str := func(k string) string { v, _ := d.Get(k); s, _ := v.(string); return s }
		r := propsRow{topic: str("topic"), contentType: str("content_type"), responseTopic: str("response_topic"), userProperties: str("user_properties")}
		if v, _ := d.Get("message_expiry"); v != nil {
			r.expiry, _ = v.(int64)
		}
		if s := str("correlation_data"); s != "" {
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				h.t.Fatalf("correlation_data is not base64: %v", err)
			}
			r.correlation = b
		}
		out = append(out, r)
	}
	return out
}

// TestV5PropertiesStored, on Mosquitto and on mochi (the embedded
// broker's library), both speaking MQTT 5: a PUBLISH's content type,
// response topic, correlation data, user properties (order and duplicates
// kept) and message expiry are stored with its history row exactly; a
// PUBLISH without properties stores none. A signal sent on an MQTT 5
// broker carries its own properties to a v5 subscriber.
func TestV5PropertiesStored(t *testing.T) {
	modelstest.CheckLeaks(t)
	brokers := []struct {
		name  string
		start func(t *testing.T) int
		// the expiry the broker gives a message without one: mochi
		// applies its maximum_message_expiry_interval (a day).
		defaultExpiry int64
	}{
		{"mosquitto", func(t *testing.T) int { return startMosquitto(t, testmqtt.Options{}).Port() }, 0},
		{"mochi", func(t *testing.T) int { return startMochi(t, nil) }, 86400},
	}
	for _, br := range brokers {
		t.Run(br.name, func(t *testing.T) {
			port := br.start(t)
			h := newHarness(t, "sqlite", Options{})
			b := h.broker(port, map[string]any{"protocol": "MQTTv5", "client_id": "v5-props"})
			start := time.Now()
			h.call("mqtt.service", "start_mqtt_service")
			h.waitConnected(b, start)
			h.subscription(b, "p/#", 1)

			dev := connectV5Client(t, port, "v5-device")
			exp := uint32(3600)
			dev.publish(t, &paho.Publish{Topic: "p/1", QoS: 1, Payload: []byte(`{"t":21.5}`), Properties: &paho.PublishProperties{
				ContentType: "application/json", ResponseTopic: "p/reply/1", CorrelationData: []byte{0, 1, 0xff}, MessageExpiry: &exp,
				User: paho.UserProperties{{Key: "unit", Value: "C"}, {Key: "site", Value: "north"}, {Key: "unit", Value: "K"}}}})
			dev.publish(t, &paho.Publish{Topic: "p/2", QoS: 0, Payload: []byte("plain")})
			testkit.Eventually(t, 10*time.Second, "both rows", func() bool { return h.count() == 2 })
			rows := h.historyProps([]any{"direction", "=", "receive"})
			got := rows[0]
			if got.topic != "p/1" || got.contentType != "application/json" || got.responseTopic != "p/reply/1" ||
				string(got.correlation) != "\x00\x01\xff" || got.userProperties != `[["unit","C"],["site","north"],["unit","K"]]` {
				t.Errorf("row with properties: %+v", got)
			}
			// The broker sends the remaining lifetime: a second may have passed.
			if got.expiry < 3590 || got.expiry > 3600 {
				t.Errorf("message_expiry %d, want about 3600", got.expiry)
			}
			if plain := rows[1]; plain.topic != "p/2" || plain.contentType != "" || plain.responseTopic != "" || plain.correlation != nil ||
				plain.userProperties != "" || plain.expiry != br.defaultExpiry {
				t.Errorf("row without properties: %+v", plain)
			}

			observer := connectV5Client(t, port, "v5-observer")
			observer.subscribe(t, "cmd/#", 1)
			sub := h.call("mqtt.subscription", "create", map[string]any{"broker_id": b, "topic": "cmd/lamp", "qos": int64(1)}).(int64)
			sig := h.call("mqtt.signal", "create", map[string]any{"broker_id": b, "subscription_id": sub, "payload": "on", "qos": int64(1),
				"content_type": "text/plain", "user_properties": `[["k","1"],["k","2"]]`, "message_expiry": int64(120)}).(int64)
			h.call("mqtt.signal", "action_send_mqtt", []any{sig})
			m := observer.receive(t, "the signal")
			if m.Topic != "cmd/lamp" || string(m.Payload) != "on" || m.Properties == nil || m.Properties.ContentType != "text/plain" ||
				!slices.Equal(m.Properties.User, paho.UserProperties{{Key: "k", Value: "1"}, {Key: "k", Value: "2"}}) ||
				m.Properties.MessageExpiry == nil || *m.Properties.MessageExpiry > 120 || *m.Properties.MessageExpiry < 110 {
				t.Errorf("the signal arrived as %s %q %+v", m.Topic, m.Payload, m.Properties)
			}
		})
	}
}

// TestNoLocal: a signal sent through the daemon on a topic its own
// subscription (no_local_flag set) covers comes back as a received row
// on 3.1.1, which has no such option, and not on MQTT 5. A message from
// another client on that topic is received on both.
func TestNoLocal(t *testing.T) {
	modelstest.CheckLeaks(t)
	mq := startMosquitto(t, testmqtt.Options{})
	for _, c := range []struct {
		protocol string
		echoes   int64
	}{{"MQTTv311", 1}, {"MQTTv5", 0}} {
		t.Run(c.protocol, func(t *testing.T) {
			h := newHarness(t, "sqlite", Options{})
			b := h.broker(mq.Port(), map[string]any{"protocol": c.protocol, "client_id": "nolocal-" + c.protocol})
			start := time.Now()
			h.call("mqtt.service", "start_mqtt_service")
			h.waitConnected(b, start)
			prefix := "echo-" + c.protocol
			sub := h.call("mqtt.subscription", "create", map[string]any{"broker_id": b, "topic": prefix + "/ours", "qos": int64(1), "no_local_flag": true}).(int64)
			h.call("mqtt.subscription", "subscribe_mqtt", []any{sub})
			h.subscription(b, prefix+"/theirs", 1)
			sig := h.call("mqtt.signal", "create", map[string]any{"broker_id": b, "subscription_id": sub, "payload": "ours", "qos": int64(1)}).(int64)
			h.call("mqtt.signal", "action_send_mqtt", []any{sig})

			// Published after ours was acknowledged, so delivered after
			// its echo, and stored after it (one ordered connection).
			other := testmqtt.Connect(t, mq.URL(), "other-"+c.protocol, nil)
			testmqtt.Publish(t, other, prefix+"/theirs", 1, false, "theirs")
			testkit.Eventually(t, 10*time.Second, "the other client's message", func() bool {
				return h.count([]any{"topic", "=", prefix + "/theirs"}, []any{"direction", "=", "receive"}) == 1
			})
			if c.echoes > 0 {
				testkit.Eventually(t, 10*time.Second, "our own message back", func() bool {
					return h.count([]any{"topic", "=", prefix + "/ours"}, []any{"direction", "=", "receive"}) == c.echoes
				})
			}
			if n := h.count([]any{"topic", "=", prefix + "/ours"}, []any{"direction", "=", "receive"}); n != c.echoes {
				t.Errorf("%d received rows of our own signal, want %d", n, c.echoes)
			}
			if n := h.count([]any{"topic", "=", prefix + "/ours"}, []any{"direction", "=", "send"}); n != 1 {
				t.Errorf("%d send rows, want 1", n)
			}
		})
	}
}

// TestRetainHandling: on MQTT 5 a subscription with retain_handling 2
// gets no retained message when it subscribes; with 0 it gets it.
func TestRetainHandling(t *testing.T) {
	modelstest.CheckLeaks(t)
	mq := startMosquitto(t, testmqtt.Options{})
	dev := testmqtt.Connect(t, mq.URL(), "retainer", nil)
	for _, rh := range []string{"rh0", "rh2"} {
		testmqtt.Publish(t, dev, rh+"/state", 1, true, "kept")
	}
	h := newHarness(t, "sqlite", Options{})
	b := h.broker(mq.Port(), map[string]any{"protocol": "MQTTv5"})
	start := time.Now()
	h.call("mqtt.service", "start_mqtt_service")
	h.waitConnected(b, start)
	for i, rh := range []string{"rh0", "rh2"} {
		id := h.call("mqtt.subscription", "create", map[string]any{"broker_id": b, "topic": rh + "/#", "qos": int64(1), "retain_handling": int64(i * 2)}).(int64)
		h.call("mqtt.subscription", "subscribe_mqtt", []any{id})
	}
	for _, rh := range []string{"rh0", "rh2"} {
		testmqtt.Publish(t, dev, rh+"/marker", 1, false, "after")
	}
	testkit.Eventually(t, 10*time.Second, "both markers", func() bool { return h.count([]any{"topic", "like", "%/marker"}) == 2 })
	if n := h.count([]any{"topic", "=", "rh0/state"}); n != 1 {
		t.Errorf("retain_handling 0: %d retained rows, want 1", n)
	}
	if n := h.count([]any{"topic", "=", "rh2/state"}); n != 0 {
		t.Errorf("retain_handling 2: %d retained rows, want 0", n)
	}
}

// TestV5ReasonCodes: on MQTT 5 a refused subscription says "Not
// authorized (0x87)" on its record, where 3.1.1 keeps its SUBACK 0x80
// message (mochi with an ACL: Mosquitto 2.0's acl_file filters deliveries
// but grants every subscription); a publish Mosquitto's acl_file denies
// says "Not authorized (0x87)" from its PUBACK, and a PUBACK of No
// matching subscribers (0x10) is a success. (A bad password's CONNACK
// reason code is in TestCheckConnection.)
func TestV5ReasonCodes(t *testing.T) {
	modelstest.CheckLeaks(t)
	mochiPort := startMochi(t, auth.Filters{"secret/#": auth.Deny})
	for _, c := range []struct {
		protocol, subErr string
	}{{"MQTTv311", "SUBACK return code 0x80"}, {"MQTTv5", "Not authorized (0x87)"}} {
		t.Run("subscribe "+c.protocol, func(t *testing.T) {
			h := newHarness(t, "sqlite", Options{})
			b := h.broker(mochiPort, map[string]any{"protocol": c.protocol, "client_id": "viewer-" + c.protocol})
			start := time.Now()
			h.call("mqtt.service", "start_mqtt_service")
			h.waitConnected(b, start)
			denied := h.call("mqtt.subscription", "create", map[string]any{"broker_id": b, "topic": "secret/#", "qos": int64(1)}).(int64)
			_, err := h.try("mqtt.subscription", "subscribe_mqtt", []any{denied})
			if err == nil || !strings.Contains(err.Error(), c.subErr) {
				t.Errorf("denied subscribe: %v, want %q", err, c.subErr)
			}
			if msg, _ := h.read("mqtt.subscription", denied, "last_error").(string); !strings.Contains(msg, c.subErr) {
				t.Errorf("last_error %q, want %q", msg, c.subErr)
			}
			// Refused on a reconnect too: the daemon's own SUBSCRIBE.
			h.call("mqtt.service", "stop_mqtt_service")
			start = time.Now()
			h.call("mqtt.service", "start_mqtt_service")
			h.waitConnected(b, start)
			testkit.Eventually(t, 10*time.Second, "the refusal recorded by the daemon", func() bool {
				msg, _ := h.read("mqtt.subscription", denied, "last_error").(string)
				return strings.Contains(msg, c.subErr) && h.logs.Count("Subscription refused", c.subErr) == 1
			})
		})
	}

	t.Run("publish MQTTv5", func(t *testing.T) {
		acl := filepath.Join(t.TempDir(), "acl")
		if err := os.WriteFile(acl, []byte("user viewer\ntopic readwrite allowed/#\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		mq := startMosquitto(t, testmqtt.Options{Users: map[string]string{"viewer": "pw"}, Config: []string{"acl_file " + acl}})
		h := newHarness(t, "sqlite", Options{})
		b := h.broker(mq.Port(), map[string]any{"protocol": "MQTTv5", "username": "viewer", "password": "pw"})
		start := time.Now()
		h.call("mqtt.service", "start_mqtt_service")
		h.waitConnected(b, start)
		// Nobody subscribes allowed/nobody: PUBACK 0x10, a success.
		allowed := h.call("mqtt.subscription", "create", map[string]any{"broker_id": b, "topic": "allowed/nobody", "qos": int64(1)}).(int64)
		sig := h.call("mqtt.signal", "create", map[string]any{"broker_id": b, "subscription_id": allowed, "payload": "1", "qos": int64(1)}).(int64)
		if _, err := h.try("mqtt.signal", "action_send_mqtt", []any{sig}); err != nil {
			t.Errorf("a publish nobody subscribes: %v", err)
		}
		denied := h.call("mqtt.subscription", "create", map[string]any{"broker_id": b, "topic": "secret/x", "qos": int64(1)}).(int64)
		sig = h.call("mqtt.signal", "create", map[string]any{"broker_id": b, "subscription_id": denied, "payload": "1", "qos": int64(1)}).(int64)
		if _, err := h.try("mqtt.signal", "action_send_mqtt", []any{sig}); err == nil || !strings.Contains(err.Error(), "Not authorized (0x87)") {
			t.Errorf("a denied publish: %v, want Not authorized (0x87)", err)
		}
	})
}

// TestReasonText names reason codes as the errors show them.
func TestReasonText(t *testing.T) {
	for _, c := range []struct {
		code   byte
		reason string
		want   string
	}{
		{0x87, "", "Not authorized (0x87)"},
		{0x86, "", "Bad User Name or Password (0x86)"},
		{0x8E, "another client connected", "Session taken over (0x8E): another client connected"},
		{0x10, "", "No matching subscribers (0x10)"},
		{0xFE, "", "Reason code (0xFE)"},
	} {
		if got := reasonText(c.code, c.reason); got != c.want {
			t.Errorf("reasonText(0x%02X, %q) = %q, want %q", c.code, c.reason, got, c.want)
		}
	}
}

// connectV5Recorder plays an MQTT 5 broker just far enough to read each
// client's CONNECT and accept it.
func connectV5Recorder(t *testing.T) (port int, connects <-chan *packets5.Connect) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan *packets5.Connect, 16)
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				p, err := packets5.ReadPacket(c)
				if err != nil {
					return
				}
				cp, ok := p.Content.(*packets5.Connect)
				if !ok {
					t.Errorf("v5 recorder: %T, not a CONNECT", p.Content)
					return
				}
				ch <- cp
				if _, err := (&packets5.Connack{}).WriteTo(c); err != nil {
					return
				}
				_, _ = io.Copy(io.Discard, c)
			})
		}
	})
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return ln.Addr().(*net.TCPAddr).Port, ch
}

// TestV5Connect reads the CONNECT packets the listener sends an MQTT 5
// broker: the daemon's carries Clean Start off with the record's Session
// Expiry Interval when clean_session is off, its Receive Maximum, keep
// alive, credentials and will; a clean session sends no expiry (the
// session ends with the connection, as on 3.1.1); a short-lived check
// connection uses its own client id, Clean Start and no will.
func TestV5Connect(t *testing.T) {
	modelstest.CheckLeaks(t)
	port, connects := connectV5Recorder(t)
	next := func() *packets5.Connect {
		t.Helper()
		select {
		case cp := <-connects:
			return cp
		case <-time.After(15 * time.Second):
			t.Fatal("no CONNECT reached the recorder")
			return nil
		}
	}
	h := newHarness(t, "sqlite", Options{})
	persistent := h.broker(port, map[string]any{"protocol": "MQTTv5", "client_id": "v5-meter", "clean_session": false,
		"session_expiry_interval": int64(3600), "receive_maximum": int64(7), "keepalive": int64(45), "username": "u", "password": "p",
		"will_topic": "status/meter", "will_payload": "offline", "will_qos": int64(1), "will_retain": true})
	if _, err := h.try("mqtt.broker", "check_connection", []any{persistent}); err != nil {
		t.Fatalf("check: %v", err)
	}
	cp := next()
	if !strings.HasPrefix(cp.ClientID, "v5-meter-check-") || !cp.CleanStart || cp.WillFlag || cp.Username != "u" || string(cp.Password) != "p" ||
		(cp.Properties != nil && cp.Properties.SessionExpiryInterval != nil) {
		t.Errorf("check CONNECT: %+v", cp)
	}
	h.call("mqtt.service", "start_mqtt_service")
	cp = next()
	switch {
	case cp.ClientID != "v5-meter" || cp.CleanStart || cp.KeepAlive != 45 || cp.Username != "u" || string(cp.Password) != "p":
		t.Errorf("daemon CONNECT identity: %+v", cp)
	case cp.Properties == nil || cp.Properties.SessionExpiryInterval == nil || *cp.Properties.SessionExpiryInterval != 3600 ||
		cp.Properties.ReceiveMaximum == nil || *cp.Properties.ReceiveMaximum != 7:
		t.Errorf("daemon CONNECT properties: %+v", cp.Properties)
	case !cp.WillFlag || cp.WillTopic != "status/meter" || string(cp.WillMessage) != "offline" || cp.WillQOS != 1 || !cp.WillRetain:
		t.Errorf("daemon CONNECT will: %+v", cp)
	}
	h.call("mqtt.service", "stop_mqtt_service")

	h.broker(port, map[string]any{"protocol": "MQTTv5", "client_id": "v5-clean", "clean_session": true, "session_expiry_interval": int64(3600)})
	h.call("mqtt.broker", "write", []any{persistent}, map[string]any{"active": false})
	h.call("mqtt.service", "start_mqtt_service")
	cp = next()
	if cp.ClientID != "v5-clean" || !cp.CleanStart || (cp.Properties != nil && (cp.Properties.SessionExpiryInterval != nil || cp.Properties.ReceiveMaximum != nil)) {
		t.Errorf("clean session CONNECT: %+v %+v", cp, cp.Properties)
	}
}

// TestV5ServerDisconnect: when the broker ends an MQTT 5 connection with
// a DISCONNECT (Session taken over, as another client connects with the
// daemon's client id: mochi says so, Mosquitto 2.0.11 only closes the
// connection), its reason code is in the lost error that the registry
// and the log show, and the daemon reconnects.
func TestV5ServerDisconnect(t *testing.T) {
	modelstest.CheckLeaks(t)
	port := startMochi(t, nil)
	h := newHarness(t, "sqlite", Options{})
	b := h.broker(port, map[string]any{"protocol": "MQTTv5", "client_id": "v5-taken"})
	start := time.Now()
	h.call("mqtt.service", "start_mqtt_service")
	h.waitConnected(b, start)
	taken := time.Now()
	connectV5Client(t, port, "v5-taken")
	testkit.Eventually(t, 10*time.Second, "the loss recorded with its reason code", func() bool {
		return strings.Contains(h.daemon(b).StopReason, "the broker disconnected: Session taken over (0x8E)")
	})
	h.waitConnected(b, taken)
	if n := h.logs.Count("MQTT listener not connected, retrying", "Session taken over (0x8E)"); n != 1 {
		t.Errorf("%d log lines of the loss with its reason code, want 1", n)
	}
}

// TestDeviceMessageCorrelation: a device message's MQTT 5 Correlation
// Data goes to the device worker with it (a command response names its
// request by it), in arrival order; a 3.1.1 message has none.
func TestDeviceMessageCorrelation(t *testing.T) {
	s := New(nil, &iotdevice.Addon{}, Options{Metrics: prometheus.NewRegistry()}) // not run: its device queue alone
	w := &writer{s: s}
	batch := []item{
		{broker: 1, device: true, msg: message{topic: "device/lamp/response/7", payload: []byte(`{"on":true}`),
			props: &mqttmodel.Properties{CorrelationData: []byte("req-7"), ContentType: "application/json"}}},
		{broker: 1, device: true, msg: message{topic: "device/lamp/availability", payload: []byte("online")}},
	}
	w.handDevices(context.Background(), batch)
	j, ok := s.devices.pop()
	if !ok || len(j.msgs) != 2 {
		t.Fatalf("device job %+v", j)
	}
	if string(j.msgs[0].CorrelationData) != "req-7" || j.msgs[0].Topic != "device/lamp/response/7" || j.msgs[1].CorrelationData != nil {
		t.Errorf("device messages %+v", j.msgs)
	}
}
