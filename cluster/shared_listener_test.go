package cluster

import (
	"fmt"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testmqtt"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
	mqttmodel "github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// received counts what a test client gets, by payload.
type received struct {
	mu   sync.Mutex
	seen map[string]int
	n    int
}

func (r *received) handler(_ paho.Client, m paho.Message) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen[string(m.Payload())]++
	r.n++
}

func (r *received) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

// TestSharedGroupAcrossInstances, on MQTT 3.1.1 and 5: three instances,
// each with its Coordinator, one PostgreSQL database, one Mosquitto and a
// broker with a shared group and a persistent session. Every instance
// runs the broker's daemon (its own client id), the broker spreads the
// messages over them: each stores a share, the total is what was
// published, nothing twice, while a plain subscriber gets everything. A
// subscription subscribed on one instance is subscribed by all three; one
// unsubscribed on another leaves the group on all three.
func TestSharedGroupAcrossInstances(t *testing.T) {
	for _, protocol := range []string{"MQTTv311", "MQTTv5"} {
		t.Run(protocol, func(t *testing.T) { testSharedGroup(t, protocol) })
	}
}

func testSharedGroup(t *testing.T, protocol string) {
	modelstest.CheckLeaks(t)
	mq := testmqtt.Start(t, testmqtt.Options{})
	dsn := pgDSN(t)
	ins := []*instance{openInstance(t, dsn), openInstance(t, dsn), openInstance(t, dsn)}
	a := ins[0]
	id := a.call("mqtt.broker", "create", map[string]any{"name": "hot", "host": "127.0.0.1", "port": fmt.Sprint(mq.Port()),
		"client_id": "hot", "protocol": protocol, "shared_group": "ingest", "clean_session": false,
		"connect_timeout": int64(3), "reconnect_initial": 0.2, "reconnect_max": 1.0}).(int64)
	meter := a.call("mqtt.subscription", "create", map[string]any{"broker_id": id, "topic": "meter/+", "qos": int64(1)}).(int64)
	a.setEnabled(meter, true)
	cos := make([]*Coordinator, len(ins))
	for i, in := range ins {
		cos[i] = in.runWithCoordinator(dsn, 301+i)
	}
	a.call("mqtt.service", "start_mqtt_service")
	testkit.Eventually(t, 20*time.Second, "a daemon connected on every instance", func() bool {
		for _, in := range ins {
			if !in.connected(id) {
				return false
			}
		}
		return true
	})
	owners := 0
	for _, c := range cos {
		if c.Owns(id) {
			owners++
		}
	}
	if owners != 1 {
		t.Fatalf("%d owners of the shared broker, want 1", owners)
	}
	// Each instance's status shows its own daemon, on its own client id.
	for i, in := range ins {
		want := fmt.Sprintf("hot-%d", cos[i].Self().ID)
		if d, _ := in.daemon(id); d.ClientID != want {
			t.Errorf("instance %d: daemon client id %q, want %q", i, d.ClientID, want)
		}
		rows := in.call("mqtt.service", "get_listener_status").([]any)
		if len(rows) != 1 {
			t.Fatalf("instance %d: listener status %v", i, rows)
		}
		if cid, _ := rows[0].(*models.Dict).Get("client_id"); cid != want {
			t.Errorf("instance %d: listener status client_id %v, want %q", i, cid, want)
		}
	}

	in := func(i int) uint64 { d, _ := ins[i].daemon(id); return d.MessagesIn }
	ins3 := func() [3]uint64 { return [3]uint64{in(0), in(1), in(2)} }
	watcher := testmqtt.Connect(t, mq.URL(), "watcher", nil)
	plain := &received{seen: map[string]int{}}
	if err := testmqtt.Wait(watcher.Subscribe("meter/+", 1, plain.handler)); err != nil {
		t.Fatal(err)
	}
	pub := testmqtt.Connect(t, mq.URL(), "meter", nil)

	// Sent without waiting for each PUBACK: a stream.
	const n = 600
	testmqtt.PublishStream(t, pub, "meter/a", 1, n)
	testkit.Eventually(t, 30*time.Second, "every message stored", func() bool { return a.historyCount("meter/a") >= n })
	testkit.Eventually(t, 10*time.Second, "the plain subscriber got everything", func() bool { return plain.count() == n })
	share := ins3()
	if share[0]+share[1]+share[2] != n {
		t.Errorf("the daemons received %v, %d in all, want %d", share, share[0]+share[1]+share[2], n)
	}
	for i, k := range share {
		if k == 0 {
			t.Errorf("instance %d received nothing of the group's messages: %v", i, share)
		}
	}
	var dupes, unlinked int64
	if err := db(t, dsn).QueryRow(t.Context(),
		`SELECT count(*) - count(DISTINCT payload), count(*) FILTER (WHERE subscription_id IS DISTINCT FROM $1) FROM mqtt_signal_history WHERE topic = 'meter/a'`,
		meter).Scan(&dupes, &unlinked); err != nil {
		t.Fatal(err)
	}
	if got := a.historyCount("meter/a"); got != n || dupes != 0 || unlinked != 0 {
		t.Errorf("%d rows stored, %d duplicates, %d not linked to the subscription; want %d, 0, 0", got, dupes, unlinked, n)
	}
	t.Logf("%s: %d messages shared as %v", protocol, n, share)

	// Subscribed on the third instance: every instance subscribes it.
	alarm := ins[2].call("mqtt.subscription", "create", map[string]any{"broker_id": id, "topic": "alarm/#", "qos": int64(1)}).(int64)
	ins[2].call("mqtt.subscription", "subscribe", []any{alarm})
	base := ins3()
	probe := 0
	testkit.Eventually(t, 20*time.Second, "every instance receiving the new subscription's messages", func() bool {
		for range 6 {
			testmqtt.Publish(t, pub, "alarm/x", 1, false, fmt.Sprint("probe ", probe))
			probe++
		}
		time.Sleep(100 * time.Millisecond)
		now := ins3()
		return now[0] > base[0] && now[1] > base[1] && now[2] > base[2]
	})
	testkit.Eventually(t, 10*time.Second, "the probes stored", func() bool { return a.historyCount("alarm/x") == int64(probe) })

	// Unsubscribed on the second instance: every instance leaves the
	// group for that filter, so another member of it gets everything.
	member := testmqtt.Connect(t, mq.URL(), "member", nil)
	other := &received{seen: map[string]int{}}
	if err := testmqtt.Wait(member.Subscribe("$share/ingest/meter/+", 1, other.handler)); err != nil {
		t.Fatal(err)
	}
	ins[1].call("mqtt.subscription", "unsubscribe", []any{meter})
	testkit.Eventually(t, 20*time.Second, "the daemons out of the meter group", func() bool {
		from := other.count()
		for i := range 12 {
			testmqtt.Publish(t, pub, "meter/b", 1, false, fmt.Sprint("probe ", probe, " ", i))
		}
		probe++
		time.Sleep(100 * time.Millisecond)
		return other.count()-from == 12
	})
	stored := a.historyCount("meter/b")
	from := other.count()
	for i := range 50 {
		testmqtt.Publish(t, pub, "meter/b", 1, false, fmt.Sprint("after ", i))
	}
	testkit.Eventually(t, 10*time.Second, "the other member got every message", func() bool { return other.count()-from == 50 })
	if got := a.historyCount("meter/b"); got != stored {
		t.Errorf("%d meter/b rows after the unsubscribe settled, then %d: stored after the unsubscribe", stored, got)
	}
	for _, in := range ins {
		if d, _ := in.daemon(id); d.State != mqttmodel.StateConnected {
			t.Errorf("daemon %+v", d)
		}
	}

	// The subscription's topic edited on the first instance: every
	// instance moves to the new filter.
	a.call("mqtt.subscription", "write", []any{alarm}, map[string]any{"topic": "alarm2/#"})
	base = ins3()
	testkit.Eventually(t, 20*time.Second, "every instance receiving the edited subscription's messages", func() bool {
		for range 6 {
			testmqtt.Publish(t, pub, "alarm2/x", 1, false, fmt.Sprint("probe ", probe))
			probe++
		}
		time.Sleep(100 * time.Millisecond)
		now := ins3()
		return now[0] > base[0] && now[1] > base[1] && now[2] > base[2]
	})
	old := a.historyCount("alarm/x")
	for i := range 30 {
		testmqtt.Publish(t, pub, "alarm/x", 1, false, fmt.Sprint("old topic ", i))
	}
	testmqtt.Publish(t, pub, "alarm2/x", 1, false, "marker")
	testkit.Eventually(t, 10*time.Second, "the marker stored", func() bool {
		return a.call("mqtt.signal.history", "search_count", []any{[]any{"payload", "=", "marker"}}).(int64) == 1
	})
	time.Sleep(300 * time.Millisecond) // the old topic's messages, were any still subscribed, are as far as the marker
	if got := a.historyCount("alarm/x"); got != old {
		t.Errorf("%d alarm/x rows after the topic moved, then %d", old, got)
	}

	// The third instance shuts down: it ends its persistent session, so
	// the broker queues nothing more for it and the two others get
	// every message.
	ins[2].stop()
	stored = a.historyCount("alarm2/x")
	base = ins3()
	const m = 60
	for i := range m {
		testmqtt.Publish(t, pub, "alarm2/x", 1, false, fmt.Sprint("after shutdown ", i))
	}
	testkit.Eventually(t, 15*time.Second, "every message stored by the two instances left", func() bool {
		return a.historyCount("alarm2/x") == stored+m
	})
	now := ins3()
	if now[0] == base[0] || now[1] == base[1] || now[0]+now[1]-base[0]-base[1] != m {
		t.Errorf("the two instances left received %v then %v, want %d shared", base, now, m)
	}
}

// TestSharedDaemonFollowsCoordination: an instance whose lock connection
// is cut stops its shared daemons too, until it is back: left running,
// they would keep the session the others then drain as a dead
// instance's. Back, it resumes the session with the same client id, and
// nothing published meanwhile is lost.
func TestSharedDaemonFollowsCoordination(t *testing.T) {
	modelstest.CheckLeaks(t)
	mq := testmqtt.Start(t, testmqtt.Options{})
	dsn := pgDSN(t)
	a, b := openInstance(t, dsn), openInstance(t, dsn)
	id := a.call("mqtt.broker", "create", map[string]any{"name": "hot", "host": "127.0.0.1", "port": fmt.Sprint(mq.Port()),
		"client_id": "hot", "shared_group": "ingest", "clean_session": false,
		"connect_timeout": int64(3), "reconnect_initial": 0.2, "reconnect_max": 1.0}).(int64)
	meter := a.call("mqtt.subscription", "create", map[string]any{"broker_id": id, "topic": "meter/+", "qos": int64(1)}).(int64)
	a.setEnabled(meter, true)
	a.runWithCoordinator(dsn, 401)
	cb := b.runWithCoordinator(dsn, 402)
	a.call("mqtt.service", "start_mqtt_service")
	testkit.Eventually(t, 20*time.Second, "a daemon connected on both instances", func() bool { return a.connected(id) && b.connected(id) })
	clientID := fmt.Sprintf("hot-%d", cb.Self().ID)

	cut := time.Now()
	var killed bool
	if err := db(t, dsn).QueryRow(t.Context(), `SELECT pg_terminate_backend(backend_pid) FROM mqtt_instance WHERE id = $1`,
		cb.Self().ID).Scan(&killed); err != nil || !killed {
		t.Fatalf("terminate: %v %v", killed, err)
	}
	testkit.Eventually(t, 20*time.Second, "b's shared daemon stopped and connected again", func() bool {
		d, ok := b.daemon(id)
		return ok && b.connected(id) && d.ConnectedAt.After(cut)
	})
	if d, _ := b.daemon(id); d.ClientID != clientID {
		t.Errorf("b's daemon came back as %q, want %q (its session)", d.ClientID, clientID)
	}
	pub := testmqtt.Connect(t, mq.URL(), "meter", nil)
	const n = 200
	testmqtt.PublishStream(t, pub, "meter/a", 1, n)
	testkit.Eventually(t, 30*time.Second, "every message stored", func() bool { return a.historyCount("meter/a") >= n })
	var dupes int64
	if err := db(t, dsn).QueryRow(t.Context(), `SELECT count(*) - count(DISTINCT payload) FROM mqtt_signal_history WHERE topic = 'meter/a'`).Scan(&dupes); err != nil {
		t.Fatal(err)
	}
	if got := a.historyCount("meter/a"); got != n || dupes != 0 {
		t.Errorf("%d rows, %d duplicates; want %d, 0", got, dupes, n)
	}
}
