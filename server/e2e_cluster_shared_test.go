package main

// Hot brokers (issue 12): a broker with a shared_group is ingested by
// every instance, each with its own client id on $share/<group>/<filter>,
// and Mosquitto spreads the messages over them.

import (
	"bufio"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testmqtt"
)

// TestClusterSharedGroup: 3 instances on a broker with a shared group
// each store about a third of a QoS 1 stream (each more than 10%), and
// the stream is stored whole, once.
func TestClusterSharedGroup(t *testing.T) {
	const total = 9000
	c := startCluster(t, 3)
	o := c.login(0)
	broker := c.addBroker(o, "shared", "hot", map[string]any{"shared_group": "oim"})

	// Every instance is in the group before the stream starts (a member
	// joining late would only skew the split, not lose anything).
	c.warmGroup(t, broker, "e2e-shared-warmup")
	testkit.Eventually(t, 10*time.Second, "the warm-up stored", func() bool {
		return c.received("hot/warm") == c.receivedTotal(t, broker)
	})
	before := make([]int, len(c.procs))
	for i, p := range c.procs {
		before[i] = c.receivedBy(t, p, broker)
	}

	start := time.Now()
	s := publishStream(t, c.mq.URL(), "e2e-shared-publisher", "hot/x", total, 200)
	s.wait(t)
	testkit.Eventually(t, 60*time.Second, "the whole stream stored", func() bool { return c.received("hot/x") >= total })
	took := time.Since(start)
	time.Sleep(500 * time.Millisecond)
	c.checkStream("hot/x", total)

	sum := 0
	var split []string
	for i, p := range c.procs {
		n := c.receivedBy(t, p, broker) - before[i]
		sum += n
		split = append(split, fmt.Sprintf("instance %d: %d (%.0f%%)", i, n, 100*float64(n)/total))
		if n <= total/10 {
			t.Errorf("instance %d stored %d of %d, want more than 10%%", i, n, total)
		}
	}
	if sum != total {
		t.Errorf("the instances received %d of the stream, want %d", sum, total)
	}
	t.Logf("%d messages stored in %s: %s", total, took.Round(time.Millisecond), strings.Join(split, ", "))
}

// receivedBy is instance p's messages_received_total for broker, from
// its /metrics.
func (c *clusterEnv) receivedBy(t *testing.T, p *serverProc, broker int64) int {
	t.Helper()
	resp, err := http.Get(p.url() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	want := fmt.Sprintf(`odoo_iot_mqtt_messages_received_total{broker_id="%d"} `, broker)
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), want); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("metric %s%s", want, v)
			}
			return int(n)
		}
	}
	return 0
}

// receivedTotal sums receivedBy over the instances.
func (c *clusterEnv) receivedTotal(t *testing.T, broker int64) int {
	t.Helper()
	n := 0
	for _, p := range c.procs {
		n += c.receivedBy(t, p, broker)
	}
	return n
}

// TestClusterSharedGroupKill: one of 3 instances on a shared group is
// killed with SIGKILL mid-stream and stays down. With persistent
// sessions the broker keeps the dead member's session in the group, so
// whatever it hands that session must still end up stored by the
// survivors: stored == published, no duplicates.
func TestClusterSharedGroupKill(t *testing.T) {
	const total = 3000
	c := startCluster(t, 3)
	o := c.login(0)
	broker := c.addBroker(o, "shared-kill", "hot", map[string]any{"shared_group": "oim"})
	c.warmGroup(t, broker, "e2e-shared-kill-warmup")

	s := publishStream(t, c.mq.URL(), "e2e-shared-kill-publisher", "hot/x", total, 50)
	testkit.Eventually(t, 30*time.Second, "a third of the stream stored", func() bool { return c.received("hot/x") >= total/3 })
	c.procs[2].kill(t)
	t.Logf("killed instance 2 with %d of %d stored", c.received("hot/x"), total)
	s.wait(t)
	if !testkit.Poll(30*time.Second, func() bool { return c.received("hot/x") >= total }) {
		t.Fatalf("%d of %d stored 30 s after the stream ended: the dead member's share is not taken over", c.received("hot/x"), total)
	}
	time.Sleep(500 * time.Millisecond)
	c.checkStream("hot/x", total)
}

// warmGroup publishes warm-up messages on hot/warm (as client id) until
// every instance has received one from the broker's shared group.
func (c *clusterEnv) warmGroup(t *testing.T, broker int64, clientID string) {
	t.Helper()
	pub := testmqtt.Connect(t, c.mq.URL(), clientID, nil)
	testkit.Eventually(t, 20*time.Second, "every instance receiving from the group", func() bool {
		testmqtt.Publish(t, pub, "hot/warm", 1, false, "warm")
		for _, p := range c.procs {
			if c.receivedBy(t, p, broker) == 0 {
				return false
			}
		}
		return true
	})
}
