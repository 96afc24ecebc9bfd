package listener

import (
	"fmt"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testmqtt"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
	mqttmodel "github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// TestSharedFilter: the wire form of a filter in a shared group.
func TestSharedFilter(t *testing.T) {
	for _, c := range []struct{ group, filter, want string }{
		{"", "a/#", "a/#"},
		{"g", "a/#", "$share/g/a/#"},
		{"g", "+/b", "$share/g/+/b"},
		{"g", "$share/other/a", "$share/other/a"}, // a record's own group stays
	} {
		if got := sharedFilter(c.group, c.filter); got != c.want {
			t.Errorf("sharedFilter(%q, %q) = %q, want %q", c.group, c.filter, got, c.want)
		}
	}
}

// TestInstanceClientID: a cluster instance's client id for a shared
// broker, within MQTT 3.1's 23 bytes there.
func TestInstanceClientID(t *testing.T) {
	long := "client_abcdefghijklmnopqrstuvwxyz"
	for _, c := range []struct {
		id       string
		protocol uint
		instance int64
		want     string
	}{
		{"hot", mqttmodel.ProtocolV311, 7, "hot-7"},
		{"hot", mqttmodel.ProtocolV5, 123456, "hot-123456"},
		{long, mqttmodel.ProtocolV311, 12, long + "-12"},
		{long, mqttmodel.ProtocolV31, 12, long[:20] + "-12"},
		{"a", mqttmodel.ProtocolV31, 3, "a-3"},
	} {
		got := instanceClientID(mqttmodel.BrokerConfig{ClientID: c.id, Protocol: c.protocol}, c.instance)
		if got != c.want {
			t.Errorf("%q v%d instance %d: %q, want %q", c.id, c.protocol, c.instance, got, c.want)
		}
	}
}

// counter counts the messages a test client receives, by payload.
type counter struct {
	mu   sync.Mutex
	seen map[string]int
}

func (c *counter) handler(_ paho.Client, m paho.Message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen[string(m.Payload())]++
}

func (c *counter) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, k := range c.seen {
		n += k
	}
	return n
}

// TestSharedGroupAlone, on MQTT 3.1.1 and 5, without a cluster: a broker
// with a shared group connects with its own client id and subscribes
// $share/<group>/<filter>. Alone in the group it gets every message, as
// a plain subscriber does; once another client joins the group Mosquitto
// splits the messages between the two while the plain subscriber still
// gets them all (the filter on the wire is the shared one), and routing
// still links each stored message to its subscription record.
// Unsubscribing removes the $share filter.
func TestSharedGroupAlone(t *testing.T) {
	for _, protocol := range []string{"MQTTv311", "MQTTv5"} {
		t.Run(protocol, func(t *testing.T) { testSharedGroupAlone(t, protocol) })
	}
}

func testSharedGroupAlone(t *testing.T, protocol string) {
	modelstest.CheckLeaks(t)
	mq := startMosquitto(t, testmqtt.Options{})
	h := newHarness(t, "sqlite", Options{})
	b := h.broker(mq.Port(), map[string]any{"protocol": protocol, "client_id": "alone", "shared_group": "ingest", "clean_session": false})
	start := time.Now()
	h.call("mqtt.service", "start_mqtt_service")
	h.waitConnected(b, start)
	sub := h.subscription(b, "meter/+", 1)
	if d := h.daemon(b); d.ClientID != "alone" {
		t.Errorf("client id %q alone, want the broker's", d.ClientID)
	}

	plain := &counter{seen: map[string]int{}}
	watcher := testmqtt.Connect(t, mq.URL(), "watcher", nil)
	if err := testmqtt.Wait(watcher.Subscribe("meter/+", 1, plain.handler)); err != nil {
		t.Fatal(err)
	}
	pub := testmqtt.Connect(t, mq.URL(), "meter", nil)
	const n = 100
	send := func(from int) {
		for i := from; i < from+n; i++ {
			testmqtt.Publish(t, pub, "meter/a", 1, false, fmt.Sprint(i))
		}
	}

	send(0)
	testkit.Eventually(t, 15*time.Second, "every message stored, the only member of the group", func() bool {
		return h.count([]any{"topic", "=", "meter/a"}) == n
	})
	for _, r := range h.history([]any{"topic", "=", "meter/a"}) {
		if r.Sub != sub {
			t.Fatalf("row %+v not linked to subscription %d", r, sub)
		}
	}

	// Another member of the group: the broker splits the messages.
	other := &counter{seen: map[string]int{}}
	member := testmqtt.Connect(t, mq.URL(), "member", nil)
	if err := testmqtt.Wait(member.Subscribe("$share/ingest/meter/+", 1, other.handler)); err != nil {
		t.Fatal(err)
	}
	send(n)
	testkit.Eventually(t, 15*time.Second, "the second batch split between the group's members", func() bool {
		return h.count([]any{"topic", "=", "meter/a"})-n+int64(other.total()) == n
	})
	testkit.Eventually(t, 10*time.Second, "the plain subscriber got everything", func() bool { return plain.total() == 2*n })
	stored := h.count([]any{"topic", "=", "meter/a"}) - n
	if stored == 0 || other.total() == 0 {
		t.Errorf("the group did not share: the daemon stored %d, the other member got %d", stored, other.total())
	}
	seen := map[string]int{}
	for _, r := range h.history([]any{"topic", "=", "meter/a"}) {
		seen[r.Payload]++
	}
	for p, k := range other.seen {
		seen[p] += k
	}
	for i := range 2 * n {
		if seen[fmt.Sprint(i)] != 1 {
			t.Errorf("message %d: stored or received %d times", i, seen[fmt.Sprint(i)])
		}
	}
	if d := h.daemon(b); d.State != mqttmodel.StateConnected {
		t.Errorf("daemon %+v", d)
	}

	// Unsubscribed, the daemon leaves the group: the other member gets
	// the next messages.
	h.call("mqtt.subscription", "unsubscribe", []any{sub})
	before := other.total()
	send(2 * n)
	testkit.Eventually(t, 10*time.Second, "the other member gets every message", func() bool { return other.total()-before == n })
	if got := h.count([]any{"topic", "=", "meter/a"}); got != n+stored {
		t.Errorf("%d rows after the unsubscribe, want %d", got, n+stored)
	}
}
