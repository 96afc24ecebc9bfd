package listener

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testmqtt"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
)

// TestPublishAnything: mqtt.broker.action_publish (issue 13 part 3) with
// each encoding reaches a real subscriber with the exact bytes, through a
// one-shot connection while the service is stopped and through the
// daemon once it runs, and is kept in Send History (payload_raw: the
// bytes sent); bad JSON, hex and base64 are ValidationErrors naming the
// problem, and nothing is sent or stored for them.
func TestPublishAnything(t *testing.T) {
	mq := startMosquitto(t, testmqtt.Options{})
	h := newHarness(t, "sqlite", Options{})
	b := h.broker(mq.Port(), map[string]any{"client_id": "publisher", "protocol": "MQTTv311"})
	got := testmqtt.Subscribe(t, testmqtt.Connect(t, mq.URL(), "observer", nil), "any/#", 2)

	cases := []struct {
		name, payload, encoding string
		qos                     int64
		retain                  bool
		want                    []byte
		refused                 string // a ValidationError containing this
	}{
		{name: "text", payload: "héllo", encoding: "text", want: []byte("héllo")},
		{name: "json", payload: "{\n  \"t\": 21.5\n}", encoding: "json", qos: 1, want: []byte("{\n  \"t\": 21.5\n}")},
		{name: "base64", payload: "AAEC/w==", encoding: "base64", qos: 2, want: []byte{0, 1, 2, 0xff}},
		{name: "hex", payload: "de ad:BE ef 00", encoding: "hex", qos: 1, retain: true, want: []byte{0xde, 0xad, 0xbe, 0xef, 0}},
		{name: "bad json", payload: "{\"t\": 21.5,\n}", encoding: "json", refused: "not valid JSON at line 2, column 1"},
		{name: "empty json", payload: "", encoding: "json", refused: "not valid JSON: empty"},
		{name: "bad hex", payload: "abz", encoding: "hex", refused: "not valid hex"},
		{name: "odd hex", payload: "abc", encoding: "hex", refused: "not valid hex"},
		{name: "bad base64", payload: "!!!", encoding: "base64", refused: "not valid base64"},
		{name: "bad encoding", payload: "x", encoding: "rot13", refused: "not an encoding"},
		{name: "wildcard topic", payload: "x", encoding: "text", refused: "Topic:"},
		{name: "bad qos", payload: "x", encoding: "text", qos: 3, refused: "QoS: 3"},
	}
	run := func(phase string) {
		for _, c := range cases {
			t.Run(phase+"/"+c.name, func(t *testing.T) {
				topic := "any/" + strings.ReplaceAll(c.name, " ", "-")
				if c.name == "wildcard topic" {
					topic = "any/+"
				}
				before := h.count([]any{"direction", "=", "send"})
				_, err := h.try("mqtt.broker", "action_publish", []any{b}, topic, c.payload, c.encoding, c.qos, c.retain)
				if c.refused != "" {
					if err == nil || models.KindOf(err) != models.KindValidation || !strings.Contains(err.Error(), c.refused) {
						t.Fatalf("err = %v (%v), want a ValidationError with %q", err, models.KindOf(err), c.refused)
					}
					if n := h.count([]any{"direction", "=", "send"}); n != before {
						t.Errorf("a refused publish stored %d send rows", n-before)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				m := testmqtt.Receive(t, got, 5*time.Second, c.name)
				if m.Topic() != topic || !bytes.Equal(m.Payload(), c.want) || m.Qos() != byte(c.qos) {
					t.Errorf("received %s %q at QoS %d, want %s %q at QoS %d", m.Topic(), m.Payload(), m.Qos(), topic, c.want, c.qos)
				}
				rows := h.history([]any{"direction", "=", "send"}, []any{"topic", "=", topic})
				last := rows[len(rows)-1]
				if !bytes.Equal(last.Raw, c.want) || last.Broker != b || last.QoS != c.qos || last.Retain != c.retain || last.Signal != 0 {
					t.Errorf("send row %+v, want raw %q broker %d qos %d retain %v", last, c.want, b, c.qos, c.retain)
				}
			})
		}
	}
	run("service stopped")
	start := time.Now()
	h.call("mqtt.service", "start_mqtt_service")
	h.waitConnected(b, start)
	run("service running")
	// The stopped service's 4 good publishes opened connections of their
	// own; the running daemon carried the others.
	if n := strings.Count(mq.Output(), "as publisher-pub-"); n != 4 {
		t.Errorf("%d short-lived publish connections, want 4", n)
	}
	// MQTT 5 properties on a 3.1.1 broker: refused, naming why.
	_, err := h.try("mqtt.broker", "action_publish", []any{b}, "any/v5", "x", "text", int64(0), false, map[string]any{"content_type": "text/plain"})
	if err == nil || models.KindOf(err) != models.KindValidation || !strings.Contains(err.Error(), "MQTT 3.1/3.1.1") {
		t.Errorf("v5 properties on 3.1.1: %v", err)
	}
	// Empty properties are no properties: accepted.
	h.call("mqtt.broker", "action_publish", []any{b}, "any/v5", "x", "text", int64(0), false, map[string]any{"content_type": false, "user_properties": ""})
	testmqtt.Receive(t, got, 5*time.Second, "empty properties")
}

// TestPublishAnythingV5: on an MQTT 5 broker action_publish sends the
// properties given (content type, response topic, correlation data, user
// properties in order with a repeated name, message expiry) to a real
// MQTT 5 subscriber, and the Send History row keeps them.
func TestPublishAnythingV5(t *testing.T) {
	mq := startMosquitto(t, testmqtt.Options{})
	h := newHarness(t, "sqlite", Options{})
	b := h.broker(mq.Port(), map[string]any{"client_id": "publisher5", "protocol": "MQTTv5"})
	obs := connectV5Client(t, mq.Port(), "observer5")
	obs.subscribe(t, "v5any/#", 1)
	props := map[string]any{"content_type": "application/json", "response_topic": "v5any/reply", "correlation_data": "req-7",
		"user_properties": []any{[]any{"unit", "°C"}, []any{"site", "hall 2"}, []any{"unit", "K"}}, "message_expiry": int64(3600)}
	h.call("mqtt.broker", "action_publish", []any{b}, "v5any/meter", `{"t": 21.5}`, "json", int64(1), false, props)
	p := obs.receive(t, "the v5 publish")
	wantUsers := paho.UserProperties{{Key: "unit", Value: "°C"}, {Key: "site", Value: "hall 2"}, {Key: "unit", Value: "K"}}
	pp := p.Properties
	if string(p.Payload) != `{"t": 21.5}` || pp == nil || pp.ContentType != "application/json" || pp.ResponseTopic != "v5any/reply" ||
		string(pp.CorrelationData) != "req-7" || pp.MessageExpiry == nil || *pp.MessageExpiry == 0 || *pp.MessageExpiry > 3600 ||
		len(pp.User) != 3 || pp.User[0] != wantUsers[0] || pp.User[1] != wantUsers[1] || pp.User[2] != wantUsers[2] {
		t.Fatalf("received %q with %+v", p.Payload, pp)
	}
	rows := h.historyProps([]any{"direction", "=", "send"}, []any{"topic", "=", "v5any/meter"})
	if len(rows) != 1 {
		t.Fatalf("%d send rows", len(rows))
	}
	r := rows[0]
	if r.contentType != "application/json" || r.responseTopic != "v5any/reply" || string(r.correlation) != "req-7" || r.expiry != 3600 ||
		r.userProperties != `[["unit","°C"],["site","hall 2"],["unit","K"]]` {
		t.Errorf("send row properties %+v", r)
	}
	// A property that is not one: refused, naming it.
	_, err := h.try("mqtt.broker", "action_publish", []any{b}, "v5any/x", "x", "text", int64(0), false, map[string]any{"colour": "red"})
	if err == nil || !strings.Contains(err.Error(), "'colour' is not one") {
		t.Errorf("unknown property: %v", err)
	}
}

// TestSignalPayloadEncoding: a signal's payload_encoding (raw, base64,
// hex) decides the bytes action_send_mqtt sends, which Send History keeps
// in payload_raw; a payload its encoding cannot decode is refused when
// the signal is written.
// On SQLite and PostgreSQL (the bytes go through each one's bytea/blob).
func TestSignalPayloadEncoding(t *testing.T) {
	for _, kind := range modelstest.Kinds(t) {
		t.Run(kind, func(t *testing.T) { testSignalPayloadEncoding(t, kind) })
	}
}

func testSignalPayloadEncoding(t *testing.T, kind string) {
	mq := startMosquitto(t, testmqtt.Options{})
	h := newHarness(t, kind, Options{})
	b := h.broker(mq.Port(), map[string]any{"client_id": "signal-enc"})
	sub := h.call("mqtt.subscription", "create", map[string]any{"broker_id": b, "topic": "enc/valve", "qos": int64(1)}).(int64)
	got := testmqtt.Subscribe(t, testmqtt.Connect(t, mq.URL(), "observer-enc", nil), "enc/#", 1)
	for _, c := range []struct {
		encoding, payload string
		want              []byte
	}{
		{"raw", "open", []byte("open")},
		{"base64", "AP8Q", []byte{0, 0xff, 0x10}},
		{"hex", "00ff10", []byte{0, 0xff, 0x10}},
	} {
		t.Run(c.encoding, func(t *testing.T) {
			id := h.call("mqtt.signal", "create", map[string]any{"broker_id": b, "subscription_id": sub, "payload": c.payload,
				"payload_encoding": c.encoding, "qos": int64(1)}).(int64)
			h.call("mqtt.signal", "action_send_mqtt", []any{id})
			if m := testmqtt.Receive(t, got, 5*time.Second, c.encoding); !bytes.Equal(m.Payload(), c.want) {
				t.Errorf("received %q, want %q", m.Payload(), c.want)
			}
			rows := h.history([]any{"signal_id", "=", id})
			if len(rows) != 1 || rows[0].Payload != string(bytes.ToValidUTF8(bytes.ReplaceAll(c.want, []byte{0}, []byte("\uFFFD")), []byte("\uFFFD"))) {
				t.Fatalf("send rows %+v", rows)
			}
			if c.encoding != "raw" && !bytes.Equal(rows[0].Raw, c.want) {
				t.Errorf("payload_raw %q, want %q", rows[0].Raw, c.want)
			}
		})
	}
	for _, c := range []struct{ encoding, payload, refused string }{
		{"hex", "0g", "Payload (hex): not valid hex"},
		{"base64", "%%", "Payload (base64): not valid base64"},
	} {
		_, err := h.try("mqtt.signal", "create", map[string]any{"broker_id": b, "subscription_id": sub, "payload": c.payload, "payload_encoding": c.encoding})
		if err == nil || models.KindOf(err) != models.KindValidation || !strings.Contains(err.Error(), c.refused) {
			t.Errorf("%s %q: %v, want %q", c.encoding, c.payload, err, c.refused)
		}
	}
	// A write that makes the stored payload undecodable is refused too.
	id := h.call("mqtt.signal", "create", map[string]any{"broker_id": b, "subscription_id": sub, "payload": "hello"}).(int64)
	if _, err := h.try("mqtt.signal", "write", []any{id}, map[string]any{"payload_encoding": "hex"}); err == nil || !strings.Contains(err.Error(), "not valid hex") {
		t.Errorf("write payload_encoding hex over text: %v", err)
	}
}
