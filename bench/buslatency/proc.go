package main

// Resource figures from /proc (Linux): CPU time of each party (the bench,
// the server, PostgreSQL's processes for the bench database, Mosquitto),
// so that a figure can be read on a machine where they all share the
// same cores.

import (
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchproc"
)

// usage is CPU time per party, cumulative at a snapshot, or spent over a
// window after minus.
type usage struct {
	bench, server, postgres, mosquitto time.Duration
}

func (u usage) minus(v usage) usage {
	return usage{u.bench - v.bench, u.server - v.server, u.postgres - v.postgres, u.mosquitto - v.mosquitto}
}

// snapshot reads the counters; one that cannot be read stays 0.
// PostgreSQL counts the bench database's backends and the shared writers,
// not other databases' (other test suites on the machine).
func (b *bench) snapshot() usage {
	return usage{
		bench:     benchproc.SelfCPU(),
		server:    benchproc.ProcCPU(b.srv.PID()),
		postgres:  benchproc.PostgresCPU(benchDB),
		mosquitto: benchproc.ProcCPU(b.broker.PID()),
	}
}

// cores is CPU time over wall time: 1.0 is one core busy all along.
func cores(cpu, wall time.Duration) float64 {
	if wall <= 0 {
		return 0
	}
	return cpu.Seconds() / wall.Seconds()
}
