package main

// Issue 12's process-level tests: three real instances on one
// PostgreSQL database and one Mosquitto, as users deploy them.

import (
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
)

// TestClusterFailoverSIGKILL: the owner of a broker with a persistent
// session is killed with SIGKILL in the middle of a 20,000 message QoS 1
// stream. Another instance takes the broker, resumes the session with the
// same client id, and every number is stored exactly once: what the dead
// owner committed but never acknowledged comes back with DUP and the
// dedupe window drops it.
func TestClusterFailoverSIGKILL(t *testing.T) {
	const total = 20000
	c := startCluster(t, 3)
	o := c.login(0)
	broker := c.addBroker(o, "failover", "load", nil)
	owner := c.waitOwner(broker, -1)

	s := publishStream(t, c.mq.URL(), "e2e-failover-publisher", "load/x", total, 200)
	testkit.Eventually(t, 30*time.Second, "a quarter of the stream stored", func() bool { return c.received("load/") >= total/4 })
	c.procs[owner].kill(t)
	killed := time.Now()
	// A COMMIT sent just before the kill still completes in its backend;
	// after 50 ms the count is the dead owner's final one, long before a
	// new owner can have connected and stored.
	time.Sleep(50 * time.Millisecond)
	atKill := c.received("load/")
	t.Logf("killed instance %d (the owner) with %d of %d stored, %d acknowledged to the publisher", owner, atKill, total, s.sent.Load())

	var stored, owned time.Duration
	next := -1
	testkit.Eventually(t, 30*time.Second, "another instance to own the broker and store", func() bool {
		if owned == 0 {
			if next = c.owner(broker); next >= 0 {
				owned = time.Since(killed)
			}
		}
		if stored == 0 && c.received("load/") > atKill {
			stored = time.Since(killed)
		}
		return owned > 0 && stored > 0
	})
	if next == owner {
		t.Fatalf("the killed instance %d still owns the broker", owner)
	}
	if owned > 10*time.Second {
		t.Errorf("the broker changed owner %s after the kill; the issue asks for 10 s at most", owned)
	}
	t.Logf("failover: kill -> owner change seen %s, kill -> first message stored by instance %d %s", owned.Round(time.Millisecond), next, stored.Round(time.Millisecond))

	s.wait(t)
	testkit.Eventually(t, 60*time.Second, "the whole stream stored", func() bool { return c.received("load/") >= total })
	time.Sleep(500 * time.Millisecond) // a duplicate would land now, not later
	c.checkStream("load/", total)
	t.Logf("%d published, %d stored, 0 duplicates", total, c.received("load/"))

	// The third instance's get_listener_status names the new owner.
	third := 3 - owner - next
	testkit.Eventually(t, 10*time.Second, "get_listener_status naming the new owner", func() bool {
		return c.statusOwnerPID(c.login(third), broker) == c.procs[next].cmd.Process.Pid
	})
}

// statusOwnerPID is the pid of broker's owner in o's get_listener_status
// (0: none).
func (c *clusterEnv) statusOwnerPID(o *odoo, broker int64) int {
	c.t.Helper()
	rows, _ := o.call("mqtt.service", "get_listener_status", nil, nil).([]any)
	for _, r := range rows {
		row, _ := r.(map[string]any)
		id, _ := row["broker_id"].([]any)
		if len(id) == 0 || id[0] != float64(broker) {
			continue
		}
		if own, ok := row["owner"].(map[string]any); ok {
			pid, _ := own["pid"].(float64)
			return int(pid)
		}
	}
	return 0
}

// TestClusterLostConnection: the owner's coordination connection is cut
// by PostgreSQL (pg_terminate_backend of its backend, as a failover of
// the database or a network cut would). Its advisory locks go with the
// connection, so it stops its daemon at once; another instance takes the
// broker and the stream goes on, stored once. The cut instance stays up
// and rejoins the cluster.
func TestClusterLostConnection(t *testing.T) {
	const total = 3000
	c := startCluster(t, 3)
	o := c.login(0)
	broker := c.addBroker(o, "cut", "cut", nil)
	victim := c.waitOwner(broker, -1)

	s := publishStream(t, c.mq.URL(), "e2e-cut-publisher", "cut/x", total, 200)
	testkit.Eventually(t, 30*time.Second, "a sixth of the stream stored", func() bool { return c.received("cut/") >= total/6 })
	pid := c.procs[victim].cmd.Process.Pid
	cut := time.Now()
	if n := c.queryInt(`SELECT count(*) FROM (SELECT pg_terminate_backend(backend_pid) FROM mqtt_instance WHERE pid = $1) t`, pid); n != 1 {
		t.Fatalf("terminated %d backends of instance %d, want 1", n, victim)
	}
	next := c.waitOwner(broker, victim)
	took := time.Since(cut)

	p := c.procs[victim]
	var lost, stopped time.Time
	testkit.Eventually(t, 10*time.Second, "the cut instance to give its broker up and stop its daemon", func() bool {
		lost = p.logTime(cut, "lock connection lost: every broker given up", "", nil)
		stopped = p.logTime(cut, "MQTT listener stopped", "broker_id", broker)
		return !lost.IsZero() && !stopped.IsZero()
	})
	// "At once": on the next heartbeat (1 s) that finds the connection
	// gone, well before the 6 s after which the others would call the
	// instance dead.
	if d := stopped.Sub(cut); d > 3*time.Second {
		t.Errorf("the cut instance stopped its daemon %s after the cut", d)
	}
	t.Logf("cut instance %d's connection: it stopped its daemon after %s, instance %d owned the broker after %s",
		victim, stopped.Sub(cut).Round(time.Millisecond), next, took.Round(time.Millisecond))

	s.wait(t)
	testkit.Eventually(t, 60*time.Second, "the whole stream stored", func() bool { return c.received("cut/") >= total })
	time.Sleep(500 * time.Millisecond)
	c.checkStream("cut/", total)
	if got := c.owner(broker); got != next {
		t.Errorf("broker owned by instance %d after the stream, want %d (no flapping back)", got, next)
	}
	testkit.Eventually(t, 10*time.Second, "the cut instance live again", func() bool {
		return c.queryInt(`SELECT count(*) FROM mqtt_instance WHERE pid = $1 AND heartbeat > now() - interval '3 seconds'`, pid) == 1
	})
}
