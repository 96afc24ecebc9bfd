package cluster

// Two listener Services on one PostgreSQL database and one Mosquitto, each
// with a Cluster made of a real Outbox and a static ownership: the calls
// made on B for A's broker are carried out by A's daemon (these tests live
// here, not in listener, because listener must not import cluster).

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testmqtt"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/listener"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
	mqttmodel "github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// owners is a static ownership, broker id -> instance id (0: none), set
// before the instances start.
type owners map[int64]int64

// staticCluster is a listener.Cluster with a fixed ownership and a real
// Outbox for the forwarded calls; announcements are not its business
// (the Coordinator's, tested with it).
type staticCluster struct {
	self    int64
	owners  owners
	out     *Outbox
	changed chan struct{}
}

func (c *staticCluster) Self() mqttmodel.InstanceStatus {
	return mqttmodel.InstanceStatus{ID: c.self, PID: os.Getpid(), Self: true}
}
func (c *staticCluster) Owns(id int64) bool { return c.owners[id] == c.self }
func (c *staticCluster) Owner(id int64) (mqttmodel.InstanceStatus, time.Time, bool) {
	o := c.owners[id]
	return mqttmodel.InstanceStatus{ID: o, Self: o == c.self}, time.Time{}, o != 0
}
func (c *staticCluster) Instances() []mqttmodel.InstanceStatus {
	return []mqttmodel.InstanceStatus{c.Self()}
}
func (c *staticCluster) Changed() <-chan struct{}              { return c.changed }
func (c *staticCluster) Announce(context.Context, int64) error { return nil }
func (c *staticCluster) Serve(h listener.ClusterHandlers)      { c.out.Serve(h) }
func (c *staticCluster) Forward(ctx context.Context, id int64, kind string, body []byte) ([]byte, error) {
	return c.out.Forward(ctx, id, kind, body)
}

// instance is one server instance: a registry, its listener Service and
// its Outbox, all running until the test ends.
type instance struct {
	t    *testing.T
	app  *modelstest.App
	svc  *listener.Service
	stop func() // shuts the instance down (runWithCoordinator)
}

func openInstance(t *testing.T, dsn string) *instance {
	in := &instance{t: t}
	in.app = modelstest.Open(t, dsn, modelstest.Options{Control: func() mqttmodel.BrokerControl {
		if in.svc == nil {
			return nil // not running yet: the records are being set up
		}
		return in.svc
	}})
	return in
}

// run starts the instance's Outbox and Service as instance id.
func (in *instance) run(dsn string, id int64, own owners) {
	t := in.t
	t.Helper()
	cl := &staticCluster{self: id, owners: own, changed: make(chan struct{}, 1)}
	cl.out = NewOutbox(OutboxOptions{DSN: dsn, Instance: func() int64 { return id }, Owns: cl.Owns,
		HasOwner: func(b int64) bool { return own[b] != 0 }, Logger: modelstest.Logger(t), Sweep: 200 * time.Millisecond})
	in.svc = listener.New(in.app.MQTT, in.app.Devices, listener.Options{Logger: modelstest.Logger(t), Cluster: cl, PurgeInterval: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := cl.out.Run(ctx); err != nil {
			t.Errorf("instance %d outbox: %v", id, err)
		}
	})
	wg.Go(func() {
		if err := in.svc.Run(ctx); err != nil {
			t.Errorf("instance %d service: %v", id, err)
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
}

func (in *instance) call(model, method string, args ...any) any {
	in.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := in.app.Execute(ctx, models.Call{UID: models.AdminUID, Model: model, Method: method, Args: args})
	if err != nil {
		in.t.Fatalf("%s.%s: %v", model, method, err)
	}
	return res
}

// setEnabled writes a subscription's enabled flag, as the models'
// subscribe and unsubscribe buttons do before calling the listener.
func (in *instance) setEnabled(id int64, on bool) {
	in.t.Helper()
	err := in.app.Transaction(context.Background(), models.AdminUID, nil, func(tx *models.Env) error {
		return tx.Sudo().Write(tx.Registry().Model("mqtt.subscription"), []int64{id}, map[string]any{"enabled": on})
	})
	if err != nil {
		in.t.Fatal(err)
	}
}

func (in *instance) config(id int64) mqttmodel.BrokerConfig {
	in.t.Helper()
	cfgs, err := in.app.MQTT.BrokerConfigs(context.Background(), id)
	if err != nil || len(cfgs) != 1 {
		in.t.Fatalf("broker %d: %v %v", id, cfgs, err)
	}
	return cfgs[0]
}

func (in *instance) daemon(id int64) (mqttmodel.DaemonStatus, bool) {
	for _, d := range in.svc.Daemons() {
		if d.BrokerID == id {
			return d, true
		}
	}
	return mqttmodel.DaemonStatus{}, false
}

func (in *instance) historyCount(topic string) int64 {
	in.t.Helper()
	return in.call("mqtt.signal.history", "search_count", []any{[]any{"topic", "=", topic}}).(int64)
}

func callCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestCallsThroughTheOwner: publish, check_connection, subscribe and
// unsubscribe made on B for a broker A owns are carried out by A (its
// daemon, its settings from the database: B's copy of the password is
// wrong and does not matter), and B gets the broker's answer or error.
func TestCallsThroughTheOwner(t *testing.T) {
	modelstest.CheckLeaks(t)
	acl := filepath.Join(t.TempDir(), "acl")
	if err := os.WriteFile(acl, []byte("user plant\ntopic readwrite allowed/#\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mq := testmqtt.Start(t, testmqtt.Options{Users: map[string]string{"plant": "pw"}, Config: []string{"acl_file " + acl}})
	dsn := pgDSN(t)
	a, b := openInstance(t, dsn), openInstance(t, dsn)
	broker := func(name string, vals map[string]any) int64 {
		v := map[string]any{"name": name, "host": "127.0.0.1", "port": fmt.Sprint(mq.Port()), "protocol": "MQTTv5", "client_id": name,
			"username": "plant", "password": "pw", "connect_timeout": int64(3), "reconnect_initial": 0.2, "reconnect_max": 1.0}
		for k, x := range vals {
			v[k] = x
		}
		return a.call("mqtt.broker", "create", v).(int64)
	}
	good := broker("plant-a", nil)
	badPassword := broker("plant-bad", map[string]any{"password": "wrong", "active": false})
	orphan := broker("plant-orphan", map[string]any{"active": false})
	ghosted := broker("plant-ghosted", map[string]any{"active": false})
	own := owners{good: 1, badPassword: 1, ghosted: 3} // instance 3 never answers
	a.run(dsn, 1, own)
	b.run(dsn, 2, own)

	if err := a.svc.StartService(callCtx(t)); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 15*time.Second, "A's daemon connected", func() bool {
		d, _ := a.daemon(good)
		return d.State == mqttmodel.StateConnected
	})
	watcher := testmqtt.Connect(t, mq.URL(), "watcher", func(o *paho.ClientOptions) { o.SetUsername("plant").SetPassword("pw") })
	seen := testmqtt.Subscribe(t, watcher, "allowed/#", 1)

	// B's copy of the settings has a wrong password: A uses its own.
	onB := b.config(good)
	onB.Password = "not-the-password"

	t.Run("publish", func(t *testing.T) {
		err := b.svc.Publish(callCtx(t), onB, mqttmodel.OutgoingMessage{Topic: "allowed/x", Payload: []byte("hello"), QoS: 1,
			Properties: mqttmodel.Properties{ContentType: "text/plain", UserProperties: []mqttmodel.UserProperty{{Key: "k", Value: "v"}}}})
		if err != nil {
			t.Fatal(err)
		}
		m := testmqtt.Receive(t, seen, 10*time.Second, "the publish through A")
		if m.Topic() != "allowed/x" || string(m.Payload()) != "hello" {
			t.Fatalf("received %s %q", m.Topic(), m.Payload())
		}
		if d, _ := a.daemon(good); d.MessagesOut != 1 {
			t.Errorf("A's daemon sent %d messages, want 1", d.MessagesOut)
		}
		if d, ok := b.daemon(good); ok && d.MessagesOut != 0 {
			t.Errorf("B sent %d messages itself", d.MessagesOut)
		}
	})

	t.Run("publish refused", func(t *testing.T) {
		err := b.svc.Publish(callCtx(t), onB, mqttmodel.OutgoingMessage{Topic: "secret/x", Payload: []byte("1"), QoS: 1})
		if err == nil || !strings.Contains(err.Error(), "Not authorized (0x87)") || !strings.Contains(err.Error(), `"secret/x"`) {
			t.Fatalf("a denied publish: %v, want the PUBACK's Not authorized (0x87)", err)
		}
	})

	t.Run("check connection", func(t *testing.T) {
		if err := b.svc.CheckConnection(callCtx(t), onB); err != nil {
			t.Errorf("check through A: %v", err)
		}
		err := b.svc.CheckConnection(callCtx(t), b.config(badPassword))
		if err == nil || !strings.Contains(err.Error(), "Not authorized (0x87)") {
			t.Errorf("check with a bad password: %v, want the CONNACK's Not authorized (0x87)", err)
		}
	})

	t.Run("subscribe and unsubscribe", func(t *testing.T) {
		sub := b.call("mqtt.subscription", "create", map[string]any{"broker_id": good, "topic": "allowed/sub", "qos": int64(1)}).(int64)
		marker := b.call("mqtt.subscription", "create", map[string]any{"broker_id": good, "topic": "allowed/marker", "qos": int64(1)}).(int64)
		for _, s := range []struct {
			id    int64
			topic string
		}{{sub, "allowed/sub"}, {marker, "allowed/marker"}} {
			b.setEnabled(s.id, true)
			if err := b.svc.Subscribe(callCtx(t), good, mqttmodel.SubscriptionConfig{ID: s.id, Topic: s.topic, QoS: 1}); err != nil {
				t.Fatalf("subscribe %s through A: %v", s.topic, err)
			}
		}
		pub := testmqtt.Connect(t, mq.URL(), "publisher", func(o *paho.ClientOptions) { o.SetUsername("plant").SetPassword("pw") })
		testmqtt.Publish(t, pub, "allowed/sub", 1, false, "m1")
		testkit.Eventually(t, 10*time.Second, "A's daemon storing allowed/sub", func() bool { return a.historyCount("allowed/sub") == 1 })

		b.setEnabled(sub, false)
		if err := b.svc.Unsubscribe(callCtx(t), good, "allowed/sub"); err != nil {
			t.Fatalf("unsubscribe through A: %v", err)
		}
		testmqtt.Publish(t, pub, "allowed/sub", 1, false, "m2")
		testmqtt.Publish(t, pub, "allowed/marker", 1, false, "after")
		testkit.Eventually(t, 10*time.Second, "the marker stored", func() bool { return a.historyCount("allowed/marker") == 1 })
		if n := a.historyCount("allowed/sub"); n != 1 {
			t.Errorf("%d allowed/sub rows after the unsubscribe, want 1", n)
		}
	})

	t.Run("owner without a daemon", func(t *testing.T) {
		// A owns the inactive broker but runs no daemon for it: the
		// sentinel comes back, as the models' fallback needs.
		err := b.svc.Subscribe(callCtx(t), badPassword, mqttmodel.SubscriptionConfig{Topic: "allowed/y", QoS: 1})
		if !errors.Is(err, mqttmodel.ErrDaemonNotRunning) || errors.Is(err, listener.ErrNoOwner) {
			t.Fatalf("subscribe on A without a daemon: %v, want ErrDaemonNotRunning from A", err)
		}
	})

	t.Run("no owner", func(t *testing.T) {
		// Nobody runs the broker: B publishes on a short-lived connection
		// of its own, as a lone server with the service stopped does.
		cfg := b.config(orphan)
		err := b.svc.Publish(callCtx(t), cfg, mqttmodel.OutgoingMessage{Topic: "allowed/o", Payload: []byte("1"), QoS: 1})
		if err != nil {
			t.Fatalf("publish with no owner: %v, want it sent by B", err)
		}
		if !receivedOn(seen, "allowed/o", 10*time.Second) {
			t.Fatal("the publish B made itself did not arrive")
		}
		err = b.svc.Subscribe(callCtx(t), orphan, mqttmodel.SubscriptionConfig{Topic: "allowed/o", QoS: 1})
		if !errors.Is(err, mqttmodel.ErrDaemonNotRunning) || !errors.Is(err, listener.ErrNoOwner) {
			t.Errorf("subscribe with no owner: %v, want ErrDaemonNotRunning and ErrNoOwner", err)
		}
		// A check needs no daemon: B makes it itself.
		if err := b.svc.CheckConnection(callCtx(t), cfg); err != nil {
			t.Errorf("check with no owner: %v", err)
		}
	})

	t.Run("owner not answering", func(t *testing.T) {
		// A live owner that does not answer may have sent already: the
		// timeout is the answer, B does not send a second time.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		err := b.svc.Publish(ctx, b.config(ghosted), mqttmodel.OutgoingMessage{Topic: "allowed/ghost", Payload: []byte("1"), QoS: 1})
		if !errors.Is(err, listener.ErrForwardTimeout) {
			t.Fatalf("publish with a silent owner: %v, want ErrForwardTimeout", err)
		}
		if receivedOn(seen, "allowed/ghost", 500*time.Millisecond) {
			t.Error("sent although the owner never answered")
		}
	})

	// Every forwarded call was made by B and carried out by A (the one
	// to the silent owner aside).
	var calls, wrong int
	err := db(t, dsn).QueryRow(context.Background(),
		`SELECT count(*), count(*) FILTER (WHERE caller <> 2 OR claimed_by <> 1 OR claimed_by IS NULL) FROM mqtt_outbox WHERE broker_id <> $1`,
		ghosted).Scan(&calls, &wrong)
	if err != nil || calls < 8 || wrong != 0 {
		t.Errorf("outbox: %d calls, %d not from B to A (%v)", calls, wrong, err)
	}
}

// receivedOn reports whether a message on topic arrives within timeout,
// skipping the others (the earlier subtests' may still come).
func receivedOn(seen <-chan paho.Message, topic string, timeout time.Duration) bool {
	deadline := time.After(timeout)
	for {
		select {
		case m := <-seen:
			if m.Topic() == topic {
				return true
			}
		case <-deadline:
			return false
		}
	}
}
