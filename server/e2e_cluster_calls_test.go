package main

// Any instance answers any call (issue 12): sends and connection checks
// issued on an instance that does not own the broker are carried out by
// its owner, through the outbox; brokers spread over the instances; the
// bus of every instance carries what any owner stores.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testmqtt"
	mqttmodel "github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// TestClusterAnyInstance runs on one cluster of 3 instances with two
// brokers (two records on one Mosquitto, two client ids).
func TestClusterAnyInstance(t *testing.T) {
	c := startCluster(t, 3)
	o := c.login(0)
	first := c.addBroker(o, "calls-a", "a", nil)
	second := c.addBroker(o, "calls-b", "b", nil)
	ids := c.instanceIDs()

	t.Run("two brokers spread over two instances", func(t *testing.T) {
		var oa, ob int
		testkit.Eventually(t, 20*time.Second, "the two brokers owned by two instances", func() bool {
			oa, ob = c.owner(first), c.owner(second)
			return oa >= 0 && ob >= 0 && oa != ob
		})
		// Each owner stores its own broker's messages.
		pub := testmqtt.Connect(t, c.mq.URL(), "e2e-spread-publisher", nil)
		testmqtt.Publish(t, pub, "a/spread", 1, false, "to a")
		testmqtt.Publish(t, pub, "b/spread", 1, false, "to b")
		testkit.Eventually(t, 15*time.Second, "a message stored per broker", func() bool {
			return c.queryInt(`SELECT count(*) FROM mqtt_signal_history WHERE direction = 'receive' AND topic IN ('a/spread', 'b/spread')`) == 2
		})
		t.Logf("broker %d owned by instance %d, broker %d by instance %d", first, oa, second, ob)
	})

	t.Run("get_instances lists the three", func(t *testing.T) {
		want := map[float64]bool{}
		for _, p := range c.procs {
			want[float64(p.cmd.Process.Pid)] = true
		}
		testkit.Eventually(t, 10*time.Second, "get_instances on the last instance listing every instance", func() bool {
			rows, _ := c.login(len(c.procs)-1).call("mqtt.service", "get_instances", nil, nil).([]any)
			got := 0
			for _, r := range rows {
				if row, _ := r.(map[string]any); want[row["pid"].(float64)] {
					got++
				}
			}
			return got == len(c.procs) && len(rows) == len(c.procs)
		})
	})

	owner := c.waitOwner(first, -1)
	other := (owner + 1) % len(c.procs)
	if c.owner(second) == other {
		other = (owner + 2) % len(c.procs) // an instance owning neither, when there is one
	}
	via := c.login(other)

	t.Run("action_send_mqtt through a non-owner", func(t *testing.T) {
		sub := testmqtt.Subscribe(t, testmqtt.Connect(t, c.mq.URL(), "e2e-device", nil), "device/lamp/set", 1)
		topic := via.create("mqtt.subscription", map[string]any{"broker_id": first, "topic": "device/lamp/set", "qos": 1})
		sig := via.create("mqtt.signal", map[string]any{"broker_id": first, "subscription_id": topic, "payload": "on via a non-owner", "qos": 1})
		if res := via.call("mqtt.signal", "action_send_mqtt", []any{[]any{sig}}, nil); res != true {
			t.Fatalf("action_send_mqtt on instance %d = %v", other, res)
		}
		msg := testmqtt.Receive(t, sub, 10*time.Second, "the signal at the device")
		if string(msg.Payload()) != "on via a non-owner" {
			t.Fatalf("device got %q", msg.Payload())
		}
		c.forwarded(t, "publish", ids[other], ids[owner])
		if n := via.count("mqtt.signal.history", []any{[]any{"signal_id", "=", sig}, []any{"direction", "=", "send"}}); n != 1 {
			t.Fatalf("%d send rows, want 1", n)
		}
	})

	t.Run("action_publish through a non-owner", func(t *testing.T) {
		// Publish anything (issue 13) takes the signal's way: forwarded to
		// the owner, the exact bytes at the device, one send row.
		done := `SELECT count(*) FROM mqtt_outbox WHERE kind = 'publish' AND caller = $1 AND claimed_by = $2 AND state = 'done'`
		before := c.queryInt(done, ids[other], ids[owner])
		sub := testmqtt.Subscribe(t, testmqtt.Connect(t, c.mq.URL(), "e2e-raw-device", nil), "device/raw/#", 1)
		via.call("mqtt.broker", "action_publish", []any{[]any{first}, "device/raw/blob", "00 ff 10", "hex", 1}, nil)
		if msg := testmqtt.Receive(t, sub, 10*time.Second, "the published bytes at the device"); string(msg.Payload()) != "\x00\xff\x10" {
			t.Fatalf("device got %q", msg.Payload())
		}
		if n := c.queryInt(done, ids[other], ids[owner]); n != before+1 {
			t.Fatalf("%d publish calls forwarded from instance %d to %d, want %d", n, ids[other], ids[owner], before+1)
		}
		if n := via.count("mqtt.signal.history", []any{[]any{"topic", "=", "device/raw/blob"}, []any{"direction", "=", "send"}}); n != 1 {
			t.Fatalf("%d send rows, want 1", n)
		}
	})

	t.Run("check_connection through a non-owner", func(t *testing.T) {
		res, _ := via.call("mqtt.broker", "check_connection", []any{[]any{first}}, nil).(map[string]any)
		if params, _ := res["params"].(map[string]any); params["type"] != "success" {
			t.Fatalf("check_connection on instance %d = %v", other, res)
		}
		c.forwarded(t, "check_connection", ids[other], ids[owner])
	})

	t.Run("an error answer through a non-owner", func(t *testing.T) {
		// A broker nobody listens on: its owner's check fails, and the
		// caller gets that failure, not a timeout.
		bad := via.create("mqtt.broker", map[string]any{"name": "calls-bad", "host": testmqtt.Host, "port": strconv.Itoa(testmqtt.FreePort(t)),
			"client_id": "oim-calls-bad", "connect_timeout": 2})
		badOwner := c.waitOwner(bad, -1)
		asker := (badOwner + 1) % len(c.procs)
		// The asker learns the new broker's owner on its next claim round
		// (1 s); until then it finds no owner and checks by itself, with
		// the same answer, so the check is repeated until forwarded.
		asking := c.login(asker)
		sql := `SELECT count(*) FROM mqtt_outbox WHERE kind = 'check_connection' AND broker_id = $1 AND caller = $2 AND claimed_by = $3 AND state = 'error'`
		testkit.Eventually(t, 10*time.Second, "a check_connection of the dead broker forwarded to its owner", func() bool {
			_, err := asking.try("mqtt.broker", "check_connection", []any{[]any{bad}}, nil)
			if err == nil || !strings.Contains(err.Error(), "Failed to connect") {
				t.Fatalf("check_connection of a dead broker on instance %d = %v, want the owner's connection failure", asker, err)
			}
			return c.queryInt(sql, bad, ids[asker], ids[badOwner]) == 1
		})
	})

	t.Run("bus on every instance", func(t *testing.T) {
		buses := make([]*busClient, len(c.procs))
		for i, p := range c.procs {
			buses[i] = newBusClient(t, p)
		}
		pub := testmqtt.Connect(t, c.mq.URL(), "e2e-bus-publisher", nil)
		testmqtt.Publish(t, pub, "a/bus", 1, false, "live-on-every-instance")
		for i, b := range buses {
			testkit.Eventually(t, 10*time.Second, fmt.Sprintf("the message on instance %d's bus", i), func() bool {
				return strings.Contains(b.peek(t), "live-on-every-instance")
			})
		}
		t.Logf("ingested by instance %d, seen on the bus of all %d instances", owner, len(c.procs))
	})
}

// instanceIDs maps each process to its mqtt_instance id.
func (c *clusterEnv) instanceIDs() []int64 {
	c.t.Helper()
	ids := make([]int64, len(c.procs))
	for i, p := range c.procs {
		ids[i] = int64(c.queryInt(`SELECT id FROM mqtt_instance WHERE pid = $1 ORDER BY id DESC LIMIT 1`, p.cmd.Process.Pid))
	}
	return ids
}

// forwarded checks that the outbox holds an answered call of kind issued
// by instance caller and carried out by instance owner.
func (c *clusterEnv) forwarded(t *testing.T, kind string, caller, owner int64) {
	t.Helper()
	n := c.queryInt(`SELECT count(*) FROM mqtt_outbox WHERE kind = $1 AND caller = $2 AND claimed_by = $3 AND state = 'done'`, kind, caller, owner)
	if n != 1 {
		t.Fatalf("%d %s calls forwarded from instance %d to %d and answered, want 1; outbox: %s", n, kind, caller, owner,
			c.dump(`SELECT id, broker_id, kind, state, caller, claimed_by, error FROM mqtt_outbox`))
	}
}

// busClient polls an instance's bus as the admin pages' fallback does
// (/websocket/peek_notifications on the realtime channel), logged in
// with a web session.
type busClient struct {
	url  string
	http *http.Client
}

func newBusClient(t *testing.T, srv *serverProc) *busClient {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &busClient{url: srv.url(), http: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
	res := postJSON(t, b.http, b.url+"/web/session/authenticate", map[string]any{"db": clusterDB, "login": "admin", "password": "pw"})
	if r, _ := res["result"].(map[string]any); r["uid"] == nil {
		t.Fatalf("web login on %s: %v", srv.addr, res)
	}
	return b
}

// peek returns the raw notifications buffered since the start.
func (b *busClient) peek(t *testing.T) string {
	t.Helper()
	body := testkit.CallBody(t, map[string]any{"channels": []string{mqttmodel.ChannelRealtime}, "last": 0})
	resp, err := b.http.Post(b.url+"/websocket/peek_notifications", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Result json.RawMessage `json:"result"`
		Error  json.RawMessage `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Error != nil {
		t.Fatalf("peek_notifications: HTTP %d, %v %s", resp.StatusCode, err, out.Error)
	}
	return string(out.Result)
}
