package cluster

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testmqtt"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
)

// The environment of TestSharedDrainChild's process.
const (
	childDSN = "ODOO_IOT_MQTT_TEST_CHILD_DSN"
	childPID = "ODOO_IOT_MQTT_TEST_CHILD_PID"
)

// TestSharedDrainChild is the instance TestSharedDrainAfterCrash kills:
// that test runs it in a process of its own (this test binary), and
// otherwise it does nothing. It runs a Service and a Coordinator until
// killed, or for three minutes at most should its parent be gone.
func TestSharedDrainChild(t *testing.T) {
	dsn := os.Getenv(childDSN)
	if dsn == "" {
		return
	}
	pid, err := strconv.Atoi(os.Getenv(childPID))
	if err != nil {
		t.Fatal(err)
	}
	in := openInstance(t, dsn)
	in.runWithCoordinator(dsn, pid)
	in.call("mqtt.service", "start_mqtt_service") // as the server does at boot when the service runs
	fmt.Println("child instance running")
	time.Sleep(3 * time.Minute)
}

// startChild runs TestSharedDrainChild as instance pid on dsn and returns
// its process, killed at the end of the test if still running.
func startChild(t *testing.T, dsn string, pid int) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestSharedDrainChild$", "-test.v")
	cmd.Env = append(os.Environ(), childDSN+"="+dsn, childPID+"="+strconv.Itoa(pid))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		if t.Failed() {
			t.Logf("child instance output:\n%s", out.String())
		}
	})
	return cmd
}

// TestSharedDrainAfterCrash, on MQTT 3.1.1 and 5: three instances on a
// broker with a shared group, persistent sessions and QoS 1; the third
// is a process of its own, killed with SIGKILL, so that it neither leaves
// the cluster nor ends its session at Mosquitto, which then queues its
// share of the group's messages. The broker's owner among the two left
// drains that session under the dead instance's client id: every message
// published after the kill is stored exactly once, and the dead client
// id has no session left. The dead instance is a member of the group,
// or (first) its owner too: the new owner drains it once it claimed it.
func TestSharedDrainAfterCrash(t *testing.T) {
	for _, protocol := range []string{"MQTTv311", "MQTTv5"} {
		for _, first := range []bool{false, true} {
			name := protocol + "/member"
			if first {
				name = protocol + "/owner"
			}
			t.Run(name, func(t *testing.T) { testSharedDrain(t, protocol, first) })
		}
	}
}

func testSharedDrain(t *testing.T, protocol string, childFirst bool) {
	modelstest.CheckLeaks(t)
	mq := testmqtt.Start(t, testmqtt.Options{})
	dsn := pgDSN(t)
	a, b := openInstance(t, dsn), openInstance(t, dsn)
	id := a.call("mqtt.broker", "create", map[string]any{"name": "hot", "host": "127.0.0.1", "port": fmt.Sprint(mq.Port()),
		"client_id": "hot", "protocol": protocol, "shared_group": "ingest", "clean_session": false,
		"connect_timeout": int64(3), "reconnect_initial": 0.2, "reconnect_max": 1.0}).(int64)
	meter := a.call("mqtt.subscription", "create", map[string]any{"broker_id": id, "topic": "meter/+", "qos": int64(1)}).(int64)
	a.setEnabled(meter, true)
	conn := db(t, dsn)
	var child *exec.Cmd
	var dead int64
	runChild := func() {
		child = startChild(t, dsn, 403)
		testkit.Eventually(t, 60*time.Second, "the child instance registered", func() bool {
			return conn.QueryRow(t.Context(), `SELECT id FROM mqtt_instance WHERE pid = 403`).Scan(&dead) == nil
		})
	}
	if childFirst {
		runChild()
		testkit.Eventually(t, 20*time.Second, "the child instance owning the broker", func() bool {
			var owner int64
			return conn.QueryRow(t.Context(), `SELECT instance_id FROM mqtt_broker_owner WHERE broker_id = $1`, id).Scan(&owner) == nil && owner == dead
		})
	}
	ca := a.runWithCoordinator(dsn, 401)
	cb := b.runWithCoordinator(dsn, 402)
	a.call("mqtt.service", "start_mqtt_service")
	if childFirst {
		// Already running: a's call started a's service only; b's, as
		// the server does at boot when the record says it runs.
		b.call("mqtt.service", "start_mqtt_service")
	} else {
		runChild()
	}
	testkit.Eventually(t, 20*time.Second, "three live instances, two daemons connected here", func() bool {
		return len(ca.Instances()) == 3 && a.connected(id) && b.connected(id)
	})

	// Probes until the child's daemon takes its share: then it is a
	// member of the group, with its persistent session.
	in := func(x *instance) uint64 { d, _ := x.daemon(id); return d.MessagesIn }
	pub := testmqtt.Connect(t, mq.URL(), "meter", nil)
	probes := 0
	testkit.Eventually(t, 60*time.Second, "the child instance receiving its share", func() bool {
		for range 6 {
			testmqtt.Publish(t, pub, "meter/p", 1, false, fmt.Sprint("probe ", probes))
			probes++
		}
		time.Sleep(200 * time.Millisecond)
		return a.historyCount("meter/p") == int64(probes) && in(a)+in(b) < uint64(probes)
	})

	// A burst, the kill amid it, another burst (the dead share waits at
	// the broker), then a stream until the drain is done: the drain must
	// come to an end under it, and lose nothing of it.
	var toks []paho.Token
	publish := func(k int) {
		for range k {
			toks = append(toks, pub.Publish("meter/a", 1, false, fmt.Sprint(len(toks))))
		}
	}
	publish(1000)
	// SIGKILL amid the burst: no DISCONNECT, no clean leave; what it
	// received and did not acknowledge (stored or not) is redelivered.
	killed := time.Now()
	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	publish(300)
	drained := func() bool {
		var k int
		return conn.QueryRow(t.Context(), `SELECT count(*) FROM mqtt_instance_drain WHERE instance_id = $1 AND broker_id = $2`, dead, id).Scan(&k) == nil && k == 1
	}
	for deadline := time.Now().Add(40 * time.Second); !drained(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the dead instance not drained after 40 s (%d messages published)", len(toks))
		}
		publish(10)
	}
	took := time.Since(killed)
	publish(100)
	for i, tok := range toks {
		if err := testmqtt.Wait(tok); err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
	}
	n := int64(len(toks))
	if !ca.Owns(id) && !cb.Owns(id) {
		t.Error("no instance left owns the broker")
	}
	testkit.Eventually(t, 20*time.Second, "every message stored", func() bool { return a.historyCount("meter/a") >= n })
	time.Sleep(500 * time.Millisecond) // a duplicate, were one coming, is as far
	var rows, distinct int64
	if err := conn.QueryRow(t.Context(), `SELECT count(*), count(DISTINCT payload) FROM mqtt_signal_history WHERE topic = 'meter/a'`).
		Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	if rows != n || distinct != n {
		t.Errorf("%d rows stored, %d distinct; want %d of each", rows, distinct, n)
	}
	t.Logf("%s: %d messages published from before the kill to after the drain, all stored once; drained %v after the kill",
		protocol, n, took.Round(100*time.Millisecond))

	// The dead client id's session is gone: resuming it finds none.
	opts := paho.NewClientOptions().AddBroker(mq.URL()).SetClientID(fmt.Sprintf("hot-%d", dead)).SetCleanSession(false)
	c := paho.NewClient(opts)
	tok := c.Connect()
	if err := testmqtt.Wait(tok); err != nil {
		t.Fatal(err)
	}
	present := tok.(*paho.ConnectToken).SessionPresent()
	c.Disconnect(0)
	if present {
		t.Errorf("the dead instance's client id hot-%d still has a session at the broker", dead)
	}

	// After the drain the two instances left get every message.
	stored := a.historyCount("meter/b")
	for i := range 60 {
		testmqtt.Publish(t, pub, "meter/b", 1, false, fmt.Sprint("after ", i))
	}
	testkit.Eventually(t, 15*time.Second, "every later message stored", func() bool { return a.historyCount("meter/b") == stored+60 })
}
