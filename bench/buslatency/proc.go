package main

// Resource figures from /proc (Linux): CPU time of each party (the bench,
// the server, PostgreSQL's processes for the bench database, Mosquitto),
// so that a figure can be read on a machine where they all share the
// same cores.

import (
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchproc"
)

// usage is CPU time per party: the bench, the server, PostgreSQL, Mosquitto.
type usage = benchproc.Usage

// snapshot reads the counters; one that cannot be read stays 0.
// PostgreSQL counts the bench database's backends and the shared writers,
// not other databases' (other test suites on the machine).
func (b *bench) snapshot() usage {
	return usage{
		Bench:     benchproc.SelfCPU(),
		Server:    benchproc.ProcCPU(b.srv.PID()),
		Postgres:  benchproc.PostgresCPU(benchDB),
		Mosquitto: benchproc.ProcCPU(b.broker.PID()),
	}
}

// cores is CPU time over wall time: 1.0 is one core busy all along.
func cores(cpu, wall time.Duration) float64 {
	if wall <= 0 {
		return 0
	}
	return cpu.Seconds() / wall.Seconds()
}
