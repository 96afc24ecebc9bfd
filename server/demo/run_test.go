package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	paho5 "github.com/eclipse/paho.golang/paho"
	paho "github.com/eclipse/paho.mqtt.golang"
	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testmqtt"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
)

// testBroker runs a mochi broker on a free port for the test.
func testBroker(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := mochi.New(&mochi.Options{Logger: modelstest.Logger(t)})
	if err := srv.AddHook(new(auth.AllowHook), nil); err != nil {
		t.Fatal(err)
	}
	if err := srv.AddListener(listeners.NewNet("t", ln)); err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// TestRunOverMQTT runs the devices against a real broker: a consumer sees
// retained info, telemetry of each device and the ESP32 data topic, and the
// lamp obeys a toggle with a retained event.
func TestRunOverMQTT(t *testing.T) {
	addr := testBroker(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		Run(ctx, addr, Options{Logger: modelstest.Logger(t), Interval: 50 * time.Millisecond})
	}()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after cancel")
		}
	}()

	var mu sync.Mutex
	seen := map[string][]byte{}
	got := make(chan struct{}, 1000)
	c := testmqtt.Connect(t, "tcp://"+addr, "demo-test-consumer", nil)
	handler := func(_ paho.Client, m paho.Message) {
		mu.Lock()
		seen[m.Topic()] = m.Payload()
		mu.Unlock()
		select {
		case got <- struct{}{}:
		default:
		}
	}
	// One SUBSCRIBE for all: a raw mochi broker refuses a SUBSCRIBE whose id
	// clashes with a message it has in flight to the client (the server's
	// embedded broker carries a workaround, see embedded_broker_ids.go).
	filters := map[string]byte{}
	for _, s := range Subscriptions {
		filters[s.Topic] = byte(s.QoS)
	}
	tok := c.SubscribeMultiple(filters, handler)
	if err := testmqtt.Wait(tok); err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	for filter, code := range tok.(*paho.SubscribeToken).Result() {
		if code > 2 {
			t.Fatalf("SUBACK %s = %#x", filter, code)
		}
	}
	waitFor := func(what string, ok func(map[string][]byte) bool) {
		t.Helper()
		deadline := time.After(10 * time.Second)
		for {
			mu.Lock()
			done := ok(seen)
			mu.Unlock()
			if done {
				return
			}
			select {
			case <-got:
			case <-deadline:
				mu.Lock()
				defer mu.Unlock()
				t.Fatalf("%s: not seen; topics seen: %v", what, keys(seen))
			}
		}
	}
	for _, topic := range []string{
		"device/lamp-1/info", "device/thermo-1/info", "device/thermo-1/telemetry/temperature",
		"device/climate-1/telemetry/humidity", "device/lamp-1/telemetry/switch", "/homecontrol/device/data/esp32-kitchen",
	} {
		waitFor(topic, func(s map[string][]byte) bool { return s[topic] != nil })
	}
	lampState := func(s map[string][]byte) string {
		var ev struct{ State string }
		_ = json.Unmarshal(s["device/lamp-1/event"], &ev)
		return ev.State
	}
	waitFor("lamp off", func(s map[string][]byte) bool { return lampState(s) == "off" })
	testmqtt.Publish(t, c, LampToggleTopic, 1, false, `{"action":"toggle"}`)
	waitFor("lamp on after toggle", func(s map[string][]byte) bool { return lampState(s) == "on" })
	waitFor("the lamp online", func(s map[string][]byte) bool { return string(s["device/lamp-1/availability"]) == "online" })

	// Leaving cleanly, a device says offline itself (no will is sent).
	cancel()
	<-done
	for _, id := range []string{LampID, ThermoID, ClimateID} {
		if got := string(testmqtt.Retained(t, "tcp://"+addr, "device/"+id+"/availability", 2*time.Second)); got != "offline" {
			t.Errorf("%s availability after Run returned = %q, want offline", id, got)
		}
	}
}

// TestSeed creates the demo records on an empty database, moves the demo
// broker on a later start, and leaves a database with other brokers alone.
func TestSeed(t *testing.T) {
	for _, kind := range modelstest.Kinds(t) {
		t.Run(kind, func(t *testing.T) {
			reg := modelstest.NewFor(t, kind)
			ctx := context.Background()
			created, err := Seed(ctx, reg.Registry, "127.0.0.1", 1883)
			if err != nil || !created {
				t.Fatalf("Seed on an empty database = %v, %v", created, err)
			}
			s := seeder{ctx: ctx, reg: reg.Registry}
			read := func(model string, domain []any, fields ...any) []map[string]any {
				t.Helper()
				res, err := s.call(model, "search_read", []any{domain, fields}, nil)
				if err != nil {
					t.Fatal(err)
				}
				var out []map[string]any
				b, _ := json.Marshal(res)
				_ = json.Unmarshal(b, &out)
				return out
			}
			brokers := read("mqtt.broker", []any{}, "name", "host", "port")
			if len(brokers) != 2 || brokers[0]["name"] != BrokerName || brokers[0]["port"] != "1883" ||
				brokers[1]["name"] != ESP32BrokerName || brokers[1]["port"] != "1883" {
				t.Fatalf("brokers = %v", brokers)
			}
			subs := read("mqtt.subscription", []any{}, "topic", "enabled", "subscription_status")
			if len(subs) != len(Subscriptions) {
				t.Fatalf("subscriptions = %v", subs)
			}
			for _, sub := range subs {
				if sub["enabled"] != true || sub["subscription_status"] != "subscribing" {
					t.Errorf("subscription not enabled for the listener: %v", sub)
				}
			}
			sigs := read("mqtt.signal", []any{}, "topic", "payload", "qos")
			if len(sigs) != 2 || sigs[0]["topic"] != LampToggleTopic {
				t.Fatalf("signals = %v", sigs)
			}

			if b := read("mqtt.broker", []any{}, "device_discovery", "device_info_topic"); b[0]["device_discovery"] != true || b[0]["device_info_topic"] != "device/{id}/info" {
				t.Errorf("device discovery of the demo broker = %v", b)
			}
			// A demo database from before device discovery: its topics unset.
			if _, err := s.call("mqtt.broker", "write", []any{[]any{int64(brokers[0]["id"].(float64))}, map[string]any{
				"device_discovery": false, "device_info_topic": false, "device_telemetry_topic": false}}, nil); err != nil {
				t.Fatal(err)
			}

			// A later start on another port moves the broker, creates nothing.
			created, err = Seed(ctx, reg.Registry, "127.0.0.1", 40123)
			if err != nil || created {
				t.Fatalf("second Seed = %v, %v", created, err)
			}
			brokers = read("mqtt.broker", []any{}, "name", "host", "port")
			if len(brokers) != 2 || brokers[0]["port"] != "40123" || brokers[1]["port"] != "40123" {
				t.Fatalf("brokers after move = %v", brokers)
			}
			if b := read("mqtt.broker", []any{}, "device_discovery", "device_telemetry_topic"); b[0]["device_discovery"] != true || b[0]["device_telemetry_topic"] != "device/{id}/telemetry/{sensor}" {
				t.Errorf("device discovery not restored on the old demo database: %v", b)
			}
			if n := len(read("mqtt.subscription", []any{})); n != len(Subscriptions) {
				t.Fatalf("%d subscriptions after the second Seed", n)
			}

			// A demo database from before the ESP32 broker: the ESP32
			// subscription on the demo broker. The next start makes the
			// ESP32 broker and moves the subscription to it.
			esp := read("mqtt.broker", []any{[]any{"name", "=", ESP32BrokerName}}, "id")
			espSubs := read("mqtt.subscription", []any{[]any{"topic", "=", ESP32Filter}}, "id")
			if len(esp) != 1 || len(espSubs) != 1 {
				t.Fatalf("ESP32 broker %v, subscriptions %v", esp, espSubs)
			}
			for _, c := range []struct {
				model string
				id    any
			}{{"mqtt.subscription", espSubs[0]["id"]}, {"mqtt.broker", esp[0]["id"]}} {
				if _, err := s.call(c.model, "unlink", []any{[]any{int64(c.id.(float64))}}, nil); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := s.call("mqtt.subscription", "create", []any{map[string]any{"broker_id": int64(brokers[0]["id"].(float64)), "topic": ESP32Filter}}, nil); err != nil {
				t.Fatal(err)
			}
			if _, err := Seed(ctx, reg.Registry, "127.0.0.1", 40123); err != nil {
				t.Fatal(err)
			}
			espSubs = read("mqtt.subscription", []any{[]any{"topic", "=", ESP32Filter}}, "broker_id")
			if len(espSubs) != 1 || fmt.Sprint(espSubs[0]["broker_id"].([]any)[1]) != ESP32BrokerName {
				t.Errorf("ESP32 subscriptions after the upgrade = %v, want one on %s", espSubs, ESP32BrokerName)
			}
			if n := len(read("mqtt.subscription", []any{})); n != len(Subscriptions) {
				t.Fatalf("%d subscriptions after the upgrade", n)
			}

			// A database with the operator's own brokers only is left alone.
			reg2 := modelstest.NewFor(t, kind)
			s2 := seeder{ctx: ctx, reg: reg2.Registry}
			if _, err := s2.call("mqtt.broker", "create", []any{map[string]any{"name": "Plant", "host": "10.0.0.5"}}, nil); err != nil {
				t.Fatal(err)
			}
			created, err = Seed(ctx, reg2.Registry, "127.0.0.1", 1883)
			if err != nil || created {
				t.Fatalf("Seed with other brokers = %v, %v", created, err)
			}
			if res, _ := s2.call("mqtt.broker", "search_count", []any{[]any{}}, nil); res != int64(1) {
				t.Fatalf("brokers = %v, want the operator's one", res)
			}
		})
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestLampCommandsOverMQTT: the lamp, an MQTT 5 client, answers get_state
// on a real broker both ways: to an MQTT 3.1.1 requester on the response
// topic of the request id, and to an MQTT 5 requester on its Response
// Topic with its Correlation Data.
func TestLampCommandsOverMQTT(t *testing.T) {
	modelstest.CheckLeaks(t) // the lamp's MQTT 5 client ends with Run
	addr := testBroker(t)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Go(func() { Run(ctx, addr, Options{Logger: modelstest.Logger(t), Interval: time.Hour}) })

	// MQTT 3.1.1: the request id in the topic is the correlation.
	answers := make(chan paho.Message, 10)
	c := testmqtt.Connect(t, "tcp://"+addr, "demo-test-v3", nil)
	if err := testmqtt.Wait(c.Subscribe("device/lamp-1/response/+", 1, func(_ paho.Client, m paho.Message) { answers <- m })); err != nil {
		t.Fatal(err)
	}
	var got paho.Message
	// The lamp may not have subscribed yet: ask until it answers.
	for deadline := time.Now().Add(10 * time.Second); got == nil && time.Now().Before(deadline); {
		testmqtt.Publish(t, c, "device/lamp-1/request/r311", 1, false, `{"method":"get_state","params":{}}`)
		select {
		case got = <-answers:
		case <-time.After(200 * time.Millisecond):
		}
	}
	if got == nil || got.Topic() != "device/lamp-1/response/r311" || !strings.Contains(string(got.Payload()), `"state":"off"`) {
		t.Fatalf("3.1.1 answer = %v", got)
	}

	// MQTT 5: Response Topic and Correlation Data.
	v5 := make(chan *paho5.Publish, 10)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c5 := paho5.NewClient(paho5.ClientConfig{Conn: conn, OnPublishReceived: []func(paho5.PublishReceived) (bool, error){
		func(pr paho5.PublishReceived) (bool, error) { v5 <- pr.Packet; return true, nil }}})
	if _, err := c5.Connect(ctx, &paho5.Connect{ClientID: "demo-test-v5", CleanStart: true, KeepAlive: 30}); err != nil {
		t.Fatal(err)
	}
	defer c5.Disconnect(&paho5.Disconnect{})
	if _, err := c5.Subscribe(ctx, &paho5.Subscribe{Subscriptions: []paho5.SubscribeOptions{{Topic: "replies/test", QoS: 1}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c5.Publish(ctx, &paho5.Publish{Topic: "device/lamp-1/request/r5", QoS: 1, Payload: []byte(`{"method":"get_state"}`),
		Properties: &paho5.PublishProperties{ResponseTopic: "replies/test", CorrelationData: []byte("corr-5")}}); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-v5:
		if p.Topic != "replies/test" || p.Properties == nil || string(p.Properties.CorrelationData) != "corr-5" || !strings.Contains(string(p.Payload), `"on":false`) {
			t.Errorf("MQTT 5 answer = %s %s %+v", p.Topic, p.Payload, p.Properties)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no MQTT 5 answer")
	}
	for len(answers) > 0 { // answers to the repeated 3.1.1 requests may still come
		if m := <-answers; m.Topic() != "device/lamp-1/response/r311" {
			t.Errorf("the MQTT 5 request was also answered on %s", m.Topic())
		}
	}
}
