package cluster

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testmqtt"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/listener"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
	mqttmodel "github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// runWithCoordinator starts the instance's Service with a real
// Coordinator as its Cluster.
func (in *instance) runWithCoordinator(dsn string, pid int) *Coordinator {
	t := in.t
	t.Helper()
	c := New(Options{DSN: dsn, Logger: modelstest.Logger(t), Host: "test", PID: pid,
		HeartbeatEvery: 200 * time.Millisecond, DeadAfter: 2 * time.Second, Outbox: OutboxOptions{Sweep: 200 * time.Millisecond}})
	in.svc = listener.New(in.app.MQTT, in.app.Devices, listener.Options{Logger: modelstest.Logger(t), Cluster: c, PurgeInterval: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := in.svc.Run(ctx); err != nil {
			t.Errorf("service %d: %v", pid, err)
		}
	})
	wg.Go(func() {
		if err := c.Run(ctx); err != nil {
			t.Errorf("coordinator %d: %v", pid, err)
		}
	})
	in.stop = sync.OnceFunc(func() { cancel(); wg.Wait() })
	t.Cleanup(in.stop)
	testkit.Eventually(t, 10*time.Second, "registered", func() bool { return c.Self().ID != 0 })
	return c
}

// connected reports whether this instance's own daemon of the broker is
// connected (Daemons also reports the brokers the other instance runs,
// under its pid).
func (in *instance) connected(id int64) bool {
	d, ok := in.daemon(id)
	return ok && d.State == mqttmodel.StateConnected && d.ThreadIdentifier == fmt.Sprintf("mqtt_listener_%d_%d", os.Getpid(), id)
}

// TestDaemonFollowsOwnership: the service started on A runs on both
// instances (the announcement), each broker's daemon on its owner only;
// when A's lock connection is killed its daemon stops and B's runs.
func TestDaemonFollowsOwnership(t *testing.T) {
	modelstest.CheckLeaks(t)
	mq := testmqtt.Start(t, testmqtt.Options{})
	dsn := pgDSN(t)
	a, b := openInstance(t, dsn), openInstance(t, dsn)
	id := a.call("mqtt.broker", "create", map[string]any{"name": "plant", "host": "127.0.0.1", "port": fmt.Sprint(mq.Port()),
		"client_id": "plant", "connect_timeout": int64(3), "reconnect_initial": 0.2, "reconnect_max": 1.0}).(int64)
	ca := a.runWithCoordinator(dsn, 201)
	cb := b.runWithCoordinator(dsn, 202)
	a.call("mqtt.service", "start_mqtt_service")

	testkit.Eventually(t, 20*time.Second, "the owner's daemon connected", func() bool {
		return ca.Owns(id) && a.connected(id) || cb.Owns(id) && b.connected(id)
	})
	owner, other, co := a, b, ca
	if cb.Owns(id) {
		owner, other, co = b, a, cb
	}
	testkit.Eventually(t, 10*time.Second, "the other instance following the service's start", other.svc.ServiceRunning)
	if other.connected(id) {
		t.Fatal("both instances run the broker's daemon")
	}
	var killed bool
	if err := db(t, dsn).QueryRow(context.Background(), `SELECT pg_terminate_backend(backend_pid) FROM mqtt_instance WHERE id = $1`,
		co.Self().ID).Scan(&killed); err != nil || !killed {
		t.Fatalf("terminate: %v %v", killed, err)
	}
	testkit.Eventually(t, 20*time.Second, "the daemon on exactly one instance after the kill", func() bool {
		return owner.connected(id) != other.connected(id)
	})
	a.call("mqtt.service", "stop_mqtt_service")
	testkit.Eventually(t, 20*time.Second, "both stopped", func() bool {
		return !a.svc.ServiceRunning() && !b.svc.ServiceRunning() && !a.connected(id) && !b.connected(id)
	})
}
