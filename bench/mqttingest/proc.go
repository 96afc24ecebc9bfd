package main

// Resource figures read from /proc (Linux): the CPU time spent by the
// bench itself, the server, PostgreSQL and Mosquitto, so that a slow case
// can be attributed on a machine where they all share the same cores.

import (
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchproc"
)

// usage is CPU time per party, cumulative at a snapshot, or spent over a
// window after minus. CPU per message hardly depends on what else runs on
// the machine, unlike messages per second.
type usage struct {
	bench, server, postgres, mosquitto time.Duration
}

func (u usage) minus(v usage) usage {
	return usage{u.bench - v.bench, u.server - v.server, u.postgres - v.postgres, u.mosquitto - v.mosquitto}
}

// statSource reads the CPU counters of the bench, the server (pid 0: none),
// Mosquitto and PostgreSQL when it runs on this machine (0 otherwise).
// PostgreSQL counts the backends connected to the bench database and the
// shared writers, not the backends of other databases: other test suites
// on the machine use it too.
type statSource struct {
	server, mosquitto int
}

// snapshot reads the counters; a counter that can't be read stays 0.
func (s statSource) snapshot() usage {
	u := usage{
		bench:     benchproc.SelfCPU(),
		postgres:  benchproc.PostgresCPU(benchDB),
		mosquitto: benchproc.ProcCPU(s.mosquitto),
	}
	if s.server != 0 {
		u.server = benchproc.ProcCPU(s.server)
	}
	return u
}
