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
	atKill := c.received("load/") // final for the dead owner: its process is gone
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
	t.Logf("failover: kill -> owner change seen %s, kill -> first message stored by instance %d %s", owned.Round(time.Millisecond), next, stored.Round(time.Millisecond))

	s.wait(t)
	testkit.Eventually(t, 60*time.Second, "the whole stream stored", func() bool { return c.received("load/") >= total })
	time.Sleep(500 * time.Millisecond) // a duplicate would land now, not later
	c.checkStream("load/", total)
	t.Logf("%d published, %d stored, 0 duplicates", total, c.received("load/"))
}
