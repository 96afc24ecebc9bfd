package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testmqtt"
)

func testEmbeddedBroker(t *testing.T, addr string) (*embeddedBroker, *testkit.Buffer) {
	t.Helper()
	return testPinnedBroker(t, addr, 0)
}

// testPinnedBroker starts the embedded broker on addr with a pinned
// fallback port, its logs in JSON.
func testPinnedBroker(t *testing.T, addr string, pinned int) (*embeddedBroker, *testkit.Buffer) {
	t.Helper()
	logs := &testkit.Buffer{}
	b, err := startEmbeddedBroker(addr, pinned, slog.New(slog.NewJSONHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.close)
	return b, logs
}

// TestEmbeddedBrokerPortTaken: a taken port makes the broker listen on a
// free one of the same host, said once in a warning.
func TestEmbeddedBrokerPortTaken(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	b, logs := testEmbeddedBroker(t, busy.Addr().String())
	if b.addr() == busy.Addr().String() || b.host != "127.0.0.1" {
		t.Fatalf("broker on %s, the taken address is %s", b.addr(), busy.Addr())
	}
	var warns int
	for _, line := range strings.Split(logs.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["level"] == "WARN" {
			warns++
			if rec["addr"] != b.addr() || rec["wanted"] != busy.Addr().String() {
				t.Errorf("warning %v", rec)
			}
		}
	}
	if warns != 1 {
		t.Errorf("%d warnings, want 1:\n%s", warns, logs)
	}
	testmqtt.Connect(t, "tcp://"+b.addr(), "port-taken-client", nil) // it serves MQTT there

	// A wildcard host is reached on the loopback address.
	b2, _ := testEmbeddedBroker(t, ":0")
	if b2.host != "127.0.0.1" {
		t.Errorf("host for :0 = %q", b2.host)
	}
}

// warnings returns the WARN records of a JSON log.
func warnings(logs *testkit.Buffer) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(logs.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["level"] == "WARN" {
			out = append(out, rec)
		}
	}
	return out
}

// TestEmbeddedBrokerPinnedPort: with the wanted port taken, the broker
// listens on the pinned fallback port when it is free (and says so), on
// a new free port when it is taken too (said as such, with the pinned
// port); with the wanted port free it listens there.
func TestEmbeddedBrokerPinnedPort(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := busy.Addr().(*net.TCPAddr).Port
	for _, tc := range []struct {
		name         string
		wanted       func() string
		pinned       func() int
		wantFallback bool
		samePort     bool   // listens on the pinned port
		warn         string // the warning's start, "" for none
	}{
		{"pinned port free", func() string { return busy.Addr().String() }, func() int { return testmqtt.FreePort(t) }, true, true,
			"Embedded MQTT broker: address in use, listening on the pinned fallback port"},
		{"pinned port taken too", func() string { return busy.Addr().String() }, func() int { return busyPort }, true, false,
			"Embedded MQTT broker: address in use and the pinned fallback port too"},
		{"wanted port free", func() string { return fmt.Sprintf("127.0.0.1:%d", testmqtt.FreePort(t)) }, func() int { return testmqtt.FreePort(t) }, false, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wanted, pinned := tc.wanted(), tc.pinned()
			b, logs := testPinnedBroker(t, wanted, pinned)
			if b.fallback != tc.wantFallback || (b.port == pinned) != tc.samePort || (!tc.wantFallback && b.addr() != wanted) {
				t.Errorf("on %s (fallback %v), wanted %s, pinned %d", b.addr(), b.fallback, wanted, pinned)
			}
			w := warnings(logs)
			switch {
			case tc.warn == "" && len(w) != 0:
				t.Errorf("warnings %v", w)
			case tc.warn != "" && (len(w) != 1 || !strings.HasPrefix(fmt.Sprint(w[0]["msg"]), tc.warn) || w[0]["wanted"] != wanted):
				t.Errorf("warnings %v, want one starting %q", w, tc.warn)
			case !tc.samePort && tc.wantFallback && w[0]["pinned_port"] != float64(pinned):
				t.Errorf("warning %v does not name the pinned port %d", w[0], pinned)
			}
			testmqtt.Connect(t, "tcp://"+b.addr(), "pinned-client", nil)
		})
	}
}

// TestEmbeddedBrokerPacketIDs: while the broker has QoS 1 messages in
// flight to a client (unacknowledged, as a listener that acknowledges after
// commit leaves them), the client's SUBSCRIBE, UNSUBSCRIBE and QoS 1
// PUBLISH reuse those ids. mochi v2.7.9 alone refuses the SUBSCRIBE (0x91)
// and forgets its own in-flight message; the packetIDHook prevents both.
func TestEmbeddedBrokerPacketIDs(t *testing.T) {
	b, logs := testEmbeddedBroker(t, "127.0.0.1:0")
	pub := testmqtt.Connect(t, "tcp://"+b.addr(), "ids-publisher", nil)
	const n = 5
	for i := 1; i <= n; i++ {
		testmqtt.Publish(t, pub, fmt.Sprintf("r/%d", i), 1, true, "retained")
	}
	pub.Disconnect(100)

	var got atomic.Int32
	held := make(chan paho.Message, 10*n)
	c := testmqtt.Connect(t, "tcp://"+b.addr(), "ids-client", func(o *paho.ClientOptions) { o.SetAutoAckDisabled(true) })
	subscribe := func(filter string) byte {
		t.Helper()
		tok := c.Subscribe(filter, 1, func(_ paho.Client, m paho.Message) { got.Add(1); held <- m })
		if err := testmqtt.Wait(tok); err != nil {
			t.Fatal(err)
		}
		return tok.(*paho.SubscribeToken).Result()[filter]
	}
	if code := subscribe("r/#"); code != 1 {
		t.Fatalf("SUBACK r/# = %#x", code)
	}
	// At least once: a retained message may come twice.
	testkit.Eventually(t, 5*time.Second, "the retained messages", func() bool { return got.Load() >= n })
	base := atomic.LoadInt64(&b.srv.Info.Inflight)
	if base < n {
		t.Fatalf("broker in flight = %d, want at least %d", base, n)
	}
	// paho's next ids (2, 3, 4) are ids of the broker's unacknowledged messages.
	if code := subscribe("x/#"); code != 1 {
		t.Errorf("SUBACK x/# with a clashing id = %#x, want 1", code)
	}
	if err := testmqtt.Wait(c.Publish("y/1", 1, false, "up")); err != nil {
		t.Errorf("QoS 1 publish with a clashing id: %v", err)
	}
	if err := testmqtt.Wait(c.Unsubscribe("x/#")); err != nil {
		t.Errorf("unsubscribe with a clashing id: %v", err)
	}
	if inflight := atomic.LoadInt64(&b.srv.Info.Inflight); inflight < base {
		t.Errorf("broker in flight after the clashes = %d, want %d (none forgotten)", inflight, base)
	}
	testkit.Eventually(t, 5*time.Second, "the acknowledgements", func() bool {
		for len(held) > 0 {
			(<-held).Ack()
		}
		return atomic.LoadInt64(&b.srv.Info.Inflight) == 0
	})
	if bytes.Contains([]byte(logs.String()), []byte(`"level":"ERROR"`)) {
		t.Errorf("broker errors:\n%s", logs)
	}
}
