package main

// Resource figures read from /proc (Linux): the CPU time spent by the
// bench itself, the server, PostgreSQL and Mosquitto, so that a slow case
// can be attributed on a machine where they all share the same cores.

import (
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchproc"
)

// usage is CPU time per party: the bench, the server, PostgreSQL, Mosquitto.
type usage = benchproc.Usage

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
		Bench:     benchproc.SelfCPU(),
		Postgres:  benchproc.PostgresCPU(benchDB),
		Mosquitto: benchproc.ProcCPU(s.mosquitto),
	}
	if s.server != 0 {
		u.Server = benchproc.ProcCPU(s.server)
	}
	return u
}
