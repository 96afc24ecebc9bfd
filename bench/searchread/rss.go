package main

// Resource figures read from /proc (Linux): the server's resident memory,
// and the CPU time the bench itself, the server and PostgreSQL spend, so
// that a slow path can be attributed on a machine where all three share
// the same cores.

import (
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchproc"
)

// usage is CPU time per party: the bench, the server, PostgreSQL (no
// Mosquitto here).
type usage = benchproc.Usage

// statSource reads the CPU counters of the bench, the server and every
// process named "postgres" (meaningful when PostgreSQL runs on this
// machine; 0 otherwise).
type statSource struct {
	serverPID int
}

// snapshot reads the counters; a counter that can't be read stays 0.
func (s *statSource) snapshot() usage {
	return usage{
		Bench:    benchproc.SelfCPU(),
		Server:   benchproc.ProcCPU(s.serverPID),
		Postgres: benchproc.PostgresCPU(""),
	}
}
