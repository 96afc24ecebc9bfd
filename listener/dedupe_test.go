package listener

import (
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testmqtt"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
)

// connCutter cuts a daemon's connection right after the writer committed
// the first batch holding a message on its topic, before any of it is
// acknowledged: what a connection (or an instance) dying between commit
// and PUBACK leaves behind. It records what the cut session had
// committed, which the broker then redelivers with DUP.
type connCutter struct {
	topic string

	mu        sync.Mutex
	conns     map[*session]net.Conn // each daemon connection, by its session
	cut       *session              // the session whose connection was cut
	committed map[string]bool
}

func (c *connCutter) wrap(conn net.Conn) net.Conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.conns[conn.(*limitConn).ss] = conn
	return conn
}

func (c *connCutter) afterCommit(batch []item) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range batch {
		it := &batch[i]
		if it.msg.topic != c.topic || it.msg.qos == 0 {
			continue
		}
		if c.cut == nil {
			c.cut = it.sess
			_ = c.conns[it.sess].Close()
		}
		if it.sess == c.cut {
			c.committed[string(it.msg.payload)] = true
		}
	}
}

func (c *connCutter) redelivered() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.committed)
}

// TestRedeliveryNotStoredTwice, on each database and on MQTT 3.1.1 and 5,
// with a persistent session at QoS 1: the daemon's connection is cut
// after a commit and before its acknowledgements, the daemon resumes the
// session, and Mosquitto redelivers the unacknowledged messages with DUP
// and their packet ids. Every message is stored exactly once, and the
// duplicates metric counts the redelivered messages that had been stored.
// The same payload published twice on one topic (two packet ids) is
// stored twice.
func TestRedeliveryNotStoredTwice(t *testing.T) {
	for _, kind := range modelstest.Kinds(t) {
		for _, protocol := range []string{"MQTTv311", "MQTTv5"} {
			t.Run(kind+"/"+protocol, func(t *testing.T) { testRedelivery(t, kind, protocol) })
		}
	}
}

func testRedelivery(t *testing.T, kind, protocol string) {
	modelstest.CheckLeaks(t)
	mq := startMosquitto(t, testmqtt.Options{})
	cut := &connCutter{topic: "meter/a", committed: map[string]bool{}, conns: map[*session]net.Conn{}}
	h := newHarness(t, kind, Options{afterCommit: cut.afterCommit, wrapConn: cut.wrap})
	// A short keepalive: paho.mqtt.golang does not always notice a
	// socket closed under its reader (seen about one run in three here);
	// its keepalive then reports the loss within a few seconds.
	b := h.broker(mq.Port(), map[string]any{"clean_session": false, "client_id": "dedupe-" + kind, "protocol": protocol, "keepalive": int64(2)})
	start := time.Now()
	h.call("mqtt.service", "start_mqtt_service")
	h.waitConnected(b, start)
	h.subscription(b, "meter/#", 1)
	dev := testmqtt.Connect(t, mq.URL(), "meter", nil)

	// Published without waiting for each PUBACK, so that Mosquitto has
	// a window of messages in flight when the connection is cut.
	const n = 300
	testmqtt.PublishStream(t, dev, "meter/a", 1, n)
	testkit.Eventually(t, 30*time.Second, "every message stored", func() bool {
		return h.count([]any{"topic", "=", "meter/a"}) >= n
	})
	want := cut.redelivered()
	if want == 0 {
		t.Fatal("the connection was never cut after a commit")
	}
	testkit.Eventually(t, 20*time.Second, "the redeliveries dropped", func() bool {
		return h.metric("odoo_iot_mqtt_duplicates_dropped_total") >= float64(want)
	})
	// The same payload twice on one topic: two messages, two rows. Also
	// a marker: once it is stored, every redelivery was handled.
	testmqtt.Publish(t, dev, "meter/b", 1, false, "same")
	testmqtt.Publish(t, dev, "meter/b", 1, false, "same")
	testkit.Eventually(t, 10*time.Second, "both copies stored", func() bool {
		return h.count([]any{"topic", "=", "meter/b"}) >= 2
	})

	seen := map[string]int{}
	for _, r := range h.history([]any{"topic", "=", "meter/a"}) {
		seen[r.Payload]++
	}
	for i := range n {
		if c := seen[fmt.Sprint(i)]; c != 1 {
			t.Errorf("message %d stored %d times", i, c)
		}
	}
	if got := h.count([]any{"topic", "=", "meter/a"}); got != n {
		t.Errorf("%d rows, want %d", got, n)
	}
	if got := h.count([]any{"topic", "=", "meter/b"}); got != 2 {
		t.Errorf("%d rows of the payload sent twice, want 2", got)
	}
	if got := h.metric("odoo_iot_mqtt_duplicates_dropped_total"); got != float64(want) {
		t.Errorf("duplicates dropped %v, want the %d committed and unacknowledged messages", got, want)
	}
	if got := h.metric("odoo_iot_mqtt_reconnects_total"); got < 1 {
		t.Errorf("reconnects %v: the session was not resumed", got)
	}
	t.Logf("%d messages committed and not acknowledged when the connection was cut, all redelivered and dropped", want)
}
