package bus

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
)

// pgDSN returns a fresh PostgreSQL database; modelstest skips without
// one, and fails under CI=true.
func pgDSN(t *testing.T) string {
	t.Helper()
	return modelstest.DSN(t, "postgres")
}

// TestTwoInstances: two servers on one database (two registries, two
// buses) hand out the same notes with the same ids in the same order,
// whichever instance they were notified on, over LISTEN/NOTIFY.
func TestTwoInstances(t *testing.T) {
	modelstest.CheckLeaks(t)
	dsn := pgDSN(t)
	a := runBus(t, dsn, Options{})
	b := runBus(t, dsn, Options{})

	// A browser on B hears what A was told.
	c := b.mustDial(b.session(models.AdminUID))
	subscribe(t, c, realtime, b.bus.LastID())
	onA := a.publish(note(1))
	got := readNotes(t, c, 1)
	if got[0].ID != onA[0].ID || string(got[0].Message.Payload) != string(onA[0].Payload) {
		t.Fatalf("B's socket got %+v, A published id %d %s", got[0], onA[0].ID, onA[0].Payload)
	}

	// Notes told to both, interleaved, come out in one order everywhere.
	subA := a.bus.Subscribe(realtime, a.bus.LastID())
	defer subA.Close()
	subB := b.bus.Subscribe(realtime, b.bus.LastID())
	defer subB.Close()
	const n = 100
	for i := range n {
		target := a
		if i%2 == 1 {
			target = b
		}
		target.bus.Notify(context.Background(), note(i))
	}
	seenA, seenB := collect(t, subA, n), collect(t, subB, n)
	if !slices.Equal(ids(seenA), ids(seenB)) || !slices.IsSorted(ids(seenA)) {
		t.Fatalf("A saw %v\nB saw %v", ids(seenA), ids(seenB))
	}
	if a.bus.LastID() != b.bus.LastID() {
		t.Fatalf("LastID A %d, B %d", a.bus.LastID(), b.bus.LastID())
	}
}

// TestPostgresRestart: a new bus on the database keeps the ids and the
// retained notes of the previous one, so clients resume across a restart.
func TestPostgresRestart(t *testing.T) {
	modelstest.CheckLeaks(t)
	dsn := pgDSN(t)
	first := runBus(t, dsn, Options{})
	before := first.publish(note(1), note(2), note(3))
	first.stop()

	// The registry still notifies the first bus: this test talks to the
	// second one directly.
	second := serveBus(t, first.reg, newBus(t, Options{PostgresDSN: dsn}))
	testkit.Eventually(t, guard, "the second bus to load", func() bool { return second.bus.LastID() == before[2].ID })
	if got := second.bus.Since(realtime, before[0].ID); !slices.Equal(ids(got), ids(before[1:])) {
		t.Fatalf("after restart Since = %v, want %v", ids(got), ids(before[1:]))
	}
	after := second.publish(note(4))
	if after[0].ID <= before[2].ID {
		t.Fatalf("id after restart %d, not above %d", after[0].ID, before[2].ID)
	}
}

// TestPostgresReconnect: when the database drops the bus's connections,
// it reconnects and nothing notified meanwhile is lost.
func TestPostgresReconnect(t *testing.T) {
	modelstest.CheckLeaks(t)
	dsn := pgDSN(t)
	e := runBus(t, dsn, Options{})
	e.publish(note(0))
	for _, name := range []string{pgListenerName, pgWriterName} {
		t.Run(name, func(t *testing.T) {
			var killed []bool
			err := e.reg.DB().Raw(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = ?`, name).Scan(&killed).Error
			if err != nil || len(killed) != 1 || !killed[0] {
				t.Fatalf("terminate %s: %v %v", name, killed, err)
			}
			if got := e.publish(note(1), note(2)); len(got) != 2 {
				t.Fatalf("after the connection was dropped: %v", ids(got))
			}
		})
	}
}

// TestPostgresExpiry: notes older than Retention leave bus_bus and memory.
func TestPostgresExpiry(t *testing.T) {
	modelstest.CheckLeaks(t)
	dsn := pgDSN(t)
	e := runBus(t, dsn, Options{Retention: time.Second})
	e.publish(note(1), note(2))
	testkit.Eventually(t, guard, "bus_bus to be emptied", func() bool {
		var n []int64
		e.reg.DB().Raw(`SELECT COUNT(*) FROM bus_batch`).Scan(&n)
		return len(n) == 1 && n[0] == 0
	})
	testkit.Eventually(t, guard, "memory to be emptied", func() bool { return len(e.bus.Since(realtime, 0)) == 0 })
}
